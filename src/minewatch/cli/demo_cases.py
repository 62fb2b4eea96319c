"""The demo's enforcement loop: the week's leads fused into cases and carried through the notice.

After the detectors have recorded their leads, the province fuses them into cases and hands each
to its county; the counties check the most confident sites — most hold rigs, a few turn out to
be a data centre or a cold store and are dismissed — confirm, order the power cut and (on a
metered account) the differential surcharge, and the grid company bills the surcharge for the
last full month. Some cases are cleared within the week; the rest stay open, as they would.
Every step goes through the same service functions as the CLI, as the role that may take it.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from minewatch.cli import output
from minewatch.domain.cases import service
from minewatch.domain.cases.models import Case, CheckOutcome, MeasureKind
from minewatch.domain.cases.states import CaseStatus, Role
from minewatch.domain.db import session_scope, utcnow
from minewatch.domain.measures.models import SurchargeAccount
from minewatch.domain.measures.service import bill_account
from minewatch.domain.measures.surcharge import BillingPeriod
from minewatch.domain.migrate import open_database
from minewatch.reference import regions

_RIG_KW = 3.25
"""An Antminer S19 Pro's draw at the wall, to count rigs from an estimated load."""


def _county_of(case: Case, province_code: str) -> str | None:
    code = case.region_code
    if code is None or not regions.is_within(code, province_code):
        return None
    region = regions.find(code)
    if region is None or region.level != regions.RegionLevel.COUNTY:
        return None
    return code


def run_enforcement(url: str, province_code: str, *, checks: int = 12) -> dict[str, int]:
    """Fuse, assign, check, confirm or dismiss, order, bill, clear; the cases by stage."""
    engine = open_database(url)
    now = utcnow()
    province = service.Actor("省打击虚拟货币挖矿工作专班", Role.PROVINCIAL, province_code)
    with session_scope(engine) as session:
        fused = service.fuse_leads(session, actor="省打击虚拟货币挖矿工作专班", at=now)
        cases = list(session.scalars(select(Case).order_by(Case.confidence.desc(), Case.id)))
        assigned = []
        for case in cases:
            county = _county_of(case, province_code)
            if county is not None and case.status is CaseStatus.OPEN:
                service.assign(session, case.case_no, county, actor=province, at=now)
                assigned.append((case, county))
        billed = Decimal("0")
        # a server's case is the unit's own to clear (self-inspection): no site visit here
        on_site = [(case, county) for case, county in assigned if case.asset_key is None]
        for rank, (case, county) in enumerate(on_site[:checks]):
            inspector = service.Actor(f"{county}检查组", Role.INSPECTOR, county)
            official = service.Actor(f"{county}发展改革局", Role.COUNTY, county)
            today = now.date()
            if rank % 4 == 3:  # one in four turns out to be something else
                clean = service.CheckData(today, ("检查员甲", "检查员乙"), CheckOutcome.NO_MINING,
                                          notes="现场为数据中心机房，负荷平稳属正常")  # fmt: skip
                service.record_check(session, case.case_no, clean, actor=inspector, at=now)
                service.dismiss(session, case.case_no, reason="现场核查未发现挖矿设备",
                                actor=official, at=now)  # fmt: skip
                continue
            kw = case.est_mining_kw or 0.0
            rigs = max(1, round(kw / _RIG_KW))
            found = service.CheckData(
                today,
                ("检查员甲", "检查员乙"),
                CheckOutcome.MINING_FOUND,
                {"Antminer S19 Pro": rigs},
                mining_kw_observed=kw or None,
            )
            service.record_check(session, case.case_no, found, actor=inspector, at=now)
            service.confirm(session, case.case_no, actor=official, at=now)
            orders = [service.MeasureOrder(MeasureKind.POWER_CUT, today + timedelta(days=3))]
            if case.account_no and case.est_start_date is not None:
                orders.append(service.MeasureOrder(MeasureKind.SURCHARGE, today + timedelta(30)))
            service.order_measures(session, case.case_no, orders, actor=official, at=now)
            billed += _bill_last_month(session, case, today)
            if rank % 2 == 0:  # half are cut off and cleared within the week
                for order in orders:
                    service.complete_measure(session, case.case_no, order.kind, actor=official,
                                             at=now)  # fmt: skip
                service.clear(session, case.case_no, actor=official, at=now)
        stages: dict[str, int] = {}
        for case in session.scalars(select(Case)):
            stages[case.status.value] = stages.get(case.status.value, 0) + 1
    output.info(
        f"cases: {fused.opened} opened from the leads ({fused.attached} leads joined a case "
        f"already open); {len(assigned)} assigned to their counties; "
        + ", ".join(f"{n} {stage}" for stage, n in sorted(stages.items()))
        + f"; surcharge billed for last month: {billed:,.2f} yuan"
    )
    return stages


def _bill_last_month(session: Session, case: Case, today: date) -> Decimal:
    """Bill the surcharge of the last full month, from the case's estimated load."""
    account = session.scalar(
        select(SurchargeAccount).where(SurchargeAccount.account_no == case.account_no)
    )
    if account is None or not case.est_mining_kw or account.bills:
        return Decimal("0")
    end = today.replace(day=1) - timedelta(days=1)
    start = end.replace(day=1)
    days = (end - start).days + 1
    energy = Decimal(str(round(case.est_mining_kw * 24 * days, 3)))
    bills = bill_account(session, account.account_no, [BillingPeriod(start, end, energy)],
                         due_date=today + timedelta(days=15), actor="电网公司营销部")  # fmt: skip
    return sum((Decimal(b.amount_fen) / 100 for b in bills), Decimal("0"))


def write_week_bulletin(url: str, province_code: str, folder: Path) -> tuple[Path, Path]:
    """The province's bulletin for this week, as a workbook and a PDF; its headline printed."""
    from minewatch.domain.bulletins.figures import bulletin_for_week
    from minewatch.domain.bulletins.pdf import write_bulletin_pdf
    from minewatch.domain.bulletins.xlsx import bulletin_title, write_bulletin_xlsx
    from minewatch.domain.ledger.weekly import Week

    week = Week.of(utcnow().date())
    with session_scope(open_database(url)) as session:
        bulletin = bulletin_for_week(session, week, province_code)
    stem = folder / f"bulletin-{province_code}-{week.year}-W{week.week:02d}"
    xlsx, pdf = stem.with_suffix(".xlsx"), stem.with_suffix(".pdf")
    write_bulletin_xlsx(bulletin, xlsx)
    write_bulletin_pdf(bulletin, pdf)
    total = bulletin.total
    output.info(bulletin_title(bulletin))
    output.info(
        f"  this week: {total.week.opened} cases opened, {total.week.confirmed} confirmed, "
        f"{total.week.dismissed} dismissed, {total.week.cleared} cleared; "
        f"{total.open_cases} open, {total.overdue_cases} overdue"
    )
    return xlsx, pdf


DEMO_PASSWORD = "minewatch-demo"
"""The demo accounts' password, printed by the demo: a local database for trying the platform."""


def demo_accounts(url: str, province_code: str) -> list[tuple[str, str]]:
    """One web account per role: the nation, the province, the prefecture and county holding the
    most cases, an inspector and an auditor there, and an administrator."""
    from sqlalchemy import func

    from minewatch.domain.accounts.service import create_user

    engine = open_database(url)
    with session_scope(engine) as session:
        busiest = session.execute(
            select(Case.assigned_region_code, func.count())
            .where(Case.assigned_region_code.is_not(None))
            .group_by(Case.assigned_region_code)
            .order_by(func.count().desc(), Case.assigned_region_code)
        ).first()
        county = str(busiest[0]) if busiest is not None else province_code
        prefecture = county[:4] + "00"
        made = [
            ("national", Role.NATIONAL, regions.NATIONAL, "国家发展改革委 值班员"),
            ("province", Role.PROVINCIAL, province_code, "省发展改革委 专班"),
            ("city", Role.CITY, prefecture, "市发展改革委 专班"),
            ("county", Role.COUNTY, county, "县发展改革局 专班"),
            ("inspector", Role.INSPECTOR, county, "县检查组"),
            ("auditor", Role.AUDITOR, province_code, "省审计厅"),
            ("admin", Role.ADMIN, province_code, "省平台管理员"),
        ]
        for username, role, region, name in made:
            create_user(session, username, DEMO_PASSWORD, display_name=name, role=role,
                        region_code=region, actor="minewatch demo")  # fmt: skip
    return [(username, f"{role.value} {region}") for username, role, region, _ in made]
