"""Records kept as written: the database itself refuses to change or delete
audit entries, ballots (with their choices and the voter roll) and published
minutes, whoever asks (triggers of migrations 0007 and 0008, on SQLite and
PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from meetings.audit.services import record
from meetings.dbtypes import utcnow
from meetings.integrity import handle_database_error, refused_by_trigger
from meetings.meeting import services as meeting_services
from meetings.meeting.models import MeetingStatus
from meetings.minutes.models import MinutesVersion
from meetings.polls import services as poll_services

pytest_plugins = ["meeting_fixtures"]


def _refused(db, statement: str, **params) -> DBAPIError:
    """Run the statement in a savepoint and return the database's refusal."""
    with pytest.raises(DBAPIError) as caught, db.session.begin_nested():
        db.session.execute(text(statement), params)
    assert refused_by_trigger(caught.value), caught.value
    return caught.value


@pytest.fixture
def voted_poll(db, make_meeting, make_member, secretary, in_request):
    """A scheduled meeting with an open secret poll on its one agenda item, and two ballots."""
    voters = [make_member(f"居民代表{i}") for i in range(2)]
    meeting = make_meeting(MeetingStatus.DRAFT, invite=dict.fromkeys(voters, "resident_rep"))
    item = meeting_services.add_agenda_item(secretary, meeting, "活动室改造方案")
    meeting_services.transition_meeting(secretary, meeting, MeetingStatus.SCHEDULED)
    poll = poll_services.create_poll(
        secretary,
        item,
        poll_services.PollSpec(title="是否改造活动室", kind="yes_no_abstain", secret=True),
    )
    poll_services.open_poll(secretary, poll)
    yes = poll.options[0].id
    for voter in voters:
        poll_services.cast_ballot(voter, poll, [yes])
    db.session.flush()
    return meeting, item, poll


def test_audit_entries_cannot_be_changed_or_deleted(db, make_user):
    user = make_user()
    entry = record(user, "user.password_changed", user)
    db.session.commit()
    assert entry.seq is not None  # linked

    _refused(db, "UPDATE audit_entry SET action = 'user.registered' WHERE id = :id", id=entry.id)
    _refused(db, "UPDATE audit_entry SET hash = prev_hash WHERE id = :id", id=entry.id)
    _refused(db, "DELETE FROM audit_entry WHERE id = :id", id=entry.id)
    assert db.session.scalar(
        text("SELECT action FROM audit_entry WHERE id = :id"), {"id": entry.id}
    )


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_entry SET seq = seq + 100 WHERE id = :id",
        "UPDATE audit_entry SET seq = NULL, prev_hash = NULL, hash = NULL WHERE id = :id",
    ],
)
def test_a_linked_entry_keeps_its_place_in_the_chain(db, make_user, statement):
    user = make_user()
    entry = record(user, "user.password_changed", user)
    db.session.commit()
    seq = entry.seq

    _refused(db, statement, id=entry.id)

    assert (
        db.session.scalar(text("SELECT seq FROM audit_entry WHERE id = :id"), {"id": entry.id})
        == seq
    )


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ballot SET receipt = 'CHANGED' WHERE poll_id = :poll",
        "DELETE FROM ballot WHERE poll_id = :poll",
        "UPDATE ballot_choice SET option_id = option_id WHERE poll_id = :poll",
        "DELETE FROM ballot_choice WHERE poll_id = :poll",
        "UPDATE poll_vote SET user_id = user_id WHERE poll_id = :poll",
        "DELETE FROM poll_vote WHERE poll_id = :poll",
    ],
)
def test_ballots_and_the_voter_roll_cannot_be_changed_or_deleted(
    db, voted_poll, secretary, statement
):
    _meeting, _item, poll = voted_poll
    poll_services.close_poll(secretary, poll)  # the box emptied into the ballot tables
    db.session.flush()
    _refused(db, statement, poll=poll.id)
    assert (
        db.session.scalar(
            text("SELECT count(*) FROM ballot WHERE poll_id = :poll"), {"poll": poll.id}
        )
        == 2
    )


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE pending_ballot SET option_ids = option_ids WHERE poll_id = :poll",
        "UPDATE pending_ballot SET voter_id = NULL WHERE poll_id = :poll",
        "DELETE FROM pending_ballot WHERE poll_id = :poll",
    ],
)
def test_ballots_in_the_box_stay_as_cast_until_the_close(db, voted_poll, statement):
    _meeting, _item, poll = voted_poll
    _refused(db, statement, poll=poll.id)
    count = "SELECT count(*) FROM pending_ballot WHERE poll_id = :poll"
    assert db.session.scalar(text(count), {"poll": poll.id}) == 2


def test_a_poll_with_ballots_cannot_be_deleted_with_them(db, voted_poll):
    _meeting, _item, poll = voted_poll
    _refused(db, "DELETE FROM poll WHERE id = :poll", poll=poll.id)


def test_a_refusal_reaching_a_request_is_a_conflict_not_a_server_error(
    db, client, bearer, secretary, voted_poll
):
    """Removing the agenda item of a poll that has ballots would delete them.
    (Should the agenda service learn to refuse this itself, with a message of
    its own, the answer is still a 409.)"""
    meeting, item, _poll = voted_poll

    response = client.delete(
        f"/api/v1/meetings/{meeting.id}/agenda-items/{item.id}",
        headers=bearer(secretary) | {"Accept-Language": "en"},
    )

    assert response.status_code == 409, response.get_data(as_text=True)
    assert response.json["error"]["code"] in {"record_kept", "conflict", "invalid_transition"}


def test_the_refusal_maps_to_a_plain_message(app, db, make_user):
    user = make_user()
    entry = record(user, "user.password_changed", user)
    db.session.commit()
    error = _refused(db, "DELETE FROM audit_entry WHERE id = :id", id=entry.id)

    with app.test_request_context("/api/v1/anything", headers={"Accept-Language": "en"}):
        response = handle_database_error(error)

    assert response.status_code == 409
    assert response.json["error"] == {
        "code": "record_kept",
        "message": "Ballots, the audit log and published minutes are kept as they were "
        "recorded: they cannot be changed or deleted.",
    }


@pytest.fixture
def minutes(db, make_meeting, secretary):
    meeting = make_meeting(MeetingStatus.CLOSED)
    draft = MinutesVersion(
        meeting=meeting, number=1, body_markdown="# 纪要\n\n草稿", created_by_id=secretary.id
    )
    db.session.add(draft)
    db.session.flush()
    return draft


def test_a_draft_of_the_minutes_can_be_edited_published_and_deleted(db, minutes, secretary):
    db.session.execute(
        text("UPDATE minutes_version SET body_markdown = '# 纪要' WHERE id = :id"),
        {"id": minutes.id},
    )
    db.session.execute(
        text(
            "UPDATE minutes_version SET published_at = :now, published_by_id = :by WHERE id = :id"
        ),
        {"now": utcnow().replace(tzinfo=None), "by": secretary.id, "id": minutes.id},
    )
    draft = MinutesVersion(meeting=minutes.meeting, number=2, body_markdown="更正")
    db.session.add(draft)
    db.session.flush()
    db.session.execute(text("DELETE FROM minutes_version WHERE id = :id"), {"id": draft.id})


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE minutes_version SET body_markdown = '改过的纪要' WHERE id = :id",
        "UPDATE minutes_version SET published_at = NULL WHERE id = :id",
        "DELETE FROM minutes_version WHERE id = :id",
    ],
)
def test_published_minutes_cannot_be_changed_or_deleted(db, minutes, secretary, statement):
    minutes.published_at = utcnow()
    minutes.published_by_id = secretary.id
    db.session.flush()

    _refused(db, statement, id=minutes.id)

    db.session.expire_all()
    assert db.session.get(MinutesVersion, minutes.id).body_markdown == "# 纪要\n\n草稿"


def test_a_meeting_with_published_minutes_cannot_be_deleted(db, minutes, secretary):
    minutes.published_at = utcnow()
    db.session.flush()
    _refused(db, "DELETE FROM meeting WHERE id = :id", id=minutes.meeting_id)


@pytest.mark.parametrize("table", ["audit_entry", "ballot", "pending_ballot", "poll_vote"])
def test_postgresql_refuses_truncating_kept_records(db, table):
    if db.session.connection().dialect.name != "postgresql":
        pytest.skip("SQLite has no TRUNCATE")
    with pytest.raises(DBAPIError, match="append-only"), db.session.begin_nested():
        db.session.execute(text(f"TRUNCATE {table} CASCADE"))
