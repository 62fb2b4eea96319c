"""The lead table."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from minewatch.domain.db import Base, UTCDateTime
from minewatch.domain.enterprises.models import Enterprise


class Lead(Base):
    """A suspected mining site from one source, with the evidence the source gave.

    ``source`` names the detector (``meters``, later ``network``, ``plants``, ``report``);
    ``subject`` is what it watched (a meter id, an IP, a plant). One open lead per source and
    subject: a later scan updates it instead of opening another.
    """

    __tablename__ = "lead"
    __table_args__ = (Index("ix_lead_source_subject", "source", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(20))
    subject: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), default="new")
    account_no: Mapped[str | None] = mapped_column(String(40))
    customer_name: Mapped[str | None] = mapped_column(String(200))
    uscc: Mapped[str | None] = mapped_column(String(18))
    address: Mapped[str | None] = mapped_column(String(300))
    asset_key: Mapped[str | None] = mapped_column(String(320), index=True)
    """The server of a unit's inventory the lead is on (``["unit", "asset id"]`` as JSON)."""
    region_code: Mapped[str | None] = mapped_column(String(6), index=True)
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprise.id"))
    linked_by: Mapped[str | None] = mapped_column(String(20))
    score: Mapped[float] = mapped_column(Float, index=True)
    category: Mapped[str] = mapped_column(String(20))
    est_start_date: Mapped[date | None] = mapped_column(Date)
    est_mining_kw: Mapped[float | None] = mapped_column(Float)
    est_rigs: Mapped[int | None]
    est_hashrate_ths: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    latitude: Mapped[float | None] = mapped_column(Float)
    reasons: Mapped[str] = mapped_column(Text)
    evidence_json: Mapped[str] = mapped_column(Text)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())

    enterprise: Mapped[Enterprise | None] = relationship()
