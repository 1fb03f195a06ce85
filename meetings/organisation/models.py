"""Streets, grids and units, and who belongs to them.

A person's place in a community (with a standing role) is a ``Membership``
(``auth.models``); a person may be a member of several communities. The
street office's staff, a grid's leader and members and a unit's members are
the rows below."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, Column, ForeignKey, String, Table, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from auth.models import Community, User
from meetings.dbtypes import StrEnumType, UTCDateTime, enum_check, utcnow
from meetings.extensions import db


class Street(db.Model):
    """A 街道 (street office) and the communities under it."""

    __tablename__ = "street"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    district: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    communities: Mapped[list[Community]] = relationship(
        back_populates="street_record", order_by=lambda: Community.name
    )
    staff: Mapped[list[StreetStaff]] = relationship(
        back_populates="street", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Street {self.id} {self.name}>"


class StreetStaff(db.Model):
    """A member of the street office's staff: sees and reports across the
    street's communities and may be invited to any meeting in the street."""

    __tablename__ = "street_staff"
    __table_args__ = (UniqueConstraint("street_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    street_id: Mapped[int] = mapped_column(ForeignKey("street.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    street: Mapped[Street] = relationship(back_populates="staff")
    user: Mapped[User] = relationship()


class Grid(db.Model):
    """A 网格 inside a community: a leader (网格长), members (网格员) and the
    buildings it covers."""

    __tablename__ = "grid"
    __table_args__ = (UniqueConstraint("community_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(
        ForeignKey("community.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(60))
    # the buildings it covers, as people name them: ["1栋", "2栋", "3栋"]
    buildings: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    community: Mapped[Community] = relationship()
    members: Mapped[list[GridMember]] = relationship(
        back_populates="grid", cascade="all, delete-orphan", order_by=lambda: GridMember.id
    )

    @property
    def leaders(self) -> list[User]:
        return [m.user for m in self.members if m.is_leader]

    def __repr__(self) -> str:
        return f"<Grid {self.id} {self.name}>"


class GridMember(db.Model):
    __tablename__ = "grid_member"
    __table_args__ = (UniqueConstraint("grid_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    grid_id: Mapped[int] = mapped_column(ForeignKey("grid.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    is_leader: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    grid: Mapped[Grid] = relationship(back_populates="members")
    user: Mapped[User] = relationship()


class UnitKind(enum.StrEnum):
    PROPERTY_COMPANY = "property_company"  # 物业公司
    DEPARTMENT = "department"  # 政府部门: 交警, 民政局 …
    PARTNER_UNIT = "partner_unit"  # 共建单位

    @property
    def label(self):
        return UNIT_KIND_LABELS[self]


UNIT_KIND_LABELS = {
    UnitKind.PROPERTY_COMPANY: _l("Property company"),
    UnitKind.DEPARTMENT: _l("Government department"),
    UnitKind.PARTNER_UNIT: _l("Partner unit"),
}

# The communities a unit serves.
unit_community = Table(
    "unit_community",
    db.metadata,
    Column("unit_id", ForeignKey("unit.id", ondelete="CASCADE"), primary_key=True),
    Column("community_id", ForeignKey("community.id", ondelete="CASCADE"), primary_key=True),
)


class Unit(db.Model):
    """A 单位 that takes on work: a property company, a department, a partner unit."""

    __tablename__ = "unit"
    __table_args__ = (enum_check("kind", UnitKind),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[UnitKind] = mapped_column(StrEnumType(UnitKind, 20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    communities: Mapped[list[Community]] = relationship(
        secondary=unit_community, order_by=lambda: Community.name
    )
    members: Mapped[list[UnitMember]] = relationship(
        back_populates="unit", cascade="all, delete-orphan", order_by=lambda: UnitMember.id
    )

    def __repr__(self) -> str:
        return f"<Unit {self.id} {self.kind} {self.name}>"


class UnitMember(db.Model):
    __tablename__ = "unit_member"
    __table_args__ = (UniqueConstraint("unit_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    unit: Mapped[Unit] = relationship(back_populates="members")
    user: Mapped[User] = relationship()
