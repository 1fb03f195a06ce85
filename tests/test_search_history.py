"""A history loaded by bench/history.py (rows by COPY, past the session
events) has its search index: history.py builds it at its end."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.append(str(ROOT / "bench"))  # after the standard library: bench/statistics_pages.py

import history  # noqa: E402

pytestmark = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="loads into PostgreSQL (TEST_DATABASE_URL)",
)


def test_a_loaded_history_is_found_by_the_search():
    with history.fresh_database(os.environ["TEST_DATABASE_URL"]) as url:
        history.fill(url, 0.005, log=lambda _text: None)
        engine = sa.create_engine(url)
        try:
            with engine.connect() as connection:
                kinds = dict(
                    connection.execute(
                        sa.text("SELECT kind, count(*) FROM search_document GROUP BY kind")
                    ).all()
                )
                published = connection.scalar(
                    sa.text("SELECT count(*) FROM meeting WHERE status = 'minutes_published'")
                )
                projects = connection.scalar(sa.text("SELECT count(*) FROM project"))
                elevator = connection.scalar(
                    sa.text(
                        "SELECT count(*) FROM search_token t JOIN search_document d "
                        "ON d.id = t.document_id WHERE t.token = '电梯'"
                    )
                )
        finally:
            engine.dispose()
        assert kinds.get("minutes", 0) == published
        assert kinds["project"] == projects > 0
        assert kinds["meeting"] > 0 and kinds["request"] > 0
        assert elevator > 0
