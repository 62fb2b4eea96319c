"""Credit supervision (notice 1283 （九）): commitments, breach records, revocation, export."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from conftest import at, make_bad_uscc, make_entry, make_uscc
from minewatch.domain.audit.models import AuditEvent
from minewatch.domain.audit.service import verify_chain
from minewatch.domain.cases.models import Case, CheckOutcome
from minewatch.domain.cases.service import (
    Actor,
    CheckData,
    assign,
    confirm,
    fuse_leads,
    record_check,
)
from minewatch.domain.cases.states import Role
from minewatch.domain.credit import export
from minewatch.domain.credit.models import CommitmentStatus, CreditRecord, RecordStatus
from minewatch.domain.credit.service import (
    BASIS,
    MEASURE,
    BreachRefusedError,
    CommitmentData,
    CreditError,
    correct,
    find_in_force,
    list_commitments,
    record_breach,
    record_commitment,
    revoke,
    sha256_text,
    withdraw_commitment,
)
from minewatch.domain.enterprises.service import EnterpriseData, get_by_uscc
from minewatch.domain.leads.service import LeadData, record_leads
from minewatch.errors import NotFoundError
from minewatch.reference.credit_code import InvalidCreditCodeError
from minewatch.reference.ledger import EnterpriseKind

PROVINCE = Actor("省发改委 张敏", Role.PROVINCIAL, "510000")
COUNTY = Actor("石棉县发改局 李强", Role.COUNTY, "511824")
OTHER_COUNTY = Actor("汉源县发改局 王芳", Role.COUNTY, "511823")
INSPECTOR = Actor("石棉县检查组 赵刚", Role.INSPECTOR, "511824")

COMMITMENT_TEXT = "本企业郑重承诺：不参与虚拟货币“挖矿”活动……"
USCC = make_uscc(1)
FOUND = CheckData(
    checked_on=date(2021, 10, 25),
    inspectors=("赵刚", "孙丽"),
    outcome=CheckOutcome.MINING_FOUND,
    rigs={"Antminer S19 Pro": 100, "Whatsminer M30S": 20},
    mining_kw_observed=410.0,
)


def _commitment(uscc: str = USCC, **changes: object) -> CommitmentData:
    fields: dict[str, object] = {
        "uscc": uscc,
        "text_version": "2021-09",
        "text_sha256": sha256_text(COMMITMENT_TEXT),
        "signed_date": date(2021, 9, 20),
        "valid_until": date(2024, 9, 19),
        "signatory": "王磊",
        "document_name": "信用承诺书-石棉县鑫源1科技有限公司.pdf",
        "document_sha256": "cd" * 32,
    }
    fields.update(changes)
    return CommitmentData(**fields)  # type: ignore[arg-type]


def _enterprise(uscc: str = USCC) -> EnterpriseData:
    return EnterpriseData(
        uscc=uscc,
        name="石棉县鑫源1科技有限公司",
        region_code="511824",
        kind=EnterpriseKind.DATA_CENTRE_OPERATOR,
        legal_representative="王磊",
        address="四川省雅安市石棉县美罗镇1号厂房",
    )


def _sign(session: Session, **changes: object) -> int:
    commitment = record_commitment(
        session, _commitment(**changes), actor="省发改委 张敏", enterprise=_enterprise(),
        at=at("2021-09-21"),
    )  # fmt: skip
    return commitment.id


def _case(session: Session, *, start: date | None = date(2021, 10, 12), confirmed: bool = True,
          uscc: str = USCC) -> str:  # fmt: skip
    record_leads(
        session,
        [LeadData(source="meters", subject="M1", score=0.9, category="mining",
                  reasons="meters.flat_24x7", evidence={}, region_code="511824",
                  account_no="5118240012345", uscc=uscc,
                  address="四川省雅安市石棉县美罗镇1号厂房", est_start_date=start,
                  est_mining_kw=650.0)],
        actor="analyst",
        at=at("2021-10-20"),
    )  # fmt: skip
    fuse_leads(session, actor="analyst", at=at("2021-10-20"))
    (case_no,) = set(session.scalars(select(Case.case_no)))
    assign(session, case_no, "511824", actor=PROVINCE, at=at("2021-10-21"))
    record_check(session, case_no, FOUND, actor=INSPECTOR, at=at("2021-10-25"))
    if confirmed:
        confirm(session, case_no, actor=COUNTY, entry=make_entry(1), at=at("2021-10-26"))
    return case_no


def test_a_commitment_is_recorded_audited_and_found_in_force(session: Session) -> None:
    commitment_id = _sign(session)
    enterprise = get_by_uscc(session, USCC)
    assert enterprise is not None  # created through the enterprises service
    assert enterprise.kind == EnterpriseKind.DATA_CENTRE_OPERATOR
    found = find_in_force(session, USCC.lower(), date(2022, 1, 1))
    assert found is not None
    assert found.id == commitment_id
    assert found.text_sha256 == sha256_text(COMMITMENT_TEXT)
    assert found.status == CommitmentStatus.IN_FORCE
    assert find_in_force(session, USCC, date(2021, 9, 19)) is None  # before signing
    assert find_in_force(session, USCC, date(2024, 9, 19)) is not None  # last day, inclusive
    assert find_in_force(session, USCC, date(2024, 9, 20)) is None
    assert [c.id for c in list_commitments(session, within="511800")] == [commitment_id]
    assert list_commitments(session, within="511823") == []
    actions = [e.action for e in session.scalars(select(AuditEvent).order_by(AuditEvent.seq))]
    assert actions == ["create", "sign"]
    assert verify_chain(session).ok


def test_bad_commitments_are_refused(session: Session) -> None:
    with pytest.raises(NotFoundError, match="no enterprise"):
        record_commitment(session, _commitment(), actor="x", at=at("2021-09-21"))
    with pytest.raises(InvalidCreditCodeError, match="check character"):
        record_commitment(session, _commitment(make_bad_uscc(1)), actor="x")
    with pytest.raises(CreditError, match="SHA-256"):
        record_commitment(session, _commitment(text_sha256="abc"), actor="x",
                          enterprise=_enterprise())  # fmt: skip
    with pytest.raises(CreditError, match="before the signing"):
        record_commitment(session, _commitment(valid_until=date(2021, 1, 1)), actor="x",
                          enterprise=_enterprise())  # fmt: skip
    with pytest.raises(CreditError, match="signatory"):
        record_commitment(session, _commitment(signatory=" "), actor="x",
                          enterprise=_enterprise())  # fmt: skip
    _sign(session)
    with pytest.raises(CreditError, match="already has a commitment in force"):
        _sign(session, signed_date=date(2022, 1, 1))


def test_a_withdrawn_commitment_binds_only_before_its_withdrawal(session: Session) -> None:
    commitment_id = _sign(session)
    withdraw_commitment(session, commitment_id, "企业注销", actor="张敏",
                        effective=date(2021, 10, 1), at=at("2021-10-01"))  # fmt: skip
    assert find_in_force(session, USCC, date(2021, 9, 30)) is not None
    assert find_in_force(session, USCC, date(2021, 10, 1)) is None
    case_no = _case(session)
    with pytest.raises(BreachRefusedError, match="no credit commitment in force on 2021-10-12"):
        record_breach(session, case_no, actor=COUNTY, at=at("2021-10-27"))
    assert verify_chain(session).ok


def test_a_confirmed_case_against_a_committed_enterprise_makes_a_breach_record(
    session: Session,
) -> None:
    commitment_id = _sign(session)
    case_no = _case(session)  # confirmed on 2021-10-26: the record is made with it
    made = session.scalars(select(CreditRecord)).one()
    record = record_breach(session, case_no, actor=COUNTY, at=at("2021-10-27"))
    assert record.id == made.id
    assert record.case_no == case_no
    assert record.record_no == f"XY{case_no}"
    assert record.uscc == USCC
    assert record.commitment_id == commitment_id
    assert record.mining_start_date == date(2021, 10, 12)
    assert record.site_address == "四川省雅安市石棉县美罗镇1号厂房"
    assert record.rigs_found == 120
    assert json.loads(record.rigs_json) == {"Antminer S19 Pro": 100, "Whatsminer M30S": 20}
    assert record.power_kw == 410.0  # seen on site, not the estimate of 650
    assert record.measure == MEASURE == "不履行承诺"
    assert record.decision_date == date(2021, 10, 26)
    assert record.publicity_until == date(2022, 10, 26)
    assert record.authority_region_code == "511824"
    assert record.authority_name == "四川省雅安市石棉县发展和改革部门"
    assert record.status == RecordStatus.PUBLISHED
    assert "自2021年10月12日起" in record.facts
    assert "于2021年9月20日签署" in record.facts
    assert "经2021年10月25日现场检查，现场查见矿机120台（Antminer S19 Pro 100台" in record.facts
    assert "410千瓦" in record.facts
    assert case_no in record.facts
    assert record.commitment.status == CommitmentStatus.BREACHED
    # the commitment still bound on the day the mining began
    assert find_in_force(session, USCC, date(2021, 10, 12)) is not None
    events = [
        (e.entity_type, e.action)
        for e in session.scalars(select(AuditEvent).where(AuditEvent.seq > 0))
        if e.entity_type.startswith("credit")
    ]
    assert events == [
        ("credit_commitment", "sign"),
        ("credit_record", "publish"),
        ("credit_commitment", "breach"),
    ]
    assert verify_chain(session).ok


def test_a_breach_record_is_made_once(session: Session) -> None:
    _sign(session)
    case_no = _case(session)
    first = record_breach(session, case_no, actor=COUNTY, at=at("2021-10-27"))
    n_events = len(list(session.scalars(select(AuditEvent.seq))))
    second = record_breach(session, case_no, actor=PROVINCE, at=at("2021-10-28"))
    assert second.id == first.id
    assert second.decision_date == date(2021, 10, 26)  # made when the case was confirmed
    assert len(list(session.scalars(select(CreditRecord)))) == 1
    assert len(list(session.scalars(select(AuditEvent.seq)))) == n_events
    with pytest.raises(BreachRefusedError, match="an inspector may not"):
        record_breach(session, case_no, actor=INSPECTOR)  # the role is checked first


def test_the_confirmation_date_stands_in_for_an_unknown_start(session: Session) -> None:
    _sign(session, signed_date=date(2021, 10, 26))  # signed on the day of confirmation
    case_no = _case(session, start=None)
    record = record_breach(session, case_no, actor=COUNTY, at=at("2021-10-27"))
    assert record.mining_start_date == date(2021, 10, 26)


def test_refusals(session: Session) -> None:
    case_no = _case(session, confirmed=False)
    with pytest.raises(BreachRefusedError, match="is checked: only a confirmed case"):
        record_breach(session, case_no, actor=COUNTY)
    confirm(session, case_no, actor=COUNTY, entry=make_entry(1), at=at("2021-10-26"))
    with pytest.raises(BreachRefusedError, match="no credit commitment in force"):
        record_breach(session, case_no, actor=COUNTY)  # nothing signed
    _sign(session, signed_date=date(2020, 1, 1), valid_until=date(2021, 6, 30))  # expired
    with pytest.raises(BreachRefusedError, match="no credit commitment in force on 2021-10-12"):
        record_breach(session, case_no, actor=COUNTY)
    _sign(session, signed_date=date(2021, 7, 1))
    with pytest.raises(BreachRefusedError, match="an inspector may not"):
        record_breach(session, case_no, actor=INSPECTOR)
    with pytest.raises(BreachRefusedError, match="outside 511823"):
        record_breach(session, case_no, actor=OTHER_COUNTY)
    assert list(session.scalars(select(CreditRecord))) == []
    assert record_breach(session, case_no, actor=COUNTY).status == RecordStatus.PUBLISHED


def test_revocation_on_appeal_restores_the_commitment(session: Session) -> None:
    _sign(session)
    case_no = _case(session)
    record = record_breach(session, case_no, actor=COUNTY, at=at("2021-10-27"))
    with pytest.raises(CreditError, match="needs a reason"):
        revoke(session, record.id, " ", actor=COUNTY)
    with pytest.raises(CreditError, match="outside 511823"):
        revoke(session, record.id, "申诉成立", actor=OTHER_COUNTY)
    revoke(session, record.id, "申诉成立：矿机属承租方所有", actor=PROVINCE, at=at("2021-11-10"))
    assert record.status == RecordStatus.REVOKED
    assert record.status_reason == "申诉成立：矿机属承租方所有"
    assert record.commitment.status == CommitmentStatus.IN_FORCE
    with pytest.raises(CreditError, match="already revoked"):
        revoke(session, record.id, "再次", actor=PROVINCE)
    # breach again: the revoked record stands, no new one is published
    assert record_breach(session, case_no, actor=COUNTY).status == RecordStatus.REVOKED
    assert record.commitment.status == CommitmentStatus.IN_FORCE
    assert [e.action for e in session.scalars(
        select(AuditEvent).where(AuditEvent.entity_id == record.record_no))] == [
        "publish", "revoke"]  # fmt: skip
    assert verify_chain(session).ok


def test_a_correction_keeps_its_reason(session: Session) -> None:
    _sign(session)
    record = record_breach(session, _case(session), actor=COUNTY, at=at("2021-10-27"))
    correct(session, record.id, "限制措施细化", actor=COUNTY, restriction="两年内不得参与电力市场",
            at=at("2021-10-30"))  # fmt: skip
    assert record.status == RecordStatus.CORRECTED
    assert record.restriction == "两年内不得参与电力市场"
    assert verify_chain(session).ok


def test_the_export_layout_bom_and_values(session: Session, tmp_path: Path) -> None:
    _sign(session)
    case_no = _case(session)
    record = record_breach(session, case_no, actor=COUNTY, at=at("2021-10-27"))
    out = tmp_path / "credit.csv"
    assert export.write_csv(export.export_rows(session), out) == 1
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    header = raw[3:].decode("utf-8").split("\r\n")[0]
    assert header.split(",") == list(export.COLUMNS)
    assert header.startswith("信息编号,信息状态,行政相对人名称,行政相对人类别,统一社会信用代码")
    (row,) = export.read_csv(out)
    assert row["统一社会信用代码"] == USCC
    assert row["行政相对人名称"] == "石棉县鑫源1科技有限公司"
    assert row["行政相对人类别"] == "法人及非法人组织"
    assert row["法定代表人"] == "王磊"
    assert row["认定依据"] == BASIS
    assert "1283号" in BASIS
    assert "第九条" in BASIS
    assert row["处理措施"].startswith("不履行承诺；")
    assert row["认定日期"] == "2021-10-26"  # made when the case was confirmed
    assert row["公示截止日期"] == "2022-10-26"
    assert row["认定机关"] == row["数据来源单位"] == "四川省雅安市石棉县发展和改革部门"
    assert row["认定机关统一社会信用代码"] == ""  # optional, not configured here
    assert row["信息状态"] == "公示"
    assert "120台" in row["失信行为/违诺事实"]
    assert "2021-09" in row["备注"]
    # JSON lines: the same keys, an empty optional value as null
    revoke(session, record.id, "申诉成立", actor=COUNTY, at=at("2021-11-10"))
    lines = tmp_path / "credit.jsonl"
    export.write_jsonl(export.export_rows(session), lines)
    (item,) = [json.loads(line) for line in lines.read_text("utf-8").splitlines()]
    assert list(item) == list(export.COLUMNS)
    assert item["信息状态"] == "撤销"
    assert "申诉撤销：申诉成立" in item["备注"]


def test_an_export_row_with_a_bad_credit_code_stops_the_export(
    session: Session, tmp_path: Path
) -> None:
    _sign(session)
    record = record_breach(session, _case(session), actor=COUNTY, at=at("2021-10-27"))
    record.uscc = make_bad_uscc(1)  # as if edited by hand
    with pytest.raises(export.CreditExportError, match="统一社会信用代码: check character"):
        export.export_rows(session)
    record.uscc = USCC
    record.enterprise.legal_representative = None
    with pytest.raises(export.CreditExportError, match="法定代表人"):
        export.export_rows(session)
    assert export.subject_category("92" + USCC[2:]) == "个体工商户"
