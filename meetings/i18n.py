"""Language and time zone: Chinese first, English complete."""

from flask import Flask, current_app, request
from flask_babel import get_locale
from flask_login import current_user

from meetings.extensions import babel

LANGUAGE_COOKIE = "lang"
LANGUAGE_NAMES = {"zh_CN": "中文", "en": "English"}


def select_locale() -> str:
    supported = current_app.config["LANGUAGES"]
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen in supported:
        return chosen
    if getattr(current_user, "is_authenticated", False) and current_user.locale in supported:
        return current_user.locale
    # Chinese unless the browser asks for English and nothing else was chosen.
    best = request.accept_languages.best_match(["zh", "en"], default="zh")
    return "en" if best == "en" else current_app.config["BABEL_DEFAULT_LOCALE"]


def init_i18n(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.globals["LANGUAGE_NAMES"] = LANGUAGE_NAMES
    app.jinja_env.globals["current_locale"] = current_locale


def current_locale() -> str:
    return str(get_locale())
