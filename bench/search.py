"""The public search at five years of history (issue 17): server time per query.

    .venv/bin/python bench/search.py --database-url URL     # a database kept by history.py --keep
    .venv/bin/python bench/search.py --database-url URL --reindex   # rebuild the index first, timed

The database is one filled by ``bench/history.py --keep`` (whose rows are
written with COPY: ``history.py`` builds the index at its end with
``meetings.search.index.reindex``; ``--reindex`` does it again here, timed,
and prints the index's size).

For each query — one character (电), two-character words (电梯, 充电, the
common 社区), longer words (电动车楼道充电, 加装电梯), a Latin word, a rare
and an absent word, filters, page 1 and a far page — it requests
``GET /api/v1/public/search`` and ``GET /search`` through Flask's test
client (the whole WSGI stack in this process, no network) and prints the
number of SQL statements, the total found and the server time: the median
of 5 after one warm-up, and the worst. Target: under 100 ms on PostgreSQL.

Exit status 0 whatever the verdicts (it measures; it does not gate).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_MS = 100
RUNS = 5

QUERIES: list[tuple[str, dict]] = [
    ("one character", {"q": "电"}),
    ("two characters", {"q": "电梯"}),
    ("two characters", {"q": "充电"}),
    ("common word", {"q": "社区"}),
    ("longer word", {"q": "加装电梯"}),
    ("longer word", {"q": "电动车楼道充电"}),
    ("two words", {"q": "电梯 维保"}),
    ("rare word", {"q": "桂兰"}),
    ("absent word", {"q": "鸵鸟"}),
    ("absent long word", {"q": "电梯充电桩"}),
    ("Latin word", {"q": "wifi"}),
    ("one kind", {"q": "充电", "kind": "minutes"}),
    ("one community", {"q": "充电", "community": 1}),
    ("far page", {"q": "电梯", "page": 400}),
    ("far page, common", {"q": "社区", "page": 1100}),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--reindex", action="store_true", help="rebuild the index first, timed")
    parser.add_argument("--runs", type=int, default=RUNS)
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("--database-url (or DATABASE_URL) is needed")
    os.environ.setdefault("SECRET_KEY", "bench-search")

    from sqlalchemy import event

    from meetings import create_app
    from meetings.extensions import db
    from meetings.search import index

    app = create_app({"DATABASE_URL": args.database_url, "SEARCH_RATE_LIMIT": "1000000 per minute"})
    with app.app_context():
        if args.reindex:
            started = time.perf_counter()
            docs, tokens = index.reindex(db.session)
            took = time.perf_counter() - started
            print(f"reindex: {docs:,} documents, {tokens:,} tokens in {took:.1f} s")
        print_size(db)
        statements = [0]

        @event.listens_for(db.engine, "before_cursor_execute")
        def count(*_args) -> None:
            statements[0] += 1

        client = app.test_client()
        print(f"{'query':<22}{'path':<44}{'SQL':>4}{'found':>9}{'median ms':>11}{'worst ms':>10}")
        worst_all = 0.0
        for label, params in QUERIES:
            for path in ("/api/v1/public/search", "/search"):
                url = f"{path}?{urlencode(params)}"
                response = client.get(url)  # warm-up
                assert response.status_code == 200, (url, response.status_code)
                found = response.get_json()["total"] if path.startswith("/api") else ""
                times = []
                for _ in range(args.runs):
                    statements[0] = 0
                    started = time.perf_counter()
                    client.get(url)
                    times.append((time.perf_counter() - started) * 1000)
                median, worst = sorted(times)[len(times) // 2], max(times)
                worst_all = max(worst_all, median)
                shown = f"{params['q']} " + " ".join(
                    f"{k}={v}" for k, v in params.items() if k != "q"
                )
                print(
                    f"{label:<22}{(path + ' ' + shown)[:43]:<44}{statements[0]:>4}"
                    f"{found!s:>9}{median:>11.1f}{worst:>10.1f}"
                )
        verdict = "within" if worst_all < TARGET_MS else "OVER"
        print(f"slowest median {worst_all:.1f} ms: {verdict} the {TARGET_MS} ms target")
    return 0


def print_size(db) -> None:
    from sqlalchemy import text

    if db.engine.dialect.name != "postgresql":
        return
    rows = db.session.execute(
        text(
            "SELECT relname, pg_total_relation_size(oid) FROM pg_class "
            "WHERE relname IN ('search_document', 'search_token')"
        )
    ).all()
    counts = {
        name: db.session.scalar(text(f"SELECT count(*) FROM {name}"))  # noqa: S608 - fixed names
        for name in ("search_document", "search_token")
    }
    for name, size in sorted(rows):
        print(f"{name}: {counts[name]:,} rows, {size / 2**20:.0f} MB with indexes")


if __name__ == "__main__":
    sys.exit(main())
