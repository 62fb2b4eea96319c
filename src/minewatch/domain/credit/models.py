"""The credit-commitment and credit-record tables (notice 1283, clause （九）)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, Float, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from minewatch.domain.db import Base, UTCDateTime
from minewatch.domain.enterprises.models import Enterprise
from minewatch.domain.types import coded


class CommitmentKind(StrEnum):
    """Who signs: clause （九） names data-centre enterprises; others may follow."""

    DATA_CENTRE_OPERATOR = "data_centre_operator"


class CommitmentStatus(StrEnum):
    IN_FORCE = "in_force"
    WITHDRAWN = "withdrawn"
    """Withdrawn by the authority (signed in error, enterprise dissolved); in force before."""
    BREACHED = "breached"
    """A published credit record says the enterprise broke it."""


class RecordStatus(StrEnum):
    PUBLISHED = "published"
    CORRECTED = "corrected"
    """Published, then its facts or measure corrected (the reason is kept)."""
    REVOKED = "revoked"
    """Revoked on appeal (复核/申诉), with the reason."""


class Commitment(Base):
    """One signed credit commitment (信用承诺书) not to take part in mining."""

    __tablename__ = "credit_commitment"

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), index=True)
    uscc: Mapped[str] = mapped_column(String(18), index=True)
    kind: Mapped[CommitmentKind] = mapped_column(coded(CommitmentKind, "commitment_kind"))
    text_version: Mapped[str] = mapped_column(String(40))
    """The version of the commitment text signed, e.g. ``2021-09``."""
    text_sha256: Mapped[str] = mapped_column(String(64))
    """SHA-256 (hex) of the UTF-8 commitment text signed."""
    signed_date: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    """Last day the commitment binds (inclusive)."""
    signatory: Mapped[str] = mapped_column(String(100))
    document_name: Mapped[str] = mapped_column(String(200))
    document_sha256: Mapped[str] = mapped_column(String(64))
    """SHA-256 (hex) of the signed document (scan or signed PDF)."""
    status: Mapped[CommitmentStatus] = mapped_column(
        coded(CommitmentStatus, "commitment_status"), index=True
    )
    withdrawn_date: Mapped[date | None] = mapped_column(Date)
    """First day the commitment no longer binds, when withdrawn."""
    status_reason: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    enterprise: Mapped[Enterprise] = relationship()


class CreditRecord(Base):
    """A broken commitment (失信/违诺记录) found by a confirmed case; one per case."""

    __tablename__ = "credit_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    record_no: Mapped[str] = mapped_column(String(60), unique=True)
    """The record's number in exports: ``XY`` + the case number."""
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), index=True)
    uscc: Mapped[str] = mapped_column(String(18), index=True)
    commitment_id: Mapped[int] = mapped_column(ForeignKey("credit_commitment.id"), index=True)
    case_no: Mapped[str] = mapped_column(String(40), unique=True)
    mining_start_date: Mapped[date] = mapped_column(Date)
    """The case's estimated start of mining, else the day it was confirmed."""
    site_address: Mapped[str | None] = mapped_column(String(300))
    rigs_found: Mapped[int] = mapped_column(default=0)
    rigs_json: Mapped[str] = mapped_column(Text, default="{}")
    power_kw: Mapped[float | None] = mapped_column(Float)
    """Mining power seen on site, else the case's estimate [kW]."""
    facts: Mapped[str] = mapped_column(Text)
    """失信行为/违诺事实 as published."""
    measure: Mapped[str] = mapped_column(String(100))
    restriction: Mapped[str] = mapped_column(Text)
    decision_date: Mapped[date] = mapped_column(Date)
    publicity_until: Mapped[date] = mapped_column(Date)
    authority_region_code: Mapped[str] = mapped_column(String(6), index=True)
    authority_name: Mapped[str] = mapped_column(String(200))
    authority_uscc: Mapped[str | None] = mapped_column(String(18))
    status: Mapped[RecordStatus] = mapped_column(coded(RecordStatus, "credit_record_status"))
    status_reason: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    enterprise: Mapped[Enterprise] = relationship()
    commitment: Mapped[Commitment] = relationship()
