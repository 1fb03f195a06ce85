"""The bench's five years of history (bench/history.py) stay faithful to the
app's rules: played at a tiny scale in memory, every request moves only
along ``TRANSITIONS`` and ends in its last state, orders have their
assignee, ratings their score; on PostgreSQL (``TEST_DATABASE_URL``) it
loads into a fresh database whose audit chain verifies."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from meetings.requests.models import TRANSITIONS, RequestStatus

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import history  # noqa: E402

NOW = datetime(2026, 12, 6, 3, 0, tzinfo=UTC).replace(tzinfo=None)


def _rows(directory: Path, table: str) -> list[dict[str, str | None]]:
    columns = history.TABLES[table]
    with open(directory / f"{table}.tsv", newline="") as source:
        return [
            {c: (None if v == "\\N" else v) for c, v in zip(columns, line, strict=True)}
            for line in csv.reader(source, delimiter="\t", quoting=csv.QUOTE_NONE)
        ]


@pytest.fixture(scope="module")
def played(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("history")
    rows = history.Rows(directory)
    played = history.History(0.01, 14, rows, NOW)
    played.people()
    played.plan()
    played.play()
    played.finish()
    rows.close()
    return directory


def test_requests_move_along_the_transitions(played):
    requests = {r["id"]: r for r in _rows(played, "resident_request")}
    last: dict[str, str] = {}
    for event in _rows(played, "request_event"):  # written in time order per request
        if event["from_status"] is not None:
            before, after = RequestStatus(event["from_status"]), RequestStatus(event["to_status"])
            assert after in TRANSITIONS[before], (event["request_id"], before, after)
            assert last[event["request_id"]] == before
        last[event["request_id"]] = event["to_status"]
    assert {i: r["status"] for i, r in requests.items()} == last
    for item in requests.values():
        assert item["requester_id"] or item["resident_name"]
        assert item["status"] != "closed" or item["reply"]
        if item["status"] in ("dispatched", "claimed"):
            assignees = [item[f"assignee_{k}_id"] for k in ("user", "grid", "unit")]
            assert sum(a is not None for a in assignees) == 1 and item["order_due_date"]
        if item["status"] == "claimed":
            assert item["claimed_by_id"]


def test_the_organisation_and_the_orders_are_there(played):
    requests = _rows(played, "resident_request")
    assert len(_rows(played, "street")) == 3
    assert _rows(played, "grid") and _rows(played, "grid_member") and _rows(played, "visit")
    assert {u["kind"] for u in _rows(played, "unit")} == {
        "property_company",
        "department",
        "partner_unit",
    }
    assert any(r["requester_id"] is None for r in requests)
    assert {r["channel"] for r in requests} > {"app", "wechat_group"}
    dispatched = {
        e["request_id"] for e in _rows(played, "request_event") if e["to_status"] == "dispatched"
    }
    assert 0.3 < len(dispatched) / len(requests) < 0.5
    scores = [int(r["score"]) for r in _rows(played, "request_rating")]
    assert scores and all(1 <= s <= 5 for s in scores)
    assert _rows(played, "request_step") and _rows(played, "resolution_condition")


@pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="loads into PostgreSQL (TEST_DATABASE_URL)",
)
def test_it_loads_and_the_audit_chain_verifies():
    with history.fresh_database(os.environ["TEST_DATABASE_URL"]) as url:
        counts = history.fill(url, 0.005, log=lambda _text: None)
        assert counts["resident_request"] > 100
        verified = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", "audit", "verify", "--full"],
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": url},
            capture_output=True,
            text=True,
            check=False,
        )
        assert verified.returncode == 0, verified.stderr
        assert verified.stdout.strip().splitlines()[-1].startswith("ok ")
