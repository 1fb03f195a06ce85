"""What one ballot costs in CPU, without the noise of a server under load.

    .venv/bin/python bench/ballot_cpu.py [--db sqlite|postgres] [--voters 300]
                                         [--rounds 5] [--profile ballot.prof]

Builds the same meeting as ``bench/vote_load.py`` (a fresh database, voters
holding API tokens), then, in this one process, sends every voter's
``POST /api/v1/polls/{id}/ballots`` straight to the app's WSGI callable, one
after the other, for ``--rounds`` polls. It prints the CPU time per ballot of
this process and, on PostgreSQL, of the server process serving it: the
smallest over the rounds (the steadiest figure on a busy machine) and the
median. ``--profile`` writes a cProfile of the rounds (CPU time) to the file,
for ``python -m pstats`` or snakeviz. No HTTP server and no concurrency: what
is left is the app's own work per ballot (``cast_ballot``'s transaction
and the request around it; the ballots wait in the ballot box, the polls are
not closed).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import vote_load  # noqa: E402 — the benchmark's set-up, shared


def ballot_environs(setup: vote_load.Setup, poll: vote_load.OpenPoll) -> list[dict]:
    from werkzeug.test import EnvironBuilder

    environs = []
    for voter, token in enumerate(setup.voter_tokens):
        body = {"option_ids": [poll.option_ids[voter % len(poll.option_ids)]]}
        call = vote_load.json_call("POST", f"/api/v1/polls/{poll.id}/ballots", body, token)
        builder = EnvironBuilder(
            path=call.path, method=call.method, data=call.body, headers=call.headers
        )
        environs.append(builder.get_environ())
    return environs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--voters", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profile", type=Path, help="write a cProfile of the rounds here")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("TEST_DATABASE_URL") or vote_load.DEFAULT_POSTGRES_URL,
        help="a database on the server where a fresh one is created (and dropped)",
    )
    args = parser.parse_args(argv)
    if args.voters < 1 or args.rounds < 1:
        parser.error("--voters and --rounds must be at least 1")

    statuses: Counter = Counter()

    def start_response(status, headers, exc_info=None):
        statuses[status] += 1

    with (
        tempfile.TemporaryDirectory(prefix="ballot-cpu-") as tmp,
        vote_load.fresh_database(args.db, args.postgres_url, Path(tmp)) as url,
    ):
        setup = vote_load.prepare(url, args.voters)
        polls = [vote_load.open_poll(url, setup, n) for n in range(args.rounds + 1)]
        app = vote_load.app_for(url)
        profiler = cProfile.Profile(time.process_time) if args.profile else None

        def send(environs: list[dict]) -> None:
            for environ in environs:
                body = app(environ, start_response)
                b"".join(body)
                body.close()

        send(ballot_environs(setup, polls[0]))  # warm up: caches, connections
        database_pids = vote_load.database_pids(url)
        app_ms, database_ms = [], []
        for poll in polls[1:]:
            environs = ballot_environs(setup, poll)
            before = time.process_time(), vote_load.cpu_seconds(database_pids)
            if profiler is not None:
                profiler.enable()
            send(environs)
            if profiler is not None:
                profiler.disable()
            after = time.process_time(), vote_load.cpu_seconds(database_pids)
            app_ms.append((after[0] - before[0]) / len(environs) * 1000)
            database_ms.append((after[1] - before[1]) / len(environs) * 1000)
        from meetings.extensions import db

        with app.app_context():
            db.engine.dispose()

    wrong = {status: n for status, n in statuses.items() if not status.startswith("201")}
    print(
        f"{args.db}: {args.rounds} round(s) of {args.voters} ballots, one process, no server"
        f"{' (profiled: slower)' if profiler else ''}"
    )
    print(
        f"  app CPU per ballot   min {min(app_ms):.2f} ms, median {statistics.median(app_ms):.2f}"
    )
    if args.db == "postgres":
        print(
            f"  PostgreSQL CPU       min {min(database_ms):.2f} ms, "
            f"median {statistics.median(database_ms):.2f}"
        )
    if wrong:
        print(f"  answers other than 201: {wrong}")
    if profiler is not None:
        profiler.dump_stats(args.profile)
        print(f"  profile written to {args.profile}")
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
