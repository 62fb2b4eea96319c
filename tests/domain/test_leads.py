"""Leads: one open lead per source and subject, linked to its enterprise, audited."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from conftest import at, make_entry, make_uscc
from minewatch.domain.audit.service import verify_chain
from minewatch.domain.leads.service import LeadData, open_leads, record_leads
from minewatch.domain.ledger.service import save_entry


def _lead(subject: str, **changes: object) -> LeadData:
    values: dict[str, object] = {
        "source": "meters",
        "subject": subject,
        "score": 0.97,
        "category": "mining",
        "reasons": "meters.flat_24x7(cv=0.004, floor_share=0.99)",
        "evidence": {"valid_days": 28},
        "est_start_date": date(2021, 10, 12),
        "est_mining_kw": 650.0,
        "est_rigs": 190,
        "est_hashrate_ths": 18_050.0,
    }
    values.update(changes)
    return LeadData(**values)  # type: ignore[arg-type]


def test_leads_link_by_credit_code_or_account(session: Session) -> None:
    save_entry(session, make_entry(1), actor="县发改局", at=at("2021-10-01"))
    save_entry(session, make_entry(2, grid_account_no="5118240099999"), actor="县发改局",
               at=at("2021-10-01"))  # fmt: skip
    summary = record_leads(
        session,
        [
            _lead("M1", uscc=make_uscc(1)),
            _lead("M2", account_no="5118240099999"),
            _lead("M3", uscc=make_uscc(77), account_no="0000000000"),
        ],
        actor="电网公司用电分析",
        at=at("2021-10-20"),
    )
    assert (summary.created, summary.linked) == (3, 2)
    leads = {lead.subject: lead for lead in open_leads(session)}
    assert leads["M1"].linked_by == "uscc"
    assert leads["M1"].enterprise is not None
    assert leads["M2"].linked_by == "account_no"
    assert leads["M2"].enterprise is not None
    assert leads["M2"].enterprise.uscc == make_uscc(2)
    assert leads["M3"].enterprise is None
    assert verify_chain(session).ok


def test_a_rescan_refreshes_the_open_lead(session: Session) -> None:
    record_leads(session, [_lead("M9")], actor="a", at=at("2021-10-20"))
    again = record_leads(session, [_lead("M9")], actor="a", at=at("2021-10-27"))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1)
    later = record_leads(session, [_lead("M9", score=0.99)], actor="a", at=at("2021-11-03"))
    assert (later.created, later.updated) == (0, 1)
    leads = open_leads(session, source="meters")
    assert len(leads) == 1
    assert leads[0].score == 0.99
    report = verify_chain(session)
    assert report.ok
    assert report.n_events == 2
