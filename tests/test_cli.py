"""The command line: ``create-admin`` and ``seed-demo``."""

import pytest

from auth import services as auth_services
from auth.models import Community, Membership, User

DEMO_COMMUNITIES = {"东篱社区", "星怡社区", "竹韵社区"}


def _admins(db) -> list[User]:
    return list(db.session.scalars(db.select(User).where(User.is_admin.is_(True))))


def _count(db, model) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(model))


def test_create_admin_creates_an_administrator_who_can_log_in(db, runner, client):
    result = runner.invoke(args=["create-admin", "boss", "--password", "first-password"])
    assert result.exit_code == 0, result.output
    assert "Created administrator boss." in result.output
    [admin] = _admins(db)
    assert admin.username == "boss"
    response = client.post("/auth/login", data={"username": "boss", "password": "first-password"})
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_create_admin_again_resets_the_password_of_the_same_account(db, runner):
    runner.invoke(args=["create-admin", "boss", "--password", "first-password"])
    result = runner.invoke(args=["create-admin", "boss", "--password", "second-password"])
    assert result.exit_code == 0, result.output
    assert "Updated administrator boss." in result.output
    assert [a.username for a in _admins(db)] == ["boss"]
    assert auth_services.authenticate("boss", "second-password") is not None
    assert auth_services.authenticate("boss", "first-password") is None


def test_create_admin_twice_with_the_same_password_changes_nothing_else(db, runner):
    runner.invoke(args=["create-admin", "boss", "--password", "same-password"])
    users = _count(db, User)
    result = runner.invoke(args=["create-admin", "boss", "--password", "same-password"])
    assert result.exit_code == 0
    assert _count(db, User) == users
    assert auth_services.authenticate("boss", "same-password") is not None


def test_create_admin_promotes_and_reactivates_an_existing_account(db, runner, make_user):
    user = make_user("keeper", active=False)
    result = runner.invoke(args=["create-admin", "keeper", "--password", "new-password"])
    assert result.exit_code == 0
    db.session.refresh(user)
    assert user.is_admin and user.is_active
    assert auth_services.authenticate("keeper", "new-password") is not None


def test_create_admin_asks_for_the_password_twice_when_not_given(db, runner):
    result = runner.invoke(args=["create-admin", "boss"], input="typed-password\ntyped-password\n")
    assert result.exit_code == 0, result.output
    assert auth_services.authenticate("boss", "typed-password") is not None


def test_create_admin_refuses_a_short_password(db, runner):
    result = runner.invoke(args=["create-admin", "boss", "--password", "short"])
    assert result.exit_code == 1
    assert "Error:" in result.output
    assert _admins(db) == []


def test_create_admin_refuses_a_bad_username(db, runner):
    result = runner.invoke(args=["create-admin", "no spaces", "--password", "long-enough-pw"])
    assert result.exit_code == 1
    assert _admins(db) == []


def test_create_admin_keeps_the_old_password_when_the_new_one_is_refused(db, runner):
    runner.invoke(args=["create-admin", "boss", "--password", "first-password"])
    result = runner.invoke(args=["create-admin", "boss", "--password", "short"])
    assert result.exit_code == 1
    assert auth_services.authenticate("boss", "first-password") is not None


@pytest.fixture
def demo_env(monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "demo-password-1")
    monkeypatch.setenv("ADMIN_PASSWORD", "admin-password-1")


def _demo_counts(db) -> dict:
    communities = {}
    for community in db.session.scalars(db.select(Community)):
        members = db.session.scalars(
            db.select(Membership).where(Membership.community_id == community.id)
        ).all()
        communities[community.name] = (
            sum(m.is_secretary for m in members),
            sum(not m.is_secretary for m in members),
        )
    return {
        "communities": communities,
        "users": _count(db, User),
        "memberships": _count(db, Membership),
        "admins": len(_admins(db)),
    }


def test_seed_demo_loads_three_communities_each_with_a_secretary_and_twelve_residents(
    db, runner, demo_env
):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    counts = _demo_counts(db)
    # twelve residents each; 竹韵 also counts the district CPPCC member of 东篱
    assert counts["communities"] == {"东篱社区": (1, 12), "星怡社区": (1, 12), "竹韵社区": (1, 13)}
    # the administrator, three secretaries, 36 residents, four street/unit staff
    assert counts["users"] == 1 + 3 * 13 + 4
    assert counts["admins"] == 1
    assert "admin / admin-password-1" in result.output
    assert "demo-password-1" in result.output


def test_seed_demo_twice_gives_the_same_rows(db, runner, demo_env):
    runner.invoke(args=["seed-demo"])
    first = _demo_counts(db)
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert _demo_counts(db) == first
    assert "Demo accounts created: 0" in result.output
    assert "password unchanged" in result.output


def test_seed_demo_people_can_log_in(db, runner, client, demo_env):
    runner.invoke(args=["seed-demo"])
    response = client.post(
        "/auth/login", data={"username": "dongli-sec", "password": "demo-password-1"}
    )
    assert response.status_code == 302
    page = client.get("/").get_data(as_text=True)
    assert "东篱社区" in page
    secretary = auth_services.get_user_by_username("dongli-sec")
    assert [c.name for c in secretary.secretary_of] == ["东篱社区"]


def test_seed_demo_keeps_an_existing_administrator(db, runner, demo_env, admin):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0
    assert [a.username for a in _admins(db)] == ["root"]
    assert "Administrator: root (exists; password unchanged)" in result.output


def test_seed_demo_without_a_demo_password_picks_one_and_keeps_it(db, runner, monkeypatch):
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    first = runner.invoke(args=["seed-demo"]).output
    second = runner.invoke(args=["seed-demo"]).output
    password = first.rsplit("password: ", 1)[1].strip()
    assert len(password) >= 8
    assert second.rsplit("password: ", 1)[1].strip() == password
    assert auth_services.authenticate("zhuyun-12", password) is not None
