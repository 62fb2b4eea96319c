"""The frozen settings of the plant scan; every finding records the ones it was made with."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class PlantScanSettings:
    """Thresholds of the generation-side scan (notice 1283 clause 五).

    The defaults are physical or statistical limits, not values fitted to one data set: a day
    counts when 90 % of it is metered; shortfall is judged in units of the plant's own day-to-day
    scatter around its water model, corrected for the scatter's persistence from day to day.
    """

    min_coverage: float = 0.9
    """Share of a day that must be metered for the day to count."""
    min_days: int = 120
    """A plant with fewer valid days is ``insufficient_data`` (its model needs a wet and a dry
    spell)."""
    min_segment_days: int = 21
    """A shortfall shorter than three weeks is not reported (a fault, not a private line)."""
    min_water_segment_days: int = 28
    """Against water, a month: a farm on a private line runs for months, while a plant's water
    model can be off for a few weeks when its river turns."""
    min_feeding_days: int = 10
    """Against water, a run with this many days on which the plant still delivered to the grid
    must show a steady draw on them (``min_steady_share``)…"""
    min_idle_days: int = 60
    """…and a run with fewer such days — the plant idle while its river ran — must last this
    long: a plant stopped for a few weeks near its turbines' minimum flow is an operator's
    call; idle for two months on water it used to run on, with no outage filed, it is not."""
    drift: float = 1.0
    """Allowance per day, in standard units, before a day adds to a run of shortfall."""
    gap_threshold: float = 30.0
    """A run of terminal-to-grid-tie loss beyond normal is reported above this evidence (sum of
    standardised excess less the drift, in long-run units): two meters on one busbar leave
    little room for doubt."""
    water_threshold: float = 50.0
    """A run of shortfall against water is reported above this evidence: a water model is only
    as good as a gauge that is not at the intake or a neighbour's river."""
    proxy_water_threshold: float = 125.0
    """The same for a plant without its own gauge, judged against a neighbour's gauge or the
    basin's water: a proxy's errors come in runs of their own."""
    vouched_factor: float = 2.0
    """…times this when such a plant files terminal readings that agree with its grid-tie meter
    (a tap between them would show; against a proxy of its water the line must then also be
    hiding behind made-up terminal readings, a further claim that needs stronger evidence). A
    plant with its own gauge is not given the benefit: its water model's errors do not depend
    on what its terminal meter says."""
    profile_threshold: float = 40.0
    """A shortfall against water that the run test turns away is still reported when its profile
    likelihood ratio — the curve refitted with and without the line — reaches this (its own
    gauge); the ratio of an honest plant stays near its count of free parameters…"""
    proxy_profile_factor: float = 2.5
    """…times this against a proxy of its water."""
    drought_ratio: float = 0.5
    """A basin is in drought on a day its water is below this share of the usual at that time of
    year…"""
    max_drought_share: float = 0.5
    """…and a plant without its own gauge is not reported for a run spent mostly in drought."""
    strong_factor: float = 3.0
    """Evidence this many times the threshold is not turned away for an unsteady shortfall
    before the curve has been refitted with the draw added back (a diversion covering most of
    the record bends the first curve); it is judged for steadiness after."""
    min_steady_share: float = 0.6
    """…and only if the shortfall is steady (see ``steady_share`` in the evidence): at least
    this share of the run's days within half of the estimated draw…"""
    min_shortfall_share: float = 0.03
    """…and only if the mean shortfall is at least this share of installed capacity (terminal
    gap)…"""
    min_water_shortfall_share: float = 0.05
    """…or this share, against water…"""
    min_shortfall_kw: float = 30.0
    """…and at least this many kW (a handful of rigs)."""
    normal_loss_share: float = 0.05
    """Terminal→grid-tie losses above this share of the terminal energy are never normal (a
    step-up transformer and a short line lose 1-3 %)."""
    min_spread_share: float = 0.005
    """The day-to-day scatter a plant is judged against is at least this share of its
    capacity-day (meters and gauges are not better than that)."""
    bins: int = 16
    """Quantile bins of the water driver in the plant's output curve."""
    first_fit_quantile: float = 0.8
    """The first fit follows this upper quantile of output per bin, so that a plant diverting
    for most of the record is still measured against its honest days."""
    peer_shared_ratio: float = 0.85
    """If the median peer produced less than this share of what its own water allowed over the
    same period, the shortfall is basin-wide (an unrecorded grid constraint, a bad gauge), and
    the finding is marked as shared, not as a private line."""
    donor_min_correlation: float = 0.8
    """An ungauged plant borrows the same-basin gauge that ranks its output best, if the rank
    correlation reaches this; otherwise it is compared with the basin's median water."""
    iterations: int = 3

    def as_dict(self) -> dict[str, object]:
        return asdict(self)
