"""The inspection-draw and inspection-result tables."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from minewatch.domain.db import Base, UTCDateTime
from minewatch.domain.types import coded


class InspectionOutcome(StrEnum):
    COMPLIANT = "compliant"
    """Nothing found: the application or site is what it declared."""
    VIOLATION = "violation"
    """Mining or a mining connection found: it becomes a lead."""
    NOT_FOUND = "not_found"
    """The target could not be found at its address."""
    REFUSED = "refused"
    """Access refused: itself a finding for the county."""


class InspectionDraw(Base):
    """A draw as drawn: its full record, so that results hang on what was published."""

    __tablename__ = "inspection_draw"

    id: Mapped[int] = mapped_column(primary_key=True)
    seed_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    draw_date: Mapped[date] = mapped_column(Date)
    record_json: Mapped[str] = mapped_column(Text)
    stored_at: Mapped[datetime] = mapped_column(UTCDateTime())

    results: Mapped[list[InspectionResult]] = relationship(
        back_populates="draw", order_by="InspectionResult.id", lazy="selectin"
    )


class InspectionResult(Base):
    """What the drawn team found at one drawn target."""

    __tablename__ = "inspection_result"
    __table_args__ = (UniqueConstraint("draw_id", "target_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    draw_id: Mapped[int] = mapped_column(ForeignKey("inspection_draw.id"))
    target_id: Mapped[str] = mapped_column(String(100))
    enterprise_uscc: Mapped[str] = mapped_column(String(18))
    region_code: Mapped[str] = mapped_column(String(6))
    inspected_on: Mapped[date] = mapped_column(Date)
    inspector_ids: Mapped[str] = mapped_column(String(300))
    outcome: Mapped[InspectionOutcome] = mapped_column(
        coded(InspectionOutcome, "inspection_outcome")
    )
    findings: Mapped[str | None] = mapped_column(Text)
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("lead.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())

    draw: Mapped[InspectionDraw] = relationship(back_populates="results")
