"""Attendees (参会): invitations with a role and voting right, RSVP, check-in
by the secretary or by QR code, the quorum and the printable sign-in sheet."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from conftest import flashes, form_errors
from meeting_helpers import attendance_of, audit_actions, fresh, next_week, notifications_of

from meetings.errors import Conflict, NotAllowed, ValidationFailed
from meetings.extensions import db
from meetings.meeting import checkin, services
from meetings.meeting.models import AttendeeRole, Presence, Rsvp
from meetings.organisation import services as organisation

pytest_plugins = ["meeting_fixtures", "organisation_fixtures"]  # make_meeting, attendee…

# --- invitations ----------------------------------------------------------------------


def invite_rows(page: str) -> dict[str, int]:
    """member name → row index of the invitation form."""
    rows = {}
    for index, name in re.findall(
        r'<label for="rows-(\d+)-selected">([^<]+?)(?: <span|</label>)', page
    ):
        rows[name.strip()] = int(index)
    return rows


def test_roles_have_chinese_and_english_labels_and_api_codes(in_request):
    assert [role.value for role in AttendeeRole] == [
        "cppcc_member",
        "npc_deputy",
        "street_official",
        "community_committee",
        "party_member_rep",
        "inservice_party_member",
        "resident_rep",
        "owners_committee_rep",
        "property_rep",
        "grid_leader",
        "expert",
        "observer",
    ]
    assert AttendeeRole.CPPCC_MEMBER.chinese == "政协委员"
    assert AttendeeRole.OBSERVER.chinese == "列席"
    assert str(AttendeeRole.OWNERS_COMMITTEE_REP.label) == "Owners'-committee representative"


def test_secretary_invites_several_with_a_role_each(
    english, login, make_meeting, make_member, secretary
):
    meeting = make_meeting("scheduled")
    cppcc, owners, watcher = make_member("李建国"), make_member("陈美玲"), make_member("刘志强")
    login(secretary)
    page = english.get(f"/meetings/{meeting.id}/attendees").get_data(as_text=True)
    rows = invite_rows(page)
    data = {"role_for_all": ""}
    for user, role in (
        (cppcc, "cppcc_member"),
        (owners, "owners_committee_rep"),
        (watcher, "observer"),
    ):
        index = rows[user.display_name]
        data |= {
            f"rows-{index}-user_id": str(user.id),
            f"rows-{index}-selected": "y",
            f"rows-{index}-role": role,
        }
    response = english.post(f"/meetings/{meeting.id}/attendees", data=data)
    assert response.status_code == 302
    assert "3 invited." in flashes(english.get(response.headers["Location"]).get_data(as_text=True))

    assert attendance_of(meeting, cppcc).role == AttendeeRole.CPPCC_MEMBER
    assert attendance_of(meeting, cppcc).may_vote
    assert attendance_of(meeting, owners).may_vote
    # observers (列席) attend without a vote unless given one
    assert not attendance_of(meeting, watcher).may_vote
    assert attendance_of(meeting, watcher).rsvp == Rsvp.INVITED
    # the meeting is announced: each is told at once, audited
    assert len(notifications_of(cppcc, "meeting.invited")) == 1
    assert "attendance.invited" in audit_actions(attendance_of(meeting, owners))


def test_one_role_for_everyone_checked(english, login, make_meeting, make_member, secretary):
    meeting = make_meeting("draft")
    members = [make_member(name) for name in ("王桂兰", "杨德胜")]
    login(secretary)
    rows = invite_rows(english.get(f"/meetings/{meeting.id}/attendees").get_data(as_text=True))
    data = {"role_for_all": "resident_rep"}
    for user in members:
        index = rows[user.display_name]
        data |= {f"rows-{index}-user_id": str(user.id), f"rows-{index}-selected": "y"}
    english.post(f"/meetings/{meeting.id}/attendees", data=data)
    assert {attendance_of(meeting, u).role for u in members} == {AttendeeRole.RESIDENT_REP}
    # a draft's invitations wait until it is scheduled
    assert all(notifications_of(u) == [] for u in members)


def test_a_checked_member_without_a_role_is_invited_with_their_usual_role(
    english, login, make_meeting, make_member, secretary, community
):
    meeting = make_meeting("draft")
    user = make_member("赵淑珍")
    user.membership_in(community.id).standing_role = "owners_committee_rep"
    db.session.flush()
    login(secretary)
    page = english.get(f"/meetings/{meeting.id}/attendees").get_data(as_text=True)
    index = invite_rows(page)[user.display_name]
    # the row's role is pre-filled with the standing role
    assert re.search(
        rf'<select[^>]*id="rows-{index}-role".*?<option selected value="owners_committee_rep">',
        page,
        re.S,
    )
    response = english.post(
        f"/meetings/{meeting.id}/attendees",
        data={f"rows-{index}-user_id": str(user.id), f"rows-{index}-selected": "y"},
    )
    assert response.status_code == 302
    assert attendance_of(meeting, user).role == AttendeeRole.OWNERS_COMMITTEE_REP


def test_voting_right_can_be_given_or_taken(in_request, make_meeting, secretary, attendee):
    meeting = make_meeting("draft")
    [attendance] = services.invite(
        secretary, meeting, [services.Invitation(attendee, "observer", may_vote=True)]
    )
    assert attendance.may_vote
    services.update_attendance(secretary, attendance, role="expert", may_vote=False)
    assert (attendance.role, attendance.may_vote) == (AttendeeRole.EXPERT, False)
    assert audit_actions(attendance)[-1] == "attendance.updated"


def test_only_members_are_invited_and_only_once(
    in_request, make_meeting, secretary, attendee, other_secretary
):
    meeting = make_meeting("draft", invite={attendee: "resident_rep"})
    with pytest.raises(Conflict):
        services.invite(secretary, meeting, [services.Invitation(attendee, "expert")])
    with pytest.raises(ValidationFailed):
        services.invite(secretary, meeting, [services.Invitation(other_secretary, "expert")])
    with pytest.raises(ValidationFailed):
        services.invite(secretary, meeting, [services.Invitation(attendee, "mayor")])


def test_invitation_is_taken_back_before_the_meeting(
    english, login, make_meeting, secretary, attendee
):
    meeting = make_meeting("scheduled", invite={attendee: "resident_rep"})
    login(secretary)
    response = english.post(f"/meetings/{meeting.id}/attendees/{attendee.id}/remove")
    assert response.status_code == 302
    assert attendance_of(meeting, attendee) is None


# --- RSVP -----------------------------------------------------------------------------


def test_invitee_answers_from_my_meetings(english, login, make_meeting, attendee):
    meeting = make_meeting("scheduled", invite={attendee: "resident_rep"})
    login(attendee)
    page = english.get("/my/meetings").get_data(as_text=True)
    assert meeting.title in page and "I will come" in page
    response = english.post(f"/meetings/{meeting.id}/rsvp", data={"rsvp": "accepted"})
    assert response.status_code == 302
    attendance = attendance_of(meeting, attendee)
    assert attendance.rsvp == Rsvp.ACCEPTED and attendance.rsvp_at is not None
    assert audit_actions(attendance)[-1] == "attendance.rsvp"

    english.post(f"/meetings/{meeting.id}/rsvp", data={"rsvp": "declined"})
    assert attendance_of(meeting, attendee).rsvp == Rsvp.DECLINED


def test_a_draft_is_not_on_my_meetings(english, login, make_meeting, attendee):
    meeting = make_meeting("draft", invite={attendee: "resident_rep"})
    login(attendee)
    assert meeting.title not in english.get("/my/meetings").get_data(as_text=True)


def test_nobody_answers_for_someone_else(
    in_request, english, login, make_meeting, attendee, resident
):
    meeting = make_meeting("scheduled", invite={attendee: "resident_rep"})
    with pytest.raises(NotAllowed):
        services.set_rsvp(resident, attendance_of(meeting, attendee), "declined")
    login(resident)
    assert (
        english.post(f"/meetings/{meeting.id}/rsvp", data={"rsvp": "accepted"}).status_code == 403
    )


# --- check-in by the secretary ----------------------------------------------------------


def test_secretary_marks_presence_from_the_phone_list(
    english, login, make_meeting, secretary, attendee
):
    meeting = make_meeting("in_progress", invite={attendee: "resident_rep"})
    login(secretary)
    page = english.get(f"/meetings/{meeting.id}/checkin").get_data(as_text=True)
    assert 'name="presence" value="present"' in page
    response = english.post(
        f"/meetings/{meeting.id}/checkin/{attendee.id}", data={"presence": "present"}
    )
    assert response.status_code == 302
    attendance = attendance_of(meeting, attendee)
    assert attendance.presence == Presence.PRESENT
    assert attendance.checked_in_at is not None and attendance.checked_in_by_id == secretary.id
    assert audit_actions(attendance)[-1] == "attendance.checked_in"

    english.post(f"/meetings/{meeting.id}/checkin/{attendee.id}", data={"presence": "excused"})
    attendance = attendance_of(meeting, attendee)
    assert attendance.presence == Presence.EXCUSED and attendance.checked_in_at is None


def test_presence_is_marked_only_once_the_meeting_has_begun(
    english, login, make_meeting, secretary, attendee
):
    meeting = make_meeting("scheduled", invite={attendee: "resident_rep"})
    login(secretary)
    response = english.post(
        f"/meetings/{meeting.id}/checkin/{attendee.id}", data={"presence": "present"}
    )
    assert response.status_code == 409
    assert attendance_of(meeting, attendee).presence is None


# --- check-in by QR code -------------------------------------------------------------------


def qr_link_of(english, meeting, user) -> str:
    """The check-in link inside the attendee's QR code, as the secretary's page makes it."""
    svg = english.get(f"/meetings/{meeting.id}/checkin/{user.id}/qr.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    assert "<svg" in svg.get_data(as_text=True)
    token = checkin.make_token(meeting.id, user.id)
    return f"/checkin/{token}"


def test_attendee_checks_in_with_their_own_code(english, login, make_meeting, secretary, attendee):
    meeting = make_meeting("in_progress", invite={attendee: "resident_rep"})
    login(secretary)
    link = qr_link_of(english, meeting, attendee)
    english.post("/auth/logout")

    login(attendee)
    page = english.get(link)
    assert page.status_code == 200
    assert "I am here — check in" in page.get_data(as_text=True)
    response = english.post(link)
    assert response.status_code == 302
    attendance = attendance_of(meeting, attendee)
    assert attendance.presence == Presence.PRESENT
    assert attendance.checked_in_by_id == attendee.id and attendance.checked_in_self
    [entry] = [a for a in audit_actions(attendance) if a == "attendance.checked_in"]
    assert entry


def test_the_qr_code_encodes_an_absolute_check_in_link(
    app, english, login, make_meeting, secretary, attendee
):
    meeting = make_meeting("in_progress", invite={attendee: "resident_rep"})
    login(secretary)
    page = english.get(f"/meetings/{meeting.id}/checkin/codes").get_data(as_text=True)
    assert f"/meetings/{meeting.id}/checkin/{attendee.id}/qr.svg" in page
    with app.test_request_context():
        svg = checkin.qr_svg("http://localhost/checkin/abc")
    assert svg.startswith("<?xml") and "<path" in svg


def test_the_qr_pages_renew_their_codes_without_reloading_the_page(
    english, login, make_meeting, secretary, attendee
):
    meeting = make_meeting("in_progress", invite={attendee: "resident_rep"})
    login(secretary)
    for url in (
        f"/meetings/{meeting.id}/checkin/codes",
        f"/meetings/{meeting.id}/checkin/{attendee.id}/qr",
    ):
        page = english.get(url).get_data(as_text=True)
        assert 'http-equiv="refresh"' not in page, url
        assert "js/qr-renew.js" in page and "data-renew-seconds=" in page, url
        assert f'data-qr="/meetings/{meeting.id}/checkin/{attendee.id}/qr.svg"' in page, url
        assert f'<a href="{url}">Renew them now</a>' in page, url  # without JavaScript


def test_someone_elses_code_is_refused(english, login, make_meeting, attendee, resident):
    meeting = make_meeting("in_progress", invite={attendee: "resident_rep", resident: "observer"})
    link = f"/checkin/{checkin.make_token(meeting.id, attendee.id)}"
    login(resident)
    for response in (english.get(link), english.post(link)):
        assert response.status_code == 403
        assert "belongs to another attendee" in response.get_data(as_text=True)
    assert attendance_of(meeting, attendee).presence is None
    assert attendance_of(meeting, resident).presence is None


def test_an_expired_code_is_refused(app, english, login, make_meeting, attendee, monkeypatch):
    meeting = make_meeting("in_progress", invite={attendee: "resident_rep"})
    link = f"/checkin/{checkin.make_token(meeting.id, attendee.id)}"
    monkeypatch.setitem(app.config, "CHECKIN_TOKEN_MAX_AGE", -1)
    login(attendee)
    response = english.post(link)
    assert response.status_code == 410
    assert "This check-in code has expired." in response.get_data(as_text=True)
    assert attendance_of(meeting, attendee).presence is None


def test_a_forged_code_is_refused(english, login, make_meeting, attendee):
    meeting = make_meeting("in_progress", invite={attendee: "resident_rep"})
    token = checkin.make_token(meeting.id, attendee.id)
    login(attendee)
    response = english.get(f"/checkin/{token[:-2]}xx")
    assert response.status_code == 404
    assert "This check-in code is not valid." in response.get_data(as_text=True)


def test_a_code_works_only_while_the_meeting_is_in_progress(
    in_request, english, login, make_meeting, secretary, attendee
):
    meeting = make_meeting("in_progress", invite={attendee: "resident_rep"})
    link = f"/checkin/{checkin.make_token(meeting.id, attendee.id)}"
    services.transition_meeting(secretary, meeting, "closed")
    db.session.flush()
    login(attendee)
    response = english.post(link)
    assert response.status_code == 409
    assert "only while the meeting is in progress" in response.get_data(as_text=True)


def test_scanning_while_logged_out_asks_to_log_in_first(client, make_meeting, attendee):
    meeting = make_meeting("in_progress", invite={attendee: "resident_rep"})
    link = f"/checkin/{checkin.make_token(meeting.id, attendee.id)}"
    response = client.get(link)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login")


def test_qr_codes_are_shown_only_during_the_meeting(
    english, login, make_meeting, secretary, attendee
):
    meeting = make_meeting("scheduled", invite={attendee: "resident_rep"})
    login(secretary)
    assert english.get(f"/meetings/{meeting.id}/checkin/codes").status_code == 403
    assert english.get(f"/meetings/{meeting.id}/checkin/{attendee.id}/qr.svg").status_code == 403


# --- quorum and sign-in sheet -------------------------------------------------------------


def test_quorum_counts_voting_attendees_present(
    english, login, in_request, make_meeting, make_member, secretary
):
    people = [make_member(f"代表{n}") for n in range(5)]
    roles = ["resident_rep", "party_member_rep", "cppcc_member", "observer", "property_rep"]
    meeting = make_meeting("in_progress", invite=dict(zip(people, roles, strict=True)))
    for person in people[:2] + people[3:4]:  # two voters and the observer come
        services.mark_presence(secretary, attendance_of(meeting, person), "present")
    services.mark_presence(secretary, attendance_of(meeting, people[2]), "excused")
    db.session.flush()

    quorum = services.quorum(fresh(meeting))
    assert (quorum.voting_present, quorum.voting_invited) == (2, 4)
    assert (quorum.present, quorum.invited) == (3, 5)
    assert not quorum.has_majority

    login(secretary)
    page = english.get(f"/meetings/{meeting.id}/checkin").get_data(as_text=True)
    assert re.search(r"<strong>2</strong> / 4", page)
    assert "voting attendees present / invited" in page


def test_sign_in_sheet_lists_attendees_by_role_with_a_signature_column(
    english, login, make_meeting, make_member, secretary
):
    resident_rep, cppcc, observer = (
        make_member("王桂兰"),
        make_member("李建国"),
        make_member("刘志强"),
    )
    meeting = make_meeting(
        "scheduled",
        invite={observer: "observer", resident_rep: "resident_rep", cppcc: "cppcc_member"},
    )
    login(secretary)
    response = english.get(f"/meetings/{meeting.id}/sign-in-sheet")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Signature" in page and "签到表" in page
    # in the order of DESIGN.md's roles: CPPCC member first, observer last
    assert page.index("李建国") < page.index("王桂兰") < page.index("刘志强")
    assert "政协委员" in page and "列席" in page
    assert '<script src="/static/js/print.js" defer></script>' in page


def test_walk_in_attendees_are_invited_at_the_door(in_request, make_meeting, secretary, attendee):
    meeting = make_meeting("in_progress")
    [attendance] = services.invite(secretary, meeting, [services.Invitation(attendee, "expert")])
    services.mark_presence(secretary, attendance, "present")
    assert notifications_of(attendee, "meeting.invited")


def test_form_errors_are_shown_for_a_closed_meeting(
    english, login, make_meeting, secretary, attendee
):
    meeting = make_meeting("closed")
    login(secretary)
    page = english.get(f"/meetings/{meeting.id}/attendees").get_data(as_text=True)
    assert "Invite members of" not in page
    assert form_errors(page) == []


def test_an_invitation_says_role_time_and_place(in_request, make_meeting, secretary, attendee):
    attendee.locale = "en"
    starts = next_week() - timedelta(days=6)
    meeting = make_meeting(
        "scheduled",
        invite={attendee: "grid_leader"},
        starts_at=starts,
        ends_at=starts + timedelta(hours=1),
    )
    [told] = notifications_of(attendee, "meeting.invited")
    assert "as Grid leader" in told.body
    assert "7:00\u202fPM" in told.body or "7:00 PM" in told.body
    assert meeting.location in told.body


def test_the_qr_code_holds_the_attendees_own_link_on_the_public_address(
    app, english, login, make_meeting, secretary, attendee, monkeypatch
):
    meeting = make_meeting("in_progress", invite={attendee: "resident_rep"})
    encoded = []
    real_qr_svg = checkin.qr_svg
    monkeypatch.setattr(
        checkin, "qr_svg", lambda url, **kwargs: encoded.append(url) or real_qr_svg(url, **kwargs)
    )
    monkeypatch.setitem(app.config, "SITE_URL", "https://shangliang.example.org/")
    login(secretary)
    assert english.get(f"/meetings/{meeting.id}/checkin/{attendee.id}/qr.svg").status_code == 200
    [url] = encoded
    prefix = "https://shangliang.example.org/checkin/"
    assert url.startswith(prefix)
    claim = checkin.read_token(url.removeprefix(prefix))
    assert (claim.meeting_id, claim.user_id) == (meeting.id, attendee.id)


# --- invitations across the street, with the usual role ---------------------------------


@pytest.fixture
def street_people(request):
    """The organisation's fixtures (``organisation_fixtures``), on demand."""
    return request.getfixturevalue


def test_street_staff_unit_members_and_members_elsewhere_may_be_invited(
    client, bearer, make_meeting, secretary, community, street_people
):
    official = street_people("street_official")
    staff = street_people("unit_staff")
    street_people("unit")
    cppcc = street_people("cppcc_member")
    meeting = make_meeting("scheduled")
    url = f"/api/v1/meetings/{meeting.id}/attendances"
    # without a role: the usual one
    roles = {}
    for user in (official, staff):
        response = client.post(url, json={"user_id": user.id}, headers=bearer(secretary))
        assert response.status_code == 201, response.get_json()
        roles[user.username] = response.get_json()["role"]
    assert roles == {"official": "street_official", "wuye": "property_rep"}
    # a member of another community only: refused, until a member here too
    refused = client.post(url, json={"user_id": cppcc.id}, headers=bearer(secretary))
    assert refused.status_code == 422
    assert "东篱社区" in refused.get_json()["error"]["fields"]["user_id"][0]
    client.post(
        f"/api/v1/communities/{community.id}/members",
        json={"user_id": cppcc.id, "standing_role": "cppcc_member"},
        headers=bearer(secretary),
    )
    response = client.post(url, json={"user_id": cppcc.id}, headers=bearer(secretary))
    assert response.get_json()["role"] == "cppcc_member"
    # a role given wins over the usual one
    other = make_meeting("draft", title="另一个会")
    given = client.post(
        f"/api/v1/meetings/{other.id}/attendances",
        json={"user_id": official.id, "role": "observer"},
        headers=bearer(secretary),
    )
    assert (given.get_json()["role"], given.get_json()["may_vote"]) == ("observer", False)


def test_another_streets_official_is_not_invited(
    client, bearer, make_meeting, secretary, street_people
):
    street_people("street")
    other = street_people("other_official")
    meeting = make_meeting("draft")
    response = client.post(
        f"/api/v1/meetings/{meeting.id}/attendances",
        json={"user_id": other.id},
        headers=bearer(secretary),
    )
    assert response.status_code == 422


def test_a_cppcc_member_sits_in_two_communities_meetings_with_their_role(
    in_request, make_meeting, secretary, other_secretary, other_community, community, street_people
):
    cppcc = street_people("cppcc_member")
    organisation.add_member(secretary, community, cppcc, "cppcc_member")
    organisation.set_standing_role(other_secretary, other_community, cppcc, "cppcc_member")
    here = make_meeting("draft")
    there = make_meeting("draft", community=other_community, by=other_secretary, title="星怡议事会")
    [a] = services.invite(secretary, here, [services.Invitation(cppcc)])
    [b] = services.invite(other_secretary, there, [services.Invitation(cppcc)])
    assert a.role == b.role == AttendeeRole.CPPCC_MEMBER


def test_the_attendees_page_lists_street_staff_with_their_role_pre_filled(
    english, login, make_meeting, secretary, street_people
):
    official = street_people("street_official")
    meeting = make_meeting("draft")
    login(secretary)
    page = english.get(f"/meetings/{meeting.id}/attendees?q=街道").get_data(as_text=True)
    index = invite_rows(page)[official.display_name]
    assert re.search(
        rf'id="rows-{index}-role"[^>]*>.*?<option selected value="street_official">', page, re.S
    )


# --- the same people as an earlier meeting ----------------------------------------------


def test_copying_an_earlier_meetings_people_adds_and_skips(
    client, bearer, make_meeting, make_member, secretary, attendee, street_people
):
    official = street_people("street_official")
    left = make_member("已搬走")
    earlier = make_meeting(
        "closed",
        invite={attendee: "cppcc_member", official: "street_official", left: "observer"},
        title="上次议事会",
    )
    left.is_active = False
    meeting = make_meeting("draft", invite={attendee: "resident_rep"})
    db.session.flush()
    response = client.post(
        f"/api/v1/meetings/{meeting.id}/attendances/copy",
        json={"from_meeting_id": earlier.id},
        headers=bearer(secretary),
    )
    assert response.status_code == 201
    body = response.get_json()
    assert [(a["user_id"], a["role"]) for a in body["added"]] == [(official.id, "street_official")]
    assert {(s["user_id"], s["reason"]) for s in body["skipped"]} == {
        (attendee.id, "already_invited"),
        (left.id, "not_invitable"),
    }
    assert "attendance.copied" in audit_actions(meeting)


def test_copying_from_another_communitys_meeting_is_refused(
    client, bearer, make_meeting, secretary, other_secretary, other_community
):
    theirs = make_meeting("scheduled", community=other_community, by=other_secretary)
    meeting = make_meeting("draft")
    url = f"/api/v1/meetings/{meeting.id}/attendances/copy"
    response = client.post(url, json={"from_meeting_id": theirs.id}, headers=bearer(secretary))
    assert response.status_code == 422
    assert (
        client.post(url, json={"from_meeting_id": 999999}, headers=bearer(secretary)).status_code
        == 422
    )
    forbidden = client.post(
        url, json={"from_meeting_id": theirs.id}, headers=bearer(other_secretary)
    )
    assert forbidden.status_code == 404  # a draft is as missing as a wrong id to outsiders


def test_the_attendees_page_copies_after_a_confirmation(
    english, login, make_meeting, make_member, secretary, attendee
):
    voter = make_member("李代表")
    earlier = make_meeting("closed", invite={attendee: "cppcc_member", voter: "resident_rep"})
    meeting = make_meeting("draft", invite={voter: "expert"}, title="这次议事会")
    login(secretary)
    page = english.get(f"/meetings/{meeting.id}/attendees").get_data(as_text=True)
    assert f'<option value="{earlier.id}">' in page
    confirm = english.get(f"/meetings/{meeting.id}/attendees/copy?from_meeting_id={earlier.id}")
    assert confirm.status_code == 200
    text = confirm.get_data(as_text=True)
    assert "张秀英" in text.split('id="to-add"')[1].split("</ul>")[0]
    assert "李代表" in text.split('id="skipped"')[1].split("</ul>")[0]
    assert attendance_of(meeting, attendee) is None  # nothing changes before confirming
    done = english.post(
        f"/meetings/{meeting.id}/attendees/copy", data={"from_meeting_id": str(earlier.id)}
    )
    assert done.status_code == 302
    assert "1 invited, 1 left out." in flashes(
        english.get(done.headers["Location"]).get_data(as_text=True)
    )
    assert attendance_of(meeting, attendee).role == AttendeeRole.CPPCC_MEMBER
    assert attendance_of(meeting, voter).role == AttendeeRole.EXPERT
