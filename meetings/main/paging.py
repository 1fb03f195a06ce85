"""Pages of the lists that grow, on the web (the API pages with
``meetings.api.core.paginate``): which page a link asks for, and a page of a
list that is not counted. Rendered by ``pagination`` in ``templates/_macros.html``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import request
from sqlalchemy import Select

from meetings.extensions import db

# Beyond this a page number is nonsense (and its OFFSET would be a long scan).
MAX_PAGE = 10_000


def page_arg(name: str = "page") -> int:
    """The page a link asks for: a whole number from 1, else the first page."""
    value = request.args.get(name, "1")
    return int(value) if value.isdigit() and 0 < int(value) <= MAX_PAGE else 1


@dataclass
class Window:
    """A page of a list whose length is not counted (counting would read all
    of it): whether there is a next page is known from one more row."""

    items: list[Any]
    page: int
    per_page: int
    has_next: bool
    total: None = None

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def prev_num(self) -> int | None:
        return self.page - 1 if self.has_prev else None

    @property
    def next_num(self) -> int | None:
        return self.page + 1 if self.has_next else None


def window(statement: Select, page: int, per_page: int) -> Window:
    """Page ``page`` of the statement's rows (scalars), without a count."""
    rows = list(
        db.session.scalars(statement.limit(per_page + 1).offset((page - 1) * per_page)).unique()
    )
    return Window(rows[:per_page], page, per_page, has_next=len(rows) > per_page)
