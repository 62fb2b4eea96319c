"""Screening against the list of mining enterprises and sites (notice 1283 clauses 十, 十四, 十六).

Clause 十 stops power connections for mining (用电报装: applications in progress are halted),
clause 十四 keeps mining projects out of the electricity market, clause 十六 cuts them off from
banks and payment institutions. Each needs the same question answered for a list of parties —
*is this one of them?* — with the reason, so that a clerk can hold the application and a bank
can act on it.

The **watch list** is read from the database: every confirmed case (and the cases after it),
every ledger project, every account on the surcharge list. A party matches an entry by

* its unified social credit code (exact, after validation);
* its name, compared without the legal-form and trade words every company has (有限公司,
  科技, 实业 …), when the names are nearly the same (ratio ≥ ``name_ratio``);
* its address, read and matched component by component
  (:func:`minewatch.domain.cases.address.match_addresses`), when both name the same building or
  house number (``address_level``) with a score of at least ``address_score``.

A power-connection application is also held when its declared load *looks like mining*: a
computing or data business (by its declared industry) asking for a large load to run around the
clock. Every result lists each match and why; a party with none passes.

**Whose records.** :func:`watch_list` takes the region of whoever screens (``within``): a
county screens against the confirmed cases, ledger projects and surcharged accounts of its own
county, a province against those of its counties, the nation against all. A hold's reasons name
the entry that matched (case number, project code, account number, and the matching name or
address), so a watch list wider than the screener's region would show them records of regions
they may not see; an enterprise listed only elsewhere is for that region (or the province above
both) to find.

Parties are read from CSV by :func:`read_parties` (UTF-8, with or without BOM): ``reference,
name`` and any of ``uscc, address, region_code``; power-connection applications also
``declared_load_kw, daily_hours, round_the_clock, industry``.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from minewatch.domain.cases.address import (
    Address,
    MatchLevel,
    match_addresses,
    normalise_address,
)
from minewatch.domain.cases.models import Case
from minewatch.domain.cases.states import CaseStatus
from minewatch.domain.ledger.models import Project
from minewatch.domain.measures.models import SurchargeAccount
from minewatch.domain.scope import answering_within, within
from minewatch.errors import InputFileError, InputProblem
from minewatch.reference import credit_code, regions

_CONFIRMED = frozenset(
    {
        CaseStatus.CONFIRMED,
        CaseStatus.MEASURES_ORDERED,
        CaseStatus.MEASURES_COMPLETED,
        CaseStatus.CLEARED,
        CaseStatus.RECHECKED,
    }
)
_LEGAL_FORMS = re.compile(
    r"(股份有限公司|有限责任公司|有限公司|分公司|集团|公司|合伙企业|个体工商户|工作室|中心|厂)$"
)
_TRADE_WORDS = re.compile(
    r"(科技|技术|信息|网络|数据|电子|实业|发展|投资|贸易|能源|新能源|智能|计算|云|服务|管理)"
)
_COMPUTING = re.compile(r"(数据中心|数据处理|区块链|云计算|大数据|算力|计算|服务器|IDC|超算)", re.I)


class Decision(StrEnum):
    HOLD = "hold"
    PASS = "pass"


class ScreeningKind(StrEnum):
    """What is screened, and the clause of the notice it serves."""

    CONNECTIONS = "connections"
    """Power-connection applications (用电报装, clause 十): also judged on their declared load."""
    MARKET = "market"
    """Electricity-market participants (clause 十四)."""
    CUSTOMERS = "customers"
    """A bank's or payment institution's customers (clause 十六)."""

    @property
    def check_load(self) -> bool:
        """Whether a declared load that looks like mining holds the party."""
        return self is ScreeningKind.CONNECTIONS

    @property
    def clause(self) -> str:
        return {"connections": "十", "market": "十四", "customers": "十六"}[self.value]


@dataclass(frozen=True)
class ScreeningSettings:
    name_ratio: float = 0.85
    """Names (without legal form and trade words) this similar are the same enterprise."""
    address_level: MatchLevel = MatchLevel.NUMBER
    """Addresses must agree at least down to this component…"""
    address_score: float = 0.6
    """…with at least this score."""
    mining_load_kw: float = 500.0
    """A computing business asking for this much, to run around the clock, looks like mining
    (a few hundred rigs; a small enterprise server room needs tens of kW)."""
    round_the_clock_hours: float = 20.0


@dataclass(frozen=True)
class WatchEntry:
    """One enterprise or site on the watch list, with where it comes from."""

    source: str
    """``case MW…``, ``ledger P…``, ``surcharge 5118…``."""
    name: str | None
    uscc: str | None
    address: Address | None


@dataclass(frozen=True)
class Party:
    """One party to screen: an applicant, a market participant, a bank's customer."""

    reference: str
    name: str
    uscc: str | None = None
    address: str | None = None
    region_code: str | None = None
    declared_load_kw: float | None = None
    daily_hours: float | None = None
    round_the_clock: bool | None = None
    """Declared to run around the clock; ``None`` when not said. Without ``daily_hours`` a
    party is taken to run 24 h a day unless it says it does not (``False``)."""
    industry: str | None = None


@dataclass(frozen=True)
class Hit:
    source: str
    on: str
    """``uscc``, ``name``, ``address`` or ``load``."""
    reason: str


@dataclass(frozen=True)
class ScreeningResult:
    reference: str
    decision: Decision
    hits: tuple[Hit, ...] = field(default=())

    @property
    def reasons(self) -> str:
        return "; ".join(f"{h.on}: {h.reason} ({h.source})" for h in self.hits)


def name_key(name: str) -> str:
    """An enterprise name without spaces, brackets' contents, legal form and trade words."""
    text = unicodedata.normalize("NFKC", name)
    text = re.sub(r"[(（][^)）]*[)）]", "", text)
    text = re.sub(r"\s+", "", text)
    while True:
        shorter = _LEGAL_FORMS.sub("", text)
        if shorter == text:
            break
        text = shorter
    return _TRADE_WORDS.sub("", text) or text


def watch_list(session: Session, *, within_region: str = regions.NATIONAL) -> list[WatchEntry]:
    """Every confirmed case, ledger project and surcharged account in ``within_region`` and
    below, as screening sees them (a case by its answering region, a project by its site's
    region, an account by the region it is priced by; see the module's note on whose records)."""
    entries: list[WatchEntry] = []
    cases = (
        select(Case)
        .where(
            Case.status.in_([s.value for s in _CONFIRMED]),
            answering_within(Case.assigned_region_code, Case.region_code, within_region),
        )
        .order_by(Case.case_no)
    )
    for case in session.scalars(cases):
        name = case.enterprise.name if case.enterprise is not None else None
        entries.append(
            WatchEntry(
                f"case {case.case_no}",
                name,
                case.uscc,
                _address(case.address, case.region_code),
            )
        )
    projects = select(Project).where(within(Project.region_code, within_region))
    for project in session.scalars(projects.order_by(Project.code)):
        entries.append(
            WatchEntry(
                f"ledger {project.code}",
                project.enterprise.name,
                project.enterprise.uscc,
                _address(project.site_address, project.region_code),
            )
        )
    owner = aliased(Case)
    accounts = (
        select(SurchargeAccount.account_no, SurchargeAccount.region_code, owner.uscc, owner.address)
        .join(owner, owner.case_no == SurchargeAccount.case_no)
        .where(within(SurchargeAccount.region_code, within_region))
        .order_by(SurchargeAccount.account_no)
    )
    for account_no, region_code, uscc, address in session.execute(accounts):
        entries.append(
            WatchEntry(f"surcharge {account_no}", None, uscc, _address(address, region_code))
        )
    return entries


def _address(text: str | None, region: str | None) -> Address | None:
    if not text or not text.strip():
        return None
    try:
        return normalise_address(text, region_hint=region)
    except ValueError:
        return None


def _looks_like_mining(party: Party, settings: ScreeningSettings) -> str | None:
    if party.declared_load_kw is None or party.declared_load_kw < settings.mining_load_kw:
        return None
    if not party.industry or not _COMPUTING.search(party.industry):
        return None
    hours = party.daily_hours
    if hours is None:
        if party.round_the_clock is False:
            return None
        hours = 24.0
    if hours < settings.round_the_clock_hours:
        return None
    return (
        f"{party.industry}: {party.declared_load_kw:,.0f} kW for {hours:.0f} h a day "
        f"(computing at ≥ {settings.mining_load_kw:,.0f} kW around the clock looks like mining)"
    )


def screen(
    parties: Iterable[Party],
    entries: Sequence[WatchEntry],
    settings: ScreeningSettings | None = None,
    *,
    check_load: bool = False,
) -> list[ScreeningResult]:
    """Each party against the watch list (and, for connection applications, its load)."""
    settings = settings or ScreeningSettings()
    by_uscc: dict[str, list[WatchEntry]] = {}
    keyed = []
    for entry in entries:
        if entry.uscc:
            by_uscc.setdefault(entry.uscc.upper(), []).append(entry)
        if entry.name:
            keyed.append((name_key(entry.name), entry))
    results = []
    for party in parties:
        hits: list[Hit] = []
        code = party.uscc.strip().upper() if party.uscc else None
        if code and credit_code.is_valid(code):
            for entry in by_uscc.get(code, []):
                hits.append(Hit(entry.source, "uscc", f"credit code {code} is listed"))
        key = name_key(party.name) if party.name else ""
        for entry_key, entry in keyed:
            if not key or not entry_key:
                continue
            ratio = SequenceMatcher(None, key, entry_key).ratio()
            if ratio >= settings.name_ratio:
                hits.append(Hit(entry.source, "name", f"{party.name} ≈ {entry.name} ({ratio:.2f})"))
        address = _address(party.address, party.region_code)
        if address is not None:
            for entry in entries:
                if entry.address is None:
                    continue
                match = match_addresses(address, entry.address)
                if match.level.at_least(settings.address_level) and (
                    match.score >= settings.address_score
                ):
                    reason = f"{match.level.value}: " + "; ".join(match.reasons)
                    hits.append(Hit(entry.source, "address", reason))
        if check_load:
            why = _looks_like_mining(party, settings)
            if why is not None:
                hits.append(Hit("declared load", "load", why))
        decision = Decision.HOLD if hits else Decision.PASS
        results.append(ScreeningResult(party.reference, decision, tuple(_unique(hits))))
    return results


def _unique(hits: Iterable[Hit]) -> list[Hit]:
    seen: set[tuple[str, str]] = set()
    out = []
    for hit in hits:
        if (hit.source, hit.on) not in seen:
            seen.add((hit.source, hit.on))
            out.append(hit)
    return out


# ----------------------------------------------------------------------------------------------
# reading parties


_YES = frozenset({"1", "y", "yes", "true", "是", "全天", "全天候"})
_NO = frozenset({"0", "n", "no", "false", "否"})


def _number(
    row: dict[str, str], column: str, line: int, problems: list[InputProblem]
) -> float | None:
    text = row.get(column, "").strip()
    if not text:
        return None
    try:
        value = float(text.replace(",", ""))
    except ValueError:
        problems.append(InputProblem(line, column, f"{text!r} is not a number"))
        return None
    if value != value or value < 0 or value == float("inf"):
        problems.append(InputProblem(line, column, f"{text!r} is not a non-negative number"))
        return None
    return value


def _flag(row: dict[str, str], column: str, line: int, problems: list[InputProblem]) -> bool | None:
    text = row.get(column, "").strip().lower()
    if not text:
        return None
    if text in _YES:
        return True
    if text in _NO:
        return False
    problems.append(InputProblem(line, column, f"{text!r} is not yes or no (是/否)"))
    return None


def read_parties(text: str, source: str) -> list[Party]:
    """The parties of a CSV text (see the module docstring for the columns); all or nothing:
    every bad cell is reported as an :class:`~minewatch.errors.InputFileError` naming ``source``,
    its row (the header is row 1) and column."""
    reader = csv.DictReader(text.lstrip("\ufeff").splitlines())
    header = {(h or "").strip() for h in reader.fieldnames or []}
    missing = [c for c in ("reference", "name") if c not in header]
    if missing:
        raise InputFileError(source, [InputProblem(1, None, f"missing {', '.join(missing)}")])
    parties: list[Party] = []
    problems: list[InputProblem] = []
    for line, raw in enumerate(reader, start=2):
        row = {(k or "").strip(): (v or "").strip() for k, v in raw.items() if isinstance(v, str)}
        if not row.get("reference") or not row.get("name"):
            column = "reference" if not row.get("reference") else "name"
            problems.append(InputProblem(line, column, "empty"))
            continue
        hours = _number(row, "daily_hours", line, problems)
        if hours is not None and hours > 24:
            problems.append(InputProblem(line, "daily_hours", f"{hours:g} h is more than a day"))
        region = row.get("region_code") or None
        if region is not None and not regions.is_valid_code(region):
            problems.append(InputProblem(line, "region_code", f"{region!r} is not a region code"))
        parties.append(
            Party(
                reference=row["reference"],
                name=row["name"],
                uscc=row.get("uscc") or None,
                address=row.get("address") or None,
                region_code=region,
                declared_load_kw=_number(row, "declared_load_kw", line, problems),
                daily_hours=hours,
                round_the_clock=_flag(row, "round_the_clock", line, problems),
                industry=row.get("industry") or None,
            )
        )
    if problems:
        raise InputFileError(source, problems)
    return parties
