"""The administrator's area and the secretary's accounts page, through the browser."""

from conftest import PASSWORD, field_errors, flashes
from query_count import queries_of

from auth import services as auth_services
from auth.models import Community, Membership, User


def _user(db, username: str) -> User | None:
    return db.session.scalar(db.select(User).where(User.username == username))


def _membership(db, user: User, community: Community) -> Membership | None:
    return db.session.scalar(
        db.select(Membership)
        .where(Membership.user_id == user.id, Membership.community_id == community.id)
        .execution_options(populate_existing=True)
    )


def test_admin_page_lists_communities_with_their_secretaries_and_accounts(
    english, login, admin, secretary, resident, other_community
):
    login(admin)
    page = english.get("/admin/").get_data(as_text=True)
    assert "东篱社区" in page
    assert "星怡社区" in page
    assert "林书记" in page
    assert "王阿姨" in page
    assert "resident" in page


def test_admin_creates_a_community(db, english, login, admin):
    login(admin)
    response = english.post(
        "/admin/communities/new",
        data={"name": "竹韵社区", "street": "竹行街道", "district": "开发区"},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "Community 竹韵社区 created." in flashes(response.get_data(as_text=True))
    community = db.session.scalar(db.select(Community).where(Community.name == "竹韵社区"))
    assert (community.street, community.district) == ("竹行街道", "开发区")


def test_second_community_with_the_same_name_shows_error_next_to_name(
    db, english, login, admin, community
):
    login(admin)
    response = english.post(
        "/admin/communities/new", data={"name": "东篱社区", "street": "别的街道"}
    )
    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True), "name") == [
        "A community with this name exists."
    ]
    assert db.session.scalar(db.select(db.func.count()).select_from(Community)) == 1


def test_community_without_a_street_shows_error_next_to_street(db, english, login, admin):
    login(admin)
    response = english.post("/admin/communities/new", data={"name": "新社区", "street": "  "})
    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True), "street")
    assert db.session.scalar(db.select(Community).where(Community.name == "新社区")) is None


def test_admin_creates_a_secretary_account_for_a_community(db, english, login, admin, community):
    login(admin)
    response = english.post(
        "/admin/users/new",
        data={
            "display_name": "陈立群",
            "username": "chen",
            "password": PASSWORD,
            "community_id": str(community.id),
            "is_secretary": "y",
        },
        follow_redirects=True,
    )
    assert "Account chen created." in flashes(response.get_data(as_text=True))
    user = _user(db, "chen")
    assert user.check_password(PASSWORD)
    assert _membership(db, user, community).is_secretary


def test_admin_creates_an_account_without_a_community(db, client, login, admin):
    login(admin)
    response = client.post(
        "/admin/users/new",
        data={
            "display_name": "街道干部",
            "username": "street1",
            "password": PASSWORD,
            "community_id": "0",
        },
    )
    assert response.status_code == 302
    assert _user(db, "street1").memberships == []


def test_secretary_without_a_community_is_refused_next_to_community(db, english, login, admin):
    login(admin)
    response = english.post(
        "/admin/users/new",
        data={
            "display_name": "某书记",
            "username": "nocommunity",
            "password": PASSWORD,
            "community_id": "0",
            "is_secretary": "y",
        },
    )
    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True), "community_id") == [
        "A secretary needs a community."
    ]
    assert _user(db, "nocommunity") is None


def test_admin_account_with_taken_username_shows_error_next_to_field(
    db, english, login, admin, resident
):
    login(admin)
    response = english.post(
        "/admin/users/new",
        data={
            "display_name": "另一个",
            "username": "resident",
            "password": PASSWORD,
            "community_id": "0",
        },
    )
    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True), "username") == ["This username is taken."]


def test_admin_account_with_a_common_password_shows_error_next_to_field(db, english, login, admin):
    login(admin)
    response = english.post(
        "/admin/users/new",
        data={"display_name": "新书记", "username": "newsec", "password": "a1234567"},
    )
    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True), "password") == [
        "This password is one of the most common ones. Please choose another."
    ]
    assert _user(db, "newsec") is None


def test_secretary_account_with_the_username_in_the_password_is_refused(
    db, english, login, secretary, community
):
    login(secretary)
    response = english.post(
        f"/communities/{community.id}/accounts",
        data={"display_name": "赵大爷", "username": "zhaodaye", "password": "zhaodaye1958"},
    )
    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True), "password") == [
        "The password must not contain the username."
    ]
    assert _user(db, "zhaodaye") is None


def test_admin_appoints_a_resident_as_secretary(db, english, login, admin, resident, community):
    login(admin)
    response = english.post(
        f"/admin/communities/{community.id}/secretaries/{resident.id}", follow_redirects=True
    )
    assert "王阿姨 is now a secretary of 东篱社区." in flashes(response.get_data(as_text=True))
    assert _membership(db, resident, community).is_secretary


def test_appointing_a_secretary_of_another_community_makes_them_a_member(
    db, client, login, admin, resident, other_community
):
    login(admin)
    client.post(f"/admin/communities/{other_community.id}/secretaries/{resident.id}")
    assert _membership(db, resident, other_community).is_secretary


def test_admin_stands_a_secretary_down(db, english, login, admin, secretary, community):
    login(admin)
    response = english.post(
        f"/admin/communities/{community.id}/secretaries/{secretary.id}/stand-down",
        follow_redirects=True,
    )
    assert "林书记 is no longer a secretary of 东篱社区." in flashes(
        response.get_data(as_text=True)
    )
    membership = _membership(db, secretary, community)
    assert membership is not None
    assert not membership.is_secretary


def test_admin_community_page_lists_members(english, login, admin, secretary, resident, community):
    login(admin)
    page = english.get(f"/admin/communities/{community.id}").get_data(as_text=True)
    assert "林书记" in page
    assert "王阿姨" in page
    assert "Stand down as secretary" in page
    assert "Appoint secretary" in page


def test_admin_community_page_of_unknown_community_is_not_found(client, login, admin):
    login(admin)
    assert client.get("/admin/communities/99999").status_code == 404


def test_deactivation_asks_first(db, english, login, admin, resident):
    login(admin)
    page = english.get(f"/admin/users/{resident.id}/active").get_data(as_text=True)
    assert "Deactivate 王阿姨?" in page
    db.session.refresh(resident)
    assert resident.is_active


def test_admin_deactivates_an_account_which_can_no_longer_log_in_or_use_tokens(
    app, db, english, login, admin, resident, bearer
):
    headers = bearer(resident)
    login(admin)
    response = english.post(f"/admin/users/{resident.id}/active", follow_redirects=True)
    assert "Account resident updated." in flashes(response.get_data(as_text=True))
    db.session.refresh(resident)
    assert not resident.is_active

    other = app.test_client()
    assert other.get("/api/v1/me", headers=headers).status_code == 401
    response = other.post("/auth/login", data={"username": "resident", "password": PASSWORD})
    assert response.status_code == 401


def test_admin_reactivates_an_account(db, client, login, admin, make_user):
    user = make_user("sleeper", active=False)
    login(admin)
    client.post(f"/admin/users/{user.id}/active")
    db.session.refresh(user)
    assert user.is_active
    assert auth_services.authenticate("sleeper", PASSWORD) is not None


def test_admin_cannot_deactivate_themselves(db, english, login, admin):
    login(admin)
    response = english.post(f"/admin/users/{admin.id}/active", follow_redirects=True)
    assert "You cannot deactivate your own account." in flashes(response.get_data(as_text=True))
    db.session.refresh(admin)
    assert admin.is_active


def test_secretary_creates_a_resident_account_in_their_community(
    db, english, login, secretary, community
):
    login(secretary)
    response = english.post(
        f"/communities/{community.id}/accounts",
        data={
            "display_name": "李建国",
            "username": "lijianguo",
            "phone": "",
            "password": PASSWORD,
        },
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "Account lijianguo created." in flashes(page)
    assert "李建国" in page
    user = _user(db, "lijianguo")
    membership = _membership(db, user, community)
    assert membership is not None
    assert not membership.is_secretary
    assert not user.is_admin


def test_secretary_accounts_page_shows_errors_next_to_fields(
    db, english, login, secretary, community, resident
):
    login(secretary)
    response = english.post(
        f"/communities/{community.id}/accounts",
        data={"display_name": "", "username": "resident", "password": "short"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert field_errors(page, "display_name")
    assert field_errors(page, "password")
    assert db.session.scalar(db.select(db.func.count()).select_from(User)) == 2


def test_secretary_accounts_page_refuses_a_taken_username(english, login, secretary, community):
    login(secretary)
    response = english.post(
        f"/communities/{community.id}/accounts",
        data={"display_name": "林书记二号", "username": "SEC", "password": PASSWORD},
    )
    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True), "username") == ["This username is taken."]


def test_secretary_cannot_create_accounts_in_another_community(
    db, client, login, secretary, other_community
):
    login(secretary)
    response = client.post(
        f"/communities/{other_community.id}/accounts",
        data={"display_name": "外人", "username": "outsider", "password": PASSWORD},
    )
    assert response.status_code == 403
    assert _user(db, "outsider") is None


def test_secretary_sees_a_link_to_their_accounts_page(english, login, secretary, community):
    login(secretary)
    page = english.get("/").get_data(as_text=True)
    assert f'href="/communities/{community.id}/accounts"' in page
    assert 'href="/admin/"' not in page


def test_non_admin_posting_to_admin_forms_changes_nothing(
    db, client, login, secretary, resident, community
):
    login(secretary)
    response = client.post("/admin/communities/new", data={"name": "偷建", "street": "x"})
    assert response.status_code == 403
    assert (
        client.post(f"/admin/communities/{community.id}/secretaries/{resident.id}").status_code
        == 403
    )
    assert client.post(f"/admin/users/{resident.id}/active").status_code == 403
    assert db.session.scalar(db.select(Community).where(Community.name == "偷建")) is None
    assert not _membership(db, resident, community).is_secretary
    db.session.refresh(resident)
    assert resident.is_active


def test_admin_page_runs_as_many_queries_with_three_times_the_accounts(
    db, english, login, admin, make_user, make_community
):
    communities = [make_community() for _ in range(3)]

    def add_people(count: int) -> None:
        for number in range(count):
            make_user(community=communities[number % 3], secretary=number % 10 == 0)

    add_people(20)
    login(admin)
    before = queries_of(english, "/admin/")
    add_people(40)
    assert queries_of(english, "/admin/") == before


def test_admin_finds_accounts_by_name_and_pages_through_them(db, english, login, admin, make_user):
    for number in range(55):
        make_user(f"hall{number:02d}", display_name=f"议事厅{number:02d}")
    make_user("other", display_name="王阿姨")
    login(admin)

    first = english.get("/admin/?q=hall").get_data(as_text=True)
    assert "hall00" in first and "hall49" in first and "hall50" not in first
    assert "other" not in first
    assert 'href="/admin/?q=hall&amp;page=2"' in first
    second = english.get("/admin/?q=hall&page=2").get_data(as_text=True)
    assert "hall50" in second and "hall54" in second and "hall49" not in second
    by_name = english.get("/admin/?q=王阿").get_data(as_text=True)
    assert "other" in by_name and "hall00" not in by_name
