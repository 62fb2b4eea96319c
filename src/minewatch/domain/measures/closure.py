"""Projects not exited on time (clause 十七): from the ledger's exit deadlines to closure orders.

Clause 十七 orders existing projects to be phased out, and those that do not exit on time to be
stopped or closed. A ledger project still in construction or operating after its exit deadline
becomes a lead (source ``ledger``, category ``overdue_exit``), fused into the case of its site
(its account or credit code) so that the county can order the closure measure on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from minewatch.domain.leads.service import LeadData
from minewatch.domain.ledger.models import Project


@dataclass(frozen=True)
class OverdueExit:
    project_code: str
    enterprise_name: str
    region_code: str
    exit_deadline: date
    days_late: int
    rated_power_kw: float | None


def overdue_exits(session: Session, on: date) -> list[OverdueExit]:
    """Live projects whose exit deadline has passed by ``on``, latest first."""
    rows = session.scalars(
        select(Project)
        .where(Project.exit_deadline.is_not(None), Project.exit_deadline < on)
        .order_by(Project.exit_deadline, Project.code)
    )
    out = []
    for project in rows:
        if not project.status.is_active:
            continue
        assert project.exit_deadline is not None
        out.append(
            OverdueExit(
                project.code,
                project.enterprise.name,
                project.region_code,
                project.exit_deadline,
                (on - project.exit_deadline).days,
                project.rated_power_kw,
            )
        )
    return out


def overdue_exit_leads(session: Session, on: date) -> list[LeadData]:
    """A lead per project not exited on time, for :func:`~minewatch.domain.leads.service.
    record_leads` and the case fusion."""
    leads = []
    for late in overdue_exits(session, on):
        project = session.scalars(select(Project).where(Project.code == late.project_code)).one()
        leads.append(
            LeadData(
                source="ledger",
                subject=project.code,
                score=0.99,
                category="overdue_exit",
                reasons=f"ledger.overdue_exit(deadline={late.exit_deadline}, days_late="
                f"{late.days_late})",
                evidence={
                    "exit_deadline": late.exit_deadline.isoformat(),
                    "days_late": late.days_late,
                },
                account_no=project.grid_account_no,
                customer_name=project.enterprise.name,
                uscc=project.enterprise.uscc,
                address=project.site_address,
                region_code=project.region_code,
                est_mining_kw=project.rated_power_kw,
            )
        )
    return leads
