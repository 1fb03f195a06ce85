"""Language and time zone: Chinese first, English complete."""

from babel import Locale
from flask import Flask, current_app, has_request_context, request
from flask_babel import get_locale
from flask_login import current_user

from meetings.extensions import babel

LANGUAGE_COOKIE = "lang"
LANGUAGE_NAMES = {"zh_CN": "中文", "en": "English"}


def select_locale() -> str:
    if not has_request_context():
        # The command line and background work: no visitor to ask.
        return current_app.config["BABEL_DEFAULT_LOCALE"]
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
    """The code of the current language as in LANGUAGES ("zh_CN" or "en").

    Babel spells zh_CN in full as zh_Hans_CN (which is also why the Chinese
    catalog lives in translations/zh_Hans_CN, where gettext looks for it).
    """
    locale = get_locale()
    for code in current_app.config["LANGUAGES"]:
        if Locale.parse(code) == locale:
            return code
    return str(locale)
