"""The inspection-round, inspection-draw and inspection-result tables."""

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


class RoundStatus(StrEnum):
    """Where a round (one double-random inspection of a region) stands."""

    COMMITTED = "committed"
    """The pools' hashes and the parameters are published; the seed source is still to come."""
    DRAWN = "drawn"
    """Drawn from the published seed source; the teams know their targets, the public does not."""
    PUBLISHED = "published"
    """The picks and the results are public (一公开)."""


class TargetSource(StrEnum):
    """Where a round's target pool came from."""

    LEDGER = "ledger"
    """The ledger's mining projects in the round's region."""
    CASES = "cases"
    """The cases in the round's region whose enterprise and county are known."""
    LIST = "list"
    """A list supplied with the commitment (e.g. the grid company's power-connection
    applications, notice 1283 clause （十）)."""


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


class InspectionRound(Base):
    """One double-random inspection of a region, from its commitment to its publication.

    The pools are kept exactly as committed (their canonical JSON, the inspectors' private
    conflict data included), so that the draw is made from them and can be re-checked from them;
    ``accounts_json`` maps each inspector id to the MineWatch user who records for that officer.
    """

    __tablename__ = "inspection_round"

    id: Mapped[int] = mapped_column(primary_key=True)
    draw_no: Mapped[str] = mapped_column(String(40), unique=True)
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    status: Mapped[RoundStatus] = mapped_column(
        coded(RoundStatus, "inspection_round_status"), index=True
    )
    target_source: Mapped[TargetSource] = mapped_column(
        coded(TargetSource, "inspection_target_source")
    )
    draw_date: Mapped[date] = mapped_column(Date)
    commitment_json: Mapped[str] = mapped_column(Text)
    target_pool_json: Mapped[str] = mapped_column(Text)
    inspector_pool_json: Mapped[str] = mapped_column(Text)
    accounts_json: Mapped[str] = mapped_column(Text)
    draw_id: Mapped[int | None] = mapped_column(ForeignKey("inspection_draw.id"), unique=True)
    committed_by: Mapped[str] = mapped_column(String(200))
    committed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    drawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    draw: Mapped[InspectionDraw | None] = relationship(lazy="joined")
