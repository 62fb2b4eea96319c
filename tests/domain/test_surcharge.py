"""The mining surcharge (notice 1283 clause 十三): rates, lines, penalty, collections.

Every expected figure is worked out by hand in the comment beside it.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

from minewatch.domain.measures.surcharge import (
    BillingPeriod,
    CheapSupplyKind,
    CollectionStatus,
    EnergyBasis,
    Payment,
    cheap_supply_penalty,
    rate_for,
    reconcile,
    reconcile_accounts,
    round_to_fen,
    surcharge_for_account,
)
from minewatch.errors import InputFileError
from minewatch.reference.surcharge import (
    SurchargeRateTable,
    TableMode,
    load_table,
    packaged_table,
    parse_table,
    read_table,
)

HEADER = "region_code,rate_yuan_per_kwh,valid_from_date,valid_to_date,source\n"
NATIONAL_ONLY = HEADER + "000000,0.30,2021-09-03,,notice 1283 clause 十三\n"
# Sichuan raises its rate from 15 October; 雅安市 and 石棉县 have their own (test) rates, the
# county's only until the end of 2021.
LAYERED = (
    HEADER
    + "000000,0.30,2021-09-03,,national\n"
    + "510000,0.50,2021-10-15,,province from the 15th\n"
    + "511800,0.60,2021-09-03,,prefecture 雅安\n"
    + "511824,0.80,2021-09-03,2021-12-31,county 石棉 for 2021\n"
)

HEBEI_COUNTY = "130102"  # 石家庄市长安区: no rate of its own, nor its prefecture's or province's
CHENGDU_COUNTY = "510104"  # 成都市锦江区: the province's rate, no prefecture or county rate
SHIMIAN = "511824"  # 雅安市石棉县
HANYUAN = "511823"  # 雅安市汉源县


def table(text: str) -> SurchargeRateTable:
    return parse_table(text, "test.csv")


def yuan(text: str) -> Decimal:
    return Decimal(text)


# ---------------------------------------------------------------------------------------------
# The packaged table and the loader


def test_packaged_table_holds_the_national_rate_of_the_notice_and_the_examples() -> None:
    rates = {r.region_code: r for r in packaged_table().rates}
    national = rates["000000"]
    assert national.rate_yuan_per_kwh == Decimal("0.30")
    assert national.valid_from_date == date(2021, 9, 3)
    assert national.valid_to_date is None
    assert "（十三）" in national.source
    assert rates["510000"].rate_yuan_per_kwh == Decimal("2.00")
    assert rates["150000"].rate_yuan_per_kwh == Decimal("1.00")
    for example in ("510000", "150000"):
        assert "confirm against the provincial notice" in rates[example].source
        assert rates[example].valid_from_date == date(2021, 9, 3)


def test_a_bad_file_is_refused_with_every_problem_named_by_row_and_column(
    tmp_path: Path,
) -> None:
    path = tmp_path / "rates.csv"
    path.write_text(
        HEADER
        + "000000,0.30,2021-09-03,,national\n"  # row 2: fine
        + "510000,-0.10,2021-09-03,,negative\n"  # row 3
        + "510000,abc,2021-09-03,,not a number\n"  # row 4
        + "999999,0.50,2021-09-03,,no such region\n"  # row 5
        + "150000,1.00,2021-02-30,,no such day\n"  # row 6
        + "150000,1.00,2021-09-03,2021-09-01,ends before it starts\n"  # row 7
        + "110000,1.00,2021-09-03,,\n"  # row 8: no source
        + "000000,0.40,2022-01-01,,overlaps row 2\n",  # row 9
        encoding="utf-8",
    )
    with pytest.raises(InputFileError) as caught:
        read_table(path)
    found = {(p.row, p.column) for p in caught.value.problems}
    assert found == {
        (3, "rate_yuan_per_kwh"),
        (4, "rate_yuan_per_kwh"),
        (5, "region_code"),
        (6, "valid_from_date"),
        (7, "valid_to_date"),
        (8, "source"),
        (9, "valid_from_date"),
    }
    message = str(caught.value)
    assert str(path) in message
    assert "row 3, column 'rate_yuan_per_kwh'" in message
    assert "overlaps row 2" in message


def test_a_missing_column_is_named_on_the_header_row() -> None:
    with pytest.raises(InputFileError) as caught:
        table("region_code,rate_yuan_per_kwh,valid_from_date,source\n000000,0.3,2021-09-03,x\n")
    assert [(p.row, p.column) for p in caught.value.problems] == [(1, "valid_to_date")]


def test_consecutive_rates_of_one_region_do_not_overlap() -> None:
    # The first ends on the 14th, the second starts on the 15th: no shared day.
    rates = table(
        HEADER + "510000,0.50,2021-09-03,2021-10-14,first\n" + "510000,0.70,2021-10-15,,second\n"
    )
    assert len(rates.rates) == 2
    with pytest.raises(InputFileError) as caught:
        table(
            HEADER
            + "510000,0.50,2021-09-03,2021-10-15,first\n"
            + "510000,0.70,2021-10-15,,second\n"
        )
    assert [(p.row, p.column) for p in caught.value.problems] == [(3, "valid_from_date")]


def test_a_deployment_table_extends_or_replaces_the_packaged_one(tmp_path: Path) -> None:
    path = tmp_path / "province.csv"
    path.write_text(HEADER + "510000,3.00,2021-09-03,,Sichuan's own notice\n", encoding="utf-8")
    day = date(2021, 10, 1)

    extended = load_table(path, TableMode.EXTEND)
    assert rate_for(CHENGDU_COUNTY, day, extended).rate_yuan_per_kwh == Decimal("3.00")
    assert len(extended.for_region("510000")) == 1  # the packaged example is gone
    assert rate_for("150102", day, extended).rate_yuan_per_kwh == Decimal("1.00")  # kept
    assert rate_for(HEBEI_COUNTY, day, extended).rate_yuan_per_kwh == Decimal("0.30")

    replaced = load_table(path, TableMode.REPLACE)
    assert rate_for(CHENGDU_COUNTY, day, replaced).rate_yuan_per_kwh == Decimal("3.00")
    with pytest.raises(ValueError, match="no surcharge rate is in force"):
        rate_for(HEBEI_COUNTY, day, replaced)  # no national row left

    assert load_table() is packaged_table()


# ---------------------------------------------------------------------------------------------
# Rate look-up


def test_a_region_without_its_own_rate_falls_back_to_the_national_one() -> None:
    rate = rate_for(HEBEI_COUNTY, date(2021, 10, 1))
    assert (rate.region_code, rate.rate_yuan_per_kwh) == ("000000", Decimal("0.30"))
    sichuan = rate_for(SHIMIAN, date(2021, 10, 1))
    assert (sichuan.region_code, sichuan.rate_yuan_per_kwh) == ("510000", Decimal("2.00"))


def test_the_most_specific_region_in_force_wins() -> None:
    rates = table(LAYERED)
    assert rate_for(SHIMIAN, date(2021, 12, 31), rates).rate_yuan_per_kwh == Decimal("0.80")
    # The county's rate lapsed: its prefecture's applies.
    assert rate_for(SHIMIAN, date(2022, 1, 1), rates).rate_yuan_per_kwh == Decimal("0.60")
    assert rate_for(HANYUAN, date(2021, 12, 31), rates).rate_yuan_per_kwh == Decimal("0.60")
    # 成都: the province's rate from the 15th, the national one before.
    assert rate_for(CHENGDU_COUNTY, date(2021, 10, 14), rates).region_code == "000000"
    assert rate_for(CHENGDU_COUNTY, date(2021, 10, 15), rates).region_code == "510000"


def test_no_rate_before_the_notice() -> None:
    with pytest.raises(ValueError, match="no surcharge rate is in force"):
        rate_for(HEBEI_COUNTY, date(2021, 9, 2))


@pytest.mark.parametrize("code", ["999999", "000000", "51182", "110103"])
def test_an_account_region_must_be_a_current_code(code: str) -> None:
    # 110103 (崇文区) was retired in 2010.
    with pytest.raises(ValueError, match="region_code"):
        rate_for(code, date(2021, 10, 1))


# ---------------------------------------------------------------------------------------------
# The surcharge of an account


def test_mining_that_started_mid_period_is_pro_rated_by_days() -> None:
    periods = [
        BillingPeriod(date(2021, 9, 3), date(2021, 9, 30), Decimal(28000)),
        BillingPeriod(date(2021, 10, 1), date(2021, 10, 31), Decimal(31000)),
    ]
    statement = surcharge_for_account(
        periods, date(2021, 10, 11), HEBEI_COUNTY, table=table(NATIONAL_ONLY)
    )
    september, october = statement.lines
    assert (september.days_surcharged, september.amount_yuan, september.segments) == (
        0,
        yuan("0.00"),
        (),
    )
    # 11–31 October = 21 of 31 days: 31000 × 21/31 = 21000 kWh × 0.30 = 6300.00 yuan.
    assert october.days_surcharged == 21
    assert october.energy_kwh == Decimal("21000.000")
    assert october.energy_basis is EnergyBasis.PRO_RATED
    assert october.amount_yuan == yuan("6300.00")
    assert statement.total_yuan == yuan("6300.00")


def test_days_before_any_rate_are_counted_but_not_surcharged() -> None:
    # 1–30 September, mining throughout, the national rate from the 3rd: 28 of 30 days,
    # 30000 × 28/30 = 28000 kWh × 0.30 = 8400.00 yuan.
    statement = surcharge_for_account(
        [BillingPeriod(date(2021, 9, 1), date(2021, 9, 30), Decimal(30000))],
        date(2021, 8, 1),
        HEBEI_COUNTY,
    )
    (line,) = statement.lines
    assert (line.days_surcharged, line.days_without_rate) == (28, 2)
    assert line.amount_yuan == yuan("8400.00")


def test_a_rate_change_inside_a_period_splits_it() -> None:
    statement = surcharge_for_account(
        [BillingPeriod(date(2021, 10, 1), date(2021, 10, 31), Decimal(31000))],
        date(2021, 10, 1),
        CHENGDU_COUNTY,
        table=table(LAYERED),
    )
    (line,) = statement.lines
    first, second = line.segments
    # 1–14 October at the national 0.30: 14000 kWh → 4200; 15–31 at Sichuan's 0.50: 17000 kWh
    # → 8500; the line 12700.00.
    assert (first.start_date, first.end_date, first.days) == (
        date(2021, 10, 1),
        date(2021, 10, 14),
        14,
    )
    assert (first.energy_kwh, first.rate_yuan_per_kwh, first.rate_region_code) == (
        Decimal("14000.000"),
        Decimal("0.30"),
        "000000",
    )
    assert (second.start_date, second.days, second.energy_kwh, second.rate_yuan_per_kwh) == (
        date(2021, 10, 15),
        17,
        Decimal("17000.000"),
        Decimal("0.50"),
    )
    assert second.rate_origin == "test.csv row 3"
    assert line.rates_yuan_per_kwh == (Decimal("0.30"), Decimal("0.50"))
    assert line.amount_yuan == yuan("12700.00")


def test_a_county_rate_overrides_the_province_until_it_lapses() -> None:
    statement = surcharge_for_account(
        [BillingPeriod(date(2021, 12, 22), date(2022, 1, 10), Decimal(2000))],
        date(2021, 12, 1),
        SHIMIAN,
        table=table(LAYERED),
    )
    (line,) = statement.lines
    # 20 days, 100 kWh a day: 22–31 December at the county's 0.80 (1000 kWh → 800), 1–10 January
    # at the prefecture's 0.60 (1000 kWh → 600): 1400.00.
    assert [(s.rate_region_code, s.days) for s in line.segments] == [
        ("511824", 10),
        ("511800", 10),
    ]
    assert line.amount_yuan == yuan("1400.00")


def test_daily_kwh_are_used_instead_of_pro_rating() -> None:
    period = BillingPeriod(date(2021, 10, 1), date(2021, 10, 10), Decimal(1000))
    daily = {date(2021, 10, d): Decimal(50) for d in range(1, 6)}
    daily |= {date(2021, 10, d): Decimal(150) for d in range(6, 11)}
    statement = surcharge_for_account(
        [period],
        date(2021, 10, 6),
        HEBEI_COUNTY,
        daily_energy_kwh=daily,
        table=table(NATIONAL_ONLY),
    )
    (line,) = statement.lines
    # Pro-rated it would be 1000 × 5/10 = 500 kWh (150.00); the days say 5 × 150 = 750 kWh,
    # × 0.30 = 225.00.
    assert line.energy_basis is EnergyBasis.DAILY
    assert line.energy_kwh == Decimal(750)
    assert line.amount_yuan == yuan("225.00")


def test_daily_kwh_must_cover_every_surcharged_day_and_fit_the_meter() -> None:
    period = BillingPeriod(date(2021, 10, 1), date(2021, 10, 10), Decimal(1000))
    gap = {date(2021, 10, d): Decimal(100) for d in range(6, 10)}  # the 10th is missing
    with pytest.raises(ValueError, match="no figure for 1 surcharged day"):
        surcharge_for_account([period], date(2021, 10, 6), HEBEI_COUNTY, daily_energy_kwh=gap)
    too_much = {date(2021, 10, d): Decimal(101) for d in range(1, 11)}  # 1010 > 1000 kWh
    with pytest.raises(ValueError, match="more than the 1000 kWh metered"):
        surcharge_for_account([period], date(2021, 10, 6), HEBEI_COUNTY, daily_energy_kwh=too_much)
    with pytest.raises(ValueError, match="cannot be negative"):
        surcharge_for_account(
            [period],
            date(2021, 10, 6),
            HEBEI_COUNTY,
            daily_energy_kwh={date(2021, 10, 6): Decimal(-1)},
        )


def test_lines_are_rounded_to_the_fen_and_the_total_is_their_sum() -> None:
    # One day of 0.05 kWh at 0.30 = 0.015 yuan → 0.02 (half up, not half even), twice: the total
    # is 0.04, not the 0.03 that rounding 0.030 would give.
    periods = [
        BillingPeriod(date(2021, 10, 1), date(2021, 10, 1), Decimal("0.05")),
        BillingPeriod(date(2021, 10, 2), date(2021, 10, 2), Decimal("0.05")),
    ]
    statement = surcharge_for_account(periods, date(2021, 10, 1), HEBEI_COUNTY)
    assert [line.amount_yuan for line in statement.lines] == [yuan("0.02"), yuan("0.02")]
    assert statement.total_yuan == yuan("0.04")


def test_a_pro_rated_line_is_rounded_once_from_its_exact_amount() -> None:
    # 1000 kWh over 31 days, mining from the 2nd: 1000 × 30/31 = 967.7419… kWh, shown 967.742;
    # × 0.30 = 290.3225… → 290.32 (967.742 × 0.30 would also give 290.32; the exact figure is
    # what is rounded).
    statement = surcharge_for_account(
        [BillingPeriod(date(2021, 10, 1), date(2021, 10, 31), Decimal(1000))],
        date(2021, 10, 2),
        HEBEI_COUNTY,
    )
    (line,) = statement.lines
    assert line.energy_kwh == Decimal("967.742")
    assert line.amount_yuan == yuan("290.32")


def test_round_to_fen_is_exact_and_half_up() -> None:
    assert round_to_fen(Fraction(1, 200)) == yuan("0.01")  # 0.005
    assert round_to_fen(Fraction(1, 200) - Fraction(1, 10**30)) == yuan("0.00")
    assert round_to_fen(Decimal("2.675")) == yuan("2.68")  # a float would give 2.67
    assert round_to_fen(Fraction(-1, 200)) == yuan("-0.01")


def test_bad_periods_and_accounts_are_refused() -> None:
    with pytest.raises(ValueError, match="end is before start"):
        BillingPeriod(date(2021, 10, 31), date(2021, 10, 1), Decimal(1))
    with pytest.raises(ValueError, match="cannot be negative"):
        BillingPeriod(date(2021, 10, 1), date(2021, 10, 31), Decimal(-5))
    with pytest.raises(TypeError, match=r"decimal\.Decimal or an int"):
        BillingPeriod(date(2021, 10, 1), date(2021, 10, 31), 1.5)  # type: ignore[arg-type]
    october = BillingPeriod(date(2021, 10, 1), date(2021, 10, 31), Decimal(100))
    late_october = BillingPeriod(date(2021, 10, 31), date(2021, 11, 30), Decimal(100))
    with pytest.raises(ValueError, match="overlap"):
        surcharge_for_account([late_october, october], date(2021, 10, 1), HEBEI_COUNTY)
    with pytest.raises(ValueError, match="after every billing period"):
        surcharge_for_account([october], date(2021, 11, 1), HEBEI_COUNTY)
    with pytest.raises(ValueError, match="region_code"):
        surcharge_for_account([october], date(2021, 10, 1), "123456")
    with pytest.raises(ValueError, match="no billing periods"):
        surcharge_for_account([], date(2021, 10, 1), HEBEI_COUNTY)


# ---------------------------------------------------------------------------------------------
# Penalty for cheap supply


def test_the_penalty_is_twice_the_price_difference_on_the_kwh() -> None:
    line = cheap_supply_penalty(
        CheapSupplyKind.PRIVATE_LINE, Decimal(12345), Decimal("0.21"), Decimal("0.4856")
    )
    # 2 × (0.4856 − 0.21) × 12345 = 2 × 0.2756 × 12345 = 6804.564 → 6804.56.
    assert line.price_difference_yuan_per_kwh == Decimal("0.2756")
    assert line.amount_yuan == yuan("6804.56")
    assert "（十二）" in line.basis
    assert "0.2756" in line.basis
    market = cheap_supply_penalty(
        CheapSupplyKind.MARKET_PRICE, Decimal("1.01"), Decimal("0.20"), Decimal("0.45")
    )
    # 2 × 0.25 × 1.01 = 0.505 → 0.51 (half up).
    assert market.amount_yuan == yuan("0.51")
    assert "（十四）" in market.basis


def test_no_penalty_without_a_cheaper_price() -> None:
    with pytest.raises(ValueError, match="not below the price due"):
        cheap_supply_penalty(
            CheapSupplyKind.SELF_OWNED_PLANT, Decimal(100), Decimal("0.45"), Decimal("0.45")
        )
    with pytest.raises(ValueError, match="cannot be negative"):
        cheap_supply_penalty(
            CheapSupplyKind.PRIVATE_LINE, Decimal(-100), Decimal("0.20"), Decimal("0.45")
        )


# ---------------------------------------------------------------------------------------------
# Reconciliation

DUE = date(2021, 10, 31)
AS_OF = date(2021, 11, 10)


@pytest.mark.parametrize(
    ("paid", "status", "outstanding", "overpaid", "days_overdue"),
    [
        ([], CollectionStatus.UNPAID, "100.00", "0.00", 10),
        (["40.00"], CollectionStatus.PARTIAL, "60.00", "0.00", 10),
        (["40.00", "60.00"], CollectionStatus.PAID, "0.00", "0.00", 0),
        (["40.00", "80.00"], CollectionStatus.OVERPAID, "0.00", "20.00", 0),
    ],
)
def test_reconciliation_statuses(
    paid: list[str],
    status: CollectionStatus,
    outstanding: str,
    overpaid: str,
    days_overdue: int,
) -> None:
    payments = [Payment(date(2021, 10, 20 + i), Decimal(a)) for i, a in enumerate(paid)]
    result = reconcile("acct-1", Decimal("100.00"), payments, DUE, AS_OF)
    assert result.status is status
    assert result.outstanding_yuan == Decimal(outstanding)
    assert result.overpaid_yuan == Decimal(overpaid)
    assert result.days_overdue == days_overdue


def test_reconciliation_counts_only_payments_made_by_the_day_looked_at() -> None:
    payments = [Payment(date(2021, 11, 5), Decimal(60)), Payment(date(2021, 11, 20), Decimal(40))]
    before = reconcile("acct-1", Decimal("100.00"), payments, DUE, AS_OF)
    assert (before.collected_yuan, before.status, before.settled_date) == (
        Decimal("60.00"),
        CollectionStatus.PARTIAL,
        None,
    )
    after = reconcile("acct-1", Decimal("100.00"), payments, DUE, date(2021, 11, 30))
    # Settled on 20 November, 20 days late, but nothing is overdue any more.
    assert (after.status, after.settled_date, after.days_overdue) == (
        CollectionStatus.PAID,
        date(2021, 11, 20),
        0,
    )
    not_yet_due = reconcile("acct-1", Decimal("100.00"), [], DUE, date(2021, 10, 15))
    assert (not_yet_due.status, not_yet_due.days_overdue) == (CollectionStatus.UNPAID, 0)


def test_many_accounts_and_bad_money() -> None:
    results = reconcile_accounts(
        {"b": Decimal("10.00"), "a": Decimal("5.00")},
        {"a": [Payment(date(2021, 10, 1), Decimal(5))]},
        DUE,
        AS_OF,
    )
    assert [(r.account_id, r.status) for r in results] == [
        ("a", CollectionStatus.PAID),
        ("b", CollectionStatus.UNPAID),
    ]
    with pytest.raises(ValueError, match="not billed: z"):
        reconcile_accounts({}, {"z": [Payment(date(2021, 10, 1), Decimal(5))]}, DUE, AS_OF)
    with pytest.raises(ValueError, match="whole fen"):
        Payment(date(2021, 10, 1), Decimal("1.005"))
    with pytest.raises(ValueError, match="0 yuan"):
        Payment(date(2021, 10, 1), Decimal(0))
    with pytest.raises(ValueError, match="whole fen"):
        reconcile("a", Decimal("1.001"), [], DUE, AS_OF)
