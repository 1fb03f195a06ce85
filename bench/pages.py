"""Every page and API list at five years of history (issue 14): SQL statements,
server time and response size.

    .venv/bin/python bench/pages.py --fill 0.1 --fill 1.0        # two fresh databases, the growth
    .venv/bin/python bench/pages.py --database-url URL            # one kept by history.py --keep
    .venv/bin/python bench/pages.py --fill 0.1 --json out.json    # the figures as JSON too

For each database — filled by ``bench/history.py`` (``--fill SCALE``, a fresh
database next to ``--postgres-url``, dropped afterwards unless ``--keep``) or
given (``--database-url``, filled before by ``history.py --keep``) — it builds
the app on it and, through Flask's test client, requests every page and API
list whose work can grow with the data: as an administrator it creates, as
the secretary of the largest community (``sec-01``), as that community's
resident with the most meetings, and without an account; API calls carry a
token from ``auth.services.issue_token``. The pages of issue 15 are requested
as the people the history gives places (see ``history.py``): the leader of
that community's grid with the most orders (``grid``: ``c01-0000N``, a
resident), the first member of the unit serving it with the most orders
(``unit``: ``unit-UU-1``, usually its property company ``unit-01-1``) and the
staff of its street (``street``: ``street-1``). For each it prints the number of
SQL statements the request ran (a ``before_cursor_execute`` listener on the
engine), the server time (the median of 3 after one warm-up; the test client
runs the whole WSGI stack in this process, without a network) and the size of
the response; then the time ``flask audit verify`` takes.

With two sizes the table shows both side by side, and each line is judged
against issue 14's target at the larger size: at most 20 statements, a number
that does not grow with the data, and under 100 ms of server time. The
figures are meant for scale 1.0 (the full street office); at a smaller scale
the verdict says so.

Exit status 0 whatever the verdicts (it measures; it does not gate).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

import history  # noqa: E402
from sqlalchemy import event, func, select  # noqa: E402

from auth import services as auth_services  # noqa: E402
from auth.models import Community, Membership, User  # noqa: E402
from meetings import create_app  # noqa: E402
from meetings.extensions import db  # noqa: E402
from meetings.meeting.models import AgendaItem, Attendance, Meeting  # noqa: E402
from meetings.minutes.models import MinutesVersion  # noqa: E402
from meetings.organisation.models import (  # noqa: E402
    Grid,
    GridMember,
    StreetStaff,
    UnitMember,
    unit_community,
)
from meetings.polls.models import Poll, PollVote, PollVoter  # noqa: E402
from meetings.projects.models import Project, Resolution, ResolutionCondition  # noqa: E402
from meetings.requests.models import ResidentRequest  # noqa: E402

SECRET_KEY = "bench-pages-not-for-production"  # noqa: S105
ADMIN = "bench-admin"
TARGET_QUERIES = 20
TARGET_MS = 100.0
SEARCH_WORD = "电梯"


@dataclass
class Figure:
    name: str
    who: str
    path: str
    status: int = 0
    queries: int = 0
    ms: float = 0.0
    size: int = 0


@dataclass
class Run:
    label: str
    scale: float | None
    counts: dict[str, int] = field(default_factory=dict)
    figures: list[Figure] = field(default_factory=list)
    verify_seconds: float = 0.0
    verify_output: str = ""
    fill_seconds: float | None = None


# --- the app on the database --------------------------------------------------------------


def app_for(database_url: str):
    app = create_app(
        {
            "SECRET_KEY": SECRET_KEY,
            "DATABASE_URL": database_url,
            "REDIS_URL": None,
            "MAIL_SERVER": None,
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "SITE_URL": "http://localhost",
            "LOG_LEVEL": "WARNING",
        }
    )
    return app


class StatementCounter:
    def __init__(self):
        self.count = 0

    def __call__(self, *args, **kwargs) -> None:
        self.count += 1


@dataclass
class Cast:
    """The people and objects the pages are requested for."""

    community_id: int
    admin: str
    secretary: str
    resident: str
    tokens: dict[str, str]
    ids: dict[str, int]
    # the places of issue 15: grid, unit, street → username
    others: dict[str, str] = field(default_factory=dict)


def cast_of(app) -> Cast:
    """The administrator (created here), the largest community's secretary and
    its resident with the most meetings, their API tokens, and the ids of a
    meeting of each kind, a poll, a project and a request to look at."""
    with app.app_context():
        auth_services.set_admin_password(ADMIN, history.BENCH_PASSWORD)
        db.session.commit()
        community_id = db.session.scalar(
            select(Membership.community_id)
            .group_by(Membership.community_id)
            .order_by(func.count().desc(), Membership.community_id)
            .limit(1)
        )
        secretary = db.session.scalar(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.community_id == community_id, Membership.is_secretary.is_(True))
            .order_by(User.id)
            .limit(1)
        )
        # the resident with the most meetings, among those who may still vote
        # in the open poll of the meeting under way if there is one
        residents = (
            select(User)
            .join(Attendance, Attendance.user_id == User.id)
            .join(Membership, Membership.user_id == User.id)
            .where(
                Membership.community_id == community_id,
                Membership.is_secretary.is_(False),
                User.username.like("c%"),
                User.is_active.is_(True),
            )
            .group_by(User.id)
            .order_by(func.count(Attendance.id).desc(), User.id)
            .limit(1)
        )
        may_vote = (
            select(PollVoter.user_id)
            .join(Poll, Poll.id == PollVoter.poll_id)
            .outerjoin(
                PollVote,
                (PollVote.poll_id == PollVoter.poll_id) & (PollVote.user_id == PollVoter.user_id),
            )
            .where(Poll.status == "open", PollVote.user_id.is_(None))
        )
        resident = db.session.scalar(residents.where(User.id.in_(may_vote))) or db.session.scalar(
            residents
        )
        admin = auth_services.get_user_by_username(ADMIN)
        ids, others = places(community_id)
        people = [("admin", admin), ("secretary", secretary), ("resident", resident)]
        people += [(key, auth_services.get_user_by_username(name)) for key, name in others.items()]
        tokens = {}
        for key, user in people:
            plain, _token = auth_services.issue_token(user)
            tokens[key] = plain
        db.session.commit()

        def latest(statement) -> int | None:
            return db.session.scalar(statement.limit(1))

        in_community = Meeting.community_id == community_id
        ids |= {
            "published": latest(
                select(Meeting.id)
                .where(in_community, Meeting.status == "minutes_published")
                .order_by(Meeting.starts_at.desc())
            ),
            "in_progress": latest(
                select(Meeting.id).where(in_community, Meeting.status == "in_progress")
            ),
            "upcoming": latest(
                select(Meeting.id)
                .where(in_community, Meeting.status.in_(["scheduled", "draft"]))
                .order_by(Meeting.starts_at)
            ),
            "closed": latest(
                select(Meeting.id)
                .where(in_community, Meeting.status == "closed")
                .order_by(Meeting.starts_at.desc())
            ),
        }
        ids["poll"] = latest(
            select(Poll.id)
            .join(AgendaItem, AgendaItem.id == Poll.agenda_item_id)
            .where(AgendaItem.meeting_id == ids["published"], Poll.status == "closed")
            .order_by(Poll.id)
        )
        ids["open_poll"] = latest(
            select(Poll.id)
            .join(AgendaItem, AgendaItem.id == Poll.agenda_item_id)
            .where(AgendaItem.meeting_id == ids["in_progress"], Poll.status == "open")
        )
        ids["item"] = latest(
            select(AgendaItem.id)
            .where(AgendaItem.meeting_id == ids["published"])
            .order_by(AgendaItem.position)
        )
        ids["project"] = latest(
            select(Project.id)
            .where(Project.community_id == community_id)
            .order_by(Project.created_at.desc())
        )
        ids["request"] = latest(
            select(ResidentRequest.id)
            .where(ResidentRequest.requester_id == resident.id)
            .order_by(ResidentRequest.created_at.desc())
        ) or latest(
            select(ResidentRequest.id)
            .where(ResidentRequest.community_id == community_id)
            .order_by(ResidentRequest.created_at.desc())
        )
        ids["versions"] = db.session.scalar(
            select(func.max(MinutesVersion.number)).where(
                MinutesVersion.meeting_id == ids["published"]
            )
        )
        ids["resident_id"] = resident.id
        ids["resolution"] = latest(
            select(Resolution.id)
            .where(Resolution.meeting_id == ids["published"])
            .order_by(Resolution.id)
        )
        return Cast(community_id, ADMIN, secretary.username, resident.username, tokens, ids, others)


def places(community_id: int) -> tuple[dict[str, int], dict[str, str]]:
    """Issue 15's people and objects: the grid and the unit (serving the
    community) with the most orders, their leader and first member, the
    street's staff; a request with an order, an open order, a condition."""
    ids: dict[str, int] = {}
    others: dict[str, str] = {}
    ids["grid"] = db.session.scalar(
        select(Grid.id)
        .outerjoin(ResidentRequest, ResidentRequest.assignee_grid_id == Grid.id)
        .where(Grid.community_id == community_id)
        .group_by(Grid.id)
        .order_by(func.count(ResidentRequest.id).desc(), Grid.id)
        .limit(1)
    )
    leader = db.session.scalar(
        select(User.username)
        .join(GridMember, GridMember.user_id == User.id)
        .where(GridMember.grid_id == ids["grid"], GridMember.is_leader.is_(True))
        .limit(1)
    )
    ids["unit"] = db.session.scalar(
        select(unit_community.c.unit_id)
        .outerjoin(ResidentRequest, ResidentRequest.assignee_unit_id == unit_community.c.unit_id)
        .where(unit_community.c.community_id == community_id)
        .group_by(unit_community.c.unit_id)
        .order_by(func.count(ResidentRequest.id).desc(), unit_community.c.unit_id)
        .limit(1)
    )
    member = db.session.scalar(
        select(User.username)
        .join(UnitMember, UnitMember.user_id == User.id)
        .where(UnitMember.unit_id == ids["unit"])
        .order_by(UnitMember.id)
        .limit(1)
    )
    street = db.session.execute(
        select(StreetStaff.street_id, User.username)
        .join(User, User.id == StreetStaff.user_id)
        .join(Community, Community.street_id == StreetStaff.street_id)
        .where(Community.id == community_id)
        .limit(1)
    ).first()
    for key, name in (("grid", leader), ("unit", member), ("street", street and street[1])):
        if name:
            others[key] = name
    if street:
        ids["street"] = street[0]
    in_community = ResidentRequest.community_id == community_id
    ids["order"] = db.session.scalar(
        select(ResidentRequest.id)
        .where(in_community, ResidentRequest.assignee_unit_id == ids["unit"])
        .order_by(ResidentRequest.dispatched_at.desc())
        .limit(1)
    )
    ids["open_order"] = db.session.scalar(
        select(ResidentRequest.id)
        .where(in_community, ResidentRequest.status.in_(["dispatched", "claimed"]))
        .order_by(ResidentRequest.dispatched_at.desc())
        .limit(1)
    )
    ids["condition"] = db.session.scalar(
        select(ResolutionCondition.id)
        .where(ResolutionCondition.assignee_unit_id == ids["unit"])
        .order_by(ResolutionCondition.id.desc())
        .limit(1)
    )
    return ids, others


def pages(cast: Cast) -> list[tuple[str, str, str]]:
    """(name, who, path): who is admin / secretary / resident / anonymous (or
    grid / unit / street, when the history has them) for pages, api:<who> for
    API calls with that person's token."""
    c = cast.community_id
    i = cast.ids
    who = {"admin", "secretary", "resident", "anonymous", *cast.others}
    listed = [
        # the administrator's pages
        ("admin home", "admin", "/admin/"),
        ("admin: community", "admin", f"/admin/communities/{c}"),
        ("admin: new account", "admin", "/admin/users/new"),
        ("new request (admin, on behalf)", "admin", "/requests/new"),
        # the secretary's
        ("dashboard", "secretary", f"/communities/{c}/dashboard"),
        ("request inbox", "secretary", f"/communities/{c}/requests"),
        ("request inbox: waiting", "secretary", f"/communities/{c}/requests?status=submitted"),
        ("new request (secretary)", "secretary", "/requests/new"),
        ("community accounts", "secretary", f"/communities/{c}/accounts"),
        ("new meeting", "secretary", f"/communities/{c}/meetings/new"),
        ("my meetings (secretary)", "secretary", "/my/meetings"),
        ("notifications (secretary)", "secretary", "/notifications"),
        ("meeting under way (secretary)", "secretary", f"/meetings/{i['in_progress']}"),
        ("attendees", "secretary", f"/meetings/{i['in_progress']}/attendees"),
        ("agenda", "secretary", f"/meetings/{i['in_progress']}/agenda"),
        ("check-in list", "secretary", f"/meetings/{i['in_progress']}/checkin"),
        ("sign-in sheet", "secretary", f"/meetings/{i['in_progress']}/sign-in-sheet"),
        ("edit meeting", "secretary", f"/meetings/{i['upcoming']}/edit"),
        ("minutes overview", "secretary", f"/meetings/{i['published']}/minutes"),
        ("minutes editor (closed)", "secretary", f"/meetings/{i['closed']}/minutes/edit"),
        # the resident's
        ("my meetings (resident)", "resident", "/my/meetings"),
        ("my requests", "resident", "/requests/mine"),
        ("new request (resident)", "resident", "/requests/new"),
        ("notifications (resident)", "resident", "/notifications"),
        ("my account", "resident", "/auth/account"),
        ("request page", "resident", f"/requests/{i['request']}"),
        ("meeting (resident)", "resident", f"/meetings/{i['published']}"),
        ("vote (open poll)", "resident", f"/polls/{i['open_poll']}/vote"),
        # anyone's
        ("home", "anonymous", "/"),
        ("portal", "anonymous", f"/communities/{c}"),
        ("minutes list", "anonymous", f"/communities/{c}/minutes"),
        ("minutes list, page 5", "anonymous", f"/communities/{c}/minutes?page=5"),
        ("Atom feed", "anonymous", f"/communities/{c}/minutes.atom"),
        ("answered requests", "anonymous", f"/communities/{c}/answered"),
        ("upcoming meetings", "anonymous", f"/communities/{c}/meetings"),
        ("project board", "anonymous", f"/communities/{c}/projects"),
        ("project page", "anonymous", f"/projects/{i['project']}"),
        ("published minutes", "anonymous", f"/minutes/{i['published']}"),
        ("meeting (anonymous)", "anonymous", f"/meetings/{i['published']}"),
        ("poll", "anonymous", f"/polls/{i['poll']}"),
        ("poll result", "anonymous", f"/polls/{i['poll']}/result"),
        ("poll receipts", "anonymous", f"/polls/{i['poll']}/receipts"),
        ("search", "anonymous", f"/search?q={SEARCH_WORD}"),
        ("search in a community", "anonymous", f"/search?q={SEARCH_WORD}&community={c}"),
        ("search, no hit", "anonymous", "/search?q=无此词语"),
        # the API's lists (and the objects they lead to)
        ("API public minutes", "anonymous", "/api/v1/public/minutes?per_page=50"),
        ("API public minutes 200", "anonymous", "/api/v1/public/minutes?per_page=200"),
        ("API public minutes, community", "anonymous", f"/api/v1/public/minutes?community_id={c}"),
        ("API communities", "anonymous", "/api/v1/communities"),
        ("API projects", "anonymous", "/api/v1/projects"),
        ("API projects, community", "anonymous", f"/api/v1/projects?community_id={c}"),
        ("API project", "anonymous", f"/api/v1/projects/{i['project']}"),
        ("API requests (secretary)", "api:secretary", "/api/v1/requests"),
        ("API requests, community", "api:secretary", f"/api/v1/requests?community_id={c}"),
        ("API requests 200", "api:secretary", "/api/v1/requests?per_page=200"),
        ("API requests (resident)", "api:resident", "/api/v1/requests"),
        ("API requests (admin)", "api:admin", "/api/v1/requests"),
        ("API request", "api:resident", f"/api/v1/requests/{i['request']}"),
        ("API meetings (secretary)", "api:secretary", "/api/v1/meetings"),
        ("API meetings (resident)", "api:resident", "/api/v1/meetings"),
        ("API meetings (admin)", "api:admin", "/api/v1/meetings"),
        ("API meeting", "api:secretary", f"/api/v1/meetings/{i['published']}"),
        ("API resolutions", "api:resident", f"/api/v1/meetings/{i['published']}/resolutions"),
        (
            "API minutes versions",
            "api:secretary",
            f"/api/v1/meetings/{i['published']}/minutes/versions",
        ),
        ("API polls of an item", "api:resident", f"/api/v1/agenda-items/{i['item']}/polls"),
        ("API proposals of an item", "api:resident", f"/api/v1/agenda-items/{i['item']}/proposals"),
        ("API open poll", "api:resident", f"/api/v1/polls/{i['open_poll']}"),
        ("API notifications", "api:resident", "/api/v1/notifications"),
        ("API notifications (secretary)", "api:secretary", "/api/v1/notifications"),
        ("API me", "api:resident", "/api/v1/me"),
        # issue 15: the organisation and the orders
        ("street overview", "street", f"/streets/{i.get('street')}"),
        ("streets", "street", "/streets"),
        ("orders (secretary)", "secretary", f"/communities/{c}/orders"),
        ("orders: overdue", "secretary", f"/communities/{c}/orders?show=overdue"),
        ("orders: unclaimed", "secretary", f"/communities/{c}/orders?show=unclaimed"),
        ("grids (secretary)", "secretary", f"/communities/{c}/grids"),
        ("units (secretary)", "secretary", "/units"),
        ("units (admin)", "admin", "/units"),
        ("visit log (secretary)", "secretary", "/visits"),
        ("request with an order (sec.)", "secretary", f"/requests/{i.get('order')}"),
        ("open order (secretary)", "secretary", f"/requests/{i.get('open_order')}"),
        ("my orders (grid leader)", "grid", "/my/orders"),
        ("my orders (grid leader) p. 2", "grid", "/my/orders?page=2"),
        ("my tasks (grid leader)", "grid", "/my/tasks"),
        ("grid page", "grid", f"/grids/{i.get('grid')}"),
        ("visit log (grid leader)", "grid", f"/visits?grid={i.get('grid')}"),
        ("new visit", "grid", "/visits/new"),
        ("intake (grid leader)", "grid", "/requests/intake"),
        ("my requests (grid leader)", "grid", "/requests/mine"),
        ("my orders (unit member)", "unit", "/my/orders"),
        ("my tasks (unit member)", "unit", "/my/tasks"),
        ("unit page", "unit", f"/units/{i.get('unit')}"),
        ("request with an order (unit)", "unit", f"/requests/{i.get('order')}"),
        ("condition (unit member)", "unit", f"/conditions/{i.get('condition')}"),
        ("API street overview", "api:street", f"/api/v1/streets/{i.get('street')}/overview"),
        ("API requests (street)", "api:street", "/api/v1/requests"),
        ("API my orders (grid leader)", "api:grid", "/api/v1/my/orders"),
        ("API my orders (unit member)", "api:unit", "/api/v1/my/orders"),
        ("API my tasks (unit member)", "api:unit", "/api/v1/my/tasks"),
        ("API requests (grid leader)", "api:grid", "/api/v1/requests"),
        ("API visits (grid leader)", "api:grid", "/api/v1/visits"),
        ("API grids", "api:secretary", f"/api/v1/communities/{c}/grids"),
        ("API units", "api:secretary", "/api/v1/units"),
        ("API units (admin)", "api:admin", "/api/v1/units"),
        ("API request with an order", "api:unit", f"/api/v1/requests/{i.get('order')}"),
        # issue 17: statistics (also bench/statistics_pages.py), duty records, documents,
        # public notice, search (also bench/search.py)
        ("statistics (secretary)", "secretary", f"/communities/{c}/statistics"),
        ("statistics (street)", "street", f"/streets/{i.get('street')}/statistics"),
        ("statistics (admin)", "admin", "/statistics"),
        ("duty record (resident)", "resident", f"/people/{i['resident_id']}/duty-record"),
        ("duty record .xlsx", "resident", f"/people/{i['resident_id']}/duty-record.xlsx"),
        ("duty records (street)", "street", f"/streets/{i.get('street')}/duty-records"),
        ("minutes as Word", "anonymous", f"/meetings/{i['published']}/minutes.docx"),
        ("sign-in sheet .xlsx", "secretary", f"/meetings/{i['in_progress']}/sign-in.xlsx"),
        ("poll result .xlsx", "anonymous", f"/polls/{i['poll']}/result.xlsx"),
        ("public notices", "anonymous", f"/communities/{c}/notices"),
        ("resolution's notice page", "anonymous", f"/resolutions/{i.get('resolution')}/notice"),
        ("API statistics", "api:secretary", f"/api/v1/statistics?scope=community&id={c}"),
        ("API duty record", "api:resident", f"/api/v1/people/{i['resident_id']}/duty-record"),
        ("API public search", "anonymous", f"/api/v1/public/search?q={SEARCH_WORD}"),
    ]
    return [page for page in listed if "None" not in page[2] and page[1].split(":")[-1] in who]


def logged_in(app, username: str | None):
    """A test client, logged in through the login form unless ``username`` is None."""
    client = app.test_client()
    if username is not None:
        response = client.post(
            "/auth/login", data={"username": username, "password": history.BENCH_PASSWORD}
        )
        if response.status_code != 302:
            raise RuntimeError(f"login as {username}: {response.status_code}")
    return client


def measure(app, cast: Cast, repeat: int, log: Callable[[str], None]) -> list[Figure]:
    counter = StatementCounter()
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", counter)
    figures = []
    try:
        clients = {}
        for who, username in (
            ("admin", cast.admin),
            ("secretary", cast.secretary),
            ("resident", cast.resident),
            ("anonymous", None),
            *cast.others.items(),
        ):
            clients[who] = logged_in(app, username)
        for name, who, path in pages(cast):
            headers = {}
            client = clients["anonymous"]
            if who.startswith("api:"):
                headers["Authorization"] = f"Bearer {cast.tokens[who[4:]]}"
            else:
                client = clients[who]
            figure = Figure(name, who, path)
            times = []
            for attempt in range(repeat + 1):
                before = counter.count
                started = time.perf_counter()
                response = client.get(path, headers=headers)
                took = (time.perf_counter() - started) * 1000
                body = response.get_data()
                if attempt > 0:
                    times.append(took)
                    figure.queries = counter.count - before
                figure.status, figure.size = response.status_code, len(body)
            figure.ms = statistics.median(times)
            figures.append(figure)
            log(
                f"  {name:<34} {figure.status:>3} {figure.queries:>6} q "
                f"{figure.ms:>9.1f} ms {figure.size / 1024:>9.1f} KB"
            )
    finally:
        event.remove(engine, "before_cursor_execute", counter)
    return figures


def verify_time(app) -> tuple[float, str]:
    runner = app.test_cli_runner()
    started = time.perf_counter()
    result = runner.invoke(args=["audit", "verify"])
    return time.perf_counter() - started, result.output.strip().splitlines()[-1:][0]


def run_on(database_url: str, label: str, scale: float | None, repeat: int, log) -> Run:
    run = Run(label, scale)
    app = app_for(database_url)
    cast = cast_of(app)
    log(
        f"measuring {label}: community {cast.community_id}, secretary {cast.secretary}, "
        f"resident {cast.resident}, "
        + ", ".join(f"{key} {name}" for key, name in cast.others.items())
    )
    run.figures = measure(app, cast, repeat, log)
    run.verify_seconds, run.verify_output = verify_time(app)
    log(f"  audit verify: {run.verify_seconds:.1f} s ({run.verify_output})")
    with app.app_context():
        db.engine.dispose()
    return run


# --- the table ------------------------------------------------------------------------------


def verdict(small: Figure | None, large: Figure, full_size: bool) -> str:
    problems = []
    if large.status >= 400:
        problems.append(f"HTTP {large.status}")
    if large.queries > TARGET_QUERIES:
        problems.append(f">{TARGET_QUERIES} q")
    if small is not None and large.queries > small.queries:
        problems.append("q grow")
    if large.ms >= TARGET_MS:
        problems.append(f"≥{TARGET_MS:.0f} ms")
    if problems:
        return "FAIL " + ", ".join(problems)
    return "PASS" if full_size else "pass (not full size)"


def table(runs: list[Run]) -> str:
    runs = sorted(runs, key=lambda r: r.scale or 0)
    large = runs[-1]
    small = runs[0] if len(runs) > 1 else None
    full_size = (large.scale or 1.0) >= 1.0
    by_name = [{f.name: f for f in run.figures} for run in runs]
    head = f"{'page or list':<34} {'who':<13}"
    head += f" | {'q':>5} {'ms':>8} {'KB':>8}" * len(runs)
    head += " | verdict"
    lines = [
        "sizes: " + "; ".join(f"{run.label}" for run in runs),
        head,
        "-" * len(head),
    ]
    passed = 0
    for figure in large.figures:
        line = f"{figure.name:<34} {figure.who:<13}"
        for found in by_name:
            f = found.get(figure.name)
            if f is None:
                line += f" | {'':>5} {'':>8} {'':>8}"
            else:
                line += f" | {f.queries:>5} {f.ms:>8.1f} {f.size / 1024:>8.1f}"
        judged = verdict(by_name[0].get(figure.name) if small else None, figure, full_size)
        passed += judged.startswith(("PASS", "pass"))
        lines.append(f"{line} | {judged}")
    lines.append("")
    lines.append(
        f"{passed} of {len(large.figures)} meet the target (≤{TARGET_QUERIES} statements, "
        f"not growing, <{TARGET_MS:.0f} ms) at {large.label}"
    )
    for run in runs:
        lines.append(
            f"audit verify at {run.label}: {run.verify_seconds:.1f} s ({run.verify_output})"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fill", type=float, action="append", default=[], metavar="SCALE")
    parser.add_argument("--database-url", action="append", default=[])
    parser.add_argument("--postgres-url", default=history.DEFAULT_POSTGRES_URL)
    parser.add_argument("--keep", action="store_true", help="keep the filled databases")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--json", type=Path, help="write the figures here too")
    parser.add_argument(
        "--merge",
        type=Path,
        action="append",
        default=[],
        help="add the runs of an earlier --json file to the table",
    )
    args = parser.parse_args(argv)
    if not (args.fill or args.database_url or args.merge):
        parser.error("give --fill SCALE or --database-url URL")

    def log(text: str) -> None:
        print(text, flush=True)

    runs = []
    for path in args.merge:
        for data in json.loads(path.read_text()):
            figures = [Figure(**f) for f in data.pop("figures")]
            runs.append(Run(figures=figures, **data))
    for url in args.database_url:
        runs.append(run_on(url, url.rsplit("/", 1)[-1], None, args.repeat, log))
    for scale in args.fill:
        with history.fresh_database(args.postgres_url, keep=args.keep) as url:
            started = time.perf_counter()
            counts = history.fill(url, scale, args.seed, log=log)
            fill_seconds = time.perf_counter() - started
            run = run_on(url, f"scale {scale:g}", scale, args.repeat, log)
            run.counts, run.fill_seconds = counts, fill_seconds
            runs.append(run)
            if args.keep:
                log(f"kept: {url}")
    if args.json:
        args.json.write_text(json.dumps([asdict(run) for run in runs], ensure_ascii=False))
    print()
    print(table(runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
