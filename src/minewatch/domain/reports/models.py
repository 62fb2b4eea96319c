"""The public-report table."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from minewatch.domain.db import Base, UTCDateTime
from minewatch.domain.types import coded


class Channel(StrEnum):
    WEB = "web"
    HOTLINE_12398 = "12398"
    """The energy regulator's complaints line (named by clause 十二)."""
    HOTLINE_12345 = "12345"
    """The government service hotline."""
    LETTER = "letter"


class ReportStatus(StrEnum):
    RECEIVED = "received"
    TRIAGED = "triaged"
    """Handed to a county, which must answer by ``due_at``."""
    LINKED = "linked"
    """Attached to a case; its progress is the case's."""
    CLOSED = "closed"


class PublicReport(Base):
    """One report from the public. The reporter's contact is stored encrypted; the receipt code
    is all a reporter needs to follow it."""

    __tablename__ = "public_report"

    id: Mapped[int] = mapped_column(primary_key=True)
    receipt_code: Mapped[str] = mapped_column(String(20), unique=True)
    channel: Mapped[Channel] = mapped_column(coded(Channel, "report_channel"))
    status: Mapped[ReportStatus] = mapped_column(coded(ReportStatus, "report_status"), index=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    address: Mapped[str] = mapped_column(String(300))
    enterprise_name: Mapped[str | None] = mapped_column(String(200))
    observed: Mapped[str] = mapped_column(Text)
    """What was seen or heard (fan noise, heat, new transformers, lorries of machines)."""
    power_use: Mapped[str | None] = mapped_column(Text)
    region_code: Mapped[str | None] = mapped_column(String(6), index=True)
    assigned_region_code: Mapped[str | None] = mapped_column(String(6), index=True)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("lead.id"))
    contact_ciphertext: Mapped[str | None] = mapped_column(Text)
    contact_key_id: Mapped[str | None] = mapped_column(String(16))
    public_note: Mapped[str | None] = mapped_column(Text)
    """What the reporter may read on the status page."""
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
