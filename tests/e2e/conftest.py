"""The site under test and the browser.

Once per run: a fresh SQLite file migrated with ``flask db upgrade``, the app
served from it by gunicorn (a gevent worker, as deployed) on a free port,
and an administrator with the communities and people of ``cast.py``
created through the account services (as ``flask create-admin`` and the
admin pages do), with their grids and the units serving them (the
organisation's services).
The browser is Debian's Chromium at /usr/bin/chromium, driven by Playwright;
Playwright's own browser downloads are never used. Without Chromium the run
fails: it is not skipped.
"""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from auth import services as auth_services
from meetings import create_app
from meetings.extensions import db as _db
from meetings.organisation import services as organisation

from . import cast
from .story import ARTIFACTS, Story

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
HOST = "127.0.0.1"
SECRET_KEY = "e2e-secret-key-not-for-production"
ADMIN_PASSWORD = "e2e-admin-password"


@pytest.fixture(autouse=True)
def db() -> None:
    """The suite's rolled-back transaction (tests/conftest.py) has no part
    here: the stories commit through a server of their own."""


@dataclass
class Site:
    url: str
    log: Path

    def output(self, since: int = 0) -> str:
        return self.log.read_bytes()[since:].decode("utf-8", "replace")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _flask(env: dict[str, str], *args: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, f"flask {' '.join(args)}:\n{done.stdout}{done.stderr}"


def _create_people(database_url: str, instance: Path) -> None:
    """The communities of ``cast.py``, their secretaries and members."""
    app = create_app(
        {
            "SECRET_KEY": SECRET_KEY,
            "DATABASE_URL": database_url,
            "REDIS_URL": None,
            "MAIL_SERVER": None,
            # quick hashes: these people log in many times
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        }
    )
    app.instance_path = str(instance)
    with app.test_request_context():
        admin, _created = auth_services.set_admin_password("admin", ADMIN_PASSWORD)
        for community in cast.COMMUNITIES:
            made = auth_services.create_community(
                admin, community.name, community.street, cast.DISTRICT
            )
            secretary = community.secretary
            auth_services.create_account(
                admin,
                auth_services.NewAccount(secretary.username, secretary.name, cast.PASSWORD),
                made,
                is_secretary=True,
            )
            people = {
                part: auth_services.create_account(
                    admin,
                    auth_services.NewAccount(member.username, member.name, cast.PASSWORD),
                    made,
                )
                for part, member in community.members.items()
            }
            _organise(admin, made, community, people)
        _db.session.commit()
        _db.engine.dispose()


def _organise(admin, made, community: cast.Community, people: dict) -> None:
    """Standing roles, grids and units, as an administrator sets them up on
    the admin pages (the organisation's verbs)."""
    for part, role in community.standing_roles.items():
        organisation.set_standing_role(admin, made, people[part], role)
    for grid in community.grids:
        created = organisation.create_grid(admin, made, grid.name, list(grid.buildings))
        organisation.add_grid_member(admin, created, people[grid.leader], is_leader=True)
    for unit in community.units:
        created = organisation.create_unit(admin, unit.name, unit.kind, [made])
        for member in unit.staff.values():
            staff = auth_services.create_account(
                admin,
                auth_services.NewAccount(member.username, member.name, cast.PASSWORD),
                None,
            )
            organisation.add_unit_member(admin, created, staff)


def _healthy(port: int) -> bool:
    connection = http.client.HTTPConnection(HOST, port, timeout=5)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()


def _wait_until_serving(process: subprocess.Popen, port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}")
        if _healthy(port):
            return
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not serve within {timeout} s")


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Iterator[Site]:
    folder = tmp_path_factory.mktemp("e2e-site")
    database_url = f"sqlite:///{folder / 'e2e.db'}"
    env = os.environ | {
        "DATABASE_URL": database_url,
        "SECRET_KEY": SECRET_KEY,
        "REDIS_URL": "",
        "MAIL_SERVER": "",
        # every person of the stories logs in from the same address
    }
    _flask(env, "db", "upgrade")

    port = _free_port()
    log = folder / "gunicorn.log"
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--bind",
                f"{HOST}:{port}",
                # as deployed (docs/deploy.md): gevent holds the live streams of
                # every phone and the big screen; one worker, so that without
                # Redis each stream hears every change (the in-process fan-out)
                "--workers",
                "1",
                "--worker-class",
                "gevent",
                "--worker-connections",
                "1000",
                "wsgi:app",
            ],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    served = Site(f"http://{HOST}:{port}", log)
    try:
        # while gunicorn starts
        _create_people(database_url, folder)
        _wait_until_serving(process, port)
        yield served
    except BaseException:
        print(served.output())
        raise
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=15)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium fonts-wqy-microhei")
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


@pytest.fixture
def story(request, site, browser) -> Iterator[Story]:
    """One story's people, each in a browser context of their own; its
    screenshots go to test-artifacts/e2e/<test name>/."""
    start = site.log.stat().st_size
    told = Story(browser, site.url, ARTIFACTS / request.node.name)
    yield told
    told.close()
    # shown by pytest when the test fails
    print(f"--- gunicorn output during the story ---\n{site.output(start)}")
    told.check_no_errors()
