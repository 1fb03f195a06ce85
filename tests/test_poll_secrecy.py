"""Ballot secrecy: a secret poll's tables hold *that* someone voted
(``poll_vote``) and *what* was chosen (``ballot``, ``ballot_choice``) with
nothing that links the one to the other — checked on the schema, on the rows
a real vote leaves behind, and on PostgreSQL on what lies under the columns:
the transaction ids (``xmin``) and the physical order (``ctid``) of the rows.

While a poll is open its ballots wait in the ballot box (``pending_ballot``),
each written with its voter's line on the roll in one transaction; the close
writes them into ``ballot`` and ``ballot_choice`` in a random order, in a
transaction of its own, and empties the box (docs/ballot-secrecy.md says what
someone with the database's own rights can still see while a poll is open).
On SQLite the ballot tables are WITHOUT ROWID, so their only physical order
is the random receipt's.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from conftest import _on_postgres
from live_server import meeting_in_progress, open_poll

from auth import services as auth_services
from meetings.audit.models import AuditEntry
from meetings.errors import NotAllowed
from meetings.extensions import db
from meetings.extensions import db as _db
from meetings.meeting import services as meeting_services
from meetings.meeting.models import MeetingStatus
from meetings.polls import services
from meetings.polls.models import Ballot, BallotChoice, Poll, PollVote

pytest_plugins = ["meeting_fixtures"]

BALLOT_TABLES = ("ballot", "ballot_choice", "pending_ballot")


def inspector() -> sa.Inspector:
    # The test's own connection: on SQLite it holds the write lock for the test.
    return sa.inspect(db.session.connection())


def is_time(column: dict) -> bool:
    return isinstance(column["type"], sa.DateTime | sa.Date | sa.Time | sa.Interval)


def on_sqlite() -> bool:
    return db.session.connection().dialect.name == "sqlite"


# --- the schema ------------------------------------------------------------------------


def test_ballot_tables_have_no_time_and_no_serial_id():
    schema = inspector()
    for table in (*BALLOT_TABLES, "poll_vote"):
        columns = schema.get_columns(table)
        assert [c["name"] for c in columns if is_time(c)] == [], table
        for column in columns:
            # no sequence, identity or other default that numbers rows as they come
            assert column.get("default") is None, (table, column)
            assert not column.get("identity"), (table, column)
            assert column.get("autoincrement") is not True, (table, column)
        primary_key = schema.get_pk_constraint(table)["constrained_columns"]
        assert len(primary_key) > 1, f"{table} is keyed by more than a single (serial) number"


def test_ballots_are_keyed_by_their_receipt():
    schema = inspector()
    assert schema.get_pk_constraint("ballot")["constrained_columns"] == ["poll_id", "receipt"]
    assert schema.get_pk_constraint("ballot_choice")["constrained_columns"] == [
        "poll_id",
        "receipt",
        "option_id",
    ]
    assert schema.get_pk_constraint("poll_vote")["constrained_columns"] == ["poll_id", "user_id"]


def test_ballot_tables_are_stored_without_rowid_on_sqlite():
    if not on_sqlite():
        pytest.skip("WITHOUT ROWID is SQLite's; see the module's note on PostgreSQL")
    for table in (*BALLOT_TABLES, "poll_vote"):
        sql = db.session.scalar(
            sa.text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :name"),
            {"name": table},
        )
        assert "WITHOUT ROWID" in sql.upper(), table


def test_no_ballot_table_refers_to_the_voter_roll_nor_the_roll_to_ballots():
    schema = inspector()
    referred = {
        table: {fk["referred_table"] for fk in schema.get_foreign_keys(table)}
        for table in schema.get_table_names()
    }
    assert referred["ballot_choice"] == {"ballot", "poll_option"}
    assert referred["ballot"] == {"poll", "user_account"}  # voter_id: named polls only
    assert referred["pending_ballot"] == {"poll", "user_account"}  # voter_id: named polls only
    assert referred["poll_vote"] == {"poll_voter"}
    # nothing else points at a ballot; at the voter roll only its own detail of
    # whose hand cast a roll line (a proxy, an assisted vote), never a ballot
    assert {t for t, targets in referred.items() if "ballot" in targets} == {"ballot_choice"}
    assert {t for t, targets in referred.items() if "poll_vote" in targets} == {"vote_on_behalf"}
    assert referred["vote_on_behalf"] == {"poll_vote", "user_account", "proxy"}


def test_the_only_voter_column_of_a_ballot_is_the_optional_named_one():
    schema = inspector()
    user_columns = {
        (table, column)
        for table in BALLOT_TABLES
        for fk in schema.get_foreign_keys(table)
        if fk["referred_table"] == "user_account"
        for column in fk["constrained_columns"]
    }
    assert user_columns == {("ballot", "voter_id"), ("pending_ballot", "voter_id")}
    columns = {c["name"]: c for c in schema.get_columns("ballot")}
    assert set(columns) == {"poll_id", "receipt", "voter_id"}
    assert columns["voter_id"]["nullable"] is True
    assert {c["name"] for c in schema.get_columns("ballot_choice")} == {
        "poll_id",
        "receipt",
        "option_id",
    }
    assert {c["name"] for c in schema.get_columns("poll_vote")} == {"poll_id", "user_id"}


# --- the rows of a secret vote ---------------------------------------------------------

TURNOUT = 12  # voters: the odds that random receipts sort in voting order are 1 in 12!


@pytest.fixture
def secret_vote(make_meeting, make_member, secretary, in_request, db):
    """A secret single-choice poll in which twelve voters voted, in a known
    order, and was closed: (poll, voters in voting order, receipt of each)."""
    voters = [make_member(f"业主代表{i:02d}") for i in range(TURNOUT)]
    meeting = make_meeting(MeetingStatus.SCHEDULED, invite=dict.fromkeys(voters, "resident_rep"))
    item = meeting_services.add_agenda_item(secretary, meeting, "飞马转盘中心路通行方案")
    poll = services.create_poll(
        secretary,
        item,
        services.PollSpec(
            title="中心路怎么治理",
            kind="single",
            secret=True,
            options=[services.OptionSpec(x) for x in ("设置道闸", "划定停车位", "移交市政")],
        ),
    )
    services.open_poll(secretary, poll)
    options = [o.id for o in poll.options]
    receipts = {}
    # voters vote in the order of their ids, so an ordered key would follow them
    for number, voter in enumerate(voters):
        receipts[voter.id] = services.cast_ballot(voter, poll, [options[number % 3]])
    services.close_poll(secretary, poll)
    db.session.flush()
    db.session.expire_all()
    return db.session.get(Poll, poll.id), voters, receipts


def test_secret_ballots_carry_no_voter(secret_vote):
    poll, _voters, receipts = secret_vote
    rows = db.session.execute(
        sa.select(Ballot.receipt, Ballot.voter_id).where(Ballot.poll_id == poll.id)
    ).all()
    assert len(rows) == TURNOUT
    assert {voter_id for _receipt, voter_id in rows} == {None}
    assert {receipt for receipt, _voter_id in rows} == set(receipts.values())
    voter_ids = {str(voter_id) for voter_id in receipts}
    assert not any(receipt in voter_ids for receipt, _ in rows)


def test_the_voter_roll_holds_only_who_voted(secret_vote):
    poll, voters, _receipts = secret_vote
    roll = db.session.execute(
        sa.select(PollVote.__table__).where(PollVote.poll_id == poll.id)
    ).all()
    assert sorted(tuple(row) for row in roll) == sorted((poll.id, v.id) for v in voters)


def test_ballots_are_not_stored_in_voting_order(secret_vote):
    poll, voters, receipts = secret_vote
    by_key = list(
        db.session.scalars(
            sa.select(Ballot.receipt).where(Ballot.poll_id == poll.id).order_by(Ballot.receipt)
        )
    )
    voting_order = [receipts[v.id] for v in voters]
    assert sorted(voting_order) == by_key
    # Receipts are random, so their order is a shuffle of the voting order; it
    # equals it (or its reverse) with a probability of 2 in 12! (≈ 4·10⁻⁹).
    assert by_key not in (voting_order, voting_order[::-1])


def test_on_sqlite_a_plain_scan_returns_ballots_in_receipt_order(secret_vote):
    if not on_sqlite():
        pytest.skip("PostgreSQL returns heap order: see the module's note")
    poll, _voters, receipts = secret_vote

    def scan(sql: str, **params) -> list[tuple]:
        return [tuple(row) for row in db.session.execute(sa.text(sql), params)]

    assert scan("SELECT receipt FROM ballot WHERE poll_id = :p", p=poll.id) == [
        (receipt,) for receipt in sorted(receipts.values())
    ]
    everything = scan("SELECT poll_id, receipt FROM ballot")
    assert everything == sorted(everything)
    # ballot_choice is read through its primary key or through its index on
    # option_id (which holds the key too): ordered by receipt or by option and
    # receipt, never by the time of writing.
    for sql in (
        "SELECT receipt, option_id FROM ballot_choice WHERE poll_id = :p",
        "SELECT receipt, option_id FROM ballot_choice",
    ):
        rows = scan(sql, p=poll.id)
        assert rows in (sorted(rows), sorted(rows, key=lambda row: (row[1], row[0]))), sql


def test_choices_are_counted_but_not_traceable(secret_vote):
    poll, _voters, receipts = secret_vote
    choices = db.session.execute(
        sa.select(BallotChoice.__table__).where(BallotChoice.poll_id == poll.id)
    ).all()
    assert {row.receipt for row in choices} == set(receipts.values())
    assert set(choices[0]._fields) == {"poll_id", "receipt", "option_id"}
    # 12 ballots over 3 options in turn: 4 each
    assert {o.id: o.votes for o in poll.options} == dict.fromkeys((o.id for o in poll.options), 4)


def test_the_audit_log_says_who_voted_and_never_what(secret_vote):
    poll, voters, receipts = secret_vote
    entries = list(
        db.session.scalars(
            sa.select(AuditEntry)
            .where(AuditEntry.action == "ballot.cast", AuditEntry.object_id == poll.id)
            .order_by(AuditEntry.id)
        )
    )
    assert [(e.object_type, e.actor_id) for e in entries] == [("poll", v.id) for v in voters]
    assert all(e.data == {} for e in entries)
    assert all(e.at is not None for e in entries)
    # no entry anywhere in the log names a receipt or a choice of this poll
    option_ids = {o.id for o in poll.options}
    for entry in db.session.scalars(sa.select(AuditEntry)):
        text = repr(entry.data)
        assert not any(receipt in text for receipt in receipts.values()), entry.action
        if entry.action.startswith("ballot"):
            assert not option_ids & set(entry.data.values())


def test_nobody_can_list_who_voted_what_on_a_secret_poll(secret_vote, secretary):
    poll, _voters, _receipts = secret_vote
    with pytest.raises(NotAllowed):
        services.named_votes(secretary, poll)
    lines = services.receipts(poll)
    assert [line.receipt for line in lines] == sorted(line.receipt for line in lines)
    assert all(len(line.option_ids) == 1 for line in lines)


# --- under the columns: PostgreSQL's transaction ids and row order ------------------------

HALL = 80  # with 80 ballots a shuffle correlates with the casting order above 0.5 once in 10⁵


def spearman(ranks: list[int]) -> float:
    """Rank correlation of ``ranks`` with 0, 1, 2 …"""
    n = len(ranks)
    squares = sum((rank - position) ** 2 for position, rank in enumerate(ranks))
    return 1 - 6 * squares / (n * (n * n - 1))


@pytest.mark.skipif(not _on_postgres(), reason="PostgreSQL's xmin and ctid")
def test_after_the_close_no_transaction_id_or_row_order_links_voters_to_ballots(committing_app):
    with committing_app.test_request_context():
        secretary, voters, item = meeting_in_progress(HALL, "secret")
        poll_id, options = open_poll(secretary, item, "是否设置道闸", "yes_no_abstain", secret=True)
        tokens = [auth_services.issue_token(person)[0] for person in (secretary, *voters)]
        _db.session.commit()
    client = committing_app.test_client()

    def post(path: str, token: str, body: dict | None = None):
        return client.post(
            f"/api/v1{path}", json=body, headers={"Authorization": f"Bearer {token}"}
        )

    cast_order = []  # receipts in the order the ballots were cast, one transaction each
    for number, token in enumerate(tokens[1:]):
        response = post(f"/polls/{poll_id}/ballots", token, {"option_ids": [options[number % 3]]})
        assert response.status_code == 201, response.json
        cast_order.append(response.json["receipt"])
    assert post(f"/polls/{poll_id}/close", tokens[0]).status_code == 200

    with committing_app.app_context(), _db.engine.connect() as connection:

        def rows(sql: str) -> list[tuple]:
            return [tuple(row) for row in connection.execute(sa.text(sql), {"poll": poll_id})]

        # Nothing waits in the box, and every ballot is counted.
        assert rows("SELECT count(*) FROM pending_ballot WHERE poll_id = :poll") == [(0,)]
        assert rows("SELECT count(*) FROM ballot WHERE poll_id = :poll") == [(HALL,)]
        # No ballot shares its writing transaction with a line of the roll …
        for table in ("ballot", "ballot_choice"):
            joined = rows(
                f"SELECT count(*) FROM poll_vote JOIN {table} ON {table}.xmin = poll_vote.xmin"  # noqa: S608
                f" WHERE poll_vote.poll_id = :poll AND {table}.poll_id = :poll"
            )
            assert joined == [(0,)], table
        # … nor with an audit entry that names a voter.
        audited = rows(
            "SELECT count(*) FROM audit_entry JOIN ballot ON ballot.xmin = audit_entry.xmin"
            " WHERE ballot.poll_id = :poll AND audit_entry.action = 'ballot.cast'"
        )
        assert audited == [(0,)]
        # The rows lie in an order that has nothing to do with the casting order.
        physical = [
            receipt
            for (receipt,) in rows("SELECT receipt FROM ballot WHERE poll_id = :poll ORDER BY ctid")
        ]
        assert sorted(physical) == sorted(cast_order)
        correlation = spearman([cast_order.index(receipt) for receipt in physical])
        assert abs(correlation) < 0.5, correlation
