"""Allocation records, NAT logs and DHCP leases: read and checked, each problem with its cell."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from conftest import make_bad_uscc, make_uscc
from minewatch.errors import InputFileError
from minewatch.ingest.allocations import read_allocations
from minewatch.ingest.cells import parse_instant
from minewatch.ingest.dhcp_leases import normalise_mac, read_dhcp_leases
from minewatch.ingest.nat_log import read_nat_log

HEADER_ZH = "IP地址段,单位名称,统一社会信用代码,详细地址,行政区划代码,运营商,启用日期,停用日期\n"


def _write(tmp_path: Path, text: str, name: str = "alloc.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding=encoding)
    return path


def _problems(error: pytest.ExceptionInfo[InputFileError]) -> list[tuple[int | None, str | None]]:
    return [(p.row, p.column) for p in error.value.problems]


def test_allocations_with_chinese_headers_in_gb18030(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        HEADER_ZH
        + f"61.139.8.16/29,石棉县鑫源科技有限公司,{make_uscc(1)},美罗镇1号,511824,中国电信,"
        "2021-03-01,2021-09-30\n"
        "240e:3a1:8:100::/56,雅安某学院,,,,,2021/1/1,\n",
        encoding="gb18030",
    )
    rows = read_allocations(path).to_pylist()
    assert rows[0]["ip_first"] == "61.139.8.16"
    assert rows[0]["ip_last"] == "61.139.8.23"
    assert rows[0]["uscc"] == make_uscc(1)
    # Dates are Asia/Shanghai; the last day of use ends at the following local midnight.
    assert rows[0]["valid_from"] == datetime(2021, 2, 28, 16, tzinfo=UTC)
    assert rows[0]["valid_to"] == datetime(2021, 9, 30, 16, tzinfo=UTC)
    assert rows[1]["ip_range"] == "240e:3a1:8:100::/56"
    assert rows[1]["valid_to"] is None


def test_allocations_as_first_and_last_address(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "起始IP,终止IP,organisation,valid_from\n"
        "10.0.0.0,10.0.0.255,甲单位,2021-01-01\n"
        "10.0.1.0,10.0.1.99,乙单位,2021-01-01\n",
    )
    rows = read_allocations(path).to_pylist()
    assert [r["ip_range"] for r in rows] == ["10.0.0.0/24", "10.0.1.0-10.0.1.99"]


def test_every_bad_cell_is_named_and_nothing_is_returned(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        HEADER_ZH
        + "61.139.8.16/28,甲,,,,,2021-01-01,\n"  # row 2: fine
        + "61.139.8.17/29,乙,,,,,2021-01-01,\n"  # row 3: host bits set
        + "61.139.9.0-10.0.0.1,丙,,,,,2021-01-01,\n"  # row 4: ends before it starts
        + f"61.139.10.0/24,丁,{make_bad_uscc(3)},,,,2021-01-01,\n"  # row 5: check character
        + "61.139.11.0/24,戊,,,999999,,2021-06-01,2021-05-01\n"  # row 6: region; to < from
        + "61.139.12.0/24,,,,,,2021-01-01,\n"  # row 7: no organisation
        + "61.139.8.16/28,己,,,,,2021-06-01,2021-12-31\n"  # row 8: overlaps row 2's period
        + "61.139.8.0/24,庚,,,,,2021-01-01,\n"  # row 9: holds row 2's block: fine
        + "61.139.13.0/24,辛,,,,,2021-13-01,\n",  # row 10: not a date
    )
    with pytest.raises(InputFileError) as error:
        read_allocations(path)
    assert _problems(error) == [
        (3, "IP地址段"),
        (4, "IP地址段"),
        (5, "统一社会信用代码"),
        (6, "停用日期"),
        (6, "行政区划代码"),
        (7, "单位名称"),
        (8, "IP地址段"),
        (10, "启用日期"),
    ]
    text = str(error.value)
    assert "did you mean 61.139.8.16/29" in text
    assert "check character" in text
    assert "row 2 for an overlapping period" in text
    assert "nothing was imported" in text


def test_ranges_that_cross_are_refused(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "ip_range,organisation\n10.0.0.0-10.0.0.127,甲\n10.0.0.64-10.0.0.191,乙\n",
    )
    with pytest.raises(InputFileError) as error:
        read_allocations(path)
    assert _problems(error) == [(3, "ip_range")]
    assert "without one holding the other" in str(error.value)


def test_missing_range_column(tmp_path: Path) -> None:
    path = _write(tmp_path, "organisation,address\n甲,某地\n")
    with pytest.raises(InputFileError) as error:
        read_allocations(path)
    assert _problems(error) == [(1, "ip_range")]


def test_nat_log_port_blocks_protocols_and_errors(tmp_path: Path) -> None:
    good = _write(
        tmp_path,
        "public_ip,public_port,internal_ip,internal_port,protocol,start_at,end_at\n"
        "61.139.8.17,40000-40099,10.8.0.2,,TCP,1637000000,\n"
        "61.139.8.17,40111,10.8.3.44,50123,6,2021-11-16 02:10:00,2021-11-16 03:00:00\n",
        "nat.csv",
    )
    rows = read_nat_log(good).to_pylist()
    assert (rows[0]["public_port_first"], rows[0]["public_port_last"]) == (40000, 40099)
    assert rows[0]["protocol"] == "tcp"
    assert rows[0]["start_at"] == datetime.fromtimestamp(1637000000, UTC)
    assert rows[1]["end_at"] == datetime(2021, 11, 15, 19, 0, 1, tzinfo=UTC)
    bad = _write(
        tmp_path,
        "公网IP,公网端口,内网IP,开始时间\n61.139.8.300,80,10.0.0.1,2021-11-16 02:00\n"
        "61.139.8.3,70000,10.0.0.1,\n",
        "nat-bad.csv",
    )
    with pytest.raises(InputFileError) as error:
        read_nat_log(bad)
    assert _problems(error) == [(2, "公网IP"), (3, "公网端口"), (3, "开始时间")]


def test_dhcp_table_and_mac_spellings(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "IP地址,MAC地址,主机名,租约开始,租约结束\n"
        "10.8.3.44,00-16-3E-AA-BB-CC,rig-07,2021-11-15 08:00,2021-11-15 20:00\n"
        "10.8.3.45,0016.3eaa.bbcd,,2021-11-15 08:00,\n"
        "10.8.3.46,not-a-mac,,2021-11-15 08:00,\n",
        "leases.csv",
    )
    with pytest.raises(InputFileError) as error:
        read_dhcp_leases(path)
    assert _problems(error) == [(4, "MAC地址")]
    path.write_text(path.read_text(encoding="utf-8").rsplit("10.8.3.46", 1)[0], encoding="utf-8")
    rows = read_dhcp_leases(path).to_pylist()
    assert [r["mac"] for r in rows] == ["00:16:3e:aa:bb:cc", "00:16:3e:aa:bb:cd"]
    assert rows[0]["host_name"] == "rig-07"
    assert rows[1]["end_at"] is None
    assert normalise_mac("00163EAABBCC") == "00:16:3e:aa:bb:cc"


def test_dhcpd_leases_epoch_times_never_and_bad_blocks(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "lease 10.0.0.7 {\n  starts epoch 1637000000; # Mon Nov 15 18:13:20 2021\n"
        '  ends never;\n  hardware ethernet 02:00:00:00:00:07;\n  set vendor = "a;b";\n}\n'
        "lease 10.0.0.8 {\n  starts 1 2021/11/15 99:00:00;\n"
        "  hardware ethernet 02:00:00:00:00:08;\n}\n",
        "dhcpd.leases",
    )
    with pytest.raises(InputFileError) as error:
        read_dhcp_leases(path)
    assert _problems(error) == [(7, "lease")]
    path.write_text(path.read_text().split("lease 10.0.0.8")[0])
    rows = read_dhcp_leases(path).to_pylist()
    assert rows == [
        {
            "ip": "10.0.0.7",
            "mac": "02:00:00:00:00:07",
            "host_name": None,
            "start_at": datetime.fromtimestamp(1637000000, UTC),
            "end_at": None,
            "source_row": 1,
        }
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2021-11-15 18:13:20", datetime(2021, 11, 15, 10, 13, 20, tzinfo=UTC)),
        ("2021/11/15T18:13:20Z", datetime(2021, 11, 15, 18, 13, 20, tzinfo=UTC)),
        ("2021-11-15 18:13:20+00:00", datetime(2021, 11, 15, 18, 13, 20, tzinfo=UTC)),
        ("2021年11月15日", datetime(2021, 11, 14, 16, tzinfo=UTC)),
        ("1637000000000", datetime.fromtimestamp(1637000000, UTC)),
        ("", None),
    ],
)
def test_instants(text: str, expected: datetime | None) -> None:
    assert parse_instant(text) == expected


def test_an_instant_that_is_not_one() -> None:
    with pytest.raises(ValueError, match="not a date and time"):
        parse_instant("2021-02-30 10:00")


@pytest.mark.parametrize(
    "body",
    [
        "61.139.8.17,40111,10.8.3.44,50123,TCP,2021-11-16 02:10:00,2021-11-16 03:00:00\n"
        "61.139.8.0,,10.8.0.0,,udp,2021-11-16 02:10:00,\n",
        "61.139.8.17,40111,10.8.3.44,50123,tcp,1637000000,1637003600\n"
        "240e:3a1::,40112,fd00::45,,,1637000000,\n",
    ],
)
def test_nat_logs_read_by_column_match_the_cell_by_cell_reader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str
) -> None:
    from minewatch.ingest import nat_log

    path = _write(
        tmp_path,
        "公网IP,公网端口,内网IP,内网端口,协议,开始时间,结束时间\n" + body,
        "nat.csv",
    )
    assert nat_log._read_plain_csv(path) is not None
    fast = read_nat_log(path)
    monkeypatch.setattr(nat_log, "_read_plain_csv", lambda _path: None)
    slow = read_nat_log(path)
    assert fast.equals(slow)


def test_texts_longer_than_the_database_keeps_are_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "ip_range,organisation,address\n10.0.0.0/8," + "甲" * 201 + ",某地\n")
    with pytest.raises(InputFileError) as error:
        read_allocations(path)
    assert _problems(error) == [(2, "organisation")]
    assert "the limit is 200" in str(error.value)
