"""``minewatch inspect``: commit, draw and verify a double-random inspection from CSV pools."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import make_uscc
from minewatch.cli.app import run


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = run(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def pools(tmp_path: Path) -> tuple[Path, Path]:
    targets = tmp_path / "targets.csv"
    lines = ["target_id,region_code,enterprise_uscc,application"]
    lines += [f"T{n:03d},511824,{make_uscc(n)},用电报装{n}" for n in range(1, 31)]
    targets.write_text("\n".join(lines) + "\n", encoding="utf-8")
    inspectors = tmp_path / "inspectors.csv"
    rows = ["inspector_id,name,region_code,agency,related_usccs,past_inspections"]
    rows += [
        f"I{n:02d},检查员{n},{'511802' if n % 2 else '511803'},{'能源监管' if n % 3 else '发改'},"
        f"{make_uscc(n) if n < 4 else ''},{'T001:1' if n == 5 else ''}"
        for n in range(1, 13)
    ]
    inspectors.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return targets, inspectors


def test_commit_draw_verify_and_a_tampered_pool(
    pools: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    targets, inspectors = pools
    common = ("--targets", str(targets), "--inspectors", str(inspectors), "--date", "2021-10-08",
              "--count", "5")  # fmt: skip
    commitment = tmp_path / "commitment.json"
    code, out, err = _run(capsys, "inspect", "commit", *common, "--seed-description",
                          "福彩双色球 第2021115期", "--out", str(commitment))  # fmt: skip
    assert code == 0, err
    published = json.loads(commitment.read_text(encoding="utf-8"))
    record, public = tmp_path / "draw.json", tmp_path / "public.json"
    seed = ("--seed-text", "03 07 12 19 25 31 + 08", "--seed-description", "福彩双色球 第2021115期")
    code, out, err = _run(capsys, "inspect", "draw", *common, *seed, "--out", str(record),
                          "--public", str(public))  # fmt: skip
    assert code == 0, err
    assert "5 target(s) drawn" in out
    drawn = json.loads(record.read_text(encoding="utf-8"))
    assert drawn["target_pool_sha256"] == published["target_pool_sha256"]
    assert "related_usccs" not in public.read_text(encoding="utf-8")
    code, out, err = _run(capsys, "inspect", "verify", str(record), "--targets", str(targets),
                          "--inspectors", str(inspectors))  # fmt: skip
    assert code == 0, err
    assert "checks out" in out
    # the drawn team records what it found; the results are published without the teams
    first = drawn["assignments"][0]
    db = ("--db", str(tmp_path / "i.db"))
    team = [x for i in first["inspector_ids"] for x in ("--inspector", i)]
    code, out, err = _run(capsys, *db, "inspect", "record", str(record), "--targets", str(targets),
                          "--inspectors", str(inspectors), "--target", first["target_id"],
                          "--date", "2021-10-12", *team, "--outcome", "violation",
                          "--findings", "现场为矿机")  # fmt: skip
    assert code == 0, err
    results = tmp_path / "results.csv"
    code, out, err = _run(capsys, *db, "inspect", "results", drawn["seed_sha256"][:10],
                          "--out", str(results))  # fmt: skip
    assert code == 0, err
    published = results.read_text(encoding="utf-8-sig")
    assert "violation" in published
    assert published.count("pending") == 4
    assert "I0" not in published  # no inspector ids
    # one target row changed after the draw
    text = targets.read_text(encoding="utf-8").replace("用电报装7", "用电报装七")
    targets.write_text(text, encoding="utf-8")
    code, out, err = _run(capsys, "inspect", "verify", str(record), "--targets", str(targets),
                          "--inspectors", str(inspectors))  # fmt: skip
    assert code == 1
    assert "target_pool_changed" in out + err


def test_a_bad_pool_row_is_named(
    pools: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    targets, inspectors = pools
    targets.write_text(targets.read_text(encoding="utf-8") + "T999,999999,bad\n", encoding="utf-8")
    code, out, err = _run(capsys, "inspect", "draw", "--targets", str(targets), "--inspectors",
                          str(inspectors), "--date", "2021-10-08", "--count", "3", "--seed-text",
                          "x", "--seed-description", "y", "--out", "unused.json")  # fmt: skip
    assert code != 0
    assert "row 32" in out + err
    assert not Path("unused.json").exists()
