"""Helpers shared by the poll tests; their fixtures are in ``poll_fixtures.py``."""

from __future__ import annotations

from dataclasses import dataclass

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from auth.models import User
from meetings.meeting.models import AgendaItem, Meeting

VOTERS = 6


@dataclass
class Assembly:
    """A meeting in progress: six resident representatives who vote, an
    observer (列席) who does not, the agenda item voted on and another one."""

    meeting: Meeting
    item: AgendaItem
    voters: list[User]
    observer: User
    other_item: AgendaItem


class Api:
    """The JSON API as a given user (``None``: no token) sees it."""

    def __init__(self, client: FlaskClient, bearer) -> None:
        self.client = client
        self._bearer = bearer
        self._headers: dict[int, dict[str, str]] = {}

    def headers(self, user: User | None) -> dict[str, str]:
        if user is None:
            return {}
        if user.id not in self._headers:
            self._headers[user.id] = self._bearer(user)
        return self._headers[user.id]

    def get(self, path: str, user: User | None) -> TestResponse:
        return self.client.get(f"/api/v1{path}", headers=self.headers(user))

    def post(self, path: str, user: User | None, json: dict | None = None) -> TestResponse:
        return self.client.post(f"/api/v1{path}", json=json, headers=self.headers(user))

    # --- the poll's verbs, each expected to succeed --------------------------------

    def create_poll(self, secretary: User, item: AgendaItem, **body) -> dict:
        body = {"title": "是否在中心路设置道闸", "kind": "yes_no_abstain"} | body
        response = self.post(f"/agenda-items/{item.id}/polls", secretary, body)
        assert response.status_code == 201, response.json
        return response.json

    def open_poll(self, secretary: User, poll_id: int) -> None:
        response = self.post(f"/polls/{poll_id}/open", secretary)
        assert response.status_code == 200, response.json

    def close_poll(self, secretary: User, poll_id: int) -> dict:
        response = self.post(f"/polls/{poll_id}/close", secretary)
        assert response.status_code == 200, response.json
        return response.json

    def vote(self, voter: User, poll_id: int, *option_ids: int) -> str:
        response = self.post(f"/polls/{poll_id}/ballots", voter, {"option_ids": list(option_ids)})
        assert response.status_code == 201, response.json
        return response.json["receipt"]


def error_of(response: TestResponse) -> tuple[int, str]:
    """(status, error code) of an API answer."""
    body = response.get_json(silent=True) or {}
    return response.status_code, body.get("error", {}).get("code")


def error_fields(response: TestResponse) -> set[str]:
    """The fields named by a 422, without their list indexes (``option_ids.0``)."""
    fields = response.json["error"].get("fields", {})
    return {name.split(".")[0] for name in fields}
