"""Issue 14: every page and API list runs a number of queries that does not
grow with the data, and at most about twenty. Each row is asked for with a
small history (``N``) and with three times as much: the count stays the same.
"""

from __future__ import annotations

import pytest
from history_helpers import History
from query_count import queries_of

pytest_plugins = ["meeting_fixtures"]

N = 1
MOST = 20


@pytest.fixture
def voter(make_member):
    return make_member("李代表")


@pytest.fixture
def history(community, secretary, resident, voter, make_member, in_request) -> History:
    return History(community, secretary, resident, voter, make_member)


# (who asks, the path): {community}, {meeting} (the first meeting in progress)
PAGES = [
    ("admin", "/requests/new"),
    ("secretary", "/requests/new"),
    ("resident", "/requests/mine"),
    ("secretary", "/communities/{community}/requests"),
    ("secretary", "/communities/{community}/requests?status=accepted"),
    ("secretary", "/communities/{community}/dashboard"),
    ("voter", "/my/meetings"),
    ("secretary", "/communities/{community}/meetings/new"),
    ("secretary", "/meetings/{meeting}/edit"),
    ("secretary", "/meetings/{meeting}/attendees"),
    ("secretary", "/meetings/{meeting}/agenda"),
    ("anonymous", "/communities/{community}/meetings"),
    ("anonymous", "/communities/{community}"),
    ("anonymous", "/communities/{community}/minutes"),
    ("anonymous", "/communities/{community}/minutes.atom"),
    ("anonymous", "/communities/{community}/answered"),
    ("anonymous", "/communities/{community}/projects"),
    ("anonymous", "/search?q=活动室"),
    ("anonymous", "/search?q=活动室&community={community}"),
    ("voter", "/notifications"),
]

API = [
    ("anonymous", "/api/v1/public/minutes"),
    ("anonymous", "/api/v1/public/minutes?community_id={community}"),
    ("secretary", "/api/v1/requests"),
    ("admin", "/api/v1/requests"),
    ("resident", "/api/v1/requests"),
    ("secretary", "/api/v1/requests?community_id={community}"),
    ("voter", "/api/v1/meetings"),
    ("anonymous", "/api/v1/projects"),
    ("voter", "/api/v1/notifications"),
]


def _counts(client, login, bearer, people, history, who, path, api):
    url = path.format(community=history.community.id, meeting=history.meetings[1].id)
    headers = {}
    user = people[who]
    if user is not None:
        if api:
            headers = bearer(user)
        else:
            login(user)
    return queries_of(client, url, headers=headers)


@pytest.fixture
def people(admin, secretary, resident, voter):
    return {
        "anonymous": None,
        "admin": admin,
        "secretary": secretary,
        "resident": resident,
        "voter": voter,
    }


@pytest.mark.parametrize(("who", "path"), PAGES + API)
def test_queries_do_not_grow_with_the_data(client, login, bearer, people, history, who, path):
    api = path.startswith("/api/")
    history.grow(N)
    small = _counts(client, login, bearer, people, history, who, path, api)
    history.grow(2 * N)
    large = _counts(client, login, bearer, people, history, who, path, api)
    assert small == large
    assert large <= MOST
