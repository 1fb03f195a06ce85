"""Limits on logging in and signing up that stop guessing, not meetings.

- Failed logins are counted per account (``LOGIN_FAILURES_PER_ACCOUNT``,
  5 per 15 minutes) and, with a much higher bound, per client address
  (``LOGIN_FAILURES_PER_ADDRESS``, 100 per 15 minutes); the login form and
  ``POST /api/v1/tokens`` count together. Once a bound is reached, every
  attempt on that account (or from that address) is refused until the
  window ends, the right password too, or the lock would only slow the
  guessing down: the form says in how many minutes, the API answers 429
  ``rate_limited`` with ``Retry-After``.
- A successful login counts nothing and is limited by nothing else: a room
  of residents behind one address all log in.
- An account is counted by the name as typed (trimmed, in lower case),
  whether or not it exists: the lock says nothing about which names exist.
- Sign-ups are counted per address (``SIGNUP_RATE_LIMIT``, 10 per hour):
  each sign-up form sent that passes the form's own checks, accepted or not.

The counters live in the limiter's storage (Redis when ``REDIS_URL`` is set,
memory otherwise), through Flask-Limiter's ``limiter.limiter`` (a ``limits``
strategy) with ``RateLimitItem``s parsed from the settings; a window starts
at its first count. Checking and counting are two steps, so guesses sent in
parallel may pass a bound by the number in flight. When the storage fails
(Redis down) the counts of that call go to this process's memory, with a
warning in the log: logins keep working, limited per process.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from typing import TypeVar

from flask import current_app
from flask_babel import ngettext
from limits import RateLimitItem, parse
from limits.errors import StorageError
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter, RateLimiter

from meetings.errors import DomainError
from meetings.extensions import limiter

_FALLBACK = FixedWindowRateLimiter(MemoryStorage())
T = TypeVar("T")


class TooManyAttempts(DomainError):
    """Refused by a limit; ``retry_after`` in seconds."""

    status = 429
    code = "rate_limited"

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


def _item(setting: str) -> RateLimitItem:
    return parse(current_app.config[setting])


def _account(username: str) -> str:
    # Hashed: any text a client sends makes a short key of the same shape.
    return hashlib.sha256(username.strip().lower().encode()).hexdigest()


def _login_checks(username: str, address: str) -> list[tuple[str, tuple[str, ...], str]]:
    return [
        ("LOGIN_FAILURES_PER_ADDRESS", ("login-failures", "address", address), "address"),
        (
            "LOGIN_FAILURES_PER_ACCOUNT",
            ("login-failures", "account", _account(username)),
            "account",
        ),
    ]


def _counted(use: Callable[[RateLimiter], T]) -> T:
    """``use`` the limiter's strategy, or this process's memory when its
    storage fails."""
    try:
        return use(limiter.limiter)
    except (StorageError, *_storage_errors()) as error:
        current_app.logger.warning("rate limit storage unreachable, counting in memory: %s", error)
        return use(_FALLBACK)


def _storage_errors() -> tuple[type[Exception], ...]:
    errors = limiter.storage.base_exceptions
    return errors if isinstance(errors, tuple) else (errors,)


def _test(item: RateLimitItem, keys: tuple[str, ...]) -> bool:
    return _counted(lambda strategy: strategy.test(item, *keys))


def _hit(item: RateLimitItem, keys: tuple[str, ...]) -> bool:
    return _counted(lambda strategy: strategy.hit(item, *keys))


def _wait(item: RateLimitItem, keys: tuple[str, ...]) -> int:
    """Seconds until the window of a used-up limit ends."""
    reset_time = _counted(lambda strategy: strategy.get_window_stats(item, *keys)).reset_time
    return max(1, math.ceil(reset_time - time.time()))


def _minutes(seconds: int) -> int:
    return max(1, math.ceil(seconds / 60))


def check_login(username: str, address: str) -> None:
    """Raise ``TooManyAttempts`` when this account, or this address, has
    used up its failed logins."""
    if not limiter.enabled:
        return
    for setting, keys, kind in _login_checks(username, address):
        item = _item(setting)
        if not _test(item, keys):
            wait = _wait(item, keys)
            if kind == "account":
                message = ngettext(
                    "Too many failed logins for this account. Try again in %(num)d minute.",
                    "Too many failed logins for this account. Try again in %(num)d minutes.",
                    _minutes(wait),
                )
            else:
                message = ngettext(
                    "Too many failed logins from your network. Try again in %(num)d minute.",
                    "Too many failed logins from your network. Try again in %(num)d minutes.",
                    _minutes(wait),
                )
            raise TooManyAttempts(message, wait)


def count_login_failure(username: str, address: str) -> None:
    if not limiter.enabled:
        return
    for setting, keys, _kind in _login_checks(username, address):
        _hit(_item(setting), keys)


def count_signup(address: str) -> None:
    """Count a sign-up from this address; raise ``TooManyAttempts`` beyond
    the bound (the attempt is not carried out)."""
    if not limiter.enabled:
        return
    item, keys = _item("SIGNUP_RATE_LIMIT"), ("signups", "address", address)
    if not _hit(item, keys):
        wait = _wait(item, keys)
        message = ngettext(
            "Too many sign-ups from your network. Try again in %(num)d minute.",
            "Too many sign-ups from your network. Try again in %(num)d minutes.",
            _minutes(wait),
        )
        raise TooManyAttempts(message, wait)
