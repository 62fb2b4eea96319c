"""The differential electricity surcharge (差别电价) on a mining account, and what was collected.

Notice 1283 clause （十三） 实行差别电价 bills mining projects at the 淘汰类 rate: 0.30 yuan/kWh on
top of the tariff, raised by provinces as they see fit, and asks that the surcharge be collected
in full and on time (及时足额收取加价电费). Clause （十二） forbids supplying mining through
private lines or ahead of the grid meter (网前供电、专线直供电) and self-owned plants, and clause
（十四） forbids mining any benefit of the electricity market; :func:`cheap_supply_penalty` prices
power so obtained.

Everything here is pure arithmetic on values the caller passes: no database, no clock, no
environment. Rates come from a :class:`~minewatch.reference.surcharge.SurchargeRateTable`
(the packaged one unless the caller passes its own).

Money is :class:`decimal.Decimal` yuan. Each line is rounded to the fen (0.01 yuan,
``ROUND_HALF_UP``) once, from its exact amount; totals are sums of rounded lines, so a bill adds
up as printed.

Assumption (pro-rating)
-----------------------
A billing period's meter gives one kWh figure for the whole account. The whole account is
surcharged from the day mining started, and, since the kWh of each day are unknown, the period's
kWh are shared out equally among its days: a surcharged stretch of ``d`` days in a period of
``D`` days carries ``kWh × d / D``. When the daily kWh are known (interval meter data) pass them
as ``daily_energy_kwh`` and they are used instead.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from fractions import Fraction

from minewatch.reference import regions
from minewatch.reference.surcharge import (
    NATIONAL,
    SurchargeRate,
    SurchargeRateTable,
    packaged_table,
)

__all__ = [
    "CHEAP_SUPPLY_BASES",
    "PENALTY_MULTIPLIER",
    "BillingPeriod",
    "CheapSupplyKind",
    "CollectionStatus",
    "EnergyBasis",
    "Payment",
    "PenaltyLine",
    "RateSegment",
    "Reconciliation",
    "SurchargeLine",
    "SurchargeStatement",
    "cheap_supply_penalty",
    "rate_for",
    "reconcile",
    "reconcile_accounts",
    "round_to_fen",
    "surcharge_for_account",
]

FEN = Decimal("0.01")
_KWH_SHOWN = Decimal("0.001")


# ---------------------------------------------------------------------------------------------
# Checking what callers pass


def _decimal(value: object, what: str) -> Decimal:
    """``value`` as an exact, finite Decimal; floats are refused (they are not exact)."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise TypeError(f"{what} must be a decimal.Decimal or an int, not {value!r}")
    result = Decimal(value)
    if not result.is_finite():
        raise ValueError(f"{what} is {value}; it must be a finite number")
    return result


def _non_negative(value: object, what: str) -> Decimal:
    result = _decimal(value, what)
    if result < 0:
        raise ValueError(f"{what} is {result}; it cannot be negative")
    return result


def _money(value: object, what: str) -> Decimal:
    result = _non_negative(value, what)
    if result != result.quantize(FEN):
        raise ValueError(f"{what} is {result} yuan; money is counted in whole fen (0.01 yuan)")
    return result.quantize(FEN)


def round_to_fen(amount_yuan: Fraction | Decimal) -> Decimal:
    """``amount_yuan`` rounded to the fen, halves away from zero (``ROUND_HALF_UP``), exactly.

    A :class:`~fractions.Fraction` is rounded from its exact value, not from a decimal
    approximation of it.
    """
    if isinstance(amount_yuan, Decimal):
        return amount_yuan.quantize(FEN, rounding=ROUND_HALF_UP)
    fen = abs(amount_yuan) * 100
    whole, rest = divmod(fen.numerator, fen.denominator)
    if 2 * rest >= fen.denominator:
        whole += 1
    sign = -1 if amount_yuan < 0 else 1
    return (Decimal(sign * whole) / 100).quantize(FEN)


def _region(region_code: str) -> regions.Region:
    if not isinstance(region_code, str):
        raise TypeError(f"region_code must be a 6-digit string, not {region_code!r}")
    if region_code.strip() == NATIONAL:
        raise ValueError("region_code 000000 is the whole country; give the account's own region")
    found = regions.find(region_code)
    if found is None:
        raise ValueError(f"region_code: {regions.UnknownRegionError(region_code)}")
    return found


# ---------------------------------------------------------------------------------------------
# Rates


def _candidates(region: regions.Region) -> tuple[str, ...]:
    """Codes to look a rate up under, most specific first: county, prefecture, province, nation."""
    county, prefecture, province = regions.county_prefecture_province(region.code)
    codes = [c for c in (county, prefecture, province, NATIONAL) if c is not None]
    return tuple(dict.fromkeys(codes))


def _find_rate(
    candidates: Sequence[str], day: date, table: SurchargeRateTable
) -> SurchargeRate | None:
    for code in candidates:
        rate = table.in_force(code, day)
        if rate is not None:
            return rate
    return None


def rate_for(region_code: str, day: date, table: SurchargeRateTable | None = None) -> SurchargeRate:
    """The surcharge rate in force for an account in ``region_code`` on ``day``.

    The most specific region with a rate in force that day wins: the county, then its
    prefecture, then its province, then the national rate (``000000``). A county whose own rate
    has lapsed falls back to its prefecture's, and so on.

    Parameters
    ----------
    region_code
        GB/T 2260 code of the account's county (or prefecture or province), 6 digits.
    day
        The day to price.
    table
        Rates to use; the packaged table when ``None``.

    Raises
    ------
    ValueError
        When the code is not a current GB/T 2260 code, or no rate is in force on ``day`` at any
        level (e.g. before notice 1283, 2021-09-03).
    """
    table = packaged_table() if table is None else table
    region = _region(region_code)
    rate = _find_rate(_candidates(region), day, table)
    if rate is None:
        raise ValueError(
            f"no surcharge rate is in force for {region.code} ({region.full_name}) on {day} "
            f"in {table.origin}"
        )
    return rate


# ---------------------------------------------------------------------------------------------
# The surcharge


@dataclass(frozen=True)
class BillingPeriod:
    """One billing period of an account: its days (both ends included) and its metered kWh."""

    start_date: date
    end_date: date
    """Last day of the period (inclusive)."""
    energy_kwh: Decimal
    """Metered energy of the whole account over the period [kWh]; an int is accepted."""

    def __post_init__(self) -> None:
        if self.end_date < self.start_date:
            raise ValueError(
                f"billing period {self.start_date}–{self.end_date}: end is before start"
            )
        what = f"energy_kwh of billing period {self.start_date}–{self.end_date}"
        object.__setattr__(self, "energy_kwh", _non_negative(self.energy_kwh, what))

    @property
    def days(self) -> int:
        """Number of days in the period, both ends included."""
        return (self.end_date - self.start_date).days + 1

    def label(self) -> str:
        return f"{self.start_date}–{self.end_date}"


class EnergyBasis(StrEnum):
    """How a line's surcharged kWh were found."""

    PRO_RATED = "pro_rated"
    """The period's kWh shared out equally among its days."""
    DAILY = "daily"
    """The sum of the surcharged days' own kWh."""


@dataclass(frozen=True)
class RateSegment:
    """The days of a period surcharged at one rate (a rate change inside a period splits it)."""

    start_date: date
    end_date: date
    days: int
    energy_kwh: Decimal
    """kWh surcharged at this rate; when pro-rated, shown to 0.001 kWh (the line's amount is
    computed from the exact share)."""
    rate_yuan_per_kwh: Decimal
    rate_region_code: str
    """The region whose rate applied (``000000`` for the national rate)."""
    rate_source: str
    rate_origin: str
    """The table file and row of the rate."""


@dataclass(frozen=True)
class SurchargeLine:
    """The surcharge of one billing period."""

    period: BillingPeriod
    days_surcharged: int
    """Days of the period from the day mining started on which a rate was in force."""
    days_without_rate: int
    """Days of the period from the day mining started on which no rate was in force at any
    level (before the notice, or a gap in a deployment's table); these are not surcharged."""
    energy_kwh: Decimal
    """kWh surcharged (pro-rated figures shown to 0.001 kWh)."""
    energy_basis: EnergyBasis
    segments: tuple[RateSegment, ...]
    """One per rate applied, in date order; empty when nothing is surcharged."""
    amount_yuan: Decimal
    """The surcharge, rounded to the fen from its exact value."""

    @property
    def rates_yuan_per_kwh(self) -> tuple[Decimal, ...]:
        """The rates applied, in date order."""
        return tuple(s.rate_yuan_per_kwh for s in self.segments)


@dataclass(frozen=True)
class SurchargeStatement:
    """The surcharge of one account over its billing periods, and what it was computed from."""

    region_code: str
    mining_start_date: date
    lines: tuple[SurchargeLine, ...]
    """One per billing period, in date order."""
    table_origin: str
    """The rate table used."""

    @property
    def total_yuan(self) -> Decimal:
        """Sum of the lines' rounded amounts [yuan]."""
        return sum((line.amount_yuan for line in self.lines), Decimal("0.00"))

    @property
    def energy_kwh(self) -> Decimal:
        """Sum of the lines' surcharged kWh."""
        return sum((line.energy_kwh for line in self.lines), Decimal(0))


def _check_periods(periods: Sequence[BillingPeriod]) -> list[BillingPeriod]:
    if not periods:
        raise ValueError("no billing periods given")
    for period in periods:
        if not isinstance(period, BillingPeriod):
            raise TypeError(f"billing periods must be BillingPeriod, not {period!r}")
    ordered = sorted(periods, key=lambda p: p.start_date)
    for earlier, later in itertools.pairwise(ordered):
        if later.start_date <= earlier.end_date:
            raise ValueError(
                f"billing periods {earlier.label()} and {later.label()} overlap "
                f"(both include {later.start_date})"
            )
    return ordered


def _days(start: date, end: date) -> Iterable[date]:
    for offset in range((end - start).days + 1):
        yield start + timedelta(days=offset)


def _check_daily(
    daily_energy_kwh: Mapping[date, Decimal], periods: Sequence[BillingPeriod]
) -> dict[date, Decimal]:
    checked = {
        day: _non_negative(kwh, f"daily_energy_kwh[{day}]") for day, kwh in daily_energy_kwh.items()
    }
    for period in periods:
        given = sum(
            (checked[d] for d in _days(period.start_date, period.end_date) if d in checked),
            Decimal(0),
        )
        if given > period.energy_kwh:
            raise ValueError(
                f"daily_energy_kwh of billing period {period.label()} add up to {given} kWh, "
                f"more than the {period.energy_kwh} kWh metered for the period"
            )
    return checked


def surcharge_for_account(
    periods: Sequence[BillingPeriod],
    mining_start_date: date,
    region_code: str,
    *,
    daily_energy_kwh: Mapping[date, Decimal] | None = None,
    table: SurchargeRateTable | None = None,
) -> SurchargeStatement:
    """The differential surcharge of one mining account, period by period (clause 十三).

    The whole account is surcharged from ``mining_start_date`` on. Each day is priced at the rate
    :func:`rate_for` gives for the account's region that day; consecutive days at the same rate
    row form a :class:`RateSegment`, so a rate that changes inside a period splits it. Without
    daily kWh a segment of ``d`` days in a period of ``D`` days carries ``energy_kwh × d / D``
    (see the module's note on pro-rating); with them, the sum of its days' kWh.

    A line's amount is ``Σ segment kWh × rate`` computed exactly and rounded once to the fen
    (``ROUND_HALF_UP``); the statement's total is the sum of the rounded lines.

    Parameters
    ----------
    periods
        The account's billing periods; any order, no two sharing a day. Every period gets a
        line, with zero days for one that ends before mining started.
    mining_start_date
        First day of mining; the surcharge runs from this day (inclusive).
    region_code
        GB/T 2260 code of the account's location (county wherever known).
    daily_energy_kwh
        Optional kWh per day [kWh]; when given, every surcharged day must have one, and the days
        given inside a period may not add up to more than its metered kWh.
    table
        Rates; the packaged table when ``None`` (see
        :func:`minewatch.reference.surcharge.load_table` for a deployment's own).

    Returns
    -------
    SurchargeStatement
        One :class:`SurchargeLine` per period, in date order, and the table used.

    Raises
    ------
    ValueError
        When the periods overlap, mining started after the last period ended, the region code
        is not a current GB/T 2260 code, a daily kWh is negative or missing for a surcharged
        day, or daily kWh exceed a period's metered kWh. (A period whose end is before its
        start, or with negative kWh, is refused when the :class:`BillingPeriod` is built.)
    """
    table = packaged_table() if table is None else table
    region = _region(region_code)
    ordered = _check_periods(periods)
    last = ordered[-1].end_date
    if mining_start_date > last:
        raise ValueError(
            f"mining started on {mining_start_date}, after every billing period (the last ends "
            f"{last}); there is nothing to surcharge"
        )
    daily = None if daily_energy_kwh is None else _check_daily(daily_energy_kwh, ordered)
    candidates = _candidates(region)
    lines = tuple(_line(period, mining_start_date, candidates, table, daily) for period in ordered)
    return SurchargeStatement(region.code, mining_start_date, lines, table.origin)


def _line(
    period: BillingPeriod,
    mining_start_date: date,
    candidates: Sequence[str],
    table: SurchargeRateTable,
    daily: Mapping[date, Decimal] | None,
) -> SurchargeLine:
    basis = EnergyBasis.PRO_RATED if daily is None else EnergyBasis.DAILY
    first = max(period.start_date, mining_start_date)
    priced: list[tuple[date, SurchargeRate]] = []
    without_rate = 0
    for day in _days(first, period.end_date):
        rate = _find_rate(candidates, day, table)
        if rate is None:
            without_rate += 1
        else:
            priced.append((day, rate))
    if daily is not None:
        missing = [d for d, _ in priced if d not in daily]
        if missing:
            shown = ", ".join(str(d) for d in missing[:5]) + (" …" if len(missing) > 5 else "")
            raise ValueError(
                f"daily_energy_kwh has no figure for {len(missing)} surcharged day(s) of billing "
                f"period {period.label()}: {shown}"
            )
    segments: list[RateSegment] = []
    exact_kwh_total = Fraction(0)
    exact_amount = Fraction(0)
    for _, numbered in itertools.groupby(_runs(priced), key=lambda item: item[0]):
        run = [day_rate for _, day_rate in numbered]
        days = [day for day, _ in run]
        rate = run[0][1]
        if daily is None:
            kwh = Fraction(period.energy_kwh) * len(days) / period.days
            shown_kwh = _round_kwh(kwh)
        else:
            shown_kwh = sum((daily[d] for d in days), Decimal(0))
            kwh = Fraction(shown_kwh)
        exact_kwh_total += kwh
        exact_amount += kwh * Fraction(rate.rate_yuan_per_kwh)
        segments.append(
            RateSegment(
                start_date=days[0],
                end_date=days[-1],
                days=len(days),
                energy_kwh=shown_kwh,
                rate_yuan_per_kwh=rate.rate_yuan_per_kwh,
                rate_region_code=rate.region_code,
                rate_source=rate.source,
                rate_origin=rate.origin,
            )
        )
    return SurchargeLine(
        period=period,
        days_surcharged=len(priced),
        days_without_rate=without_rate,
        energy_kwh=_round_kwh(exact_kwh_total)
        if daily is None
        else sum((s.energy_kwh for s in segments), Decimal(0)),
        energy_basis=basis,
        segments=tuple(segments),
        amount_yuan=round_to_fen(exact_amount),
    )


def _runs(
    priced: Sequence[tuple[date, SurchargeRate]],
) -> Iterable[tuple[int, tuple[date, SurchargeRate]]]:
    """Number the priced days so that consecutive days at the same rate row share a number."""
    run = 0
    for index, (day, rate) in enumerate(priced):
        if index:
            previous_day, previous_rate = priced[index - 1]
            if rate != previous_rate or day != previous_day + timedelta(days=1):
                run += 1
        yield run, (day, rate)


def _round_kwh(energy_kwh: Fraction) -> Decimal:
    """A pro-rated kWh figure as shown on a bill: to 0.001 kWh, halves up."""
    shown = Decimal(energy_kwh.numerator) / Decimal(energy_kwh.denominator)
    return shown.quantize(_KWH_SHOWN, rounding=ROUND_HALF_UP)


# ---------------------------------------------------------------------------------------------
# Penalty for unauthorised cheap supply


class CheapSupplyKind(StrEnum):
    """How a mining project got power cheaper than it was due (notice 1283)."""

    PRIVATE_LINE = "private_line"
    """网前供电、专线直供电: a plant (often a small hydro plant) feeding it directly."""
    SELF_OWNED_PLANT = "self_owned_plant"
    """自备电厂: a plant of its own."""
    MARKET_PRICE = "market_price"
    """A price of the electricity market it should not have had."""


CHEAP_SUPPLY_BASES: Mapping[CheapSupplyKind, str] = {
    CheapSupplyKind.PRIVATE_LINE: (
        "notice 1283 clause （十二）: 坚决杜绝发电企业特别是小水电企业向虚拟货币“挖矿”项目"
        "网前供电、专线直供电等行为"
    ),
    CheapSupplyKind.SELF_OWNED_PLANT: (
        "notice 1283 clause （十二）: 严禁虚拟货币“挖矿”企业以任何形式发展自备电厂供电"
    ),
    CheapSupplyKind.MARKET_PRICE: (
        "notice 1283 clause （十四）: 不允许虚拟货币“挖矿”项目以任何方式享受电力市场让利"
    ),
}
"""The clause of the notice each kind of cheap supply breaks."""

PENALTY_MULTIPLIER = Decimal(2)
"""Times the price difference charged as penalty. Notice 1283 orders 行政处罚 without a figure;
twice the difference is the rule MineWatch was asked to apply, in the manner of the 违约使用电费
of 二倍差额电费 in the 供电营业规则 — confirm the legal basis the province uses before billing."""


@dataclass(frozen=True)
class PenaltyLine:
    """The penalty for power a mining project obtained below the price it was due."""

    kind: CheapSupplyKind
    energy_kwh: Decimal
    """Energy supplied at the cheap price [kWh]."""
    price_paid_yuan_per_kwh: Decimal
    price_due_yuan_per_kwh: Decimal
    price_difference_yuan_per_kwh: Decimal
    multiplier: Decimal
    amount_yuan: Decimal
    """``multiplier × difference × kWh``, rounded to the fen."""
    basis: str
    """The clause broken and the rule of the amount."""


def cheap_supply_penalty(
    kind: CheapSupplyKind,
    energy_kwh: Decimal,
    price_paid_yuan_per_kwh: Decimal,
    price_due_yuan_per_kwh: Decimal,
    *,
    multiplier: Decimal = PENALTY_MULTIPLIER,
) -> PenaltyLine:
    """The penalty for ``energy_kwh`` supplied at a price below the one due.

    ``amount = multiplier × (price due − price paid) × kWh`` [yuan], rounded to the fen
    (``ROUND_HALF_UP``); a separate line from the surcharge, carrying its basis. This is the
    penalty alone: the price difference itself (the back payment) is not in it.

    Parameters
    ----------
    kind
        How the power was obtained; selects the clause in :data:`CHEAP_SUPPLY_BASES`.
    energy_kwh
        Energy supplied at the cheap price [kWh], ≥ 0.
    price_paid_yuan_per_kwh, price_due_yuan_per_kwh
        What the project paid and what it should have paid (the applicable grid tariff)
        [yuan/kWh].
    multiplier
        Times the difference; :data:`PENALTY_MULTIPLIER` (2) unless the province's rule says
        otherwise.

    Raises
    ------
    ValueError
        For negative figures, or a price paid that is not below the price due (no cheap supply
        to penalise).
    """
    kind = CheapSupplyKind(kind)
    kwh = _non_negative(energy_kwh, "energy_kwh")
    paid = _non_negative(price_paid_yuan_per_kwh, "price_paid_yuan_per_kwh")
    due = _non_negative(price_due_yuan_per_kwh, "price_due_yuan_per_kwh")
    times = _non_negative(multiplier, "multiplier")
    if paid >= due:
        raise ValueError(
            f"price paid {paid} yuan/kWh is not below the price due {due} yuan/kWh; "
            "there is no cheap supply to penalise"
        )
    difference = due - paid
    amount = round_to_fen(Fraction(times) * Fraction(difference) * Fraction(kwh))
    basis = (
        f"{CHEAP_SUPPLY_BASES[kind]}; penalty {times} × price difference "
        f"({due} − {paid} = {difference} yuan/kWh) × {kwh} kWh"
    )
    return PenaltyLine(kind, kwh, paid, due, difference, times, amount, basis)


# ---------------------------------------------------------------------------------------------
# What was collected


@dataclass(frozen=True)
class Payment:
    """One payment received on an account."""

    paid_date: date
    amount_yuan: Decimal
    """Amount received [yuan], > 0 and in whole fen; an int is accepted."""

    def __post_init__(self) -> None:
        amount = _money(self.amount_yuan, f"payment of {self.paid_date}")
        if amount == 0:
            raise ValueError(f"payment of {self.paid_date} is 0 yuan")
        object.__setattr__(self, "amount_yuan", amount)


class CollectionStatus(StrEnum):
    """Where an account's surcharge stands against what was collected."""

    PAID = "paid"
    """Collected exactly what was billed (also when nothing was billed nor paid)."""
    PARTIAL = "partial"
    """Some, not all, was collected."""
    UNPAID = "unpaid"
    """Billed, nothing collected."""
    OVERPAID = "overpaid"
    """More was collected than billed."""


@dataclass(frozen=True)
class Reconciliation:
    """An account's billed surcharge against what was collected by ``as_of_date``."""

    account_id: str
    billed_yuan: Decimal
    collected_yuan: Decimal
    """Sum of the payments dated on or before ``as_of_date``."""
    outstanding_yuan: Decimal
    """Billed minus collected, when positive; else 0.00."""
    overpaid_yuan: Decimal
    """Collected minus billed, when positive; else 0.00."""
    due_date: date
    as_of_date: date
    days_overdue: int
    """Days from ``due_date`` to ``as_of_date`` while anything is outstanding; else 0."""
    settled_date: date | None
    """Day the payments first covered the bill (``None`` while they do not, or when nothing was
    billed)."""
    status: CollectionStatus


def reconcile(
    account_id: str,
    billed_yuan: Decimal,
    payments: Sequence[Payment],
    due_date: date,
    as_of_date: date,
) -> Reconciliation:
    """Reconcile one account's billed surcharge with its payments, as of a day.

    Payments dated after ``as_of_date`` are not counted (the reconciliation is what was known
    on that day). ``days_overdue`` counts the days past ``due_date`` up to ``as_of_date`` while
    an amount is outstanding: due 2021-10-31, unpaid on 2021-11-10 gives 10.

    Parameters
    ----------
    account_id
        The account (carried into the result).
    billed_yuan
        What was billed [yuan] in whole fen, e.g. :attr:`SurchargeStatement.total_yuan`.
    payments
        Payments received, any order.
    due_date, as_of_date
        Last day to pay, and the day the account is looked at.

    Raises
    ------
    ValueError
        For a negative bill or one not in whole fen.
    """
    billed = _money(billed_yuan, f"billed_yuan of account {account_id}")
    counted = sorted((p for p in payments if p.paid_date <= as_of_date), key=lambda p: p.paid_date)
    collected = Decimal("0.00")
    settled: date | None = None
    for payment in counted:
        collected += payment.amount_yuan
        if settled is None and billed > 0 and collected >= billed:
            settled = payment.paid_date
    outstanding = max(billed - collected, Decimal("0.00"))
    overpaid = max(collected - billed, Decimal("0.00"))
    if overpaid > 0:
        status = CollectionStatus.OVERPAID
    elif outstanding == 0:
        status = CollectionStatus.PAID
    elif collected == 0:
        status = CollectionStatus.UNPAID
    else:
        status = CollectionStatus.PARTIAL
    overdue = (as_of_date - due_date).days if outstanding > 0 and as_of_date > due_date else 0
    return Reconciliation(
        account_id=account_id,
        billed_yuan=billed,
        collected_yuan=collected,
        outstanding_yuan=outstanding,
        overpaid_yuan=overpaid,
        due_date=due_date,
        as_of_date=as_of_date,
        days_overdue=overdue,
        settled_date=settled if outstanding == 0 else None,
        status=status,
    )


def reconcile_accounts(
    billed_yuan: Mapping[str, Decimal],
    payments: Mapping[str, Sequence[Payment]],
    due_date: date,
    as_of_date: date,
) -> tuple[Reconciliation, ...]:
    """:func:`reconcile` for many accounts, in account order.

    Raises
    ------
    ValueError
        When payments name an account that was not billed (money nobody can account for is not
        dropped silently).
    """
    unbilled = sorted(set(payments) - set(billed_yuan))
    if unbilled:
        raise ValueError(f"payments for account(s) that were not billed: {', '.join(unbilled)}")
    return tuple(
        reconcile(account, billed_yuan[account], payments.get(account, ()), due_date, as_of_date)
        for account in sorted(billed_yuan)
    )
