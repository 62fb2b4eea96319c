"""``minewatch hosts``: list, validate and match the host rules."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from minewatch.cli.app import run


def test_validate_list_and_match(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["hosts", "validate"]) == 0
    assert "host rules valid" in capsys.readouterr().out
    assert run(["hosts", "rules"]) == 0
    assert "hosts.process.known_miner" in capsys.readouterr().out
    report = tmp_path / "report.json"
    report.write_text(
        json.dumps(
            {
                "hostname": "lab-3",
                "processes": [
                    {"pid": 40, "name": "sshd", "exe": "/usr/sbin/sshd"},
                    {"pid": 41, "name": "kswapd0", "exe": "/tmp/.x/kswapd0",
                     "cmdline": ["kswapd0", "-o", "stratum+tcp://p.example:4444"]},
                ],
            }
        ),
        encoding="utf-8",
    )  # fmt: skip
    assert run(["hosts", "match", str(report)]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines() if x.startswith("{")]
    assert {line["rule"] for line in lines} == {
        "hosts.process.stratum_url",
        "hosts.process.kernel_thread_imitation",
    }
    assert all(line["pid"] == 41 for line in lines)


def test_validate_names_the_bad_rule(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "broken.yaml").write_text(
        "id: hosts.x.y\ntitle: t\nlevel: loud\ndescription: d\nreferences: [r]\n"
        "falsepositives: [f]\ndetection: {kind: process, names: [x]}\n",
        encoding="utf-8",
    )
    assert run(["hosts", "validate", str(tmp_path)]) == 1
    captured = capsys.readouterr()
    assert "broken.yaml: hosts.x.y: level: must be one of" in captured.out
    assert "1 error(s)" in captured.err


def test_probe_export_and_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    probe = tmp_path / "hostprobe.py"
    assert run(["probe", "export", str(probe)]) == 0
    assert probe.read_text(encoding="utf-8").startswith('"""MineWatch host probe')
    report = tmp_path / "report.json"
    key = tmp_path / "unit.key"
    key.write_text("secret\n", encoding="utf-8")
    assert run(["probe", "run", "--window", "0", "--out", str(report), "--key-file", str(key)]) == 0
    data = json.loads(report.read_text(encoding="utf-8"))
    assert data["signature"]["algorithm"] == "HMAC-SHA256"
    assert data["processes"]
