"""The NetFlow v5/v9 and IPFIX decoder on datagrams built byte by byte in the tests."""

from __future__ import annotations

import struct
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from minewatch.ingest import netflow as nf
from minewatch.ingest.netflow import NetFlowDecoder, chunks_table
from minewatch.synth.netflow import (
    IPFIX_FIELDS,
    V9_FIELDS,
    Flow,
    encode,
    flow_values,
    flowset,
    ipfix_message,
    options_template_record,
    template_record,
    v5_datagram,
    v9_datagram,
)

T0 = 1_637_000_000_000  # 2021-11-15 18:13:20 UTC, in ms
MINER = Flow("10.1.2.3", "203.0.113.7", 51000, 3333, 12, 1500, T0, T0 + 59_000)
POOL = Flow("203.0.113.7", "10.1.2.3", 3333, 51000, 10, 2400, T0 + 5, T0 + 59_100, tcp_flags=0x12)


def _rows(decoder: NetFlowDecoder, *datagrams: bytes, exporter: str = "192.0.2.1") -> list[dict]:
    chunks = [c for d in datagrams for c in decoder.decode(d, exporter)]
    return chunks_table(chunks).to_pylist()


def _ms(value: datetime) -> int:
    return round(value.timestamp() * 1000)


def test_v5_records_with_times_from_uptime_and_sampling() -> None:
    data = v5_datagram([MINER, POOL], export_ms=T0 + 60_250, uptime_ms=9_000_000, sampling=0x4064)
    decoder = NetFlowDecoder()
    rows = _rows(decoder, data)
    assert [(r["src_ip"], r["src_port"], r["dst_ip"], r["dst_port"]) for r in rows] == [
        ("10.1.2.3", 51000, "203.0.113.7", 3333),
        ("203.0.113.7", 3333, "10.1.2.3", 51000),
    ]
    first = rows[0]
    assert (first["packets"], first["bytes"], first["protocol"], first["tcp_flags"]) == (
        12,
        1500,
        6,
        0x1A,
    )
    assert _ms(first["first_seen"]) == MINER.first_ms
    assert _ms(first["last_seen"]) == MINER.last_ms
    assert first["first_seen"].tzinfo is not None
    assert (first["version"], first["exporter"]) == (5, "192.0.2.1")
    assert first["sampling_interval"] == 100
    assert decoder.stats.records == 2
    assert decoder.stats.malformed == 0


def test_v5_uptime_that_wrapped_still_gives_the_right_time() -> None:
    # The exporter has been up for more than 49.7 days: its millisecond uptime wrapped.
    data = v5_datagram([MINER], export_ms=T0 + 60_000, uptime_ms=1_000)
    (row,) = _rows(NetFlowDecoder(), data)
    assert _ms(row["first_seen"]) == MINER.first_ms


def test_v9_template_then_data_with_uptime_times() -> None:
    boot = T0 - 3_600_000
    template = flowset(0, template_record(256, V9_FIELDS, ipfix=False))
    body = b"".join(encode(V9_FIELDS, flow_values(f, boot)) for f in (MINER, POOL))
    export_s = (T0 + 60_000) // 1000
    uptime = export_s * 1000 - boot
    data = v9_datagram([template, flowset(256, body)], export_s, uptime, source_id=7)
    decoder = NetFlowDecoder()
    rows = _rows(decoder, data)
    assert len(rows) == 2
    assert (rows[1]["src_ip"], rows[1]["packets"], rows[1]["bytes"]) == ("203.0.113.7", 10, 2400)
    assert (rows[0]["version"], rows[0]["observation_domain"]) == (9, 7)
    assert _ms(rows[0]["first_seen"]) == MINER.first_ms
    assert decoder.stats.templates == 1


def test_v9_data_before_its_template_waits_for_it() -> None:
    boot = T0 - 3_600_000
    export_s = (T0 + 60_000) // 1000
    uptime = export_s * 1000 - boot
    body = encode(V9_FIELDS, flow_values(MINER, boot))
    decoder = NetFlowDecoder()
    assert _rows(decoder, v9_datagram([flowset(300, body)], export_s, uptime)) == []
    assert decoder.pending_sets() == 1
    template = flowset(0, template_record(300, V9_FIELDS, ipfix=False))
    rows = _rows(decoder, v9_datagram([template], export_s, uptime))
    assert [r["src_port"] for r in rows] == [51000]
    assert decoder.pending_sets() == 0
    assert decoder.stats.sets_without_template == 0


def test_templates_are_kept_per_exporter_and_source_id() -> None:
    boot = T0 - 3_600_000
    export_s = (T0 + 60_000) // 1000
    uptime = export_s * 1000 - boot
    template = flowset(0, template_record(256, V9_FIELDS, ipfix=False))
    body = flowset(256, encode(V9_FIELDS, flow_values(MINER, boot)))
    decoder = NetFlowDecoder(pending_limit=1)
    assert len(_rows(decoder, v9_datagram([template], export_s, uptime, 1), exporter="a")) == 0
    assert len(_rows(decoder, v9_datagram([body], export_s, uptime, 1), exporter="a")) == 1
    # Another exporter, or another source id of the same one, has not sent its template.
    assert _rows(decoder, v9_datagram([body], export_s, uptime, 1), exporter="b") == []
    assert _rows(decoder, v9_datagram([body], export_s, uptime, 2), exporter="a") == []
    assert _rows(decoder, v9_datagram([body], export_s, uptime, 2), exporter="a") == []
    assert decoder.stats.sets_without_template == 1  # the limit is one waiting set


def test_v9_sampling_interval_from_an_options_record() -> None:
    boot = T0 - 3_600_000
    export_s = (T0 + 60_000) // 1000
    uptime = export_s * 1000 - boot
    options = flowset(1, options_template_record(257, [(1, 4)], [(34, 4), (35, 1)], ipfix=False))
    option_data = flowset(257, struct.pack("!IIB", 0, 1000, 2))
    template = flowset(0, template_record(256, V9_FIELDS, ipfix=False))
    data = flowset(256, encode(V9_FIELDS, flow_values(MINER, boot)))
    decoder = NetFlowDecoder()
    (row,) = _rows(decoder, v9_datagram([options, option_data, template, data], export_s, uptime))
    assert row["sampling_interval"] == 1000
    assert decoder.stats.options_templates == 1
    assert decoder.stats.option_records == 1


def test_ipfix_millisecond_times_ipv6_and_reduced_size_counters() -> None:
    fields = [(27, 16), (28, 16), (7, 2), (11, 2), (4, 1), (2, 3), (1, 6), (152, 8), (153, 8)]
    flow = Flow("2001:db8::5", "2001:db8:1::9", 40000, 14444, 70_000, 2**40 + 5, T0, T0 + 1)
    data = ipfix_message(
        [
            flowset(2, template_record(400, fields, ipfix=True)),
            flowset(400, encode(fields, flow_values(flow))),
        ],
        export_s=T0 // 1000 + 60,
        domain=42,
    )
    (row,) = _rows(NetFlowDecoder(), data)
    assert (row["src_ip"], row["dst_ip"]) == ("2001:db8::5", "2001:db8:1::9")
    assert (row["packets"], row["bytes"]) == (70_000, 2**40 + 5)
    assert (row["version"], row["observation_domain"]) == (10, 42)
    assert row["first_seen"] == datetime.fromtimestamp(T0 / 1000, UTC)


def test_ipfix_variable_length_and_enterprise_fields_are_skipped() -> None:
    fields = [*IPFIX_FIELDS[:4], (96, 65_535), (1234, 4, 29305), *IPFIX_FIELDS[4:]]
    values = {**flow_values(MINER), 96: b"x" * 300, -1234: b"\x01\x02\x03\x04"}
    other = {**flow_values(POOL), 96: b"short"}
    data = ipfix_message(
        [
            flowset(2, template_record(500, fields, ipfix=True)),
            flowset(500, encode(fields, values) + encode(fields, other)),
        ],
        export_s=T0 // 1000 + 60,
    )
    rows = _rows(NetFlowDecoder(), data)
    assert [(r["src_port"], r["packets"], r["bytes"]) for r in rows] == [
        (51000, 12, 1500),
        (3333, 10, 2400),
    ]
    assert _ms(rows[1]["last_seen"]) == POOL.last_ms


def test_ipfix_options_with_only_unread_variable_fields_do_not_spoil_the_datagram() -> None:
    options = flowset(3, options_template_record(700, [(149, 4)], [(82, 65_535)], ipfix=True))
    names = flowset(700, encode([(149, 4), (82, 65_535)], {149: 1, 82: b"eth0"}))
    template = flowset(2, template_record(256, IPFIX_FIELDS, ipfix=True))
    data = flowset(256, encode(IPFIX_FIELDS, flow_values(MINER)))
    decoder = NetFlowDecoder()
    rows = _rows(decoder, ipfix_message([options, names, template, data], T0 // 1000))
    assert len(rows) == 1
    assert decoder.stats.option_records == 1
    assert decoder.stats.malformed == 0


def test_ipfix_biflow_reverse_fields_become_the_other_direction() -> None:
    fields = [*IPFIX_FIELDS, (2, 4, 29305), (1, 8, 29305), (6, 1, 29305)]
    one_way = Flow("10.1.2.3", "198.51.100.1", 51001, 443, 3, 180, T0, T0 + 10)
    values = [
        {**flow_values(MINER), -2: (10).to_bytes(4, "big"), -1: (2400).to_bytes(8, "big"),
         -6: b"\x12"},
        {**flow_values(one_way), -2: bytes(4), -1: bytes(8), -6: b"\x00"},
    ]  # fmt: skip
    data = ipfix_message(
        [
            flowset(2, template_record(256, fields, ipfix=True)),
            flowset(256, b"".join(encode(fields, v) for v in values)),
        ],
        T0 // 1000 + 60,
    )
    rows = _rows(NetFlowDecoder(), data)
    assert [
        (r["src_ip"], r["src_port"], r["packets"], r["bytes"], r["tcp_flags"]) for r in rows
    ] == [
        ("10.1.2.3", 51000, 12, 1500, 0x1A),
        ("10.1.2.3", 51001, 3, 180, 0x1A),
        ("203.0.113.7", 3333, 10, 2400, 0x12),  # no reverse record for the one-way flow
    ]


def test_ipfix_uptime_times_need_the_system_init_time_from_options() -> None:
    boot = T0 - 86_400_000
    fields = [*IPFIX_FIELDS[:8], (22, 4), (21, 4)]
    options = flowset(3, options_template_record(600, [(149, 4)], [(160, 8)], ipfix=True))
    init = flowset(600, struct.pack("!IQ", 0, boot))
    template = flowset(2, template_record(601, fields, ipfix=True))
    data = flowset(601, encode(fields, flow_values(MINER, boot)))
    decoder = NetFlowDecoder()
    without = _rows(decoder, ipfix_message([template, data], T0 // 1000 + 60), exporter="x")
    assert without[0]["first_seen"] is None
    assert decoder.stats.records_without_time == 1
    rows = _rows(decoder, ipfix_message([options, init, template, data], T0 // 1000 + 60))
    assert _ms(rows[0]["first_seen"]) == MINER.first_ms
    assert _ms(rows[0]["last_seen"]) == MINER.last_ms


def test_ipfix_template_withdrawal_forgets_the_template() -> None:
    template = flowset(2, template_record(256, IPFIX_FIELDS, ipfix=True))
    data = flowset(256, encode(IPFIX_FIELDS, flow_values(MINER)))
    decoder = NetFlowDecoder()
    assert len(_rows(decoder, ipfix_message([template, data], T0 // 1000))) == 1
    withdrawal = flowset(2, struct.pack("!HH", 256, 0))
    assert _rows(decoder, ipfix_message([withdrawal, data], T0 // 1000)) == []
    assert decoder.pending_sets() == 1


def test_malformed_datagrams_are_counted_with_their_reason_and_never_raise() -> None:
    good = v5_datagram([MINER], export_ms=T0 + 60_000)
    template = flowset(2, template_record(256, IPFIX_FIELDS, ipfix=True))
    bad_set = struct.pack("!HH", 256, 2000) + bytes(10)
    cases = [
        b"",
        b"\x00\x05",
        good[:-10],  # cut short
        struct.pack("!H", 7) + good[2:],  # unknown version
        ipfix_message([template], T0 // 1000)[:-3],  # message length larger than the datagram
        ipfix_message([bad_set], T0 // 1000),  # set runs past the message
        ipfix_message([flowset(2, struct.pack("!HHHH", 256, 1, 8, 0))], T0 // 1000),
        v9_datagram([flowset(0, struct.pack("!HH", 256, 0))], T0 // 1000),  # no fields
    ]
    decoder = NetFlowDecoder()
    for case in cases:
        assert decoder.decode(case, "x") == []
    assert decoder.stats.malformed == len(cases)
    assert decoder.stats.datagrams == len(cases)
    assert "v5 record count does not match the length" in decoder.stats.malformed_reasons
    assert len(decoder.decode(good, "x")) == 1  # and it goes on decoding


def test_a_malformed_datagram_gives_no_records_at_all() -> None:
    template = flowset(2, template_record(256, IPFIX_FIELDS, ipfix=True))
    data = flowset(256, encode(IPFIX_FIELDS, flow_values(MINER)))
    broken = ipfix_message([template, data, struct.pack("!HH", 256, 900)], T0 // 1000)
    decoder = NetFlowDecoder()
    assert decoder.decode(broken, "x") == []
    assert decoder.stats.records == 0


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400), st.sampled_from([5, 9, 10]))
def test_random_bytes_after_a_valid_header_never_raise(tail: bytes, version: int) -> None:
    decoder = NetFlowDecoder()
    head = {
        5: struct.pack("!HHIIIIBBH", 5, 2, 0, 0, 0, 0, 0, 0, 0),
        9: struct.pack("!HHIIII", 9, 2, 0, 0, 0, 0),
        10: struct.pack("!HHIII", 10, 16 + len(tail), 0, 0, 0),
    }[version]
    template = ipfix_message([flowset(2, template_record(256, IPFIX_FIELDS, True))], 0)
    decoder.decode(template, "x")
    decoder.decode(head + tail, "x")
    assert decoder.stats.datagrams == 2


_FIELD = st.tuples(
    st.sampled_from([1, 2, 4, 6, 7, 8, 11, 12, 21, 22, 27, 28, 34, 152, 153, 160, 305, 306, 999]),
    st.sampled_from([0, 1, 2, 3, 4, 6, 8, 16, 65_535]),
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(_FIELD, min_size=1, max_size=12),
    st.binary(max_size=300),
    st.booleans(),
    st.booleans(),
)
def test_random_templates_with_random_data_never_raise(
    fields: list[tuple[int, int]], body: bytes, options: bool, ipfix: bool
) -> None:
    if options:
        record = options_template_record(256, fields[:1], fields[1:], ipfix)
    else:
        record = template_record(256, [f for f in fields if ipfix or f[1] != 65_535], ipfix)
    sets = [flowset((3 if options else 2) if ipfix else int(options), record), flowset(256, body)]
    message = ipfix_message(sets, T0 // 1000) if ipfix else v9_datagram(sets, T0 // 1000)
    decoder = NetFlowDecoder()
    chunks = decoder.decode(message, "x")
    chunks_table(chunks)
    assert decoder.stats.datagrams == 1


def test_field_numbers_follow_the_iana_registry() -> None:
    assert (nf.IE_SRC_V4, nf.IE_DST_V4, nf.IE_START_MS, nf.IE_SYSTEM_INIT_MS) == (8, 12, 152, 160)
