"""``minewatch credit`` end to end: commit, breach (once), export, revoke, export again."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from conftest import at, make_entry, make_uscc
from minewatch.cli.app import run
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
from minewatch.domain.credit.export import COLUMNS
from minewatch.domain.credit.service import find_in_force, sha256_text
from minewatch.domain.db import session_scope
from minewatch.domain.enterprises.service import get_by_uscc
from minewatch.domain.leads.service import LeadData, record_leads
from minewatch.domain.migrate import open_database

USCC = make_uscc(1)


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = run(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _confirmed_case(db: Path) -> str:
    with session_scope(open_database(f"sqlite:///{db}")) as session:
        record_leads(
            session,
            [LeadData(source="meters", subject="M1", score=0.9, category="mining",
                      reasons="meters.flat_24x7", evidence={}, region_code="511824",
                      account_no="5118240012345", uscc=USCC, address="石棉县美罗镇1号厂房",
                      est_start_date=date(2021, 10, 12))],
            actor="analyst",
            at=at("2021-10-20"),
        )  # fmt: skip
        fuse_leads(session, actor="analyst", at=at("2021-10-20"))
        case_no = session.scalars(select(Case.case_no)).one()
        assign(session, case_no, "511824", actor=Actor("张敏", Role.PROVINCIAL, "510000"),
               at=at("2021-10-21"))  # fmt: skip
        found = CheckData(
            date(2021, 10, 25), ("赵刚",), CheckOutcome.MINING_FOUND, {"Antminer S19 Pro": 100}
        )
        inspector = Actor("赵刚", Role.INSPECTOR, "511824")
        record_check(session, case_no, found, actor=inspector, at=at("2021-10-25"))
        confirm(session, case_no, actor=Actor("李强", Role.COUNTY, "511824"), entry=make_entry(1),
                at=at("2021-10-26"))  # fmt: skip
    return case_no


def test_commit_breach_export_revoke_on_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "credit.db"
    case_no = _confirmed_case(db)
    base = ("--db", str(db), "--lang", "en", "credit")
    county = ("--as", "李强", "--role", "county", "--region", "511824")
    # no commitment yet: refused, nothing written
    code, _, err = _run(capsys, *base, "breach", case_no, *county)
    assert code == 1
    assert "no credit commitment in force" in err
    text = tmp_path / "承诺书.txt"
    text.write_text("本企业承诺不参与虚拟货币“挖矿”活动。", encoding="utf-8")
    scan = tmp_path / "承诺书.pdf"
    scan.write_bytes(b"%PDF-1.4 signed")
    code, out, err = _run(capsys, *base, "commit", USCC, "--text", str(text),
                          "--text-version", "2021-09", "--signed", "2021-09-20",
                          "--valid-until", "2024-09-19", "--signatory", "王磊",
                          "--document", str(scan), "--as", "张敏")  # fmt: skip
    assert code == 0, err
    assert "in force 2021-09-20 – 2024-09-19" in out
    code, out, err = _run(capsys, *base, "list", "--within", "511824")
    assert code == 0, err
    assert USCC in out
    code, out, err = _run(capsys, *base, "breach", case_no, *county)
    assert code == 0, err
    assert f"XY{case_no}: published" in out
    code, out, err = _run(capsys, *base, "breach", case_no, *county)  # once only
    assert code == 0, err
    csv_path, jsonl_path = tmp_path / "credit.csv", tmp_path / "credit.jsonl"
    code, out, err = _run(capsys, *base, "export", "--out", str(csv_path),
                          "--jsonl", str(jsonl_path))  # fmt: skip
    assert code == 0, err
    assert "1 credit record(s)" in out
    raw = csv_path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = raw.decode("utf-8-sig").splitlines()
    assert lines[0].split(",") == list(COLUMNS)
    assert len(lines) == 2
    assert USCC in lines[1]
    (item,) = [json.loads(line) for line in jsonl_path.read_text("utf-8").splitlines()]
    assert item["统一社会信用代码"] == USCC
    assert item["信息状态"] == "公示"
    code, _, err = _run(capsys, *base, "revoke", f"XY{case_no}", "--reason", "申诉成立",
                        "--as", "王芳", "--role", "county", "--region", "511823")  # fmt: skip
    assert code == 1
    assert "outside 511823" in err
    code, out, err = _run(capsys, *base, "revoke", f"XY{case_no}", "--reason", "申诉成立",
                          *county)  # fmt: skip
    assert code == 0, err
    assert "revoked" in out
    code, out, err = _run(capsys, *base, "export", "--out", str(csv_path))
    assert code == 0, err
    assert ",撤销," in csv_path.read_text("utf-8-sig")
    with session_scope(open_database(f"sqlite:///{db}")) as session:
        assert verify_chain(session).ok


def test_commit_creates_a_new_enterprise_and_keeps_the_hashes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "credit.db"
    text = tmp_path / "承诺书.txt"
    text.write_text("本企业承诺不参与虚拟货币“挖矿”活动。", encoding="utf-8")
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(b"%PDF-1.4 signed")
    uscc = make_uscc(7)
    common = ("--db", str(db), "credit", "commit", uscc, "--text", str(text), "--text-version",
              "2021-09", "--signed", "2021-09-20", "--valid-until", "2022-09-19",
              "--signatory", "刘洋", "--document", str(scan), "--as", "张敏")  # fmt: skip
    code, _, err = _run(capsys, *common)
    assert code == 1
    assert "no enterprise with credit code" in err
    code, _, err = _run(capsys, *common, "--name", "雅安云数据有限公司")
    assert code == 1
    assert "give both --name and --enterprise-region" in err
    new = ("--name", "雅安云数据有限公司", "--enterprise-region", "511802",
           "--legal-representative", "刘洋")  # fmt: skip
    code, _, err = _run(capsys, *common, *new)
    assert code == 0, err
    with session_scope(open_database(f"sqlite:///{db}")) as session:
        enterprise = get_by_uscc(session, uscc)
        assert enterprise is not None
        assert enterprise.name == "雅安云数据有限公司"
        assert enterprise.legal_representative == "刘洋"
        commitment = find_in_force(session, uscc, date(2022, 1, 1))
        assert commitment is not None
        assert commitment.text_sha256 == sha256_text(text.read_text("utf-8"))
        assert commitment.document_sha256 == hashlib.sha256(b"%PDF-1.4 signed").hexdigest()
        assert commitment.document_name == "scan.pdf"
        assert verify_chain(session).ok
