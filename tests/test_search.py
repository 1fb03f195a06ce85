"""The public search (issue 17): the tokens, the index kept in step with
every write through the real services, one- and two-character Chinese
words, longer words confirmed as written, paging with a total, nothing
personal or unpublished, the page and the API. Run on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest
from meeting_helpers import next_week
from query_count import queries_of
from request_helpers import draft

from meetings.extensions import db as _db
from meetings.meeting import services as meeting_services
from meetings.meeting.models import MeetingStatus
from meetings.minutes import services as minutes_services
from meetings.projects.models import Project
from meetings.requests import orders
from meetings.requests import services as request_services
from meetings.search.models import SearchDocument, SearchToken
from meetings.search.services import search
from meetings.search.tokens import query_tokens, tokenize

pytest_plugins = ["meeting_fixtures", "minutes_fixtures"]

CHARGING = "电动自行车集中充电棚选址协商会"


def found(query: str, **filters) -> list[tuple[str, str]]:
    return [(hit.kind.value, hit.title) for hit in search(query, **filters).items]


def project(community, title: str, description: str = "") -> Project:
    item = Project(
        community=community, title=title, description=description, responsible_unit="社区居委会"
    )
    _db.session.add(item)
    _db.session.flush()
    return item


# --- tokens ---------------------------------------------------------------------------------


def test_one_chinese_character_is_a_token_and_its_pairs_too():
    assert tokenize("电") == {"电"}
    assert tokenize("充电棚") == {"充", "电", "棚", "充电", "电棚"}


def test_a_query_of_two_or_more_characters_asks_for_its_pairs_only():
    assert query_tokens("电") == {"电"}
    assert query_tokens("充电") == {"充电"}
    assert query_tokens("电动自行车") == {"电动", "动自", "自行", "行车"}


def test_digits_letters_and_chinese_are_cut_apart_and_punctuation_dropped():
    assert tokenize("3号楼") == {"3", "号", "楼", "号楼"}
    assert query_tokens("3号楼") == {"3", "号楼"}
    assert tokenize("Wi-Fi，电梯！") == {"wi", "fi", "电", "梯", "电梯"}
    assert tokenize("（会议）") == {"会", "议", "会议"}


def test_full_width_letters_and_digits_are_the_usual_ones():
    assert tokenize("３号楼ＡＢＣ") == tokenize("3号楼abc") == {"3", "号", "楼", "号楼", "abc"}
    assert query_tokens("ＡＢＣ") == {"abc"}


def test_an_empty_or_punctuation_only_text_has_no_tokens():
    assert tokenize("") == tokenize(None) == tokenize("，。！? %_") == set()
    assert query_tokens("  ") == set()


def test_a_long_word_is_cut_to_the_tokens_length():
    assert tokenize("a" * 50) == {"a" * 20}


# --- meetings -------------------------------------------------------------------------------


def test_a_two_character_word_finds_the_announced_meeting(make_meeting, in_request):
    make_meeting(MeetingStatus.SCHEDULED, title=CHARGING, description="车棚选在哪里。")
    assert found("充电") == [("meeting", CHARGING)]
    assert found("棚") == [("meeting", CHARGING)]  # one character: title and description
    assert found("选址协商") == [("meeting", CHARGING)]
    assert found("电梯") == []


def test_a_draft_meeting_is_never_found_until_announced(make_meeting, secretary, in_request):
    meeting = make_meeting(MeetingStatus.DRAFT, title=CHARGING)
    assert found("充电") == []
    meeting_services.transition_meeting(secretary, meeting, "scheduled", "")
    assert found("充电") == [("meeting", CHARGING)]


def test_cancelling_a_meeting_takes_it_out_at_once(make_meeting, secretary, in_request):
    meeting = make_meeting(MeetingStatus.SCHEDULED, title=CHARGING)
    meeting_services.transition_meeting(secretary, meeting, "cancelled", "台风预警")
    assert found("充电") == []
    assert _db.session.scalar(_db.select(_db.func.count(SearchToken.token))) == 0


def test_an_edited_meeting_is_found_by_its_new_words_only(make_meeting, secretary, in_request):
    meeting = make_meeting(MeetingStatus.SCHEDULED, title=CHARGING)
    meeting_services.update_meeting(secretary, meeting, title="加装电梯协商会")
    assert found("充电") == []
    assert found("电梯") == [("meeting", "加装电梯协商会")]
    # the place and the topics' titles are on the meeting's page: found too
    assert found("182幢") == [("meeting", "加装电梯协商会")]


def test_an_agenda_item_makes_its_meeting_found(make_meeting, secretary, in_request):
    meeting = make_meeting(MeetingStatus.SCHEDULED)
    meeting_services.add_agenda_item(secretary, meeting, title="非机动车停放", description="")
    assert found("停放") == [("meeting", meeting.title)]


# --- words ----------------------------------------------------------------------------------


def test_a_word_is_not_made_of_pieces_from_two_documents(community):
    project(community, "小区充电设施")
    project(community, "雨棚和电棚维修")
    assert found("充电棚") == []
    assert sorted(found("电棚")) == [("project", "雨棚和电棚维修")]


def test_a_longer_word_must_be_there_as_written(community):
    project(community, "充电桩旁的电棚")  # holds 充电 and 电棚, not 充电棚
    project(community, "集中充电棚")
    assert found("充电棚") == [("project", "集中充电棚")]


def test_the_title_and_the_text_do_not_make_a_word_together(community):
    project(community, "集中充电", description="棚户区改造")
    assert found("充电棚") == []
    assert found("充电 棚户") == [("project", "集中充电")]  # two words: both, anywhere


def test_mixed_digits_letters_and_chinese(community):
    project(community, "3号楼Wi-Fi覆盖", description="ＡＢ栋电梯")
    assert found("3号楼") == [("project", "3号楼Wi-Fi覆盖")]
    assert found("wi-fi") == [("project", "3号楼Wi-Fi覆盖")]
    assert found("WIFI") == []  # words are whole: wi and fi
    assert found("ab") == [("project", "3号楼Wi-Fi覆盖")]  # full-width ＡＢ
    assert found("4号楼") == []


def test_percent_and_underscore_are_only_characters(community):
    project(community, "完成100%的改造")
    assert found("%") == found("_") == []
    assert found("100%的") == [("project", "完成100%的改造")]
    assert found("100_的") == []


# --- paging --------------------------------------------------------------------------------


def test_the_results_come_newest_first_a_page_at_a_time_with_the_total(community):
    for n in range(12):
        project(community, f"加装电梯{n:02}")
    first = search("电梯", per_page=5)
    assert first.total == 12 and first.pages == 3 and first.has_next and not first.has_prev
    assert [hit.title for hit in first.items] == [f"加装电梯{n:02}" for n in (11, 10, 9, 8, 7)]
    last = search("电梯", page=3, per_page=5)
    assert [hit.title for hit in last.items] == ["加装电梯01", "加装电梯00"]
    assert last.total == 12 and not last.has_next
    beyond = search("电梯", page=9, per_page=5)
    assert beyond.items == [] and beyond.total == 12


def test_filters_by_community_and_kind(community, other_community, make_meeting, in_request):
    project(community, "充电桩")
    project(other_community, "充电车棚")
    make_meeting(MeetingStatus.SCHEDULED, title=CHARGING)
    assert len(found("充电")) == 3
    assert sorted(found("充电", community_id=community.id)) == [
        ("meeting", CHARGING),
        ("project", "充电桩"),
    ]
    assert found("充电", kind="project", community_id=other_community.id) == [
        ("project", "充电车棚")
    ]


# --- answered requests ----------------------------------------------------------------------


@pytest.fixture
def answered(db, secretary, community, in_request):
    """A walk-in request of a resident without an account, answered."""
    item = request_services.raise_for_resident(
        secretary,
        community,
        request_services.ResidentDetails(name="柳如烟", phone="13900001111", building="7幢"),
        draft(title="楼道充电插座", description="柳如烟说她家门口的飞线充电很危险。"),
        "phone",
    )
    request_services.reply_to_request(secretary, item, "answer", "物业下周加装集中充电桩。")
    db.session.flush()
    return item


def test_an_answered_request_is_found_by_its_title_and_reply(answered):
    assert found("插座") == [("request", "楼道充电插座")]
    assert found("充电桩") == [("request", "楼道充电插座")]
    hit = search("充电桩").items[0]
    assert hit.snippet == "物业下周加装集中充电桩。"


def test_nothing_personal_of_a_request_is_found_or_shown(answered, english):
    for private in ("柳如烟", "13900001111", "7幢", "飞线"):
        assert found(private) == [], private
    _db.session.commit()
    body = english.get("/search", query_string={"q": "充电"}).get_data(as_text=True)
    answer = english.get("/api/v1/public/search", query_string={"q": "充电"}).get_json()
    api = json.dumps(answer, ensure_ascii=False)
    assert "楼道充电插座" in body and "楼道充电插座" in api
    for private in ("柳如烟", "13900001111", "飞线"):
        assert private not in body and private not in api


def test_a_request_not_yet_answered_is_not_found(db, secretary, community, in_request):
    item = request_services.raise_for_resident(
        secretary,
        community,
        request_services.ResidentDetails(name="柳如烟"),
        draft(title="楼道充电插座"),
        "phone",
    )
    request_services.reply_to_request(secretary, item, "accept", "纳入议题")
    db.session.flush()
    assert found("插座") == []


# --- projects and minutes --------------------------------------------------------------------


def test_projects_and_published_minutes_are_found(held_meeting, published):
    assert ("minutes", held_meeting.meeting.title) in found("防滑地板")
    assert ("project", "活动室改造出新") in found("改造出新", kind="project")


def test_a_correction_replaces_the_minutes_words(held_meeting, published, secretary, db):
    assert found("防滑", kind="minutes") == [("minutes", held_meeting.meeting.title)]
    version = minutes_services.save_version(
        secretary, held_meeting.meeting, "# 活动室改造出新协商议事会\n\n决定铺设木地板。\n"
    )
    assert found("木地板") == []  # saved, not published
    minutes_services.publish(secretary, version)
    assert found("木地板", kind="minutes") == [("minutes", held_meeting.meeting.title)]
    assert found("防滑", kind="minutes") == []


def test_a_renamed_project_is_found_by_its_new_title(community):
    item = project(community, "充电桩")
    item.title = "加装电梯"
    _db.session.flush()
    assert found("充电") == []
    assert found("电梯") == [("project", "加装电梯")]


# --- the page and the API --------------------------------------------------------------------


def test_the_page_lists_all_kinds_with_a_badge(english, community, make_meeting, in_request):
    make_meeting(MeetingStatus.SCHEDULED, title=CHARGING)
    project(community, "充电车棚", description="集中充电，按时断电")
    _db.session.commit()
    body = english.get("/search", query_string={"q": "充电"}).get_data(as_text=True)
    assert "2 results for “充电”" in body
    assert '<span class="badge badge-muted search-kind">Meeting</span>' in body
    assert '<span class="badge badge-muted search-kind">Project</span>' in body
    assert "<mark>充电</mark>" in body
    only = english.get("/search", query_string={"q": "充电", "kind": "project"})
    assert "1 result for “充电”" in only.get_data(as_text=True)
    assert english.get("/search", query_string={"q": "充电", "kind": "x"}).status_code == 422


def test_the_api_answers_anyone_with_items_and_total(client, community, make_meeting, in_request):
    meeting = make_meeting(MeetingStatus.SCHEDULED, title=CHARGING, starts_at=next_week())
    _db.session.commit()
    response = client.get("/api/v1/public/search", query_string={"q": "充电"})
    assert response.status_code == 200
    data = response.get_json()
    assert data["total"] == 1 and data["page"] == 1
    (item,) = data["items"]
    assert item["kind"] == "meeting" and item["id"] == meeting.id
    assert item["title"] == CHARGING
    assert item["url"].endswith(f"/meetings/{meeting.id}")
    assert "snippet" in item
    assert client.get("/api/v1/public/search", query_string={"q": ""}).status_code == 422
    assert client.get("/api/v1/public/search").status_code == 422
    mine = {"q": "充电", "community": community.id, "kind": "meeting"}
    assert client.get("/api/v1/public/search", query_string=mine).get_json()["total"] == 1
    mine["community"] = community.id + 1
    assert client.get("/api/v1/public/search", query_string=mine).get_json()["total"] == 0
    nothing = client.get("/api/v1/public/search", query_string={"q": "?!"}).get_json()
    assert nothing == {"items": [], "total": 0, "page": 1, "per_page": 10}


# --- rebuilding ------------------------------------------------------------------------------


def test_reindex_rebuilds_the_same_index(runner, community, published, held_meeting):
    _db.session.commit()
    before = _db.session.execute(
        _db.select(SearchDocument.kind, SearchDocument.object_id, SearchDocument.title)
    ).all()
    tokens = _db.session.scalar(_db.select(_db.func.count(SearchToken.token)))
    _db.session.execute(_db.delete(SearchToken))
    _db.session.execute(_db.delete(SearchDocument))
    _db.session.commit()
    assert found("防滑地板") == []
    result = runner.invoke(args=["search", "reindex"])
    assert result.exit_code == 0, result.output
    assert f"Indexed {len(before)} documents, {tokens} tokens" in result.output
    after = _db.session.execute(
        _db.select(SearchDocument.kind, SearchDocument.object_id, SearchDocument.title)
    ).all()
    assert sorted(after) == sorted(before)
    assert ("minutes", held_meeting.meeting.title) in found("防滑地板")


def test_a_search_runs_the_same_few_statements_however_many_it_finds(client, community):
    project(community, "充电桩一号", description="集中充电")
    _db.session.commit()
    few = {
        query: queries_of(client, "/api/v1/public/search", query_string={"q": query})
        for query in ("充电", "集中充电", "鸵鸟")
    }
    for n in range(15):
        project(community, f"充电桩{n}", description="集中充电")
    _db.session.commit()
    many = {
        query: queries_of(client, "/api/v1/public/search", query_string={"q": query})
        for query in ("充电", "集中充电", "鸵鸟")
    }
    assert many == few
    assert few == {"充电": 2, "集中充电": 1, "鸵鸟": 1}  # count and page; one pass; count


def test_a_request_reopened_by_a_low_rating_leaves_the_search(db, resident, secretary, community):
    item = request_services.raise_request(resident, community, draft(title="楼道充电插座"))
    request_services.reply_to_request(secretary, item, "answer", "物业下周加装集中充电桩。")
    db.session.flush()
    assert found("插座") == [("request", "楼道充电插座")]
    orders.rate(resident, item, 2, "还是没有装")
    assert found("插座") == []


def test_a_renamed_topic_renames_it_in_its_meetings(
    db, make_meeting, accepted_request, secretary, in_request
):
    meeting = make_meeting(MeetingStatus.SCHEDULED, request_ids=[accepted_request.id])
    assert found("磨损") == [("meeting", meeting.title)]  # the topic's title: 活动室地板磨损
    accepted_request.title = "活动室地板翘起"
    db.session.flush()
    assert found("磨损") == []
    assert found("翘起") == [("meeting", meeting.title)]
