"""What the first payloads of a TCP connection say: is it a miner talking to a pool?

Miners and pools speak a handful of JSON-RPC dialects, line by line over TCP or in HTTP bodies:

- **Stratum v1** (Bitcoin and most SHA-256/Scrypt coins, also Ethereum's "EthereumStratum"):
  ``mining.subscribe`` (its first parameter is the miner software), ``mining.authorize`` (the
  account, often ``wallet.worker``), ``mining.configure``, ``mining.submit`` from the miner;
  ``mining.notify`` (new work) and ``mining.set_difficulty`` from the pool;
- **eth-proxy** (Ethereum miners): ``eth_submitLogin`` (wallet, optional ``worker``),
  ``eth_getWork``, ``eth_submitWork``, ``eth_submitHashrate``, over TCP or HTTP POST;
- **Monero-style** (CryptoNote, XMRig and its kin): ``login`` with a parameter object holding the
  wallet as ``login`` (and usually ``pass``, ``agent``, ``rigid``), ``job`` from the pool with a
  ``blob`` and a ``target``, ``submit`` with a ``nonce`` and a ``result``, ``keepalived``;
- **getwork / getblocktemplate / submitblock**: Bitcoin's own RPC, used by solo miners over
  HTTP.

A capture may begin mid-session: then the pool's ``mining.notify`` or ``job`` is the first thing
seen. Stratum V2 is encrypted after a Noise handshake whose first client message is 64 bytes and,
unlike TLS, has no record header: a shape, weaker evidence than a method name.

Any key order, whitespace and batching is accepted (the messages are parsed as JSON; a message
cut short by the capture is read by its method's text alone). Other JSON-RPC — a monitoring
server's ``user.login``, a wallet's ``getbalance`` — is not mining: the methods are matched
whole, and the generic names (``login``, ``submit``, ``job``) only with the parameters their
mining dialect gives them.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

STRATUM = "stratum"
ETH_PROXY = "eth-proxy"
MONERO = "monero-stratum"
GETWORK = "getwork"
STRATUM_V2 = "stratum-v2"

_ETH_METHODS = frozenset({"eth_submitLogin", "eth_getWork", "eth_submitWork", "eth_submitHashrate"})
_GETWORK_METHODS = frozenset({"getwork", "getblocktemplate", "submitblock"})
_STRATUM_SERVER = frozenset({"mining.notify", "mining.set_difficulty", "mining.set_extranonce"})
_POOL_SENT = _STRATUM_SERVER | {
    "mining.set_version_mask",
    "mining.subscribe-result",
    "job",
    "getwork-result",
}
_HTTP_REQUEST = re.compile(rb"^(POST|GET|PUT) \S+ HTTP/1\.[01]\r?\n", re.IGNORECASE)
_HTTP_RESPONSE = re.compile(rb"^HTTP/1\.[01] \d{3}")
_METHOD_TEXT = re.compile(rb'"method"\s*:\s*"([A-Za-z0-9_.]{1,64})"')
_NOISE_FIRST_MESSAGE = 64
_GETWORK_WORK = frozenset({"data", "target", "midstate"})
"""The keys of getwork's work (``hash1`` too, in the original form)."""
_MINING_HEADERS = re.compile(
    rb"^(X-Mining-Extensions|X-Mining-Hashrate|X-Long-Polling|X-Roll-NTime|X-Stratum)\s*:",
    re.IGNORECASE | re.MULTILINE,
)
"""HTTP headers only mining software and pools send (getwork's extensions)."""
_ALPN_WEB = frozenset({"h2", "http/1.1", "http/1.0", "h3", "spdy/3.1"})
_HTTP_SWITCHED = re.compile(rb"^HTTP/1\.[01] 101")
_HTTP_OK = re.compile(rb"^HTTP/1\.[01] 2\d\d")
_MONERO_KEYS = re.compile(r'"(agent|rigid|blob|job_id|nonce|pass)"\s*:')
"""The keys of the Monero dialect's parameters: a cut-off ``login`` needs one of them."""

_WALLETS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("ETH", re.compile(r"^0x[0-9a-fA-F]{40}$")),
    ("XMR", re.compile(r"^[48][1-9A-HJ-NP-Za-km-z]{93,105}$")),
    ("BTC", re.compile(r"^(bc1[02-9ac-hj-np-z]{11,71}|[13][1-9A-HJ-NP-Za-km-z]{25,34})$")),
    ("ZEC", re.compile(r"^(t1|t3)[1-9A-HJ-NP-Za-km-z]{33}$")),
    ("LTC", re.compile(r"^(ltc1[02-9ac-hj-np-z]{11,71}|[LM][1-9A-HJ-NP-Za-km-z]{26,33})$")),
)


@dataclass(frozen=True)
class MessageMatch:
    """The mining message found in a connection's first payloads, and what it gives away."""

    protocol: str  # STRATUM, ETH_PROXY, MONERO, GETWORK or STRATUM_V2
    method: str  # the method that matched, e.g. ``mining.subscribe``
    sender: str  # "client" or "server": who sent it
    reason: str  # dotted reason code, e.g. ``network.stratum.subscribe``
    confidence: float
    evidence: str  # the matched message (shortened)
    coin: str | None = None
    wallet: str | None = None
    worker: str | None = None
    agent: str | None = None


def inspect_payloads(
    client: bytes, server: bytes, opening: int | None = None
) -> MessageMatch | None:
    """The strongest mining message in the first bytes each side sent (``None`` if none).

    ``client`` is what the side that opened the connection sent, ``server`` the other side;
    either may be empty. A match on the client side (the miner's own login, with its wallet and
    worker) is preferred; then the pool's; then the Stratum V2 handshake shape, judged on the
    client's first packet: ``opening`` is its payload size when known (``client`` holds the
    first packets one after the other), else ``client`` is taken as that packet."""
    found = _first(client, "client") or _first(server, "server") or _mining_http(client, server)
    if found is not None:
        return _with_details(found, client, server)
    if _looks_like_noise_handshake(client, len(client) if opening is None else opening):
        return MessageMatch(
            protocol=STRATUM_V2,
            method="noise-handshake",
            sender="client",
            reason="network.stratum2.handshake_shape",
            confidence=0.4,
            evidence=f"{len(client)}-byte first message without a TLS header",
        )
    return None


def web_client(client: bytes, server: bytes = b"") -> bool:
    """Whether the side that opened the connection is a web client: an HTTP request in the clear
    (that :func:`inspect_payloads` found no mining in), or a TLS ClientHello offering HTTP by
    ALPN (``h2``, ``http/1.1``), as browsers do and miners do not. A pool's name on such a
    connection is a visit to its web site (a dashboard, a payout page), not mining — unless
    the server switched it to WebSocket (``101``), the channel of in-browser miners."""
    if _HTTP_SWITCHED.match(server):
        return False
    if _HTTP_REQUEST.match(client) or client.startswith((b"GET ", b"HEAD ")):
        return True
    return bool(_ALPN_WEB & set(tls_alpn(client)))


def tls_alpn(client: bytes) -> list[str]:
    """The ALPN protocol names a TLS ClientHello at the start of ``client`` offers (none when
    it is not one, or offers none)."""
    if len(client) < 48 or client[0] != 0x16 or client[5] != 0x01:
        return []
    try:
        at = 9 + 2 + 32  # record and handshake headers, version, random
        at += 1 + client[at]  # session id
        at += 2 + int.from_bytes(client[at : at + 2], "big")  # cipher suites
        at += 1 + client[at]  # compression methods
        end = min(len(client), at + 2 + int.from_bytes(client[at : at + 2], "big"))
        at += 2
        while at + 4 <= end:
            kind = int.from_bytes(client[at : at + 2], "big")
            size = int.from_bytes(client[at + 2 : at + 4], "big")
            if kind == 0x0010:
                names, cursor, stop = [], at + 6, min(end, at + 4 + size)
                while cursor < stop:
                    length = client[cursor]
                    names.append(client[cursor + 1 : cursor + 1 + length].decode("latin-1"))
                    cursor += 1 + length
                return names
            at += 4 + size
    except IndexError:
        return []
    return []


def sent_by_pool(method: str) -> bool:
    """Whether ``method`` is one a pool sends (new work, difficulty) rather than a miner."""
    return method in _POOL_SENT


def _first(payload: bytes, sender: str) -> MessageMatch | None:
    for message, text in _messages(payload):
        match = _classify(message, text, sender)
        if match is not None:
            return match
    return None


def _messages(payload: bytes) -> Iterator[tuple[dict[str, Any], str]]:
    """Every JSON-RPC object in a payload (HTTP bodies, lines, batches), with its text; a line
    cut short yields its method alone."""
    if not payload:
        return
    body = payload
    if _HTTP_REQUEST.match(payload) or _HTTP_RESPONSE.match(payload):
        _, _, body = payload.partition(b"\r\n\r\n")
        if not body:
            _, _, body = payload.partition(b"\n\n")
    for raw in body.splitlines():
        line = raw.strip()
        if not line.startswith((b"{", b"[")):
            continue
        text = line.decode("utf-8", "replace")
        try:
            parsed = json.loads(text)
        except ValueError:
            method = _METHOD_TEXT.search(line)
            if method is not None:
                yield {"method": method.group(1).decode("ascii"), "_cut": True}, text
            continue
        for item in parsed if isinstance(parsed, list) else [parsed]:
            if isinstance(item, dict):
                yield item, text


def _classify(message: dict[str, Any], text: str, sender: str) -> MessageMatch | None:
    method = message.get("method")
    cut = bool(message.get("_cut"))
    params = message.get("params")

    def match(protocol: str, reason: str, confidence: float) -> MessageMatch:
        return MessageMatch(
            protocol=protocol,
            method=str(method),
            sender=sender,
            reason=reason,
            confidence=confidence,
            evidence=text[:240],
        )

    result = message.get("result")
    if sender == "server" and isinstance(result, dict) and result.keys() >= _GETWORK_WORK:
        # getwork's answer (also a long poll's): a block header to hash and its target.
        return MessageMatch(
            protocol=GETWORK,
            method="getwork-result",
            sender=sender,
            reason="network.getwork.work",
            confidence=0.9,
            evidence=text[:240],
        )
    if not isinstance(method, str):
        # A pool's answer to mining.subscribe names the notifications it will send.
        if sender == "server" and any(f'"{m}"' in text for m in _STRATUM_SERVER):
            return MessageMatch(
                protocol=STRATUM,
                method="mining.subscribe-result",
                sender=sender,
                reason="network.stratum.subscribe_result",
                confidence=0.9,
                evidence=text[:240],
            )
        return None
    if method.startswith("mining.") and len(method) > len("mining."):
        name = method.removeprefix("mining.").replace(".", "_")
        return match(STRATUM, f"network.stratum.{name}", 0.99)
    if method in _ETH_METHODS:
        return match(ETH_PROXY, f"network.ethproxy.{method.removeprefix('eth_').lower()}", 0.97)
    if method in _GETWORK_METHODS:
        return match(GETWORK, f"network.getwork.{method}", 0.9)
    generic = method in ("login", "job", "submit", "keepalived")
    if generic and (_monero_shaped(method, params) or (cut and _MONERO_KEYS.search(text))):
        return match(MONERO, f"network.monero.{method}", 0.8 if cut else 0.97)
    return None


def _mining_http(client: bytes, server: bytes) -> MessageMatch | None:
    """A request with getwork's HTTP headers (a long poll carries no method) that the pool
    answered with success; a request it refused is an attempt, not mining."""
    if not (_HTTP_REQUEST.match(client) and _HTTP_OK.match(server)):
        return None
    head = client.split(b"\r\n\r\n", 1)[0]
    header = _MINING_HEADERS.search(head)
    if header is None:
        return None
    return MessageMatch(
        protocol=GETWORK,
        method=header.group(1).decode("ascii"),
        sender="client",
        reason="network.getwork.http_headers",
        confidence=0.85,
        evidence=head.decode("latin-1")[:240],
    )


def _monero_shaped(method: str, params: Any) -> bool:
    """The parameters a CryptoNote pool dialect gives its generic method names."""
    if method == "keepalived":
        return isinstance(params, dict) and "id" in params
    if not isinstance(params, dict):
        return False
    if method == "login":
        return isinstance(params.get("login"), str) and ("pass" in params or "agent" in params)
    if method == "job":
        return "blob" in params and ("target" in params or "job_id" in params)
    return "nonce" in params and ("result" in params or "job_id" in params)


def _with_details(found: MessageMatch, client: bytes, server: bytes) -> MessageMatch:
    """The wallet, worker and miner software from whatever login the payloads carry."""
    wallet = worker = agent = None
    for message, _ in [*_messages(client), *_messages(server)]:
        method, params = message.get("method"), message.get("params")
        if method == "mining.subscribe" and isinstance(params, list) and params:
            agent = agent or _text(params[0])
        elif (
            method in ("mining.authorize", "mining.submit") and isinstance(params, list) and params
        ):
            account = _text(params[0])
            if account:
                found_wallet, found_worker = _split_account(account)
                wallet, worker = wallet or found_wallet, worker or found_worker
        elif method == "eth_submitLogin" and isinstance(params, list) and params:
            found_wallet, found_worker = _split_account(_text(params[0]) or "")
            wallet = wallet or found_wallet
            worker = worker or _text(message.get("worker")) or found_worker
            agent = agent or _text(message.get("agent"))
        elif method == "login" and isinstance(params, dict):
            found_wallet, found_worker = _split_account(_text(params.get("login")) or "")
            wallet = wallet or found_wallet
            worker = worker or _text(params.get("rigid")) or found_worker or _worker_pass(params)
            agent = agent or _text(params.get("agent"))
    if _HTTP_REQUEST.match(client):
        # Over HTTP the account rides in the request: Basic authentication (getwork's
        # ``wallet.worker:password``) or the path (eth-proxy's ``/wallet/worker``); the miner
        # software in the User-Agent.
        account, software = _http_account(client)
        found_wallet, found_worker = _split_account(account or "")
        wallet, worker = wallet or found_wallet, worker or found_worker
        agent = agent or software
    coin = _coin(wallet) or {ETH_PROXY: "ETH", MONERO: "XMR"}.get(found.protocol)
    return replace(found, coin=coin, wallet=wallet, worker=worker, agent=agent)


def _http_account(request: bytes) -> tuple[str | None, str | None]:
    """The account (``user`` of Basic authentication, or a path that names a wallet) and the
    User-Agent of an HTTP request."""
    head = request.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    lines = head.splitlines()
    fields = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if colon:
            fields[name.strip().lower()] = value.strip()
    account = None
    scheme, _, credentials = fields.get("authorization", "").partition(" ")
    if scheme.lower() == "basic" and credentials:
        try:
            decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            decoded = ""
        account = decoded.partition(":")[0].strip() or None
    if account is None and len(lines[0].split()) == 3:
        segments = [part for part in lines[0].split()[1].split("?")[0].split("/") if part]
        for index, segment in enumerate(segments):
            if _split_account(segment)[0] and _coin(_split_account(segment)[0]):
                rest = segments[index + 1 : index + 2]
                account = segment if "." in segment or not rest else f"{segment}.{rest[0]}"
                break
    return account, fields.get("user-agent") or None


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _split_account(account: str) -> tuple[str | None, str | None]:
    """``wallet.worker`` (or ``wallet/worker/email``, ``wallet+difficulty``) into its parts. The
    wallet is the longest start that is an address; an account with none is a pool user name,
    its worker after the first dot."""
    if not account:
        return None, None
    base = account.split("+", 1)[0]
    cuts = [i for i, c in enumerate(base) if c in "./"]
    for cut in reversed(cuts):
        if _coin(base[:cut]) is not None:
            return base[:cut], base[cut + 1 :].split("/", 1)[0] or None
    if _coin(base) is not None or "." not in base:
        return base, None
    user, worker = base.split(".", 1)
    return user or None, worker or None


def _worker_pass(params: dict[str, Any]) -> str | None:
    """Monero pools often take the worker name as the password (``x`` means none)."""
    password = _text(params.get("pass"))
    return password if password and password.lower() not in ("x", "password") else None


def _coin(wallet: str | None) -> str | None:
    if not wallet:
        return None
    return next((coin for coin, pattern in _WALLETS if pattern.match(wallet)), None)


def _looks_like_noise_handshake(client: bytes, opening: int) -> bool:
    """Stratum V2's first message: 64 bytes, no TLS record header, not text."""
    first = client[:_NOISE_FIRST_MESSAGE]
    if opening != _NOISE_FIRST_MESSAGE or len(first) < opening or first[:1] == b"\x16":
        return False
    printable = sum(32 <= b < 127 for b in first)
    return printable < 0.8 * len(first)
