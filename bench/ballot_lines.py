"""The number of application lines on the ballot path (issue 13).

    .venv/bin/python bench/ballot_lines.py [--db sqlite|postgres] [--files]

Builds, in a fresh database (a temporary SQLite file, or with ``--db
postgres`` a PostgreSQL database created next to ``--postgres-url`` and
dropped afterwards), a meeting in progress with an open named yes/no/abstain
poll and two voters holding API tokens. One voter's ballot warms the app up
(imports, caches, pooled connections); then the other's
``POST /api/v1/polls/{id}/ballots`` goes through the app's WSGI callable in
this process under ``sys.settrace``. It prints the distinct source lines run
in the project's own code — the files under ``meetings/`` and ``auth/`` of
the tree ``meetings`` is imported from — by file and in total, and the number
of distinct project functions called. Only the ballot's request is traced:
not the set-up, not the close.

It sets up with APIs that exist both before and after the voting-core
rewrite (``auth.services.issue_token``, ``meetings.meeting.services``,
``meetings.polls.services.PollSpec/create_poll/open_poll``) and casts over
HTTP, so it runs unchanged in an older checkout for the "before" figure:

    git worktree add /tmp/before 1cf1aa8
    cp bench/ballot_lines.py /tmp/before/bench/
    cd /tmp/before && /work/main/.venv/bin/python bench/ballot_lines.py --db postgres

It imports ``meetings`` from the tree it lies in (printed first, to check).
Exit status: 1 if a ballot was not answered 201.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the tree this script lies in, before any installed one

import vote_load  # noqa: E402 — the benchmarks' set-up, shared
from vote_load import app_for, fresh_database  # noqa: E402

SECRET_KEY = "bench-secret-key-not-for-production"  # noqa: S105 — a throwaway app
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def prepare(database_url: str) -> tuple[int, list[int], list[str]]:
    """Migrate the database; build a meeting in progress with two voters
    holding tokens and an open named poll (``vote_load.py``'s set-up, which
    the code before the rewrite has too). Returns the poll's id, its option
    ids and the voters' tokens."""
    setup = vote_load.prepare(database_url, voters=2)
    poll = vote_load.open_poll(database_url, setup, 1)
    return poll.id, poll.option_ids, setup.voter_tokens


class Tracer:
    """Records the lines run and the functions called in the given source
    directories, in the thread that starts it (and any thread started
    meanwhile)."""

    def __init__(self, directories: list[Path]) -> None:
        self.prefixes = tuple(str(d) + os.sep for d in directories)
        self.lines: set[tuple[str, int]] = set()
        self.functions: set[tuple[str, int, str]] = set()
        self._ours: dict[str, bool] = {}

    def _is_ours(self, filename: str) -> bool:
        ours = self._ours.get(filename)
        if ours is None:
            ours = self._ours[filename] = os.path.realpath(filename).startswith(self.prefixes)
        return ours

    def _global(self, frame, event, arg):
        code = frame.f_code
        if not self._is_ours(code.co_filename):
            return None  # no line events in others' code
        self.functions.add((code.co_filename, code.co_firstlineno, code.co_name))
        return self._local

    def _local(self, frame, event, arg):
        if event == "line":
            self.lines.add((frame.f_code.co_filename, frame.f_lineno))
        return self._local

    @contextlib.contextmanager
    def tracing(self) -> Iterator[None]:
        threading.settrace(self._global)
        sys.settrace(self._global)
        try:
            yield
        finally:
            sys.settrace(None)
            threading.settrace(None)  # type: ignore[arg-type]


def ballot(app, poll_id: int, option_id: int, token: str) -> tuple[int, bytes]:
    """One ballot through the WSGI callable, as gunicorn would hand it over."""
    from werkzeug.test import EnvironBuilder

    environ = EnvironBuilder(
        path=f"/api/v1/polls/{poll_id}/ballots",
        method="POST",
        data=json.dumps({"option_ids": [option_id]}).encode(),
        headers={
            "Content-Type": "application/json",
            "Accept-Language": "en",
            "Authorization": f"Bearer {token}",
        },
    ).get_environ()
    statuses: list[str] = []
    body = app(environ, lambda status, headers, exc_info=None: statuses.append(status))
    try:
        content = b"".join(body)
    finally:
        if hasattr(body, "close"):
            body.close()
    return int(statuses[0].split()[0]), content


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("TEST_DATABASE_URL") or DEFAULT_POSTGRES_URL,
        help="a database on the server where a fresh one is created (and dropped)",
    )
    parser.add_argument(
        "--files", action="store_true", help="also list the lines run, file by file"
    )
    args = parser.parse_args(argv)

    import auth
    import meetings

    packages = [Path(meetings.__file__).resolve().parent, Path(auth.__file__).resolve().parent]
    tree = packages[0].parent
    print(f"meetings imported from {meetings.__file__}", file=sys.stderr)

    with (
        tempfile.TemporaryDirectory(prefix="ballot-lines-") as tmp,
        fresh_database(args.db, args.postgres_url, Path(tmp)) as url,
    ):
        poll_id, option_ids, tokens = prepare(url)
        app = app_for(url)
        warm = ballot(app, poll_id, option_ids[0], tokens[0])  # imports, caches, connections
        tracer = Tracer(packages)
        with tracer.tracing():
            traced = ballot(app, poll_id, option_ids[1], tokens[1])
        from meetings.extensions import db

        with app.app_context():
            db.engine.dispose()

    by_file = Counter(
        os.path.relpath(os.path.realpath(filename), tree) for filename, _line in tracer.lines
    )
    functions = tracer.functions
    named = {f for f in functions if not f[2].startswith("<")}
    print(f"{args.db}: one ballot (after a warm-up ballot), {tree}")
    answer = traced[1][:80].decode(errors="replace").strip()
    print(f"  answers: warm-up {warm[0]}, traced {traced[0]} {answer}")
    width = max((len(name) for name in by_file), default=10)
    for name, count in sorted(by_file.items()):
        print(f"  {name:<{width}}  {count:4d}")
    print(f"  {'lines run, total':<{width}}  {sum(by_file.values()):4d}  in {len(by_file)} files")
    print(
        f"  {'functions called':<{width}}  {len(named):4d}"
        f"  (and {len(functions) - len(named)} lambdas, comprehensions, generator expressions)"
    )
    if args.files:
        for name in sorted(by_file):
            lines = sorted(
                line
                for filename, line in tracer.lines
                if os.path.relpath(os.path.realpath(filename), tree) == name
            )
            print(f"  {name}: {', '.join(map(str, lines))}")
    return 0 if warm[0] == traced[0] == 201 else 1


if __name__ == "__main__":
    sys.exit(main())
