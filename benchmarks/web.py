"""Web platform benchmark (issue 7): page latency at national size under concurrent officials.

Loads PostgreSQL with a national ledger and lead stream — by default 100,000 projects, 1,000,000
leads, 200,000 cases fused from 600,000 of them, 20,000 enterprises and 400,000 audit events of
the cases' transitions — spread over every county of the 2021 GB/T 2260 table. Evidence, reasons
and audit images are copied from a freshly generated demo province, so rows are the size the
scanners make. Then it serves the platform with uvicorn (``--workers``) and drives it from
``--clients`` concurrent clients on loopback, each signed in as an official of a different level
and region (national, provincial, city, county), asking in turn for

- the ledger search page (``/ledger`` with a random mix of region, status, site type, enterprise
  and free-text filters, and a random page),
- a case page (``/cases/{case_no}``, a random case of the client's region, with its leads and
  evidence and timeline),
- the dashboard (``/dashboard``) and the three JSON calls its charts make,

and prints p50/p95/p99 latency, throughput and error count per page. Clients are closed-loop: a
client pauses ``--think-s`` seconds on average (exponentially distributed) between pages. Two
runs by default: officials who read each page for a second on average (the target), then no
pause at all, the machine's saturation, with the load generator on the same cores as the server
(its throughput is the platform's capacity on this machine).

``python -m benchmarks.web [--url postgresql://postgres@127.0.0.1:5432/minewatch_bench]
[--projects 100000] [--leads 1000000] [--clients 50] [--duration-s 60] [--workers 2]
[--reload]``. The data are loaded once and reused by later runs of the same size.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from minewatch.domain.accounts.service import create_user
from minewatch.domain.cases.states import CaseStatus, Role
from minewatch.domain.db import session_scope
from minewatch.domain.migrate import open_database
from minewatch.reference import regions
from minewatch.reference.ledger import DiscoveryMethod, ProjectStatus, SiteType, SupplyKind

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/minewatch_bench"
PASSWORD = "bench password 1283"
TARGET_P95_MS = 200.0
LEADS_PER_CASE = 3
CASE_SHARE = 0.6
"""Share of the leads fused into cases (three to a case); the rest are still open leads."""
SOURCES = ("meters", "network", "plants", "report")


def _ensure_database(url: str) -> None:
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = connection.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": target.database}
        )
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()


@dataclass
class Templates:
    """Rows of a generated demo province, copied into the national data set."""

    evidence: dict[str, str]
    reasons: dict[str, str]
    case_images: list[str]


_LONGEST_EVIDENCE = (
    "SELECT source, evidence_json, reasons FROM lead ORDER BY length(evidence_json) DESC"
)


def _templates() -> Templates:
    """Evidence, reasons and audit images as the demo's scanners and services write them."""
    from minewatch.cli.app import run

    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "demo.db"
        code = run(["demo", "--no-serve", "--db-file", str(db), "--meters", "2000"])
        if code != 0:
            raise SystemExit("bench-web: the demo province could not be generated")
        engine = create_engine(f"sqlite:///{db}")
        with engine.connect() as connection:
            evidence: dict[str, str] = {}
            reasons: dict[str, str] = {}
            rows = connection.execute(text(_LONGEST_EVIDENCE))
            for source, body, why in rows:
                evidence.setdefault(source, body)
                reasons.setdefault(source, why)
            images = [
                body
                for (body,) in connection.execute(
                    text(
                        "SELECT after_json FROM audit_event WHERE entity_type = 'case' "
                        "AND after_json IS NOT NULL ORDER BY seq LIMIT 50"
                    )
                )
            ]
        engine.dispose()
    fallback = max(evidence.values(), key=len) if evidence else "{}"
    for source in SOURCES:
        evidence.setdefault(source, fallback)
        reasons.setdefault(source, next(iter(reasons.values()), ""))
    return Templates(evidence, reasons, images or ["{}"])


def _counties() -> tuple[list[str], list[str]]:
    chosen = [
        r for r in regions.all_regions()
        if not r.code.endswith("00") and not r.is_grouping and r.code[:2] not in ("71", "81", "82")
    ]  # fmt: skip
    return [r.code for r in chosen], [r.full_name for r in chosen]


TABLES = (
    "case_lead", "site_check", "case_measure", "mining_case", "project_machine", "project", "lead",
    "enterprise",
)  # fmt: skip


def _load(engine: Engine, n_projects: int, n_leads: int, templates: Templates) -> None:
    codes, names = _counties()
    n_cases = int(n_leads * CASE_SHARE) // LEADS_PER_CASE
    n_enterprises = max(10, n_projects // 5)
    statuses = [s.value for s in ProjectStatus]
    site_types = [s.value for s in SiteType]
    supply = [s.value for s in SupplyKind]
    found_by = [s.value for s in DiscoveryMethod]
    case_statuses = [s.value for s in CaseStatus]
    started = time.perf_counter()
    params: dict[str, Any] = {
        "codes": codes, "names": names, "nc": len(codes), "ne": n_enterprises, "np": n_projects,
        "nl": n_leads, "ncase": n_cases, "per": LEADS_PER_CASE, "statuses": statuses,
        "sites": site_types, "supply": supply, "found": found_by, "cstat": case_statuses,
        "sources": list(SOURCES), "ev": [templates.evidence[s] for s in SOURCES],
        "why": [templates.reasons[s] for s in SOURCES], "img": templates.case_images,
    }  # fmt: skip
    # The region of a case group k (and of its three leads) is a fixed hash of k, so leads and
    # their case agree without a join.
    region_of = "(CAST(:codes AS text[]))[1 + ((({k}) * 2654435761) % :nc)]"
    steps = [
        f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE",
        "DELETE FROM audit_event WHERE entity_type IN ('case', 'project', 'lead', 'enterprise')",
        "SELECT setseed(0.1283)",
        f"""INSERT INTO enterprise (id, uscc, name, address, region_code, state_owned, kind,
                created_at, updated_at)
            SELECT g, '91' || {region_of.format(k="g")} || lpad(g::text, 10, '0'),
                   '蜀川' || g || '号数据科技有限公司',
                   (CAST(:names AS text[]))[1 + ((g * 2654435761) % :nc)] || '工业园' || g || '号',
                   {region_of.format(k="g")}, false, 'mining_operator', now(), now()
            FROM generate_series(1, :ne) g""",
        """INSERT INTO project (id, code, name, enterprise_id, site_address, region_code,
                longitude, latitude, site_type, status, machine_count, hashrate, hashrate_unit,
                rated_power_kw, monthly_energy_kwh, supply_kind, grid_account_no,
                discovered_by, responsible_region_code, exit_deadline, created_at, updated_at)
            SELECT g, 'XM' || e.region_code || '-' || lpad(g::text, 7, '0'),
                   e.name || '矿场' || (g % 7 + 1) || '期', e.id,
                   e.address || (g % 40 + 1) || '栋', e.region_code,
                   73 + random() * 62, 18 + random() * 35,
                   (CAST(:sites AS text[]))[1 + g % 7],
                   (CAST(:statuses AS text[]))[1 + (g * 31) % 4],
                   50 + (g % 900), (50 + (g % 900)) * 95.0, 'TH/s',
                   (50 + (g % 900)) * 3.25, (50 + (g % 900)) * 3.25 * 720,
                   (CAST(:supply AS text[]))[1 + (g * 13) % 3],
                   'ACC' || lpad(g::text, 12, '0'),
                   (CAST(:found AS text[]))[1 + (g * 17) % 5], e.region_code,
                   DATE '2021-12-31' + (g % 90), now(), now()
            FROM generate_series(1, :np) g
            JOIN enterprise e ON e.id = 1 + (g * 7919) % :ne""",
        f"""INSERT INTO lead (id, source, subject, status, account_no, customer_name, uscc,
                address, region_code, score, category, est_start_date, est_mining_kw, est_rigs,
                est_hashrate_ths, reasons, evidence_json, first_seen_at, last_seen_at)
            SELECT g, (CAST(:sources AS text[]))[1 + g % 4], 'ACC' || lpad(g::text, 12, '0'),
                   'new',
                   'ACC' || lpad(g::text, 12, '0'), '用户' || g, NULL,
                   (CAST(:names AS text[]))[1 + ((((g - 1) / :per + 1) * 2654435761) % :nc)]
                       || '某某路' || (g % 300 + 1) || '号',
                   {region_of.format(k="(g - 1) / :per + 1")},
                   0.5 + random() * 0.5, 'mining', DATE '2021-06-01' + (g % 150),
                   200 + random() * 3000, 60 + g % 900, 5000 + random() * 90000,
                   (CAST(:why AS text[]))[1 + g % 4], (CAST(:ev AS text[]))[1 + g % 4],
                   TIMESTAMPTZ '2021-06-01 00:00+00' + (g % 180) * INTERVAL '1 day',
                   TIMESTAMPTZ '2021-06-01 00:00+00' + (g % 180 + 7) * INTERVAL '1 day'
            FROM generate_series(1, :nl) g""",
        f"""INSERT INTO mining_case (id, case_no, status, region_code, assigned_region_code,
                account_no, address, longitude, latitude, confidence, sources, est_start_date,
                est_mining_kw, relapses, stage_entered_at, stage_due_at, opened_at, updated_at,
                version)
            SELECT k, 'MW' || {region_of.format(k="k")} || '2021' || lpad(k::text, 7, '0'),
                   (CAST(:cstat AS text[]))[1 + (k * 37) % 9],
                   {region_of.format(k="k")},
                   CASE WHEN (k * 37) % 9 = 0 THEN NULL ELSE {region_of.format(k="k")} END,
                   'ACC' || lpad(((k - 1) * :per + 1)::text, 12, '0'),
                   (CAST(:names AS text[]))[1 + ((k * 2654435761) % :nc)]
                       || '某某路' || (k % 300 + 1) || '号',
                   73 + random() * 62, 18 + random() * 35, 0.6 + random() * 0.4,
                   'meters,network', DATE '2021-06-01' + (k % 150), 200 + random() * 3000, 0,
                   TIMESTAMPTZ '2021-06-08 00:00+00' + (k % 180) * INTERVAL '1 day',
                   TIMESTAMPTZ '2021-06-22 00:00+00' + (k % 200) * INTERVAL '1 day',
                   TIMESTAMPTZ '2021-06-08 00:00+00' + (k % 180) * INTERVAL '1 day',
                   TIMESTAMPTZ '2021-06-08 00:00+00' + (k % 180) * INTERVAL '1 day', 1
            FROM generate_series(1, :ncase) k""",
        """INSERT INTO case_lead (case_id, lead_id, matched_on, match_score, attached_at)
            SELECT (g - 1) / :per + 1, g, 'account_no', 1.0,
                   TIMESTAMPTZ '2021-06-08 00:00+00' + (g % 180) * INTERVAL '1 day'
            FROM generate_series(1, :ncase * :per) g""",
        f"""INSERT INTO audit_event (seq, at, actor, entity_type, entity_id, action, before_json,
                after_json, prev_hash, hash)
            SELECT (SELECT coalesce(max(seq), 0) FROM audit_event) + g,
                   TIMESTAMPTZ '2021-06-08 00:00+00' + (g % 180) * INTERVAL '1 day', 'bench',
                   'case', 'MW' || {region_of.format(k="((g - 1) / 2 + 1)")} || '2021'
                       || lpad(((g - 1) / 2 + 1)::text, 7, '0'),
                   CASE WHEN g % 2 = 1 THEN 'open' ELSE 'assign' END, NULL,
                   (CAST(:img AS text[]))[1 + g % array_length(CAST(:img AS text[]), 1)],
                   encode(sha256(('bench' || (g - 1))::bytea), 'hex'),
                   encode(sha256(('bench' || g)::bytea), 'hex')
            FROM generate_series(1, :ncase * 2) g""",
        """UPDATE audit_head SET seq = e.seq, hash = e.hash
            FROM (SELECT seq, hash FROM audit_event ORDER BY seq DESC LIMIT 1) e""",
    ]
    with engine.begin() as connection:
        for sql in steps:
            connection.execute(text(sql), params)
        for table in ("enterprise", "project", "lead", "mining_case", "case_lead"):
            connection.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT coalesce(max(id), 1) FROM {table}))"
                )
            )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))
    print(f"loaded {n_projects:,} projects, {n_leads:,} leads, {n_cases:,} cases, "
          f"{n_enterprises:,} enterprises in {time.perf_counter() - started:.0f} s")  # fmt: skip


def _loaded(engine: Engine, n_projects: int, n_leads: int) -> bool:
    with engine.connect() as connection:
        projects = connection.scalar(text("SELECT count(*) FROM project"))
        leads = connection.scalar(text("SELECT count(*) FROM lead"))
    return projects == n_projects and leads == n_leads


@dataclass(frozen=True)
class Client:
    username: str
    region_code: str
    case_nos: list[str]
    enterprise_words: list[str]


def _users(engine: Engine, clients: int, rng: random.Random) -> list[Client]:
    """Officials of every level, each with cases of their region to open."""
    with engine.connect() as connection:
        busy = [
            row[0]
            for row in connection.execute(
                text(
                    "SELECT region_code FROM mining_case GROUP BY region_code "
                    "ORDER BY count(*) DESC LIMIT 400"
                )
            )
        ]
    picks: list[tuple[Role, str]] = [(Role.NATIONAL, regions.NATIONAL)]
    while len(picks) < clients:
        county = rng.choice(busy)
        level = len(picks) % 4
        if level == 1:
            picks.append((Role.PROVINCIAL, county[:2] + "0000"))
        elif level == 2:
            picks.append((Role.CITY, county[:4] + "00"))
        else:
            picks.append((Role.COUNTY, county))
    made: list[Client] = []
    with session_scope(engine) as session:
        session.execute(text("DELETE FROM app_user WHERE username LIKE 'bench%'"))
        for i, (role, region) in enumerate(picks):
            create_user(session, f"bench{i}", PASSWORD, display_name=f"压测{i}", role=role,
                        region_code=region, actor="bench")  # fmt: skip
    with engine.connect() as connection:
        for i, (_role, region) in enumerate(picks):
            span = "" if region == regions.NATIONAL else "AND region_code BETWEEN :lo AND :hi"
            lo, hi = _span(region)
            cases = [
                r[0]
                for r in connection.execute(
                    text(
                        f"SELECT case_no FROM mining_case WHERE true {span} "
                        "ORDER BY random() LIMIT 200"
                    ),
                    {"lo": lo, "hi": hi},
                )
            ]
            made.append(
                Client(f"bench{i}", region, cases, ["蜀川", "数据", str(rng.randint(1, 999))])
            )
    return made


def _span(region: str) -> tuple[str, str]:
    if region.endswith("0000"):
        return region[:2] + "0000", region[:2] + "9999"
    if region.endswith("00"):
        return region[:4] + "00", region[:4] + "99"
    return region, region


@dataclass
class Tally:
    latencies_ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    statuses: dict[str, dict[int, int]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(int))
    )


def _ledger_query(rng: random.Random, client: Client) -> str:
    params: list[str] = []
    if rng.random() < 0.5:
        params.append(f"status={rng.choice([s.value for s in ProjectStatus])}")
    if rng.random() < 0.3:
        params.append(f"site_type={rng.choice([s.value for s in SiteType])}")
    if rng.random() < 0.3:
        params.append(f"q={rng.choice(client.enterprise_words)}")
    if rng.random() < 0.3:
        params.append(f"offset={rng.choice([0, 50, 100, 500])}")
    return "/ledger" + ("?" + "&".join(params) if params else "")


PAGES = ("ledger search", "case page", "dashboard", "dashboard data")


async def _client_loop(
    base: str, client: Client, deadline: float, warm_until: float, think_s: float, tally: Tally,
    seed: int,
) -> None:  # fmt: skip
    rng = random.Random(seed)
    async with httpx.AsyncClient(base_url=base, timeout=30.0) as http:
        page = await http.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        if token is None:
            raise SystemExit("bench-web: no CSRF token on the login page")
        signed = await http.post("/login", data={"csrf_token": token.group(1),
                                                 "username": client.username,
                                                 "password": PASSWORD})  # fmt: skip
        if signed.status_code >= 400:
            raise SystemExit(
                f"bench-web: {client.username} could not sign in ({signed.status_code})"
            )
        turn = rng.randrange(len(PAGES))
        while time.perf_counter() < deadline:
            kind = PAGES[turn % len(PAGES)]
            turn += 1
            if kind == "ledger search":
                urls = [_ledger_query(rng, client)]
            elif kind == "case page":
                if not client.case_nos:
                    continue
                urls = [f"/cases/{rng.choice(client.case_nos)}"]
            elif kind == "dashboard":
                urls = ["/dashboard"]
            else:
                urls = ["/api/v1/dashboard/summary", "/api/v1/dashboard/map?metric=open_cases",
                        "/api/v1/dashboard/trend?weeks=26"]  # fmt: skip
            began = time.perf_counter()
            failed = False
            for url in urls:
                reply = await http.get(url)
                tally.statuses[kind][reply.status_code] += 1
                failed = failed or reply.status_code >= 400
            elapsed_ms = (time.perf_counter() - began) * 1000
            if began >= warm_until:
                tally.latencies_ms[kind].append(elapsed_ms)
                if failed:
                    tally.errors[kind] += 1
            if think_s:
                await asyncio.sleep(rng.expovariate(1 / think_s))


async def _drive(base: str, clients: list[Client], duration_s: float, warmup_s: float,
                 think_s: float) -> Tally:  # fmt: skip
    tally = Tally()
    start = time.perf_counter()
    await asyncio.gather(*(
        _client_loop(base, c, start + warmup_s + duration_s, start + warmup_s, think_s, tally, i)
        for i, c in enumerate(clients)
    ))  # fmt: skip
    return tally


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _report(tally: Tally, title: str, duration_s: float) -> None:
    print(f"\n{title}")
    print(f"{'page':<16}{'requests':>9}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
          f"{'errors':>8}  target p95 < {TARGET_P95_MS:.0f} ms")  # fmt: skip
    worst = 0.0
    errors = 0
    for kind in PAGES:
        values = tally.latencies_ms.get(kind, [])
        if not values:
            print(f"{kind:<16}{0:>9}")
            continue
        p95 = _percentile(values, 0.95)
        if kind != "dashboard data":  # the page's charts load after it is shown
            worst = max(worst, p95)
        errors += tally.errors.get(kind, 0)
        verdict = "met" if p95 < TARGET_P95_MS and not tally.errors.get(kind) else "MISSED"
        print(f"{kind:<16}{len(values):>9}{len(values) / duration_s:>8.1f}"
              f"{statistics.median(values):>9.1f}{p95:>9.1f}{_percentile(values, 0.99):>9.1f}"
              f"{tally.errors.get(kind, 0):>8}  {verdict}")  # fmt: skip
    codes = {kind: dict(tally.statuses[kind]) for kind in PAGES}
    print(f"status codes: {json.dumps(codes)}")
    print(f"worst page p95 {worst:.1f} ms; errors {errors}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--url", default=os.environ.get("MINEWATCH_BENCH_DATABASE_URL", DEFAULT_URL)
    )
    parser.add_argument("--projects", type=int, default=100_000)
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration-s", type=float, default=60.0)
    parser.add_argument("--warmup-s", type=float, default=10.0)
    parser.add_argument(
        "--think-s", type=float, nargs="+", default=[1.0, 0.0],
        help="mean pause between a client's pages, one run each (0: saturation)",
    )  # fmt: skip
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--reload", action="store_true", help="reload the data even if present")
    args = parser.parse_args()

    _ensure_database(args.url)
    engine = open_database(args.url)
    if args.reload or not _loaded(engine, args.projects, args.leads):
        _load(engine, args.projects, args.leads, _templates())
    rng = random.Random(1283)
    clients = _users(engine, args.clients, rng)
    engine.dispose()

    port = _free_port()
    env = {**os.environ, "MINEWATCH_DATABASE_URL": args.url,
           "MINEWATCH_SECRET_KEY": "bench-secret-key-not-for-production"}  # fmt: skip
    server = subprocess.Popen(
        [sys.executable, "-m", "minewatch", "serve", "--port", str(port),
         "--workers", str(args.workers)],
        env=env, start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    runs: list[tuple[float, Tally]] = []
    try:
        for _ in range(120):
            try:
                if httpx.get(f"{base}/healthz", timeout=1.0).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        else:
            raise SystemExit("bench-web: the server did not start")
        for think_s in args.think_s:
            tally = asyncio.run(_drive(base, clients, args.duration_s, args.warmup_s, think_s))
            runs.append((think_s, tally))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)

    for think_s, tally in runs:
        pause = (f"each pausing {think_s:g} s on average between pages" if think_s
                 else "each asking again as soon as answered (saturation)")  # fmt: skip
        _report(
            tally,
            f"web: {args.projects:,} projects, {args.leads:,} leads in PostgreSQL; "
            f"{args.clients} signed-in clients {pause}; {args.workers} server workers; "
            f"{args.duration_s:g} s measured after {args.warmup_s:g} s warm-up",
            args.duration_s,
        )


if __name__ == "__main__":
    main()
