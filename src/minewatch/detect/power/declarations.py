"""Ledger declarations held against each other and against the meter (notice 1283 (三)(四)).

Every ledger project declares its machines by model, its hash rate with a unit, its rated power
[kW] and its monthly consumption [kWh], and names its grid account (户号). These figures must
agree with each other and with what the grid meters. A project is flagged when one source
implies *more* than the declaration admits, beyond the bounds of the estimate and a tolerance:

============================================  ==================================================
declared                                      held against
============================================  ==================================================
rated power                                   machines' nameplate wall power (lower bound)
hash rate                                     machines' nameplate hash rate (lower bound)
hash rate                                     rated power → hash rate (lower bound)
rated power                                   metered mean power
monthly consumption                           metered mean power × hours of a month
hash rate                                     metered mean power → hash rate (lower bound)
machines                                      metered mean power vs the machines' site power
                                              (upper bound, with overhead)
============================================  ==================================================

Only the conservative end of every estimate is used: a flag says "even at the most favourable
end of the bounds, the declaration is short by this much" (gap and ratio against the lower
bound; the best guess is reported beside it). The metered mean power is itself a floor of what
the site draws when running. Every finding carries the figures and bounds it was decided on,
and the settings (:class:`DeclarationSettings`) are serialised with the results, so a flag can
be re-run and defended. Checks that cannot be made (no grid account, too little metering, an
algorithm that cannot be told, unknown machine models) are listed as notes, never guessed.

:func:`check_declarations` is pure: ledger rows and metered accounts in, one
:class:`DeclarationCheck` per project out. Reading the database and the meter files is the
CLI's business (``minewatch estimate declarations``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

import pyarrow as pa

from minewatch.detect.power.metered import MeteredAccount, account_key
from minewatch.detect.power.site import (
    HashrateBounds,
    MachinesEstimate,
    NoHardwareError,
    SiteEstimateSettings,
    hashrate_from_power,
    power_from_machines,
)
from minewatch.reference.ledger import HashrateUnit, LedgerEntry

CLAUSE = "notice 1283 clauses 三, 四 (the ledger's hash rate, power and consumption)"


@dataclass(frozen=True)
class Reason:
    """A reason code of the declaration checks, declared as data."""

    code: str
    meaning: str
    false_positives: str
    flags: bool = True
    """``False``: a note (a check that could not be made), not a flag."""
    clause: str = CLAUSE


REASONS: dict[str, Reason] = {
    r.code: r
    for r in (
        Reason(
            "declaration.power_below_machines",
            "the declared rated power is below the declared machines' nameplate wall power",
            "rated power declared per transformer or per phase; machines declared but not all "
            "installed (in construction)",
        ),
        Reason(
            "declaration.hashrate_below_machines",
            "the declared hash rate is below the declared machines' nameplate hash rate",
            "hash rate declared in the wrong unit (TH/s for PH/s); machines not all installed",
        ),
        Reason(
            "declaration.hashrate_below_power",
            "the declared rated power implies more hash rate, even with the least efficient "
            "catalogue machine, than declared",
            "a site of machines older than the catalogue's oldest model; rated power that "
            "includes non-mining load",
        ),
        Reason(
            "declaration.power_below_metered",
            "the meter shows a mean power above the declared rated power",
            "a grid account shared with other consumers (a park's main account)",
        ),
        Reason(
            "declaration.energy_below_metered",
            "the meter shows more energy per month than the declared monthly consumption",
            "a grid account shared with other consumers; a declaration made before expansion",
        ),
        Reason(
            "declaration.hashrate_below_metered",
            "the metered power implies more hash rate, even with the least efficient catalogue "
            "machine, than declared",
            "a grid account shared with other consumers; machines older than the catalogue",
        ),
        Reason(
            "declaration.machines_below_metered",
            "the meter shows more power than the declared machines can draw with the largest "
            "site overhead: undeclared machines",
            "a grid account shared with other consumers; heating or other load on the account",
        ),
        Reason(
            "declaration.unknown_model",
            "a declared model the hardware catalogue does not know: not counted",
            "a spelling the catalogue does not recognise",
            flags=False,
        ),
        Reason(
            "declaration.not_declared",
            "a figure the ledger asks for is missing, so the checks that need it are not made",
            "",
            flags=False,
        ),
        Reason(
            "declaration.algorithm_unknown",
            "the algorithm cannot be told (no known machines, mixed algorithms, or a unit below "
            "TH/s): hash-rate checks not made",
            "",
            flags=False,
        ),
        Reason(
            "data.no_grid_account",
            "no grid account number declared: metered checks not made",
            "",
            flags=False,
        ),
        Reason(
            "data.no_metered_energy",
            "the readings hold nothing for the declared grid account: metered checks not made",
            "",
            flags=False,
        ),
        Reason(
            "data.short_metering",
            "fewer metered hours than the settings ask for: metered checks not made",
            "",
            flags=False,
        ),
        Reason(
            "data.no_hardware",
            "no catalogue model of the algorithm released by the date: hash-rate bounds not made",
            "",
            flags=False,
        ),
    )
}


@dataclass(frozen=True)
class DeclarationSettings:
    """Tolerances of the declaration checks (frozen; recorded with every result)."""

    power_tolerance: float = 0.10
    """A declared power may be exceeded by this fraction of itself before a flag: declarations
    are rounded, and meters of class 0.5S–1 (GB/T 17215) read within 1 %."""
    energy_tolerance: float = 0.10
    """Likewise for the monthly consumption."""
    hashrate_tolerance: float = 0.10
    """Likewise for the hash rate (declared in rounded PH/s)."""
    min_covered_h: float = 168.0
    """Metered checks need at least a week of metered hours on every meter of the account."""
    hours_per_month: float = 730.5
    """Hours of an average month (365.25 × 24 / 12), to compare a monthly consumption."""
    site: SiteEstimateSettings = field(default_factory=SiteEstimateSettings)
    """Nameplate tolerance and site overhead of the bounds."""

    def __post_init__(self) -> None:
        for name in ("power_tolerance", "energy_tolerance", "hashrate_tolerance"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name} must not be negative")
        if not self.min_covered_h >= 0 or not self.hours_per_month > 0:
            raise ValueError("min_covered_h must not be negative, hours_per_month positive")

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


Figure = float | int | str


@dataclass(frozen=True)
class Finding:
    """A reason code with the figures that decided it (names carry units)."""

    code: str
    figures: tuple[tuple[str, Figure], ...] = ()

    @property
    def reason(self) -> Reason:
        return REASONS[self.code]

    def as_dict(self) -> dict[str, Figure]:
        return dict(self.figures)

    def __str__(self) -> str:
        if not self.figures:
            return self.code
        return f"{self.code}({', '.join(f'{k}={_shown(v)}' for k, v in self.figures)})"

    def brief(self) -> str:
        """The code with its gaps and ratio only (the figures in full are in ``str``)."""
        kept = [(k, v) for k, v in self.figures if k.startswith("gap_") or k == "ratio"]
        if not kept:
            return str(self)
        return f"{self.code}({', '.join(f'{k}={_shown(v)}' for k, v in kept)})"


def _shown(value: Figure) -> str:
    if isinstance(value, float):
        return f"{value:.0f}" if abs(value) >= 1000 else f"{value:.4g}"
    return str(value)


@dataclass(frozen=True)
class DeclarationCheck:
    """One project's declaration held against its machines and its meter."""

    entry: LedgerEntry
    algorithm: str | None
    machines: MachinesEstimate | None
    metered: MeteredAccount | None
    metered_hashrate: HashrateBounds | None
    findings: tuple[Finding, ...]
    notes: tuple[Finding, ...]

    @property
    def flagged(self) -> bool:
        return bool(self.findings)


def _declared(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else value


def _ratio(implied: float, declared: float) -> dict[str, Figure]:
    return {"ratio": implied / declared} if declared > 0 else {}


def _algorithm(entry: LedgerEntry, machines: MachinesEstimate | None) -> tuple[str | None, str]:
    """The project's algorithm and how it was told (``machines``, ``unit``), or why not."""
    if machines is not None and machines.hashrate:
        if len(machines.algorithms) == 1:
            return machines.algorithms[0], "machines"
        return None, "mixed algorithms " + "+".join(machines.algorithms)
    unit = entry.hashrate_unit
    if unit in (HashrateUnit.SOLS, HashrateUnit.KSOLS):
        return "Equihash", "unit"
    if unit is not None and unit.hashes_per_second >= HashrateUnit.THS.hashes_per_second:
        return "SHA-256", "unit"  # no catalogue machine of another algorithm reaches 1 TH/s
    return None, f"no known machines and a hash rate in {unit.value if unit else 'no unit'}"


def check_declaration(
    entry: LedgerEntry,
    metered: MeteredAccount | None,
    *,
    as_of: date | None = None,
    settings: DeclarationSettings | None = None,
) -> DeclarationCheck:
    """Hold one project's declaration against its machines and its meter.

    Parameters
    ----------
    entry : LedgerEntry
        The ledger row: machines, ``hashrate`` in ``hashrate_unit``, ``rated_power_kw`` [kW],
        ``monthly_energy_kwh`` [kWh/month], ``grid_account_no``.
    metered : MeteredAccount, optional
        What the meters of its grid account recorded over the window (``None``: nothing).
    as_of : date, optional
        Only catalogue models released by this day bound the hash rate implied by a power.
    settings : DeclarationSettings, optional

    Returns
    -------
    DeclarationCheck
        Findings (flags, see :data:`REASONS`) each with its figures: the declared value, the
        bounds it was held against, ``gap_*`` (lower bound − declared, in the figure's unit;
        for power also ``gap_kwh`` over the metered hours) and ``ratio`` (lower bound /
        declared); and notes for the checks that could not be made.
    """
    s = settings or DeclarationSettings()
    findings: list[Finding] = []
    notes: list[Finding] = []
    power_kw = _declared(entry.rated_power_kw)
    energy_kwh = _declared(entry.monthly_energy_kwh)
    hashrate_hs = _declared(entry.hashrate_hs)
    declared_ths = None if hashrate_hs is None else hashrate_hs / 1e12
    for name, value in (
        ("rated_power_kw", power_kw),
        ("monthly_energy_kwh", energy_kwh),
        ("hashrate", hashrate_hs),
    ):
        if value is None:
            notes.append(Finding("declaration.not_declared", (("field", name),)))

    machines = power_from_machines(entry.machines, s.site) if entry.machines else None
    if machines is not None:
        for unknown in machines.unknown_models:
            notes.append(
                Finding(
                    "declaration.unknown_model",
                    (("model", unknown.model), ("count", unknown.count)),
                )
            )
    algorithm, told_by = _algorithm(entry, machines)
    if algorithm is None and hashrate_hs is not None:
        notes.append(Finding("declaration.algorithm_unknown", (("why", told_by),)))

    def implied_hashrate(kw: float) -> HashrateBounds | None:
        if algorithm is None:
            return None
        try:
            return hashrate_from_power(kw, algorithm, as_of, s.site).hashrate
        except NoHardwareError as error:
            note = Finding("data.no_hardware", (("why", str(error)),))
            if note not in notes:
                notes.append(note)
            return None

    def hashrate_short(code: str, bounds: HashrateBounds, source: dict[str, Figure]) -> None:
        assert declared_ths is not None
        if bounds.lower_ths > declared_ths * (1.0 + s.hashrate_tolerance):
            figures: dict[str, Figure] = {
                "declared_ths": declared_ths,
                **source,
                "algorithm": bounds.algorithm,
                "implied_lower_ths": bounds.lower_ths,
                "implied_best_ths": bounds.best_ths,
                "implied_upper_ths": bounds.upper_ths,
                "gap_ths": bounds.lower_ths - declared_ths,
                "gap_best_ths": bounds.best_ths - declared_ths,
                **_ratio(bounds.lower_ths, declared_ths),
            }
            findings.append(Finding(code, tuple(figures.items())))

    # Declared figures against each other.
    if machines is not None and machines.machines_known:
        wall = machines.wall_power_kw
        if power_kw is not None and wall.lower_kw > power_kw * (1.0 + s.power_tolerance):
            figures: dict[str, Figure] = {
                "declared_kw": power_kw,
                "machines_lower_kw": wall.lower_kw,
                "machines_best_kw": wall.best_kw,
                "machines_upper_kw": wall.upper_kw,
                "gap_kw": wall.lower_kw - power_kw,
                **_ratio(wall.lower_kw, power_kw),
            }
            findings.append(Finding("declaration.power_below_machines", tuple(figures.items())))
        if declared_ths is not None and algorithm is not None:
            for bounds in machines.hashrate:
                if bounds.algorithm == algorithm:
                    source: dict[str, Figure] = {"machines": machines.machines_known}
                    hashrate_short("declaration.hashrate_below_machines", bounds, source)
    if power_kw is not None and declared_ths is not None:
        from_power = implied_hashrate(power_kw)
        if from_power is not None:
            source = {"declared_kw": power_kw}
            hashrate_short("declaration.hashrate_below_power", from_power, source)

    # Declared figures against the meter.
    metered_hashrate = None
    account = entry.grid_account_no
    usable = None
    if account is None or not account.strip():
        notes.append(Finding("data.no_grid_account"))
    elif metered is None:
        notes.append(Finding("data.no_metered_energy", (("account", account),)))
    elif metered.shortest_covered_h < s.min_covered_h:
        figures = {"covered_h": metered.shortest_covered_h, "min_covered_h": s.min_covered_h}
        notes.append(Finding("data.short_metering", tuple(figures.items())))
    else:
        usable = metered
    if usable is not None:
        mean_kw = usable.mean_kw
        period: dict[str, Figure] = {
            "metered_kwh": usable.energy_kwh,
            "covered_h": usable.covered_h,
            "from": usable.start_date.isoformat(),
            "to": usable.end_date.isoformat(),
        }
        if power_kw is not None and mean_kw > power_kw * (1.0 + s.power_tolerance):
            figures = {
                "declared_kw": power_kw,
                "metered_mean_kw": mean_kw,
                "gap_kw": mean_kw - power_kw,
                "gap_kwh": (mean_kw - power_kw) * usable.covered_h,
                **_ratio(mean_kw, power_kw),
                **period,
            }
            findings.append(Finding("declaration.power_below_metered", tuple(figures.items())))
        monthly_kwh = mean_kw * s.hours_per_month
        if energy_kwh is not None and monthly_kwh > energy_kwh * (1.0 + s.energy_tolerance):
            figures = {
                "declared_kwh_month": energy_kwh,
                "metered_kwh_month": monthly_kwh,
                "gap_kwh_month": monthly_kwh - energy_kwh,
                "gap_kwh": (mean_kw - energy_kwh / s.hours_per_month) * usable.covered_h,
                **_ratio(monthly_kwh, energy_kwh),
                **period,
            }
            findings.append(Finding("declaration.energy_below_metered", tuple(figures.items())))
        metered_hashrate = implied_hashrate(mean_kw)
        if metered_hashrate is not None and declared_ths is not None:
            source = {"metered_mean_kw": mean_kw}
            hashrate_short("declaration.hashrate_below_metered", metered_hashrate, source)
        if machines is not None and machines.machines_known and not machines.unknown_models:
            site = machines.power_kw
            if mean_kw > site.upper_kw * (1.0 + s.power_tolerance):
                figures = {
                    "metered_mean_kw": mean_kw,
                    "machines": machines.machines_known,
                    "machines_site_lower_kw": site.lower_kw,
                    "machines_site_best_kw": site.best_kw,
                    "machines_site_upper_kw": site.upper_kw,
                    "gap_kw": mean_kw - site.upper_kw,
                    "gap_kwh": (mean_kw - site.upper_kw) * usable.covered_h,
                    **_ratio(mean_kw, site.upper_kw),
                    **period,
                }
                code = "declaration.machines_below_metered"
                findings.append(Finding(code, tuple(figures.items())))
    return DeclarationCheck(
        entry=entry,
        algorithm=algorithm,
        machines=machines,
        metered=metered,
        metered_hashrate=metered_hashrate,
        findings=tuple(findings),
        notes=tuple(notes),
    )


def check_declarations(
    entries: Sequence[LedgerEntry],
    metered: Mapping[str, MeteredAccount],
    *,
    as_of: date | None = None,
    settings: DeclarationSettings | None = None,
) -> list[DeclarationCheck]:
    """:func:`check_declaration` for every ledger row, its meter found by grid account.

    Parameters
    ----------
    entries : sequence of LedgerEntry
        The projects to check.
    metered : mapping
        :func:`~minewatch.detect.power.metered.account_summaries` of the readings: account
        key → metered figures. Account numbers match after NFKC and without spaces.
    as_of : date, optional
        Only catalogue models released by this day bound hash rates.
    settings : DeclarationSettings, optional
    """
    checks = []
    for entry in entries:
        account = entry.grid_account_no
        found = metered.get(account_key(account)) if account else None
        checks.append(check_declaration(entry, found, as_of=as_of, settings=settings))
    return checks


DECLARATION_FINDINGS_SCHEMA = pa.schema(
    [
        pa.field("project_code", pa.string()),
        pa.field("project_name", pa.string()),
        pa.field("enterprise_name", pa.string()),
        pa.field("enterprise_uscc", pa.string()),
        pa.field("region_code", pa.string()),
        pa.field("status", pa.string()),
        pa.field("grid_account_no", pa.string()),
        pa.field("flagged", pa.bool_()),
        pa.field("reasons", pa.string()),
        pa.field("notes", pa.string()),
        pa.field("algorithm", pa.string()),
        pa.field("declared_power_kw", pa.float64()),
        pa.field("declared_energy_kwh_month", pa.float64()),
        pa.field("declared_hashrate_ths", pa.float64()),
        pa.field("machines_known", pa.int64()),
        pa.field("machines_unknown", pa.int64()),
        pa.field("machines_power_lower_kw", pa.float64()),
        pa.field("machines_power_best_kw", pa.float64()),
        pa.field("machines_power_upper_kw", pa.float64()),
        pa.field("machines_hashrate_best_ths", pa.float64()),
        pa.field("metered_from_date", pa.date32()),
        pa.field("metered_to_date", pa.date32()),
        pa.field("metered_energy_kwh", pa.float64()),
        pa.field("metered_covered_h", pa.float64()),
        pa.field("metered_mean_kw", pa.float64()),
        pa.field("metered_hashrate_lower_ths", pa.float64()),
        pa.field("metered_hashrate_best_ths", pa.float64()),
        pa.field("metered_hashrate_upper_ths", pa.float64()),
        pa.field("evidence", pa.string()),
    ]
)
"""One row per checked project; ``machines_power_*`` are the machines with site overhead (what
the meter would see), ``evidence`` the findings, notes and settings as JSON."""


def checks_table(checks: Sequence[DeclarationCheck], settings: DeclarationSettings) -> Any:
    """The checks as ``DECLARATION_FINDINGS_SCHEMA`` rows (flagged projects first, largest
    ratio first)."""

    def worst(check: DeclarationCheck) -> float:
        ratios = [float(f.as_dict().get("ratio", 0.0)) for f in check.findings]
        return max(ratios, default=0.0)

    ordered = sorted(checks, key=lambda c: (not c.flagged, -worst(c), c.entry.project_code or ""))
    rows: list[dict[str, Any]] = []
    settings_json = _jsonable(settings.as_dict())
    for c in ordered:
        e, m, h = c.entry, c.machines, c.metered_hashrate
        main = None
        if m is not None and c.algorithm is not None:
            main = next((b for b in m.hashrate if b.algorithm == c.algorithm), None)
        rows.append(
            {
                "project_code": e.project_code,
                "project_name": e.project_name,
                "enterprise_name": e.enterprise_name,
                "enterprise_uscc": e.enterprise_uscc,
                "region_code": e.region_code,
                "status": e.status.value,
                "grid_account_no": e.grid_account_no,
                "flagged": c.flagged,
                "reasons": "; ".join(str(f) for f in c.findings),
                "notes": "; ".join(str(f) for f in c.notes),
                "algorithm": c.algorithm,
                "declared_power_kw": _declared(e.rated_power_kw),
                "declared_energy_kwh_month": _declared(e.monthly_energy_kwh),
                "declared_hashrate_ths": None if e.hashrate_hs is None else e.hashrate_hs / 1e12,
                "machines_known": m.machines_known if m else None,
                "machines_unknown": m.machines_unknown if m else None,
                "machines_power_lower_kw": m.power_kw.lower_kw if m else None,
                "machines_power_best_kw": m.power_kw.best_kw if m else None,
                "machines_power_upper_kw": m.power_kw.upper_kw if m else None,
                "machines_hashrate_best_ths": main.best_ths if main else None,
                "metered_from_date": c.metered.start_date if c.metered else None,
                "metered_to_date": c.metered.end_date if c.metered else None,
                "metered_energy_kwh": c.metered.energy_kwh if c.metered else None,
                "metered_covered_h": c.metered.covered_h if c.metered else None,
                "metered_mean_kw": c.metered.mean_kw if c.metered else None,
                "metered_hashrate_lower_ths": h.lower_ths if h else None,
                "metered_hashrate_best_ths": h.best_ths if h else None,
                "metered_hashrate_upper_ths": h.upper_ths if h else None,
                "evidence": json.dumps(
                    {
                        "findings": {f.code: _jsonable(f.as_dict()) for f in c.findings},
                        "notes": [{"code": n.code, **n.as_dict()} for n in c.notes],
                        "settings": settings_json,
                    },
                    ensure_ascii=False,
                ),
            }
        )
    return pa.Table.from_pylist(rows, schema=DECLARATION_FINDINGS_SCHEMA)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
