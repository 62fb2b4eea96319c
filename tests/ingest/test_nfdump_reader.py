"""The nfdump reader: nfdump's JSON (as 1.7 prints it) into flow records, and its errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from minewatch.errors import InputFileError, MineWatchError
from minewatch.ingest import nfdump
from minewatch.ingest.nfdump import nfdump_json_table, read_nfdump

RECORD = {
    "type": "FLOW",
    "sampled": 0,
    "export_sysid": 1,
    "first": "2018-08-03T14:19:39.565",
    "last": "2018-08-03T14:19:39.973",
    "received": "2026-11-26T16:43:19.761",
    "in_packets": 5,
    "in_bytes": 729,
    "proto": 6,
    "tcp_flags": "...AP.S.",
    "src_port": 50496,
    "dst_port": 3333,
    "src4_addr": "10.0.2.15",
    "dst4_addr": "113.21.199.11",
    "ip4_router": "127.0.0.1",
    "label": "<none>",
}


def _tab_indented(records: list[dict[str, object]], array: bool) -> str:
    """What ``nfdump -o json`` prints: tab-indented objects, in brackets unless ``-q``."""
    body = ",\n".join(json.dumps(r, indent="\t") for r in records)
    return f"[\n{body}]\n" if array else body + "\n"


@pytest.mark.parametrize("array", [True, False])
def test_nfdump_json_becomes_flow_records(array: bool) -> None:
    biflow = {**RECORD, "src_port": 50498, "out_packets": 3, "out_bytes": 200}
    v6 = {**RECORD, "src4_addr": None, "dst4_addr": None, "src6_addr": "2001:db8::1",
          "dst6_addr": "2001:db8::2"}  # fmt: skip
    del v6["src4_addr"], v6["dst4_addr"]
    table = nfdump_json_table(_tab_indented([RECORD, biflow, v6], array))
    rows = table.to_pylist()
    assert len(rows) == 4
    first = rows[0]
    assert (first["src_ip"], first["dst_port"], first["packets"], first["bytes"]) == (
        "10.0.2.15",
        3333,
        5,
        729,
    )
    assert first["tcp_flags"] == 0x1A  # ACK, PSH, SYN
    assert first["first_seen"] == datetime(2018, 8, 3, 14, 19, 39, 565_000, tzinfo=UTC)
    assert first["exporter"] == "127.0.0.1"
    reverse = rows[2]
    assert (reverse["src_ip"], reverse["src_port"], reverse["packets"]) == (
        "113.21.199.11",
        3333,
        3,
    )
    assert rows[3]["src_ip"] == "2001:db8::1"


def test_no_matching_flows_is_an_empty_table() -> None:
    assert nfdump_json_table("[\nNo matching flows\n]\n").num_rows == 0


def test_reader_refuses_what_is_not_an_nfcapd_file(tmp_path: Path) -> None:
    notes = tmp_path / "notes.nf"
    notes.write_text("hello")
    with pytest.raises(InputFileError, match="not an nfcapd/nfdump file"):
        read_nfdump(notes)
    with pytest.raises(InputFileError, match="file not found"):
        read_nfdump(tmp_path / "missing")


def test_reader_says_when_nfdump_is_not_installed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    capture = tmp_path / "nfcapd.202611261643"
    capture.write_bytes(nfdump.NFDUMP_MAGIC + bytes(100))
    monkeypatch.setattr(nfdump.shutil, "which", lambda name: None)
    with pytest.raises(MineWatchError, match="apt-get install nfdump"):
        read_nfdump(capture)
