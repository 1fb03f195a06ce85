"""Column types shared by the models."""

from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, DateTime, String
from sqlalchemy.types import TypeDecorator

# The largest id an INTEGER primary key holds on every database (PostgreSQL's
# ``integer``); a larger number in a URL or a request is no id of ours.
MAX_ID = 2**31 - 1


def database_id(value) -> int:
    """A form value as an id the database can hold (``coerce`` of id fields):
    ValueError beyond INTEGER's range, so the form says the choice is invalid
    instead of the driver overflowing on PostgreSQL."""
    number = int(value)
    if not 0 <= number <= MAX_ID:
        raise ValueError(f"{number} is not an id")
    return number


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on every database.

    SQLite has no time zone support, so values are stored as naive UTC and
    given back their zone on the way out; aware values of any zone are
    converted to UTC on the way in.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class StrEnumType(TypeDecorator[StrEnum]):
    """A ``StrEnum`` stored as its string code (VARCHAR), read back as the member.

    Pair it with :func:`enum_check` so the database refuses unknown codes too.
    Migrations spell the column as a plain ``sa.String``.
    """

    impl = String
    cache_ok = True

    def __init__(self, enum_class: type[StrEnum], length: int | None = None):
        super().__init__(length=length or max(len(member.value) for member in enum_class))
        self.enum_class = enum_class

    def process_bind_param(self, value: str | None, dialect) -> str | None:
        if value is None:
            return None
        return self.enum_class(value).value

    def process_result_value(self, value: str | None, dialect) -> StrEnum | None:
        return None if value is None else self.enum_class(value)


def enum_check(column: str, enum_class: type[StrEnum], name: str | None = None) -> CheckConstraint:
    """``CHECK (column IN (...codes...))``, named by the naming convention."""
    codes = ", ".join(f"'{member.value}'" for member in enum_class)
    return CheckConstraint(f"{column} IN ({codes})", name=name or column)
