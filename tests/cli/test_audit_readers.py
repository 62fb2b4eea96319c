"""``audit verify`` checks every audited table: each module that declares how to read an audited
entity's state is imported by the command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import minewatch

_LIST = "from minewatch.domain.audit.service import _STATE_READERS; print(*sorted(_STATE_READERS))"


def _readers(*modules: str) -> set[str]:
    code = "".join(f"import {m}; " for m in modules) + _LIST
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(done.stdout.split())


def test_audit_verify_knows_every_audited_entity() -> None:
    root = Path(minewatch.__file__).parent
    defining = root / "domain" / "audit" / "service.py"
    declaring = sorted(
        "minewatch." + ".".join(path.relative_to(root).with_suffix("").parts)
        for path in root.rglob("*.py")
        if path != defining and "register_state_reader(" in path.read_text(encoding="utf-8")
    )
    everything = _readers(*declaring)
    assert len(everything) >= 16
    assert _readers("minewatch.cli.audit") == everything
