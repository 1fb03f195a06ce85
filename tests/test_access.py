"""Who may open which page and call which endpoint: one table over every route
of the app, web and API, with the status each of seven people gets
(``access_helpers.ROLES``: anonymous, a resident, an attendee without a vote,
a voting attendee, the community's secretary, another community's secretary,
an administrator). A route missing from the table fails the test, and so
does a row whose route is gone.

Paths and bodies name objects of the world built for each test
(``access_helpers.World``): ``{community}``; meetings ``{draft}``,
``{scheduled}`` (with ``{scheduled_item}``), ``{meeting}`` (in progress),
``{closed}`` (version 1 of its minutes sent round, version 2 not) and
``{published}`` (minutes published); under the meeting in progress the agenda
``{item}`` with a ``{proposal}`` and its ``{comment}``, the polls
``{draft_poll}``, ``{poll}`` (open, ``{option}`` one of its options),
``{room_poll}`` (a show of hands, open) and ``{closed_poll}``, the voter's
check-in ``{token}``, a ``{project}`` with a photo in its ``{update}`` and a
``{completed_project}``; ``{public_poll}`` of the published meeting; the
resident's ``{request}`` and ``{notification}``; each person's id by role.

Bodies are minimal, often empty: who may call a route is decided before what
they sent is looked at, so those not allowed get 403 (or 404), not 422. Each
person's call runs in a savepoint rolled back after it: every call meets the
same world.
"""

from __future__ import annotations

from collections import defaultdict

import pytest
from access_helpers import (
    ROLES,
    SIGN_IN,
    World,
    admins,
    everyone,
    expect,
    guests,
    insiders,
    managers,
    members,
    users,
)
from conftest import PASSWORD
from werkzeug.exceptions import HTTPException

pytest_plugins = ["meeting_fixtures"]

NEW_COMMUNITY = {"name": "新建社区", "street": "中兴街道"}
NEW_USER = {
    "username": "newbie",
    "password": PASSWORD,
    "display_name": "新居民",
    "community_id": "{community}",
}
NEW_MINUTES = {"body": "# 会议纪要\n\n第三稿。\n", "save": "1"}

ONLY_VOTER = expect(SIGN_IN, 403, 403, 200, 403, 403, 403)
THE_RESIDENTS_OWN = expect(SIGN_IN, 200, 403, 403, 200, 403, 200)
ASKED_TO_CONFIRM = expect(SIGN_IN, 404, 200, 200, 404, 404, 404)
# 履职档案 of the voter: the voter, the secretary of their community, administrators
VOTERS_RECORD = expect(SIGN_IN, 403, 403, 200, 200, 403, 200)
# The resident rates their own request (an empty rating: 422).
ONLY_THE_RESIDENT = expect(SIGN_IN, 422, 403, 403, 403, 403, 403)

# (method, path, body, expected status per person). Paths under /api/ get a
# JSON body and a bearer token, the others form data and a session.
TABLE = [
    # --- the site, operations --------------------------------------------------------------
    ("GET", "/", None, everyone(200)),
    ("GET", "/welcome", None, users(302)),
    ("GET", "/static/css/app.css", None, everyone(200)),
    ("POST", "/language", {"lang": "en", "next": "/"}, everyone(302)),
    ("GET", "/healthz", None, everyone(200)),
    # --- accounts --------------------------------------------------------------------------
    ("GET", "/auth/login", None, guests(200)),
    ("POST", "/auth/login", {}, guests(200)),
    ("POST", "/auth/logout", {}, everyone(302)),
    ("GET", "/auth/signup", None, guests(200)),
    ("POST", "/auth/signup", {}, guests(422)),
    ("GET", "/auth/password", None, users(200)),
    ("POST", "/auth/password", {}, users(422)),
    ("GET", "/auth/account", None, users(200)),
    ("POST", "/auth/account", {"display_name": ""}, users(422)),
    ("GET", "/auth/sign-out-everywhere", None, users(200)),
    ("POST", "/auth/sign-out-everywhere", {}, users(302)),
    ("GET", "/admin/", None, admins(200)),
    ("GET", "/admin/communities/new", None, admins(200)),
    ("POST", "/admin/communities/new", {}, admins(422)),
    ("GET", "/admin/communities/{community}", None, admins(200)),
    ("POST", "/admin/communities/{community}/secretaries/{resident}", {}, admins(302)),
    ("POST", "/admin/communities/{community}/secretaries/{secretary}/stand-down", {}, admins(302)),
    ("GET", "/admin/users/new", None, admins(200)),
    ("POST", "/admin/users/new", {}, admins(422)),
    ("GET", "/admin/users/{resident}/active", None, admins(200)),
    ("POST", "/admin/users/{resident}/active", {}, admins(302)),
    ("GET", "/admin/users/{resident}/sign-out", None, admins(200)),
    ("POST", "/admin/users/{resident}/sign-out", {}, admins(302)),
    ("GET", "/communities/{community}/accounts", None, managers(200)),
    ("POST", "/communities/{community}/accounts", {}, managers(422)),
    ("GET", "/api/v1/openapi.json", None, everyone(200)),
    ("POST", "/api/v1/tokens", {"username": "resident", "password": PASSWORD}, everyone(201)),
    ("DELETE", "/api/v1/tokens/current", None, users(204)),
    ("GET", "/api/v1/me", None, users(200)),
    ("GET", "/api/v1/communities", None, everyone(200)),
    ("POST", "/api/v1/communities", NEW_COMMUNITY, admins(201)),
    ("POST", "/api/v1/communities", {}, admins(422)),
    ("POST", "/api/v1/users", NEW_USER, managers(201)),
    # Which community the body says: any secretary gets to have it checked.
    ("POST", "/api/v1/users", {}, managers(422) | {"other_secretary": 422}),
    # --- residents' requests ---------------------------------------------------------------
    ("GET", "/requests/new", None, users(200)),
    ("POST", "/requests/new", {}, users(422)),
    ("GET", "/requests/mine", None, users(200)),
    ("GET", "/requests/{request}", None, THE_RESIDENTS_OWN),
    ("POST", "/requests/{request}/reply", {}, managers(422)),
    ("GET", "/communities/{community}/requests", None, managers(200)),
    # The person picker's search: the members of a community its secretary runs.
    ("GET", "/people?community={community}&q=王", None, managers(200)),
    ("POST", "/api/v1/requests", {}, users(422)),
    ("GET", "/api/v1/requests", None, users(200)),
    ("GET", "/api/v1/requests/{request}", None, THE_RESIDENTS_OWN),
    ("POST", "/api/v1/requests/{request}/reply", {}, managers(422)),
    # --- intake by those who hear it: photos, the intake form, the visit log ---------------
    # Nobody of the seven works in a grid: the intake form is for those who run a community.
    ("GET", "/requests/intake", None, managers(200) | {"other_secretary": 200}),
    ("POST", "/requests/intake", {}, managers(422) | {"other_secretary": 422}),
    # Photos: those who see the request and may add to it (no file sent: 422).
    ("POST", "/requests/{request}/photos", {}, expect(SIGN_IN, 422, 403, 403, 422, 403, 422)),
    (
        "POST",
        "/api/v1/requests/{request}/photos",
        {},
        expect(SIGN_IN, 422, 403, 403, 422, 403, 422),
    ),
    # A photo's number tells nothing to those who may not see its request.
    ("GET", "/requests/photos/2147483647", None, users(404)),
    ("GET", "/visits", None, managers(200) | {"other_secretary": 200}),
    ("GET", "/visits/new", None, users(403)),
    ("POST", "/visits/new", {}, users(403)),
    ("GET", "/visits/2147483647/request", None, users(404)),
    ("POST", "/visits/2147483647/request", {}, users(404)),
    ("GET", "/api/v1/visits", None, users(200)),
    ("POST", "/api/v1/visits", {}, users(403)),
    ("POST", "/api/v1/visits/2147483647/request", {}, users(404)),
    # --- orders on a request: the request is the resident's, dispatched to nobody ----------
    # (each role of the workflow, and the wrong one of each kind: tests/test_orders*.py)
    ("POST", "/requests/{request}/dispatch", {}, managers(422)),
    ("POST", "/requests/{request}/claim", {}, users(403)),
    ("GET", "/requests/{request}/hand-back", None, users(403)),
    ("POST", "/requests/{request}/hand-back", {}, users(403)),
    ("POST", "/requests/{request}/steps", {}, users(403)),
    ("POST", "/requests/{request}/handled", {}, users(403)),
    ("POST", "/requests/{request}/rating", {}, ONLY_THE_RESIDENT),
    ("GET", "/my/orders", None, users(200)),
    ("GET", "/communities/{community}/orders", None, managers(200)),
    ("POST", "/api/v1/requests/{request}/dispatch", {}, managers(422)),
    ("POST", "/api/v1/requests/{request}/claim", None, users(403)),
    ("POST", "/api/v1/requests/{request}/hand-back", {}, users(403)),
    ("POST", "/api/v1/requests/{request}/steps", {}, users(403)),
    ("POST", "/api/v1/requests/{request}/handled", {}, users(403)),
    ("POST", "/api/v1/requests/{request}/rating", {}, ONLY_THE_RESIDENT),
    ("GET", "/api/v1/my/orders", None, users(200)),
    # --- meetings --------------------------------------------------------------------------
    # Secretaries are sent to their community's; an administrator chooses one.
    ("GET", "/dashboard", None, managers(302) | {"other_secretary": 302, "admin": 200}),
    ("GET", "/communities/{community}/dashboard", None, managers(200)),
    ("GET", "/communities/{community}/meetings", None, everyone(200)),
    ("GET", "/my/meetings", None, users(200)),
    ("GET", "/communities/{community}/meetings/new", None, managers(200)),
    # The topic picker's search: requests of the community that may become topics.
    ("GET", "/communities/{community}/topics?q=活动室", None, managers(200)),
    ("POST", "/communities/{community}/meetings/new", {}, managers(422)),
    # A draft is as missing as a wrong id to those who may not see it.
    ("GET", "/meetings/{draft}", None, insiders(200, others=404, anonymous=404)),
    (
        "GET",
        "/meetings/{draft}/edit",
        None,
        managers(200) | {"resident": 404, "other_secretary": 404},
    ),
    ("GET", "/meetings/{meeting}", None, everyone(200)),
    ("GET", "/meetings/{draft}/calendar.ics", None, insiders(200, others=404, anonymous=404)),
    ("GET", "/meetings/{meeting}/calendar.ics", None, everyone(200)),
    (
        "POST",
        "/meetings/{scheduled}/rsvp",
        {"rsvp": "accepted"},
        expect(SIGN_IN, 403, 302, 302, 403, 403, 403),
    ),
    ("GET", "/meetings/{scheduled}/edit", None, managers(200)),
    ("POST", "/meetings/{scheduled}/edit", {}, managers(422)),
    # next week: starting it asks first (a page), then starts it
    ("POST", "/meetings/{scheduled}/transition", {"to": "in_progress"}, managers(200)),
    (
        "POST",
        "/meetings/{scheduled}/transition",
        {"to": "in_progress", "confirm": "1"},
        managers(302),
    ),
    ("GET", "/meetings/{scheduled}/cancel", None, managers(200)),
    ("POST", "/meetings/{scheduled}/cancel", {}, managers(422)),
    ("GET", "/meetings/{scheduled}/agenda", None, managers(200)),
    ("POST", "/meetings/{scheduled}/agenda", {}, managers(422)),
    ("GET", "/meetings/{scheduled}/agenda/{scheduled_item}/edit", None, managers(200)),
    # An empty form keeps the item as it is.
    ("POST", "/meetings/{scheduled}/agenda/{scheduled_item}/edit", {}, managers(302)),
    (
        "POST",
        "/meetings/{scheduled}/agenda/{scheduled_item}/move",
        {"direction": "down"},
        managers(302),
    ),
    ("POST", "/meetings/{scheduled}/agenda/{scheduled_item}/remove", {}, managers(302)),
    ("GET", "/meetings/{scheduled}/attendees", None, managers(200)),
    ("POST", "/meetings/{scheduled}/attendees", {}, managers(422)),
    ("POST", "/meetings/{scheduled}/attendees/{voter}", {"role": "expert"}, managers(302)),
    ("POST", "/meetings/{scheduled}/attendees/{voter}/remove", {}, managers(302)),
    ("GET", "/meetings/{meeting}/checkin", None, managers(200)),
    ("POST", "/meetings/{meeting}/checkin/{voter}", {"presence": "present"}, managers(302)),
    ("GET", "/meetings/{meeting}/checkin/codes", None, managers(200)),
    ("GET", "/meetings/{meeting}/checkin/{voter}/qr", None, managers(200)),
    ("GET", "/meetings/{meeting}/checkin/{voter}/qr.svg", None, managers(200)),
    # The voter's own code: anyone else scanning it is refused.
    ("GET", "/checkin/{token}", None, ONLY_VOTER),
    ("POST", "/checkin/{token}", {}, ONLY_VOTER | {"voter": 302}),
    ("GET", "/meetings/{meeting}/sign-in-sheet", None, managers(200)),
    ("GET", "/meetings/{meeting}/sign-in.xlsx", None, managers(200)),
    ("GET", "/meetings/{meeting}/sign-in.csv", None, managers(200)),
    # --- the room: the big screen (no login), the remote control, the speakers' queue ---
    ("GET", "/screen/{screen_token}", None, everyone(200)),
    ("GET", "/screen/{screen_token}/body", None, everyone(200)),
    ("GET", "/meetings/{meeting}/room", None, managers(200)),
    ("POST", "/meetings/{meeting}/room/agenda/next", {}, managers(302)),
    ("POST", "/meetings/{meeting}/room/agenda", {}, managers(422)),
    ("POST", "/meetings/{meeting}/room/polls/{draft_poll}/open", {}, managers(302)),
    ("POST", "/meetings/{meeting}/room/polls/{poll}/close", {}, managers(302)),
    ("POST", "/meetings/{meeting}/room/speakers", {}, managers(422)),
    ("POST", "/meetings/{meeting}/room/speakers/next", {}, managers(302)),
    ("POST", "/meetings/{meeting}/room/speakers/end", {}, managers(302)),
    ("POST", "/meetings/{meeting}/room/screen-links", {}, managers(200)),
    ("POST", "/meetings/{meeting}/room/screen-links/{screen_link}/revoke", {}, managers(302)),
    ("POST", "/meetings/{meeting}/room/settings", {}, managers(422)),
    # Attendees ask for the floor.
    ("POST", "/meetings/{meeting}/speakers", {}, expect(SIGN_IN, 403, 302, 302, 403, 403, 403)),
    (
        "POST",
        "/meetings/{meeting}/speakers/{speaker}/withdraw",
        {},
        expect(SIGN_IN, 403, 403, 302, 302, 403, 302),
    ),
    ("POST", "/api/v1/meetings", {}, managers(422) | {"other_secretary": 422}),
    ("GET", "/api/v1/meetings", None, users(200)),
    ("GET", "/api/v1/meetings/{draft}", None, insiders(200, others=404, anonymous=404)),
    ("GET", "/api/v1/meetings/{meeting}", None, everyone(200)),
    (
        "PATCH",
        "/api/v1/meetings/{draft}",
        {"title": ""},
        managers(422) | {"resident": 404, "other_secretary": 404},
    ),
    ("PATCH", "/api/v1/meetings/{scheduled}", {"title": ""}, managers(422)),
    ("POST", "/api/v1/meetings/{scheduled}/transitions", {}, managers(422)),
    ("GET", "/api/v1/meetings/{draft}/calendar.ics", None, insiders(200, 404, anonymous=404)),
    ("GET", "/api/v1/meetings/{meeting}/calendar.ics", None, everyone(200)),
    ("POST", "/api/v1/meetings/{meeting}/screen-links", {}, managers(201)),
    ("GET", "/api/v1/meetings/{meeting}/screen-links", None, managers(200)),
    ("DELETE", "/api/v1/screen-links/{screen_link}", None, managers(204)),
    ("GET", "/api/v1/meetings/{meeting}/speakers", None, insiders(200)),
    # Attendees ask for themselves (the secretary names one: user_id).
    (
        "POST",
        "/api/v1/meetings/{meeting}/speakers",
        {},
        expect(SIGN_IN, 403, 201, 201, 403, 403, 403),
    ),
    # Nobody is waiting in this row's world: the secretary is told (409).
    ("POST", "/api/v1/meetings/{meeting}/speakers/next", None, managers(409)),
    ("DELETE", "/api/v1/speakers/{speaker}", None, expect(SIGN_IN, 403, 403, 204, 204, 403, 204)),
    ("POST", "/api/v1/meetings/{meeting}/agenda/next", None, managers(200)),
    ("POST", "/api/v1/meetings/{meeting}/agenda/current", {}, managers(422)),
    ("GET", "/api/v1/meetings/{meeting}/events", None, insiders(200)),
    ("POST", "/api/v1/meetings/{scheduled}/agenda-items", {}, managers(422)),
    (
        "PATCH",
        "/api/v1/meetings/{scheduled}/agenda-items/{scheduled_item}",
        {"title": ""},
        managers(422),
    ),
    ("POST", "/api/v1/meetings/{scheduled}/agenda-items/{scheduled_item}/move", {}, managers(422)),
    ("DELETE", "/api/v1/meetings/{scheduled}/agenda-items/{scheduled_item}", None, managers(204)),
    ("POST", "/api/v1/meetings/{scheduled}/attendances", {}, managers(422)),
    # The voter answers their own invitation; the secretary may answer for them.
    (
        "PATCH",
        "/api/v1/meetings/{scheduled}/attendances/{voter}",
        {"rsvp": "declined"},
        managers(200) | {"voter": 200},
    ),
    (
        "PATCH",
        "/api/v1/meetings/{scheduled}/attendances/{voter}",
        {"rsvp": "maybe"},
        managers(422) | {"voter": 422},
    ),
    ("DELETE", "/api/v1/meetings/{scheduled}/attendances/{voter}", None, managers(204)),
    ("POST", "/api/v1/checkin", {"token": "{token}"}, ONLY_VOTER),
    # --- proposals and polls ---------------------------------------------------------------
    ("GET", "/agenda-items/{item}/proposals/new", None, insiders(200)),
    ("POST", "/agenda-items/{item}/proposals/new", {}, insiders(422)),
    ("GET", "/proposals/{proposal}", None, insiders(200)),
    ("POST", "/proposals/{proposal}/comments", {}, insiders(422)),
    # Only its author, the voter, withdraws a proposal.
    ("GET", "/proposals/{proposal}/withdraw", None, ONLY_VOTER),
    ("POST", "/proposals/{proposal}/withdraw", {}, ONLY_VOTER | {"voter": 302}),
    ("GET", "/comments/{comment}/hide", None, managers(200)),
    ("POST", "/comments/{comment}/hide", {}, managers(302)),
    ("GET", "/agenda-items/{item}/polls/new", None, managers(200)),
    ("POST", "/agenda-items/{item}/polls/new", {}, managers(422)),
    ("GET", "/polls/{poll}", None, insiders(200)),
    ("POST", "/polls/{draft_poll}/open", {}, managers(302)),
    ("GET", "/polls/{poll}/close", None, managers(200)),
    ("POST", "/polls/{poll}/close", {}, managers(302)),
    ("POST", "/polls/{room_poll}/in-room", {}, managers(422)),
    ("GET", "/polls/{poll}/vote", None, ONLY_VOTER),
    (
        "POST",
        "/polls/{poll}/vote",
        {"option_ids": "{option}", "confirm": "1"},
        ONLY_VOTER | {"voter": 302},
    ),
    ("GET", "/polls/{closed_poll}/result", None, insiders(200)),
    ("GET", "/polls/{public_poll}/result", None, everyone(200)),
    ("GET", "/polls/{closed_poll}/result.xlsx", None, insiders(200)),
    ("GET", "/polls/{public_poll}/result.xlsx", None, everyone(200)),
    ("GET", "/polls/{closed_poll}/result.csv", None, insiders(200)),
    ("GET", "/polls/{public_poll}/result.csv", None, everyone(200)),
    ("GET", "/polls/{closed_poll}/receipts", None, insiders(200)),
    ("GET", "/api/v1/agenda-items/{item}/proposals", None, insiders(200)),
    ("POST", "/api/v1/agenda-items/{item}/proposals", {}, insiders(422)),
    ("POST", "/api/v1/proposals/{proposal}/withdraw", None, ONLY_VOTER),
    ("POST", "/api/v1/proposals/{proposal}/comments", {}, insiders(422)),
    ("POST", "/api/v1/comments/{comment}/hide", None, managers(200)),
    ("GET", "/api/v1/agenda-items/{item}/polls", None, insiders(200)),
    ("POST", "/api/v1/agenda-items/{item}/polls", {}, managers(422)),
    ("GET", "/api/v1/polls/{poll}", None, insiders(200)),
    ("POST", "/api/v1/polls/{draft_poll}/open", None, managers(200)),
    ("POST", "/api/v1/polls/{poll}/close", None, managers(200)),
    ("POST", "/api/v1/polls/{room_poll}/in-room-result", {}, managers(422)),
    # The ballot's shape is checked before anything is read: casting is the
    # hot path, which reads the poll once, under its lock.
    ("POST", "/api/v1/polls/{poll}/ballots", {}, users(422)),
    (
        "POST",
        "/api/v1/polls/{poll}/ballots",
        {"option_ids": ["{option}"]},
        ONLY_VOTER | {"voter": 201},
    ),
    ("GET", "/api/v1/polls/{closed_poll}/result", None, insiders(200)),
    ("GET", "/api/v1/polls/{public_poll}/result", None, everyone(200)),
    ("GET", "/api/v1/polls/{closed_poll}/receipts", None, insiders(200)),
    # --- proxies (委托投票) and assisted ballots --------------------------------------------
    ("GET", "/meetings/{proxy_meeting}/proxy", None, ONLY_VOTER),
    ("POST", "/meetings/{proxy_meeting}/proxy", {}, ONLY_VOTER | {"voter": 422}),
    ("POST", "/proxies/{proxy}/confirm", {}, managers(302)),
    ("GET", "/proxies/{proxy}/revoke", None, managers(200) | {"voter": 200}),
    ("POST", "/proxies/{proxy}/revoke", {}, managers(302) | {"voter": 302}),
    # no authorisation attached: not found for those who may see one
    ("GET", "/proxies/{proxy}/document", None, expect(SIGN_IN, 403, 404, 404, 404, 403, 404)),
    # the meeting of {poll} allows no proxies: nobody casts for the voter there
    ("GET", "/polls/{poll}/vote-for/{voter}", None, users(403)),
    ("POST", "/polls/{poll}/vote-for/{voter}", {}, users(403)),
    ("GET", "/polls/{poll}/assisted", None, managers(200)),
    ("POST", "/polls/{poll}/assisted", {}, managers(422)),
    ("POST", "/api/v1/meetings/{proxy_meeting}/proxies", {}, ONLY_VOTER | {"voter": 422}),
    ("GET", "/api/v1/meetings/{proxy_meeting}/proxies", None, insiders(200)),
    ("POST", "/api/v1/proxies/{proxy}/confirm", None, managers(200)),
    ("DELETE", "/api/v1/proxies/{proxy}", None, managers(204) | {"voter": 204}),
    ("POST", "/api/v1/polls/{poll}/assisted-ballots", {}, managers(422)),
    # --- resolutions and projects ----------------------------------------------------------
    ("GET", "/meetings/{meeting}/resolutions/new", None, managers(200)),
    ("POST", "/meetings/{meeting}/resolutions/new", {}, managers(422)),
    ("GET", "/resolutions/{resolution}/edit", None, managers(200)),
    ("POST", "/resolutions/{resolution}/edit", {"text": ""}, managers(422)),
    ("PATCH", "/api/v1/resolutions/{resolution}", {}, managers(200)),
    ("GET", "/communities/{community}/projects", None, everyone(200)),
    ("GET", "/projects/{project}", None, everyone(200)),
    ("POST", "/projects/{project}/updates", {}, managers(422)),
    ("GET", "/projects/{project}/updates/{update}/photo", None, everyone(200)),
    # Residents of the community rate a project once it is completed.
    ("POST", "/projects/{project}/ratings", {"score": "5"}, members(409)),
    ("POST", "/projects/{completed_project}/ratings", {"score": "5"}, members(302)),
    ("GET", "/api/v1/meetings/{meeting}/resolutions", None, insiders(200)),
    ("POST", "/api/v1/meetings/{meeting}/resolutions", {}, managers(422)),
    ("GET", "/api/v1/projects", None, everyone(200)),
    ("GET", "/api/v1/projects/{project}", None, everyone(200)),
    ("POST", "/api/v1/projects/{project}/updates", {}, managers(422)),
    ("POST", "/api/v1/projects/{completed_project}/ratings", {}, members(422)),
    # --- responsible parties: the project names none; {condition} is the voter's ----------
    # (units' members, the wrong unit, the responsible person: tests/test_tasks*.py)
    ("GET", "/projects/{project}/edit", None, managers(200)),
    ("POST", "/projects/{project}/edit", {}, managers(422)),
    ("POST", "/projects/{project}/complete", {}, managers(302)),
    ("GET", "/communities/{community}/responsible-people?q=王", None, managers(200)),
    ("GET", "/resolutions/{resolution}/conditions/new", None, managers(200)),
    ("POST", "/resolutions/{resolution}/conditions/new", {}, managers(422)),
    ("GET", "/conditions/{condition}", None, insiders(200)),
    ("POST", "/conditions/{condition}/done", {}, managers(302) | {"voter": 302}),
    ("GET", "/my/tasks", None, users(200)),
    ("PATCH", "/api/v1/projects/{project}", {}, managers(200)),
    ("POST", "/api/v1/resolutions/{resolution}/conditions", {}, managers(422)),
    # --- 公示 of resolutions (issue 17): {notice_resolution} of the closed meeting is in
    # notice, the resident made the {objection}; {resolution}'s meeting is in progress
    ("GET", "/resolutions/{notice_resolution}/notice", None, everyone(200)),
    ("POST", "/resolutions/{resolution}/notice", {}, managers(422)),
    # Residents object; the secretary answers the objections, and makes none.
    ("POST", "/resolutions/{notice_resolution}/objections", {}, members(422) | {"secretary": 403}),
    ("GET", "/resolutions/{notice_resolution}/objections", None, managers(200)),
    ("POST", "/objections/{objection}/answer", {}, managers(422)),
    ("GET", "/communities/{community}/notices", None, everyone(200)),
    ("POST", "/api/v1/resolutions/{resolution}/notice", {}, managers(409)),
    (
        "POST",
        "/api/v1/resolutions/{notice_resolution}/objections",
        {},
        members(422) | {"secretary": 403},
    ),
    (
        "GET",
        "/api/v1/resolutions/{notice_resolution}/objections",
        None,
        members(200) | {"admin": 200},
    ),
    ("POST", "/api/v1/objections/{objection}/answer", {}, managers(422)),
    ("POST", "/api/v1/conditions/{condition}/done", {}, managers(200) | {"voter": 200}),
    ("GET", "/api/v1/my/tasks", None, users(200)),
    # --- minutes ---------------------------------------------------------------------------
    # The overview sends those asked to confirm to the confirmation page.
    (
        "GET",
        "/meetings/{closed}/minutes",
        None,
        insiders(200, 404, 404) | {"attendee": 302, "voter": 302},
    ),
    ("GET", "/meetings/{closed}/minutes/edit", None, managers(200)),
    ("POST", "/meetings/{closed}/minutes/edit", NEW_MINUTES, managers(302)),
    ("POST", "/meetings/{closed}/minutes/preview", {}, managers(200)),
    ("GET", "/meetings/{closed}/minutes/versions/1", None, insiders(200, 404, 404)),
    ("GET", "/meetings/{closed}/minutes/versions/2", None, managers(200, 404, 404)),
    ("GET", "/meetings/{closed}/minutes/diff", None, managers(200, 404, 404)),
    ("POST", "/meetings/{closed}/minutes/circulate", {"version": "2"}, managers(302)),
    ("GET", "/meetings/{closed}/minutes/publish", None, managers(200)),
    ("POST", "/meetings/{closed}/minutes/publish", {}, managers(422)),
    ("GET", "/meetings/{closed}/minutes/confirm", None, ASKED_TO_CONFIRM),
    (
        "POST",
        "/meetings/{closed}/minutes/confirm",
        {},
        ASKED_TO_CONFIRM | {"attendee": 422, "voter": 422},
    ),
    ("GET", "/communities/{community}", None, everyone(200)),
    ("GET", "/communities/{community}/minutes", None, everyone(200)),
    ("GET", "/communities/{community}/minutes.atom", None, everyone(200)),
    ("GET", "/communities/{community}/answered", None, everyone(200)),
    ("GET", "/minutes/{published}", None, everyone(200)),
    ("GET", "/minutes/{closed}", None, everyone(404)),
    ("GET", "/minutes/{published}.pdf", None, everyone(200)),
    ("GET", "/meetings/{published}/minutes.docx", None, everyone(200)),
    ("GET", "/meetings/{closed}/minutes.docx", None, managers(200, 404, 404)),
    ("GET", "/meetings/{closed}/minutes.docx?version=1", None, insiders(200, 404, 404)),
    ("GET", "/search", None, everyone(200)),
    ("GET", "/api/v1/public/minutes", None, everyone(200)),
    ("GET", "/api/v1/public/search?q=充电", None, everyone(200)),
    ("GET", "/search?q=充电", None, everyone(200)),
    ("GET", "/api/v1/meetings/{closed}/minutes", None, managers(200, 404, 404)),
    ("GET", "/api/v1/meetings/{published}/minutes", None, everyone(200)),
    ("PUT", "/api/v1/meetings/{closed}/minutes", {}, managers(422)),
    # Everyone gets the list of the versions they may read.
    ("GET", "/api/v1/meetings/{closed}/minutes/versions", None, everyone(200)),
    ("GET", "/api/v1/meetings/{closed}/minutes/diff?from=1&to=2", None, managers(200, 404, 404)),
    ("POST", "/api/v1/meetings/{closed}/minutes/circulate", None, managers(200)),
    ("POST", "/api/v1/meetings/{closed}/minutes/publish", {}, managers(200)),
    ("GET", "/api/v1/meetings/{closed}/minutes/confirmations", None, managers(200)),
    (
        "POST",
        "/api/v1/meetings/{closed}/minutes/confirmation",
        {},
        ASKED_TO_CONFIRM | {"attendee": 422, "voter": 422},
    ),
    # --- notifications: one's own ------------------------------------------------------------
    ("GET", "/notifications", None, users(200)),
    ("POST", "/notifications/{notification}/read", {}, users(404) | {"resident": 302}),
    ("POST", "/notifications/read-all", {}, users(302)),
    ("GET", "/api/v1/notifications", None, users(200)),
    ("POST", "/api/v1/notifications/{notification}/read", None, users(404) | {"resident": 200}),
    ("POST", "/api/v1/notifications/read-all", None, users(200)),
    # --- the organisation: streets, members, grids, units. Rows naming {org_grid} have
    # the voter working in it, rows naming {org_unit} the attendee as its member; street
    # staff and grid leaders of other places: tests/test_organisation*.py,
    # tests/test_street_view.py --------------------------------------------------------
    ("GET", "/streets", None, admins(200)),
    ("GET", "/streets/new", None, admins(200)),
    ("POST", "/streets/new", {}, admins(422)),
    ("GET", "/streets/{org_street}", None, admins(200)),
    ("GET", "/streets/{org_street}/manage", None, admins(200)),
    ("POST", "/streets/{org_street}/staff", {}, admins(422)),
    ("POST", "/streets/{org_street}/staff/{resident}/remove", {}, admins(302)),
    ("POST", "/streets/{org_street}/communities", {}, admins(422)),
    # 履职档案 (issue 17): the person, the secretaries where they sit, administrators (street
    # staff and secretaries of other places: tests/test_duty.py); the street's summary
    ("GET", "/people/{voter}/duty-record", None, VOTERS_RECORD),
    ("GET", "/people/{voter}/duty-record.xlsx", None, VOTERS_RECORD),
    ("GET", "/people/{voter}/duty-record.csv", None, VOTERS_RECORD),
    ("GET", "/api/v1/people/{voter}/duty-record", None, VOTERS_RECORD),
    ("GET", "/streets/{org_street}/duty-records", None, admins(200)),
    ("GET", "/streets/{org_street}/duty-records.xlsx", None, admins(200)),
    ("GET", "/streets/{org_street}/duty-records.csv", None, admins(200)),
    # Statistics (issue 17): a community's for its secretaries (and its street's staff:
    # tests/test_statistics.py), a street's for its staff, all streets' for administrators
    ("GET", "/communities/{community}/statistics", None, managers(200)),
    ("GET", "/communities/{community}/statistics.xlsx", None, managers(200)),
    ("GET", "/communities/{community}/statistics.csv?table=orders", None, managers(200)),
    ("GET", "/streets/{org_street}/statistics", None, admins(200)),
    ("GET", "/streets/{org_street}/statistics.xlsx", None, admins(200)),
    ("GET", "/streets/{org_street}/statistics.csv", None, admins(200)),
    ("GET", "/statistics", None, admins(200)),
    ("GET", "/statistics.xlsx", None, admins(200)),
    ("GET", "/statistics.csv?table=streets", None, admins(200)),
    ("GET", "/api/v1/statistics?scope=community&id={community}", None, managers(200)),
    ("GET", "/api/v1/statistics?scope=street&id={org_street}", None, admins(200)),
    ("GET", "/api/v1/statistics?scope=all", None, admins(200)),
    # The accounts picker: administrators and any secretary.
    ("GET", "/accounts/find?q=王阿", None, managers(200) | {"other_secretary": 200}),
    ("POST", "/communities/{community}/members", {}, managers(422)),
    (
        "POST",
        "/communities/{community}/members/{resident}/role",
        {"standing_role": "expert"},
        managers(302),
    ),
    ("GET", "/communities/{community}/grids", None, managers(200)),
    ("POST", "/communities/{community}/grids", {}, managers(422)),
    ("GET", "/grids/{org_grid}", None, managers(200) | {"voter": 200}),
    ("GET", "/grids/{org_grid}/edit", None, managers(200)),
    ("POST", "/grids/{org_grid}/edit", {}, managers(422)),
    ("POST", "/grids/{org_grid}/members", {}, managers(422)),
    ("POST", "/grids/{org_grid}/members/{voter}/leader", {}, managers(302)),
    ("POST", "/grids/{org_grid}/members/{voter}/remove", {}, managers(302)),
    # Units: administrators all, secretaries those serving their communities, members theirs.
    ("GET", "/units", None, managers(200) | {"other_secretary": 200}),
    ("GET", "/units/new", None, managers(200) | {"other_secretary": 200}),
    ("POST", "/units/new", {}, managers(422) | {"other_secretary": 422}),
    ("GET", "/units/{org_unit}", None, managers(200) | {"attendee": 200}),
    ("POST", "/units/{org_unit}/members", {}, managers(422)),
    ("POST", "/units/{org_unit}/members/{attendee}/remove", {}, managers(302)),
    # Invite the same people as an earlier meeting (all of them are invited already).
    ("GET", "/meetings/{scheduled}/attendees/copy?from_meeting_id={draft}", None, managers(200)),
    ("POST", "/meetings/{scheduled}/attendees/copy", {"from_meeting_id": "{draft}"}, managers(302)),
    ("POST", "/api/v1/meetings/{scheduled}/attendances/copy", {}, managers(422)),
    ("POST", "/api/v1/streets", {}, admins(422)),
    ("POST", "/api/v1/streets", {"name": "新街道"}, admins(201)),
    ("GET", "/api/v1/streets/{org_street}", None, admins(200)),
    ("POST", "/api/v1/streets/{org_street}/staff", {}, admins(422)),
    ("GET", "/api/v1/streets/{org_street}/overview", None, admins(200)),
    ("POST", "/api/v1/communities/{community}/members", {}, managers(422)),
    (
        "PATCH",
        "/api/v1/communities/{community}/members/{resident}",
        {"standing_role": "expert"},
        managers(200),
    ),
    ("GET", "/api/v1/communities/{community}/grids", None, managers(200)),
    ("POST", "/api/v1/communities/{community}/grids", {}, managers(422)),
    ("GET", "/api/v1/grids/{org_grid}", None, managers(200) | {"voter": 200}),
    ("POST", "/api/v1/grids/{org_grid}/members", {}, managers(422)),
    ("GET", "/api/v1/units", None, users(200)),
    ("POST", "/api/v1/units", {}, managers(422) | {"other_secretary": 422}),
    ("GET", "/api/v1/units/{org_unit}", None, managers(200) | {"attendee": 200}),
    ("POST", "/api/v1/units/{org_unit}/members", {}, managers(422)),
]


@pytest.fixture
def voter(make_member):
    return make_member("李代表")


@pytest.fixture
def people(admin, secretary, other_secretary, resident, attendee, voter):
    return {
        "anonymous": None,
        "resident": resident,
        "attendee": attendee,
        "voter": voter,
        "secretary": secretary,
        "other_secretary": other_secretary,
        "admin": admin,
    }


@pytest.fixture
def world(make_meeting, community, people, in_request):
    built = World(make_meeting, community, people)
    yield built
    built.discard_photos()


def _fill(value, ids):
    """Put the ids of this test's world into a path or body (building the
    parts of the world they name)."""
    if isinstance(value, str):
        filled = value.format_map(ids)
        return int(filled) if value.startswith("{") and filled.isdigit() else filled
    if isinstance(value, dict):
        return {key: _fill(item, ids) for key, item in value.items()}
    if isinstance(value, list):
        return [_fill(item, ids) for item in value]
    return value


def _signed_in(app, user, api: bool, bearer):
    """A client of its own for each person: a session through the login form
    on the web, a bearer token for the API."""
    client = app.test_client()
    if user is None:
        return client, {}
    if api:
        return client, bearer(user)
    response = client.post("/auth/login", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return client, {}


def _outcome(response, api: bool) -> int | str:
    status = response.status_code
    if api:
        if status == 401:
            return SIGN_IN
        if status >= 400:
            error = (response.get_json(silent=True) or {}).get("error") or {}
            if not error.get("code"):
                return f"{status} without the error body"
    elif status == 302 and response.location.startswith("/auth/login?next="):
        return SIGN_IN
    return status


@pytest.mark.parametrize(
    ("method", "path", "body", "expected"),
    [
        pytest.param(*row, id=f"{row[0]} {row[1]}" + (f" {row[2]}" if row[2] else ""))
        for row in TABLE
    ],
)
def test_access(app, db, bearer, world, method, path, body, expected):
    api = path.startswith("/api/")
    url, body = _fill(path, world.ids), _fill(body, world.ids)
    actual = {}
    for role in ROLES:
        client, headers = _signed_in(app, world.people[role], api, bearer)
        savepoint = db.session.begin_nested()
        db.session.connection()  # begin_nested() leaves the SAVEPOINT for later: emit it now
        try:
            if api:
                response = client.open(url, method=method, json=body, headers=headers)
            else:
                response = client.open(url, method=method, data=body)
            response.close()
        finally:
            savepoint.rollback()
        actual[role] = _outcome(response, api)
    assert actual == expected


def _routes_of_table(app) -> tuple[set[tuple[str, str]], list[str]]:
    """The (rule, method) pairs the table's rows reach, and the rows that
    reach no route."""
    adapter = app.url_map.bind("localhost")
    any_id = defaultdict(lambda: "1")
    covered, stale = set(), []
    for method, path, _body, _expected in TABLE:
        try:
            rule, _args = adapter.match(
                path.format_map(any_id).partition("?")[0], method=method, return_rule=True
            )
        except HTTPException:
            stale.append(f"{method} {path}")
        else:
            covered.add((rule.rule, method))
    return covered, stale


def test_every_route_is_in_the_table(app):
    """A new page or endpoint needs its row above; a row of a route that is
    gone goes too."""
    covered, stale = _routes_of_table(app)
    routes = {
        (rule.rule, method)
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert sorted(routes - covered) == []
    assert stale == []


def test_the_table_knows_each_person(app):
    assert all(set(expected) == set(ROLES) for *_row, expected in TABLE)


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
