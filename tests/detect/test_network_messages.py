"""The mining dialects, recognised from crafted payloads (any key order, whitespace, batching,
HTTP or raw TCP, either direction), and ordinary JSON-RPC left alone."""

from __future__ import annotations

import base64
import json
import os

import pytest

from minewatch.detect.network.messages import (
    ETH_PROXY,
    GETWORK,
    MONERO,
    STRATUM,
    STRATUM_V2,
    inspect_payloads,
    sent_by_pool,
    tls_alpn,
    web_client,
)
from minewatch.reference.pools import pool_host, pool_ports
from minewatch.synth.traffic import client_hello

BTC_WALLET = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"
ETH_WALLET = "0x52bc44d5378309ee2abf1539bf71de1b7d7be3b5"
XMR_WALLET = "4" + "8" * 94


def line(obj: object, **dumps: object) -> bytes:
    return json.dumps(obj, **dumps).encode() + b"\n"  # type: ignore[arg-type]


def http_post(body: bytes) -> bytes:
    return (
        b"POST / HTTP/1.1\r\nHost: pool\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )


def test_stratum_v1_login_gives_agent_wallet_and_worker() -> None:
    client = line({"id": 1, "method": "mining.subscribe", "params": ["cgminer/4.10.0"]}) + line(
        {"params": [f"{BTC_WALLET}.rack07", "x"], "id": 2, "method": "mining.authorize"}
    )
    found = inspect_payloads(client, b"")
    assert found is not None
    assert (found.protocol, found.method, found.sender) == (STRATUM, "mining.subscribe", "client")
    assert found.reason == "network.stratum.subscribe"
    assert (found.agent, found.wallet, found.worker, found.coin) == (
        "cgminer/4.10.0",
        BTC_WALLET,
        "rack07",
        "BTC",
    )


@pytest.mark.parametrize(
    "method", ["mining.configure", "mining.submit", "mining.authorize", "mining.subscribe"]
)
def test_any_key_order_and_whitespace(method: str) -> None:
    message = {"params": ["user.w1", "x"], "method": method, "id": 7}
    spaced = json.dumps(message, indent=2).replace("\n", " ").encode() + b"\r\n"
    found = inspect_payloads(b"  " + spaced, b"")
    assert found is not None
    assert found.method == method


def test_capture_starting_mid_session_sees_the_pool() -> None:
    notify = line({"id": None, "method": "mining.notify", "params": ["4f2a", "00" * 32, True]})
    found = inspect_payloads(b"", notify)
    assert found is not None
    assert (found.protocol, found.sender, found.reason) == (
        STRATUM,
        "server",
        "network.stratum.notify",
    )
    job = line({"jsonrpc": "2.0", "method": "job", "params": {"blob": "0707", "job_id": "9",
                                                              "target": "b88d0600"}})  # fmt: skip
    found = inspect_payloads(b"", job)
    assert found is not None
    assert (found.protocol, found.coin) == (MONERO, "XMR")


def test_subscribe_answer_from_the_pool() -> None:
    answer = line({"id": 1, "result": [[["mining.set_difficulty", "1"], ["mining.notify", "2"]],
                                       "08000002", 4], "error": None})  # fmt: skip
    found = inspect_payloads(b"", answer)
    assert found is not None
    assert found.reason == "network.stratum.subscribe_result"


def test_eth_proxy_over_tcp_and_http() -> None:
    login = {"worker": "rig3", "jsonrpc": "2.0", "params": [ETH_WALLET], "id": 1,
             "method": "eth_submitLogin"}  # fmt: skip
    for payload in (line(login), http_post(json.dumps(login).encode())):
        found = inspect_payloads(payload, b"")
        assert found is not None
        assert (found.protocol, found.wallet, found.worker, found.coin) == (
            ETH_PROXY,
            ETH_WALLET,
            "rig3",
            "ETH",
        )
    for method in ("eth_getWork", "eth_submitWork", "eth_submitHashrate"):
        found = inspect_payloads(http_post(line({"method": method, "params": [], "id": 3})), b"")
        assert found is not None
        assert found.reason == f"network.ethproxy.{method.removeprefix('eth_').lower()}"


@pytest.mark.parametrize("agent", [None, "XMRig/6.21.0 (Linux x86_64) libuv/1.44 gcc/12.2"])
def test_monero_login_with_or_without_agent(agent: str | None) -> None:
    params = {"login": XMR_WALLET, "pass": "farm-2"}
    if agent:
        params["agent"] = agent
    found = inspect_payloads(line({"id": 1, "jsonrpc": "2.0", "method": "login",
                                   "params": params}), b"")  # fmt: skip
    assert found is not None
    assert (found.protocol, found.wallet, found.worker, found.agent, found.coin) == (
        MONERO,
        XMR_WALLET,
        "farm-2",
        agent,
        "XMR",
    )
    submit = line({"method": "submit", "params": {"id": "1", "job_id": "5", "nonce": "a0",
                                                  "result": "ff"}, "id": 3})  # fmt: skip
    found = inspect_payloads(submit, b"")
    assert found is not None
    assert found.method == "submit"
    keepalive = line({"id": 4, "method": "keepalived", "params": {"id": "1"}})
    found = inspect_payloads(keepalive, b"")
    assert found is not None
    assert found.method == "keepalived"


@pytest.mark.parametrize("method", ["getwork", "getblocktemplate", "submitblock"])
def test_bitcoin_rpc_mining_over_http(method: str) -> None:
    body = line({"jsonrpc": "1.0", "id": "curltest", "method": method, "params": []})
    found = inspect_payloads(http_post(body), b"HTTP/1.1 200 OK\r\n\r\n{}")
    assert found is not None
    assert (found.protocol, found.reason) == (GETWORK, f"network.getwork.{method}")


def test_getwork_account_from_basic_authentication() -> None:
    body = line({"method": "getwork", "params": [], "id": 0})
    credentials = base64.b64encode(f"{BTC_WALLET}.s9-12:x".encode()).decode()
    request = (
        b"POST / HTTP/1.1\r\nAuthorization: Basic " + credentials.encode()
        + b"\r\nUser-Agent: cgminer/3.7.2\r\nContent-Length: 40\r\n\r\n" + body
    )  # fmt: skip
    found = inspect_payloads(request, b"")
    assert found is not None
    assert (found.wallet, found.worker, found.agent, found.coin) == (
        BTC_WALLET, "s9-12", "cgminer/3.7.2", "BTC",
    )  # fmt: skip


def test_eth_proxy_account_from_the_request_path() -> None:
    body = line({"jsonrpc": "2.0", "method": "eth_getWork", "params": [], "id": 1})
    request = f"POST /{ETH_WALLET}/rig4 HTTP/1.1\r\nHost: pool\r\n\r\n".encode() + body
    found = inspect_payloads(request, b"")
    assert found is not None
    assert (found.wallet, found.worker, found.coin) == (ETH_WALLET, "rig4", "ETH")


WORK = {"midstate": "5f79", "data": "0000000109a7", "hash1": "00000000", "target": "ffff0000"}


def test_long_poll_with_getwork_headers_answered_with_work() -> None:
    credentials = base64.b64encode(b"farm3.s7-01:x")
    poll = (
        b"GET /LP HTTP/1.1\r\nAuthorization: Basic " + credentials + b"\r\n"
        b"X-Mining-Extensions: longpoll midstate rollntime submitold\r\n"
        b"User-Agent: cgminer 3.7.2\r\n\r\n"
    )
    work = b"HTTP/1.1 200 OK\r\nX-Roll-NTime: expire=120\r\n\r\n" + line(
        {"result": WORK, "error": None, "id": 0}
    )
    found = inspect_payloads(poll, work)
    assert found is not None
    assert (found.protocol, found.reason) == (GETWORK, "network.getwork.work")
    assert (found.wallet, found.worker, found.agent) == ("farm3", "s7-01", "cgminer 3.7.2")
    # Headers alone, answered with success (the work cut off by the capture), are enough …
    found = inspect_payloads(poll, b"HTTP/1.1 200 OK\r\nContent-Length: 900\r\n\r\n")
    assert found is not None
    assert found.reason == "network.getwork.http_headers"
    # … but a request the pool refused is an attempt, and ordinary headers are nothing.
    assert inspect_payloads(poll, b"HTTP/1.1 400 Bad Request\r\n\r\n400 Bad Request") is None
    plain = b"GET /LP HTTP/1.1\r\nX-Requested-With: XMLHttpRequest\r\n\r\n"
    assert inspect_payloads(plain, b"HTTP/1.1 200 OK\r\n\r\n{}") is None
    assert sent_by_pool("getwork-result")


def test_bad_basic_credentials_are_ignored() -> None:
    body = line({"method": "getwork", "params": [], "id": 0})
    request = b"POST / HTTP/1.1\r\nAuthorization: Basic %%%\r\n\r\n" + body
    found = inspect_payloads(request, b"")
    assert found is not None
    assert found.wallet is None


def test_message_cut_short_by_the_capture() -> None:
    cut = b'{"id": 1, "method": "mining.subscribe", "params": ["bmminer/2.0.0", "aa'
    found = inspect_payloads(cut, b"")
    assert found is not None
    assert found.method == "mining.subscribe"


def test_batched_requests() -> None:
    batch = line([{"id": 1, "method": "getbalance"}, {"id": 2, "method": "eth_getWork"}])
    found = inspect_payloads(batch, b"")
    assert found is not None
    assert found.method == "eth_getWork"


def test_ordinary_json_rpc_stays_clean() -> None:
    zabbix = {"jsonrpc": "2.0", "method": "user.login", "params": {"user": "Admin",
              "password": "zabbix"}, "id": 1}  # fmt: skip
    other = [
        line(zabbix),
        line({"jsonrpc": "2.0", "method": "item.get", "params": {"output": "extend"}, "id": 2}),
        line({"jsonrpc": "2.0", "method": "login", "params": {"user": "a", "password": "b"}}),
        line({"jsonrpc": "2.0", "method": "submit", "params": ["form"], "id": 3}),
        line({"jsonrpc": "2.0", "method": "job", "params": {"name": "backup"}}),
        line({"method": "getbalance", "params": [], "id": 1}),
        http_post(line({"method": "eth_blockNumber", "params": [], "id": 1})),
        b"GET /mining.subscribe HTTP/1.1\r\nHost: example.org\r\n\r\n",
        b"mining.subscribe is a word in this e-mail\r\n",
    ]
    for payload in other:
        assert inspect_payloads(payload, b"") is None, payload


def test_stratum_v2_handshake_shape_and_tls_is_not() -> None:
    noise = os.urandom(64)
    noise = b"\x01" + noise[1:]
    found = inspect_payloads(noise, b"")
    assert found is not None
    assert (found.protocol, found.reason) == (STRATUM_V2, "network.stratum2.handshake_shape")
    assert found.confidence < 0.5
    tls = b"\x16\x03\x01" + os.urandom(61)
    assert inspect_payloads(tls, b"") is None
    assert inspect_payloads(os.urandom(65), b"") is None


def test_pool_hosts_match_names_and_subdomains_only() -> None:
    assert pool_host("eu1.nanopool.org") == "nanopool.org"
    assert pool_host("NANOPOOL.ORG.") == "nanopool.org"
    assert pool_host("notnanopool.org") is None
    assert pool_host("example.com") is None
    assert pool_host(None) is None
    assert 3333 in pool_ports()


def test_cut_off_generic_methods_need_their_dialect() -> None:
    cut_login = (
        b'{"id":1,"method":"login","params":{"login":"' + XMR_WALLET.encode() + b'","pass":"x'
    )
    found = inspect_payloads(cut_login, b"")
    assert found is not None
    assert found.protocol == MONERO
    assert inspect_payloads(b'{"id":1,"method":"login","params":{"user":"alice","tok', b"") is None


def test_alpn_tells_a_browser_from_a_miner() -> None:
    browser = client_hello("www.f2pool.com", alpn=("h2", "http/1.1"))
    assert tls_alpn(browser) == ["h2", "http/1.1"]
    assert web_client(browser)
    miner = client_hello("eu1.nanopool.org")
    assert tls_alpn(miner) == []
    assert not web_client(miner)
    assert tls_alpn(browser[:60]) == []  # cut short: nothing, no error
    assert web_client(b"GET / HTTP/1.1\r\nHost: f2pool.com\r\n\r\n")
    assert not web_client(line({"id": 1, "method": "mining.subscribe", "params": []}))
    upgrade = b"GET /proxy HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
    assert not web_client(upgrade, b"HTTP/1.1 101 Switching Protocols\r\n\r\n")
