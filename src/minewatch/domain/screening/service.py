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
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

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
from minewatch.reference import credit_code

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


def watch_list(session: Session) -> list[WatchEntry]:
    """Every confirmed case, ledger project and surcharged account, as screening sees them."""
    entries: list[WatchEntry] = []
    for case in session.scalars(select(Case).where(Case.status.in_([s.value for s in _CONFIRMED]))):
        name = case.enterprise.name if case.enterprise is not None else None
        entries.append(
            WatchEntry(
                f"case {case.case_no}",
                name,
                case.uscc,
                _address(case.address, case.region_code),
            )
        )
    for project in session.scalars(select(Project).order_by(Project.code)):
        entries.append(
            WatchEntry(
                f"ledger {project.code}",
                project.enterprise.name,
                project.enterprise.uscc,
                _address(project.site_address, project.region_code),
            )
        )
    for account in session.scalars(select(SurchargeAccount)):
        owner = session.scalar(select(Case).where(Case.case_no == account.case_no))
        if owner is not None:
            entries.append(
                WatchEntry(
                    f"surcharge {account.account_no}",
                    None,
                    owner.uscc,
                    _address(owner.address, account.region_code),
                )
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
    hours = party.daily_hours if party.daily_hours is not None else 24.0
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
