"""The demo 公示 (``flask seed-demo``): the loudspeaker resolution of 竹韵社区
in notice with a resident's objection answered, the lift notice boards of
东篱社区 in effect after theirs; seeding twice adds nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from meetings.dbtypes import utcnow
from meetings.extensions import db
from meetings.projects.models import Resolution, ResolutionObjection, ResolutionStatus


@pytest.fixture
def seeded(runner, monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "demo-password-1")
    monkeypatch.setenv("ADMIN_PASSWORD", "admin-password-1")
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    return result


def _by_start(text: str) -> Resolution:
    return db.session.scalar(db.select(Resolution).where(Resolution.text.startswith(text)))


def test_the_demo_notices(seeded, runner, english):
    speakers = _by_start("同意在竹韵社区有条件安装智慧音箱")
    assert speakers.status == ResolutionStatus.IN_NOTICE
    left = speakers.notice_ends_at - utcnow()
    assert timedelta(days=2, hours=23) < left < timedelta(days=3, hours=1)
    (objection,) = speakers.objections
    assert objection.user.username == "zhuyun-05"
    assert objection.is_answered and not objection.upheld

    boards = _by_start("物业三日内清理全部电梯轿厢小广告")
    assert boards.status == ResolutionStatus.EFFECTIVE
    assert boards.notice_settled_at == boards.notice_ends_at + timedelta(hours=1)
    assert [o.is_answered for o in boards.objections] == [True]

    page = english.get(f"/communities/{speakers.meeting.community_id}/notices")
    assert "In public notice" in page.get_data(as_text=True)

    again = runner.invoke(args=["seed-demo"])
    assert again.exit_code == 0, again.output
    assert db.session.scalar(db.select(db.func.count(ResolutionObjection.id))) == 2
