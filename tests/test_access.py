"""Who may open which page and call which endpoint: one table over every route
of the foundation, for anonymous visitors, a resident, the community's
secretary, another community's secretary and an administrator.

``{community}`` is the community of the secretary and the resident,
``{resident}`` the resident's id. ``LOGIN`` means a redirect to the login page.
"""

from __future__ import annotations

import pytest
from conftest import PASSWORD

ROLES = ("anonymous", "resident", "secretary", "other_secretary", "admin")
LOGIN = "login"


def expect(anonymous, resident, secretary, other_secretary, admin) -> dict[str, int | str]:
    return dict(zip(ROLES, (anonymous, resident, secretary, other_secretary, admin), strict=True))


def everyone(status) -> dict[str, int | str]:
    return expect(status, status, status, status, status)


def users(status, anonymous=LOGIN) -> dict[str, int | str]:
    return expect(anonymous, status, status, status, status)


def guests(status, users=302) -> dict[str, int | str]:
    """Pages for people not logged in; the logged in are sent home."""
    return expect(status, users, users, users, users)


def admins(status, anonymous=LOGIN) -> dict[str, int | str]:
    return expect(anonymous, 403, 403, 403, status)


def managers(status, anonymous=LOGIN) -> dict[str, int | str]:
    """The community's secretary and administrators."""
    return expect(anonymous, 403, status, 403, status)


# (method, path, form data, expected status per role)
PAGES = [
    ("GET", "/", None, everyone(200)),
    ("GET", "/static/css/app.css", None, everyone(200)),
    ("POST", "/language", {"lang": "en", "next": "/"}, everyone(302)),
    ("GET", "/auth/login", None, guests(200)),
    ("POST", "/auth/login", {}, guests(200)),
    ("POST", "/auth/logout", {}, everyone(302)),
    ("GET", "/auth/signup", None, guests(200)),
    ("POST", "/auth/signup", {}, guests(422)),
    ("GET", "/auth/password", None, users(200)),
    ("POST", "/auth/password", {}, users(422)),
    ("GET", "/auth/account", None, users(200)),
    ("POST", "/auth/account", {"display_name": ""}, users(422)),
    ("GET", "/admin/", None, admins(200)),
    ("GET", "/admin/communities/new", None, admins(200)),
    ("POST", "/admin/communities/new", {}, admins(422)),
    ("GET", "/admin/communities/{community}", None, admins(200)),
    ("POST", "/admin/communities/{community}/secretaries/{resident}", {}, admins(302)),
    (
        "POST",
        "/admin/communities/{community}/secretaries/{resident}/stand-down",
        {},
        admins(302),
    ),
    ("GET", "/admin/users/new", None, admins(200)),
    ("POST", "/admin/users/new", {}, admins(422)),
    ("GET", "/admin/users/{resident}/active", None, admins(200)),
    ("POST", "/admin/users/{resident}/active", {}, admins(302)),
    ("GET", "/communities/{community}/accounts", None, managers(200)),
    ("POST", "/communities/{community}/accounts", {}, managers(422)),
]

NEW_COMMUNITY = {"name": "新建社区", "street": "中兴街道"}
NEW_USER = {
    "username": "newbie",
    "password": PASSWORD,
    "display_name": "新居民",
    "community_id": "{community}",
}

# (method, path, JSON body, expected status per role)
ENDPOINTS = [
    ("GET", "/api/v1/openapi.json", None, everyone(200)),
    ("POST", "/api/v1/tokens", {"username": "resident", "password": PASSWORD}, everyone(201)),
    ("DELETE", "/api/v1/tokens/current", None, users(204, anonymous=401)),
    ("GET", "/api/v1/me", None, users(200, anonymous=401)),
    ("GET", "/api/v1/communities", None, everyone(200)),
    ("POST", "/api/v1/communities", NEW_COMMUNITY, admins(201, anonymous=401)),
    ("POST", "/api/v1/users", NEW_USER, managers(201, anonymous=401)),
]


@pytest.fixture
def people(admin, secretary, other_secretary, resident):
    return {
        "anonymous": None,
        "resident": resident,
        "secretary": secretary,
        "other_secretary": other_secretary,
        "admin": admin,
    }


def _fill(value, community, resident):
    """Put the ids of this test's community and resident into a path or body."""
    if isinstance(value, str):
        filled = value.format(community=community.id, resident=resident.id)
        return int(filled) if value.startswith("{") and filled.isdigit() else filled
    if isinstance(value, dict):
        return {key: _fill(item, community, resident) for key, item in value.items()}
    return value


def _cases(table):
    return [
        pytest.param(method, path, body, role, expected[role], id=f"{method} {path} {role}")
        for method, path, body, expected in table
        for role in ROLES
    ]


@pytest.mark.parametrize(("method", "path", "data", "role", "status"), _cases(PAGES))
def test_page_access(client, login, people, community, resident, method, path, data, role, status):
    if people[role] is not None:
        login(people[role])
    url = _fill(path, community, resident)
    response = client.open(url, method=method, data=_fill(data, community, resident))
    response.close()
    if status == LOGIN:
        assert response.status_code == 302
        assert response.location.startswith("/auth/login?next=")
    else:
        assert response.status_code == status, response.get_data(as_text=True)[:500]


@pytest.mark.parametrize(("method", "path", "body", "role", "status"), _cases(ENDPOINTS))
def test_endpoint_access(
    client, bearer, people, community, resident, method, path, body, role, status
):
    headers = bearer(people[role]) if people[role] is not None else {}
    url = _fill(path, community, resident)
    response = client.open(
        url, method=method, json=_fill(body, community, resident), headers=headers
    )
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    if status >= 400:
        assert (
            response.get_json()["error"]["code"]
            == {
                401: "unauthorized",
                403: "forbidden",
            }[status]
        )


def test_denied_page_shows_the_not_allowed_page(english, login, resident):
    login(resident)
    response = english.get("/admin/")
    assert response.status_code == 403
    assert "<h1>Not allowed</h1>" in response.get_data(as_text=True)


def test_unknown_page_shows_the_not_found_page(english):
    response = english.get("/no/such/page")
    assert response.status_code == 404
    assert "<h1>Page not found</h1>" in response.get_data(as_text=True)


def test_absurd_ids_in_urls_are_not_found(client, login, admin):
    login(admin)
    for url in (
        "/admin/communities/99999999999999999999",
        "/admin/users/2147483648/active",
        "/communities/99999999999999999999/accounts",
    ):
        assert client.get(url).status_code == 404, url


def test_every_route_of_the_foundation_is_in_the_access_tables(app):
    """A new page or endpoint in these blueprints needs its row above."""
    adapter = app.url_map.bind("localhost")
    covered = set()
    for method, path, _body, _expected in PAGES + ENDPOINTS:
        endpoint, _args = adapter.match(path.format(community=1, resident=1), method=method)
        covered.add((endpoint, method))
    blueprints = {endpoint.partition(".")[0] for endpoint, _method in covered}
    routes = {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.partition(".")[0] in blueprints
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert routes - covered == set()
