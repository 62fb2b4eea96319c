"""Mining flows in a packet capture: nfstream's flows, each with its first payloads inspected.

nfstream (with nDPI) groups packets into bidirectional flows and labels them; its ``Mining``
label is one signal. The first bytes each side of a TCP flow sends (a few packets, then no
more) go to :func:`.messages.inspect_payloads`; a TLS server name or a DNS query for a known
pool (:mod:`minewatch.reference.pools`) is another.

The first bytes are read one of two ways (``inspect``): from a capture file, by the compiled
pass of :mod:`.capture`, beside an nfstream without plugins (the fast way: any plugin makes
nfstream build a Python object for every packet); or, for a source that is not a file (a live
interface), by :class:`FirstPayloads`, an nfstream plugin that stops looking after the first
packets. Both give the same verdicts (``tests/detect/test_network_capture.py``).

Who is the client? The side that sent the SYN, when the capture has it. A capture that begins
mid-session has none: then the message decides (a ``mining.submit`` comes from the miner, a
``mining.notify`` from the pool), and failing that the side on a known pool port is the server.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from itertools import chain
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
from nfstream import NFPlugin, NFStreamer

from minewatch.detect.network.capture import (
    PASS_LINKS,
    PAYLOAD_BYTES,
    PAYLOAD_PACKETS,
    FirstBytes,
    FlowKey,
    link_types,
    needs_rewriting,
    read_first_payloads,
)
from minewatch.detect.network.messages import (
    STRATUM_V2,
    MessageMatch,
    inspect_payloads,
    sent_by_pool,
    web_client,
)
from minewatch.errors import MineWatchError
from minewatch.reference.pools import EVERYDAY_PORTS, pool_host, pool_ports

IDLE_TIMEOUT_S = 600
"""nfstream's idle timeout [s]: a tuple silent this long starts a new flow."""
ACTIVE_TIMEOUT_S = 86_400
"""nfstream's active timeout [s]: a flow this old is cut and a new one begins."""
HANDSHAKE_PACKETS = 12
"""Packets a TCP and TLS handshake take (with a little slack): a flow with a pool's name and no
more than this is an attempt, not a session."""
_TCP = 6
_log = logging.getLogger(__name__)


class FirstPayloads(NFPlugin):  # type: ignore[misc]
    """Keeps the first payload bytes of each direction of a TCP flow, and who sent the SYN."""

    def on_init(self, packet: Any, flow: Any) -> None:
        flow.udps.payload = [bytearray(), bytearray()]
        flow.udps.packets = [0, 0]
        flow.udps.first = [0, 0]
        flow.udps.syn_from = -1
        self.on_update(packet, flow)

    def on_update(self, packet: Any, flow: Any) -> None:
        if packet.protocol != _TCP:
            return
        side = packet.direction
        if packet.syn and not packet.ack and flow.udps.syn_from < 0:
            flow.udps.syn_from = side
        size = packet.payload_size
        if size <= 0 or flow.udps.packets[side] >= PAYLOAD_PACKETS:
            return
        if flow.udps.packets[side] == 0:
            flow.udps.first[side] = size
        flow.udps.packets[side] += 1
        kept = flow.udps.payload[side]
        if len(kept) < PAYLOAD_BYTES:
            # The payload ends where the IP packet does (padding after it is not payload) and
            # is cut where the capture's snap length cut the packet.
            start = packet.ip_size - size
            kept += packet.ip_packet[start : start + size][: PAYLOAD_BYTES - len(kept)]


@dataclass(frozen=True)
class FlowVerdict:
    """One flow of a capture, oriented client → server, and what makes it mining (if it is)."""

    client_ip: str
    client_port: int
    server_ip: str
    server_port: int
    transport: str
    first_seen: datetime
    last_seen: datetime
    packets: int
    bytes: int
    mining: bool
    confidence: float
    reason: str  # dotted reason codes, strongest first; empty when clean
    ndpi_label: str
    pool_host: str | None
    coin: str | None
    wallet: str | None
    worker: str | None
    agent: str | None
    method: str | None
    evidence: str


Inspect = Literal["file", "plugin"]
"""How the first payloads are read: by the compiled pass over the file, or by the plugin."""


def scan_capture(path: str | Path, inspect: Inspect | None = None) -> list[FlowVerdict]:
    """Every flow of a pcap or pcapng file (or of a live interface), with its verdict.

    ``inspect`` is ``"file"`` (the compiled pass beside a plugin-free nfstream; the default for
    a file) or ``"plugin"`` (:class:`FirstPayloads`; the default, and the only way, for a
    source that is not a file). A file the compiled pass cannot read raises
    :class:`MineWatchError` naming the byte offset. A file with link types nfstream does not
    read (:func:`.capture.needs_rewriting`) is first written again as Ethernet, and nfstream
    reads that, either way; one with link types the pass does not read (PPP, radiotap: not
    in :data:`.capture.PASS_LINKS`) is inspected by the plugin."""
    is_file = Path(path).is_file()
    if inspect is None:
        inspect = "file" if is_file else "plugin"
    if not is_file:
        if inspect == "file":
            raise MineWatchError(f"{path}: no such capture file")
        return _by_plugin(path)
    links = link_types(path)
    if any(link not in PASS_LINKS for link in links):
        _log.info("%s: link types %s are inspected by the nfstream plugin", path, links)
        return _by_plugin(path)
    if needs_rewriting(links):
        with tempfile.TemporaryDirectory(prefix="minewatch-capture-") as folder:
            rewritten = Path(folder) / "rewritten.pcap"
            found = read_first_payloads(path, IDLE_TIMEOUT_S, ACTIVE_TIMEOUT_S, rewritten)
            if inspect == "plugin":
                return _by_plugin(rewritten)
            judged = _judge(_streamer(rewritten), found)
            return judged if judged is not None else _by_plugin(rewritten)
    return _by_plugin(path) if inspect == "plugin" else _by_file(path)


def _by_plugin(source: str | Path) -> list[FlowVerdict]:
    return [_verdict(flow, _plugin_payloads(flow)) for flow in _streamer(source, plugin=True)]


def _by_file(path: str | Path) -> list[FlowVerdict]:
    """The compiled pass runs on a thread (ctypes lets go of the interpreter lock) beside
    nfstream's meter process; flows that expire before it is done wait for it, the rest are
    judged as they come."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="minewatch-capture") as pool:
        reading: Future[dict[FlowKey, FirstBytes]] = pool.submit(
            read_first_payloads, path, IDLE_TIMEOUT_S, ACTIVE_TIMEOUT_S
        )
        pending: list[Any] = []
        try:
            flows = iter(_streamer(path))
            for flow in flows:
                pending.append(flow)
                if reading.done():
                    break
            found = reading.result()
            # The rest are judged as nfstream's meter hands them over (the two overlap).
            judged = _judge(chain(pending, flows), found)
        except ValueError:
            reading.result()  # a broken file: the pass names the offset
            raise
    return judged if judged is not None else _by_plugin(path)


def _judge(flows: Iterable[Any], found: dict[FlowKey, FirstBytes]) -> list[FlowVerdict] | None:
    """The verdicts of nfstream's ``flows`` with the pass's payloads; ``None`` when a TCP flow
    is one the pass did not see (nfstream decodes GTP, CAPWAP and TZSP tunnels, the pass does
    not): then the plugin must read the file."""
    verdicts = []
    for flow in flows:
        first = _file_payloads(flow, found)
        if first is None:
            _log.info("a tunnelled TCP flow: the capture is inspected by the nfstream plugin")
            return None
        verdicts.append(_verdict(flow, first))
    return verdicts


def _streamer(path: str | Path, plugin: bool = False) -> Any:
    return NFStreamer(
        source=str(path),
        udps=[FirstPayloads()] if plugin else None,
        statistical_analysis=False,
        n_dissections=20,
        idle_timeout=IDLE_TIMEOUT_S,
        active_timeout=ACTIVE_TIMEOUT_S,
    )


def _plugin_payloads(flow: Any) -> FirstBytes:
    """The first payloads and the SYN's side, as :class:`FirstPayloads` kept them."""
    payload = getattr(flow.udps, "payload", None) if flow.protocol == _TCP else None
    if not payload:
        return _NOTHING
    first = flow.udps.first
    return FirstBytes(
        (bytes(payload[0]), bytes(payload[1])), int(flow.udps.syn_from), (first[0], first[1])
    )


def _file_payloads(flow: Any, found: dict[FlowKey, FirstBytes]) -> FirstBytes | None:
    """The first payloads and the SYN's side of ``flow``, from the compiled pass (``None`` for
    a TCP flow the pass did not see)."""
    if flow.protocol != _TCP:
        return _NOTHING
    key = (
        flow.src_ip,
        int(flow.src_port),
        flow.dst_ip,
        int(flow.dst_port),
        int(flow.vlan_id),
        int(flow.bidirectional_first_seen_ms),
    )
    return found.get(key)


_NOTHING = FirstBytes((b"", b""), -1)


def _verdict(flow: Any, first: FirstBytes) -> FlowVerdict:
    tcp = flow.protocol == _TCP
    sides = first.payloads
    flipped = _flipped(flow, first.syn_from, sides)
    client, server = (sides[1], sides[0]) if flipped else sides
    opening = first.first_sizes[1 if flipped else 0] or None
    match: MessageMatch | None = inspect_payloads(client, server, opening) if tcp else None
    host = pool_host(flow.requested_server_name)
    reasons: list[str] = []
    confidence = 0.0
    ends = (flow.src_ip, flow.src_port, flow.dst_ip, flow.dst_port)
    c_ip, c_port, s_ip, s_port = (ends[2], ends[3], ends[0], ends[1]) if flipped else ends
    if match is not None:
        reasons.append(match.reason)
        confidence = match.confidence
        if match.protocol == STRATUM_V2 and int(s_port) in pool_ports() - EVERYDAY_PORTS:
            # The handshake's shape alone is weak; towards a pool's port it is enough.
            reasons.append("network.pool_port")
            confidence = 0.7
    # A browser on a pool's web site (HTTP read and not mining, or TLS offering HTTP by ALPN)
    # names the pool too, and nDPI labels it by that name: a visit, not mining.
    website = tcp and match is None and web_client(client, server)
    if host is not None:
        # A TLS session with a pool is mining even though its messages cannot be read; a
        # handshake alone (a miner trying TLS before plain text) or a DNS query is intent.
        session = tcp and flow.bidirectional_packets > HANDSHAKE_PACKETS
        if website:
            reasons.append("network.pool_website")
        else:
            reasons.append("network.pool_host" if tcp else "network.pool_query")
        confidence = max(confidence, 0.95 if session and not website else 0.45)
    label = f"{flow.application_name}"
    if "Mining" in label:
        # nDPI also labels bare connection attempts to known pool addresses: evidence of
        # intent, not of mining, until the two sides exchange data.
        reasons.append("network.ndpi.mining")
        exchanged = (any(sides) and not website) or not tcp
        confidence = max(confidence, 0.9 if exchanged else 0.3)
    return FlowVerdict(
        client_ip=c_ip,
        client_port=int(c_port),
        server_ip=s_ip,
        server_port=int(s_port),
        transport={6: "tcp", 17: "udp"}.get(flow.protocol, str(flow.protocol)),
        first_seen=datetime.fromtimestamp(flow.bidirectional_first_seen_ms / 1000, UTC),
        last_seen=datetime.fromtimestamp(flow.bidirectional_last_seen_ms / 1000, UTC),
        packets=int(flow.bidirectional_packets),
        bytes=int(flow.bidirectional_bytes),
        mining=bool(reasons) and confidence >= 0.5,
        confidence=confidence,
        reason="; ".join(reasons),
        ndpi_label=label,
        pool_host=host,
        coin=match.coin if match else None,
        wallet=match.wallet if match else None,
        worker=match.worker if match else None,
        agent=match.agent if match else None,
        method=match.method if match else None,
        evidence=match.evidence if match else "",
    )


def _flipped(flow: Any, syn_from: int, sides: tuple[bytes, bytes]) -> bool:
    """Whether nfstream's source is the server (the flow must be turned round)."""
    if syn_from >= 0:
        return syn_from == 1
    # Mid-session: the messages say which side is the miner (a submit) and which the pool
    # (new work).
    for side, payload in enumerate(sides):
        match = inspect_payloads(payload, b"")
        if match is not None and match.protocol != STRATUM_V2:
            return (side == 0) == sent_by_pool(match.method)
    ports = pool_ports()
    return flow.src_port in ports and flow.dst_port not in ports


NETWORK_FINDINGS_SCHEMA = pa.schema(
    [
        pa.field("capture", pa.string()),
        pa.field("client_ip", pa.string()),
        pa.field("client_port", pa.int32()),
        pa.field("server_ip", pa.string()),
        pa.field("server_port", pa.int32()),
        pa.field("transport", pa.string()),
        pa.field("first_seen", pa.timestamp("ms", tz="UTC")),
        pa.field("last_seen", pa.timestamp("ms", tz="UTC")),
        pa.field("mining", pa.bool_()),
        pa.field("coin", pa.string()),
        pa.field("pool_host", pa.string()),
        pa.field("wallet", pa.string()),
        pa.field("worker", pa.string()),
        pa.field("agent", pa.string()),
        pa.field("method", pa.string()),
        pa.field("confidence", pa.float64()),
        pa.field("reason", pa.string()),
        pa.field("ndpi_label", pa.string()),
        pa.field("packets", pa.int64()),
        pa.field("bytes", pa.int64()),
        pa.field("evidence", pa.string()),
        pa.field("enterprise", pa.string()),
        pa.field("address", pa.string()),
        pa.field("uscc", pa.string()),
        pa.field("region_code", pa.string()),
        pa.field("isp", pa.string()),
        pa.field("internal_ip", pa.string()),
        pa.field("internal_port", pa.int32()),
        pa.field("mac", pa.string()),
        pa.field("host_name", pa.string()),
        pa.field("as_org", pa.string()),
        pa.field("as_network", pa.string()),
        pa.field("attributed_by", pa.string()),
    ]
)
"""One flow per row, client → server. The columns from ``enterprise`` on are empty until
:func:`minewatch.detect.network.attribution.attribute_findings` fills them."""


def findings_table(verdicts: list[tuple[str, FlowVerdict]]) -> pa.Table:
    """``(capture name, verdict)`` pairs as :data:`NETWORK_FINDINGS_SCHEMA` rows."""
    rows: dict[str, list[Any]] = {name: [] for name in NETWORK_FINDINGS_SCHEMA.names}
    for capture, verdict in verdicts:
        values = asdict(verdict)
        for name in rows:
            if name == "capture":
                rows[name].append(capture)
            elif name not in values:  # the attribution columns, filled later
                rows[name].append(None)
            else:
                rows[name].append(values[name])
    return pa.table(rows, schema=NETWORK_FINDINGS_SCHEMA)


def scan_captures(paths: list[Path], all_flows: bool = False) -> pa.Table:
    """The mining flows (every flow with ``all_flows``) of each capture, in order."""
    verdicts: list[tuple[str, FlowVerdict]] = []
    for path in paths:
        if not path.is_file():
            raise MineWatchError(f"{path}: no such capture file")
        try:
            found = scan_capture(path)
        except ValueError as error:
            raise MineWatchError(
                f"{path}: not a readable pcap or pcapng capture ({error})"
            ) from None
        verdicts += [(path.name, v) for v in found if all_flows or v.mining]
    return findings_table(verdicts)
