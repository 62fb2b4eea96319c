"""Which weeks a region has bulletins for: from its first case, ledger project or public report
to the current week (ISO weeks, Asia/Shanghai)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from minewatch.domain.cases.models import Case
from minewatch.domain.db import utcnow
from minewatch.domain.ledger.models import Project
from minewatch.domain.ledger.weekly import Week
from minewatch.domain.reports.models import PublicReport
from minewatch.domain.scope import answering_within, within


def first_activity(session: Session, region_code: str) -> datetime | None:
    """When the region's first case was opened, project entered or public report received."""
    firsts = [
        session.scalar(
            select(func.min(Case.opened_at)).where(
                answering_within(Case.assigned_region_code, Case.region_code, region_code)
            )
        ),
        session.scalar(
            select(func.min(Project.created_at)).where(within(Project.region_code, region_code))
        ),
        session.scalar(
            select(func.min(PublicReport.received_at)).where(
                answering_within(
                    PublicReport.assigned_region_code, PublicReport.region_code, region_code
                )
            )
        ),
    ]
    known = [moment for moment in firsts if moment is not None]
    return min(known) if known else None


def bulletin_weeks(
    session: Session, region_code: str, *, now: datetime | None = None
) -> list[Week]:
    """The weeks from the region's first activity to the week of ``now``, newest first (only the
    current week when nothing has happened yet)."""
    current = Week.containing(utcnow() if now is None else now)
    first = first_activity(session, region_code)
    week = current if first is None else min(Week.containing(first), current)
    weeks = []
    while week <= current:
        weeks.append(week)
        week = week.next()
    return weeks[::-1]
