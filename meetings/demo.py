"""Demo data for ``flask --app wsgi seed-demo``: the communities of the seed
stories with invented people. Idempotent: what exists is left alone."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import current_app

from auth import services as auth_services
from auth.models import Community, Membership, User
from meetings.extensions import db

DISTRICT = "南通经济技术开发区"

# (community, street, username prefix) — the communities of the newspaper reports.
COMMUNITIES = [
    ("东篱社区", "中兴街道", "dongli"),
    ("星怡社区", "竹行街道", "xingyi"),
    ("竹韵社区", "竹行街道", "zhuyun"),
]

# Invented names: never the people of the reports.
SECRETARIES = ["林书文", "周晓岚", "陈立群"]
RESIDENTS = [
    [
        "王桂兰",
        "李建国",
        "张秀英",
        "刘志强",
        "陈美玲",
        "杨德胜",
        "赵淑珍",
        "孙海涛",
        "吴玉梅",
        "徐国庆",
        "朱丽华",
        "马文斌",
    ],
    [
        "何静怡",
        "罗卫东",
        "梁素芬",
        "宋家豪",
        "唐月娥",
        "许振华",
        "邓春燕",
        "冯建平",
        "曹雪梅",
        "彭志远",
        "曾宝珠",
        "萧汉明",
    ],
    [
        "田秀云",
        "董立新",
        "袁翠花",
        "潘国栋",
        "蒋丽君",
        "蔡永生",
        "余桂芳",
        "杜明辉",
        "叶春兰",
        "程大伟",
        "魏红霞",
        "沈家宝",
    ],
]


def demo_password() -> str:
    """DEMO_PASSWORD, or a random one written to the instance folder on first use."""
    if env := os.environ.get("DEMO_PASSWORD"):
        return env
    path = Path(current_app.instance_path) / "demo-password.txt"
    if path.exists():
        return path.read_text().strip()
    password = secrets.token_urlsafe(9)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(password)
    path.chmod(0o600)
    return password


def _ensure_user(username: str, display_name: str, password: str) -> tuple[User, bool]:
    user = auth_services.get_user_by_username(username)
    if user is not None:
        return user, False
    user = User(username=username, display_name=display_name)
    user.set_password(password)
    db.session.add(user)
    return user, True


def _ensure_member(user: User, community: Community, is_secretary: bool) -> None:
    if user.membership_in(community.id) is None:
        db.session.add(Membership(user=user, community=community, is_secretary=is_secretary))


def _ensure_admin(report: list[str]) -> None:
    admin = db.session.scalar(db.select(User).where(User.is_admin.is_(True)).limit(1))
    if admin is not None:
        report.append(f"Administrator: {admin.username} (exists; password unchanged)")
        return
    password = os.environ.get("ADMIN_PASSWORD") or secrets.token_urlsafe(12)
    auth_services.set_admin_password("admin", password)
    report.append(f"Administrator created: admin / {password}")


def seed() -> list[str]:
    report: list[str] = []
    _ensure_admin(report)
    password = demo_password()
    created = 0
    for (name, street, prefix), secretary, residents in zip(
        COMMUNITIES, SECRETARIES, RESIDENTS, strict=True
    ):
        community = db.session.scalar(db.select(Community).where(Community.name == name))
        if community is None:
            community = Community(name=name, street=street, district=DISTRICT)
            db.session.add(community)
            db.session.flush()
        user, new = _ensure_user(f"{prefix}-sec", secretary, password)
        created += new
        db.session.flush()
        _ensure_member(user, community, is_secretary=True)
        for number, resident in enumerate(residents, start=1):
            user, new = _ensure_user(f"{prefix}-{number:02d}", resident, password)
            created += new
            db.session.flush()
            _ensure_member(user, community, is_secretary=False)
    db.session.flush()
    report.append(f"Demo accounts created: {created}")
    report.append(
        "Demo logins: dongli-sec, xingyi-sec, zhuyun-sec (secretaries), "
        f"dongli-01 … zhuyun-12 (residents); password: {password}"
    )
    return report
