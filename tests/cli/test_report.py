"""``minewatch report``: a hotline report from intake to the reporter's status page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from minewatch.cli.app import run


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = run(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_hotline_report_from_intake_to_answer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ("--db", str(tmp_path / "r.db"), "--lang", "en", "report")
    code, out, err = _run(capsys, *base, "submit", "--channel", "12398", "--address",
                          "四川省雅安市石棉县美罗镇工业园区3号厂房", "--observed", "昼夜风扇轰鸣",
                          "--contact", "13800001234")  # fmt: skip
    assert code == 0, err
    found = re.search(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", out)
    assert found is not None, out
    code_text = found.group(0)
    assert "511824" in out
    province = ("--role", "provincial", "--region", "510000", "--as", "张敏")
    county = ("--role", "county", "--region", "511824", "--as", "李强")
    code, out, err = _run(capsys, *base, "triage", code_text.lower(), "511824", *province)
    assert code == 0, err
    code, out, err = _run(capsys, *base, "contact", code_text, "--reason", "回访", *county)
    assert code == 0, err
    assert "13800001234" in out
    code, out, err = _run(capsys, *base, "contact", code_text, "--reason", "x", "--role",
                          "county", "--region", "511823")  # fmt: skip
    assert code != 0
    assert "13800001234" not in out + err
    code, out, err = _run(capsys, *base, "close", code_text, "--answer", "经核查为冷库", *county)
    assert code == 0, err
    code, out, err = _run(capsys, *base, "status", code_text)
    assert code == 0, err
    assert "已办结" in out
    assert "冷库" in out
    assert "13800001234" not in out
