"""Shangliang (有事好商量): neighbourhood consultation meetings."""

from pathlib import Path

from flask import Flask
from flask_babel import lazy_gettext as _l

from auth import admin as auth_admin
from auth import api as auth_api
from auth import sessions
from auth import views as auth_views
from auth.models import User
from meetings import cli, integrity, ops
from meetings.api.core import init_api
from meetings.config import load_config
from meetings.database import init_database
from meetings.documents import views as documents_views
from meetings.duty import api as duty_api
from meetings.duty import views as duty_views
from meetings.extensions import csrf, limiter, login_manager
from meetings.http import init_error_handlers, init_input_checks
from meetings.i18n import init_i18n
from meetings.main import views as main_views
from meetings.meeting import api as meeting_api
from meetings.meeting import views as meeting_views
from meetings.minutes import api as minutes_api
from meetings.minutes import views as minutes_views
from meetings.notifications import api as notifications_api
from meetings.notifications import views as notifications_views
from meetings.organisation import api as organisation_api
from meetings.organisation import views as organisation_views
from meetings.polls import api as polls_api
from meetings.polls import views as polls_views
from meetings.projects import api as projects_api
from meetings.projects import notice_api, notice_views
from meetings.projects import views as projects_views
from meetings.requests import api as requests_api
from meetings.requests import order_api as orders_api
from meetings.requests import order_views as orders_views
from meetings.requests import views as requests_views
from meetings.room import api as room_api
from meetings.room import proxy_api, proxy_views
from meetings.room import stream as live_stream
from meetings.room import views as room_views
from meetings.search import api as search_api
from meetings.search import views as search_views
from meetings.security import init_security
from meetings.statistics import api as statistics_api
from meetings.statistics import views as statistics_views
from meetings.unit_of_work import init_unit_of_work

# templates/, static/ and migrations/ sit beside the packages (the project's
# layout); they are installed next to them too, see setup.cfg.
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.config["MIGRATIONS_DIR"] = PROJECT_ROOT / "migrations"
    load_config(app, test_config)
    init_database(app)
    init_unit_of_work(app)
    ops.init_app(app)
    init_security(app)
    init_login(app)
    csrf.init_app(app)
    limiter.init_app(app)
    init_i18n(app)
    init_input_checks(app)
    init_blueprints(app)
    init_error_handlers(app)
    integrity.init_app(app)
    cli.init_app(app)
    return app


def init_login(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"

    # The cookies carry a login session's token, not the user id: see auth.sessions.
    @login_manager.user_loader
    def load_user(session_token: str) -> User | None:
        return sessions.user_for(session_token)


def init_blueprints(app: Flask) -> None:
    app.register_blueprint(main_views.bp)
    app.register_blueprint(auth_views.bp)
    app.register_blueprint(auth_admin.bp)
    app.register_blueprint(notifications_views.bp)
    app.register_blueprint(requests_views.bp)
    app.register_blueprint(orders_views.bp)
    app.register_blueprint(meeting_views.bp)
    app.register_blueprint(projects_views.bp)
    app.register_blueprint(polls_views.bp)
    app.register_blueprint(minutes_views.bp)
    app.register_blueprint(organisation_views.bp)
    app.register_blueprint(proxy_views.bp)
    app.register_blueprint(room_views.bp)
    app.register_blueprint(notice_views.bp)
    app.register_blueprint(statistics_views.bp)
    app.register_blueprint(duty_views.bp)
    app.register_blueprint(documents_views.bp)
    app.register_blueprint(search_views.bp)
    init_api(
        app,
        [
            auth_api.bp,
            requests_api.bp,
            orders_api.bp,
            notifications_api.bp,
            meeting_api.bp,
            polls_api.bp,
            projects_api.bp,
            minutes_api.bp,
            organisation_api.bp,
            proxy_api.bp,
            live_stream.bp,
            room_api.bp,
            notice_api.bp,
            statistics_api.bp,
            duty_api.bp,
            search_api.bp,
        ],
    )
