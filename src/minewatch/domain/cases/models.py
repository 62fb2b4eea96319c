"""The case, case-lead, site-check and measure tables."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, Float, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from minewatch.domain.cases.states import CaseStatus
from minewatch.domain.db import Base, UTCDateTime
from minewatch.domain.enterprises.models import Enterprise
from minewatch.domain.leads.models import Lead
from minewatch.domain.types import coded


class MeasureKind(StrEnum):
    """The measures of notice 1283, each with its clause and the agency that carries it out."""

    POWER_CUT = "power_cut"
    SURCHARGE = "surcharge"
    MARKET_EXIT = "market_exit"
    FISCAL_STOP = "fiscal_stop"
    FINANCE_STOP = "finance_stop"
    CLOSURE = "closure"

    @property
    def clause(self) -> str:
        return _CLAUSES[self][0]

    @property
    def agency(self) -> str:
        return _CLAUSES[self][1]


_CLAUSES = {
    MeasureKind.POWER_CUT: ("十二", "电网企业"),
    MeasureKind.SURCHARGE: ("十三", "电网企业"),
    MeasureKind.MARKET_EXIT: ("十四", "电力交易机构"),
    MeasureKind.FISCAL_STOP: ("十五", "财政、税务部门"),
    MeasureKind.FINANCE_STOP: ("十六", "金融管理部门"),
    MeasureKind.CLOSURE: ("十七", "地方人民政府"),
}


class MeasureStatus(StrEnum):
    ORDERED = "ordered"
    COMPLETED = "completed"


class CheckOutcome(StrEnum):
    MINING_FOUND = "mining_found"
    NO_MINING = "no_mining"
    SITE_CLOSED = "site_closed"
    """Nothing running, signs of removal (a site that may come back)."""
    NO_ACCESS = "no_access"


class Case(Base):
    """One suspected site, fused from the leads that point at it."""

    __tablename__ = "mining_case"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_no: Mapped[str] = mapped_column(String(40), unique=True)
    status: Mapped[CaseStatus] = mapped_column(coded(CaseStatus, "case_status"), index=True)
    region_code: Mapped[str | None] = mapped_column(String(6), index=True)
    """Where the site is, as the leads say (county where known)."""
    assigned_region_code: Mapped[str | None] = mapped_column(String(6), index=True)
    """The county that must check it."""
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprise.id"))
    uscc: Mapped[str | None] = mapped_column(String(18), index=True)
    account_no: Mapped[str | None] = mapped_column(String(40), index=True)
    asset_key: Mapped[str | None] = mapped_column(String(320), index=True)
    """A server of a unit's inventory (``["unit", "asset id"]`` as JSON), when the site is one:
    a server is its own site, joined only by leads on the same server."""
    address: Mapped[str | None] = mapped_column(String(300))
    longitude: Mapped[float | None] = mapped_column(Float)
    latitude: Mapped[float | None] = mapped_column(Float)
    confidence: Mapped[float] = mapped_column(Float, index=True)
    sources: Mapped[str] = mapped_column(String(200))
    est_start_date: Mapped[date | None] = mapped_column(Date)
    est_mining_kw: Mapped[float | None] = mapped_column(Float)
    project_code: Mapped[str | None] = mapped_column(String(40), index=True)
    dismissed_reason: Mapped[str | None] = mapped_column(Text)
    relapses: Mapped[int] = mapped_column(default=0)
    stage_entered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    stage_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    """When fusion opened the case (the dashboard counts new cases per week by it)."""
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's own mapping

    enterprise: Mapped[Enterprise | None] = relationship()
    leads: Mapped[list[CaseLead]] = relationship(
        back_populates="case", order_by="CaseLead.id", lazy="selectin"
    )
    checks: Mapped[list[SiteCheck]] = relationship(
        back_populates="case", order_by="SiteCheck.id", lazy="selectin"
    )
    measures: Mapped[list[Measure]] = relationship(
        back_populates="case", order_by="Measure.id", lazy="selectin"
    )


class CaseLead(Base):
    """A lead attached to a case, with what it matched on."""

    __tablename__ = "case_lead"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(
        ForeignKey("mining_case.id", ondelete="CASCADE"), index=True
    )
    lead_id: Mapped[int] = mapped_column(ForeignKey("lead.id"), unique=True)
    matched_on: Mapped[str] = mapped_column(String(100))
    match_score: Mapped[float] = mapped_column(Float)
    attached_at: Mapped[datetime] = mapped_column(UTCDateTime())

    case: Mapped[Case] = relationship(back_populates="leads")
    lead: Mapped[Lead] = relationship(lazy="joined")


class SiteCheck(Base):
    """What inspectors found on site."""

    __tablename__ = "site_check"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(
        ForeignKey("mining_case.id", ondelete="CASCADE"), index=True
    )
    checked_on: Mapped[date] = mapped_column(Date)
    inspectors: Mapped[str] = mapped_column(String(300))
    outcome: Mapped[CheckOutcome] = mapped_column(coded(CheckOutcome, "check_outcome"))
    rigs_found: Mapped[int] = mapped_column(default=0)
    rigs_json: Mapped[str] = mapped_column(Text, default="{}")
    """Rigs counted by model, ``{"Antminer S19": 120}``."""
    mining_kw_observed: Mapped[float | None] = mapped_column(Float)
    attachments_json: Mapped[str] = mapped_column(Text, default="[]")
    """``[{"name": …, "sha256": …}]``: photographs and records, by hash."""
    notes: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recheck: Mapped[bool] = mapped_column(default=False)

    case: Mapped[Case] = relationship(back_populates="checks")


class Measure(Base):
    """A measure ordered on a confirmed case."""

    __tablename__ = "case_measure"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(
        ForeignKey("mining_case.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[MeasureKind] = mapped_column(coded(MeasureKind, "measure_kind"))
    clause: Mapped[str] = mapped_column(String(8))
    agency: Mapped[str] = mapped_column(String(100))
    status: Mapped[MeasureStatus] = mapped_column(coded(MeasureStatus, "measure_status"))
    due_date: Mapped[date] = mapped_column(Date, index=True)
    ordered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    note: Mapped[str | None] = mapped_column(Text)

    case: Mapped[Case] = relationship(back_populates="measures")
