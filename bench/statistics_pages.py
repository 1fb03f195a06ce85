"""The statistics pages and API at five years of history (issue 17): SQL
statements and server time of each, for a month, a year and all the history
(the five years the period may span).

    .venv/bin/python bench/statistics_pages.py --database-url URL     # kept by history.py --keep

The database (filled by ``bench/history.py --keep``, PostgreSQL) is only
read: everything runs inside one transaction that is rolled back at the end
(the logins' sessions and the API token included), as the tests do. As in
``bench/pages.py``, requests go through Flask's test client (the whole WSGI
stack, no network); each figure is the median of ``--repeat`` runs after one
warm-up, the statements counted by a ``before_cursor_execute`` listener. The
people: the administrator ``admin``, the secretary ``sec-01`` of the largest
community and ``street-1`` of its street's staff.

Exit status 0 whatever the figures (it measures; it does not gate); each line
is judged against issue 17's target: under 200 ms, statements fixed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

import history  # noqa: E402
from flask_sqlalchemy.session import Session as FlaskSQLAlchemySession  # noqa: E402
from sqlalchemy import event, func, select  # noqa: E402

from auth import services as auth_services  # noqa: E402
from auth.models import Community, Membership, User  # noqa: E402
from meetings import create_app  # noqa: E402
from meetings.extensions import db  # noqa: E402
from meetings.requests.models import ResidentRequest  # noqa: E402

SECRET_KEY = "bench-statistics-not-for-production"  # noqa: S105
TARGET_MS = 200


class BoundSession(FlaskSQLAlchemySession):
    """A session on the one connection whose transaction is rolled back."""

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        return bind or self.bind or super().get_bind(mapper, clause, **kwargs)


def periods(last: date) -> list[tuple[str, str, str]]:
    """A month, a year and five years, ending with the history's last month."""
    month_start = last.replace(day=1)
    return [
        ("a month", month_start.isoformat(), last.isoformat()),
        ("a year", date(last.year, 1, 1).isoformat(), date(last.year, 12, 31).isoformat()),
        (
            "all (5 years)",
            date(last.year - 4, 1, 1).isoformat(),
            date(last.year, 12, 31).isoformat(),
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    app = create_app(
        {
            "SECRET_KEY": SECRET_KEY,
            "DATABASE_URL": args.database_url,
            "REDIS_URL": None,
            "MAIL_SERVER": None,
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "SITE_URL": "http://localhost",
            "LOG_LEVEL": "WARNING",
        }
    )
    counter = {"n": 0}

    def count(*_args, **_kwargs) -> None:
        counter["n"] += 1

    with app.app_context():
        connection = db.engine.connect()
        transaction = connection.begin()
        original = db.session
        db.session = db._make_scoped_session(
            {
                "class_": BoundSession,
                "bind": connection,
                "join_transaction_mode": "create_savepoint",
            }
        )
        try:
            secretary = auth_services.get_user_by_username("sec-01")
            community_id = db.session.scalar(
                select(Membership.community_id).where(
                    Membership.user_id == secretary.id, Membership.is_secretary.is_(True)
                )
            )
            street_id = db.session.get(Community, community_id).street_id
            last = db.session.scalar(select(func.max(ResidentRequest.created_at))).date()
            admin = auth_services.get_user_by_username("admin")
            token, _live = auth_services.issue_token(admin)
            db.session.flush()
            clients = {}
            for who in ("admin", "sec-01", "street-1"):
                client = app.test_client()
                response = client.post(
                    "/auth/login", data={"username": who, "password": history.BENCH_PASSWORD}
                )
                if response.status_code != 302:
                    raise RuntimeError(f"login as {who}: {response.status_code}")
                clients[who] = client
            counts = {
                "requests": db.session.scalar(select(func.count()).select_from(ResidentRequest)),
                "users": db.session.scalar(select(func.count()).select_from(User)),
            }
            print(
                f"history: {counts['requests']:,} requests, {counts['users']:,} accounts,"
                f" last request {last}; community {community_id}, street {street_id}"
            )
            pages = [
                ("community page", "sec-01", f"/communities/{community_id}/statistics"),
                ("street page", "street-1", f"/streets/{street_id}/statistics"),
                ("all streets page", "admin", "/statistics"),
                ("all streets .xlsx", "admin", "/statistics.xlsx"),
                ("API all", "api", "/api/v1/statistics?scope=all"),
                ("API community", "api", f"/api/v1/statistics?scope=community&id={community_id}"),
            ]
            event.listen(connection, "before_cursor_execute", count)
            print(f"{'page':<22} {'period':<14} {'status':>6} {'stmts':>6} {'ms':>8}  verdict")
            for label, who, path in pages:
                for name, start, end in periods(last):
                    joiner = "&" if "?" in path else "?"
                    url = f"{path}{joiner}from={start}&to={end}"
                    client = clients.get(who) or clients["admin"]
                    headers = {"Authorization": f"Bearer {token}"} if who == "api" else {}
                    times, statements, status = [], 0, 0
                    for attempt in range(args.repeat + 1):
                        before = counter["n"]
                        started = time.perf_counter()
                        response = client.get(url, headers=headers)
                        response.get_data()
                        took = (time.perf_counter() - started) * 1000
                        status = response.status_code
                        if attempt:
                            times.append(took)
                            statements = counter["n"] - before
                    ms = statistics.median(times)
                    verdict = "ok" if ms < TARGET_MS and status == 200 else "SLOW"
                    print(
                        f"{label:<22} {name:<14} {status:>6} {statements:>6} {ms:>8.1f}  {verdict}"
                    )
        finally:
            event.remove(connection, "before_cursor_execute", count)
            db.session.remove()
            db.session = original
            transaction.rollback()
            connection.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
