"""The self-inspection tables: unit keys, received probe reports, actions on servers."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from minewatch.domain.db import Base, UTCDateTime


class UnitKey(Base):
    """A unit's key: its IT department posts probe reports with it (``Authorization: Bearer
    mwu_<key_id>_<secret>``) and the probe signs reports with it. Only the secret's SHA-256 is
    kept; it is also the HMAC key of the signature (see :mod:`~minewatch.domain.selfcheck.keys`).
    """

    __tablename__ = "unit_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_id: Mapped[str] = mapped_column(String(16), unique=True)
    secret_sha256: Mapped[str] = mapped_column(String(64))
    unit: Mapped[str] = mapped_column(String(200), index=True)
    region_code: Mapped[str] = mapped_column(String(6))
    """The county (or city) the unit sits in: where its cases are answered."""
    uscc: Mapped[str | None] = mapped_column(String(18))
    supervisor: Mapped[str | None] = mapped_column(String(200))
    """The supervising department the clearance report goes to (主管部门)."""
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class HostCheck(Base):
    """One probe report as received: which server of which unit, what the rules found."""

    __tablename__ = "host_check"
    __table_args__ = (Index("ix_host_check_unit_asset", "unit", "asset_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit: Mapped[str] = mapped_column(String(200))
    asset_id: Mapped[str | None] = mapped_column(String(100))
    """The inventory's asset id; ``None`` for a server the inventory does not hold."""
    matched_by: Mapped[str | None] = mapped_column(String(20))
    hostname: Mapped[str] = mapped_column(String(200))
    collected_at: Mapped[datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    key_id: Mapped[str] = mapped_column(String(16))
    report_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    level: Mapped[str | None] = mapped_column(String(20))
    """The highest level of the rules that matched, ``None`` when none did."""
    clean: Mapped[bool] = mapped_column(Boolean)
    """No rule at level medium or above matched."""
    hits_json: Mapped[str] = mapped_column(Text)
    processes: Mapped[int] = mapped_column(Integer)
    report_json: Mapped[str] = mapped_column(Text)
    """The report as signed, kept as evidence."""


class HostAction(Base):
    """Something a unit did about a server: blocked its address or network account, removed the
    miner."""

    __tablename__ = "host_action"
    __table_args__ = (Index("ix_host_action_unit_asset", "unit", "asset_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit: Mapped[str] = mapped_column(String(200))
    asset_id: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))
    taken_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
