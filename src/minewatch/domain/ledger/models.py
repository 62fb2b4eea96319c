"""The project and project-machine tables."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from minewatch.domain.db import Base, UTCDateTime
from minewatch.domain.enterprises.models import Enterprise
from minewatch.domain.types import coded
from minewatch.reference.ledger import (
    DiscoveryMethod,
    HashrateUnit,
    ProjectStatus,
    SiteType,
    SupplyKind,
)


class Project(Base):
    """A mining project in the ledger, existing or under construction (notice 1283 (三)(四))."""

    __tablename__ = "project"
    __table_args__ = (
        # projects of a region by status and their power, read from the index alone
        # (the dashboard); PostgreSQL carries the power in the index, SQLite looks it up
        Index(
            "ix_project_region_code_status",
            "region_code",
            "status",
            postgresql_include=["rated_power_kw"],
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), index=True)
    site_address: Mapped[str] = mapped_column(String(300))
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    longitude: Mapped[float | None]
    latitude: Mapped[float | None]
    site_type: Mapped[SiteType] = mapped_column(coded(SiteType, "site_type"))
    status: Mapped[ProjectStatus] = mapped_column(
        coded(ProjectStatus, "project_status"), index=True
    )
    machine_count: Mapped[int | None]
    hashrate: Mapped[float | None]
    hashrate_unit: Mapped[HashrateUnit | None] = mapped_column(coded(HashrateUnit, "hashrate_unit"))
    rated_power_kw: Mapped[float | None]
    monthly_energy_kwh: Mapped[float | None]
    planned_production_date: Mapped[date | None] = mapped_column(Date)
    supply_kind: Mapped[SupplyKind] = mapped_column(coded(SupplyKind, "supply_kind"))
    grid_account_no: Mapped[str | None] = mapped_column(String(40), index=True)
    supply_line: Mapped[str | None] = mapped_column(String(200))
    supply_plant: Mapped[str | None] = mapped_column(String(200))
    discovered_by: Mapped[DiscoveryMethod] = mapped_column(coded(DiscoveryMethod, "discovery"))
    responsible_region_code: Mapped[str] = mapped_column(String(6), index=True)
    responsible_official: Mapped[str | None] = mapped_column(String(200))
    exit_deadline: Mapped[date | None] = mapped_column(Date)
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    enterprise: Mapped[Enterprise] = relationship(lazy="joined")
    machines: Mapped[list[ProjectMachine]] = relationship(
        back_populates="project",
        cascade="all, delete-orphan",
        order_by="ProjectMachine.position",
        lazy="selectin",
    )


class ProjectMachine(Base):
    """How many machines of one model a project has."""

    __tablename__ = "project_machine"
    __table_args__ = (UniqueConstraint("project_id", "model"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    position: Mapped[int]
    model: Mapped[str] = mapped_column(String(100))
    count: Mapped[int]

    project: Mapped[Project] = relationship(back_populates="machines")
