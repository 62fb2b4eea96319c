"""The pieces of the plant scan: a plant's output curve, and runs of unexplained shortfall.

Pure functions over numpy arrays of days (see :mod:`minewatch.detect.plants.daily`).

Output curve
    A run-of-river plant's daily energy rises with its intake flow until the turbines are full
    (P = ρ g Q H η, capped at capacity), with a part-load efficiency that bends the curve. Rather
    than assume a head and an efficiency we learn the curve from the plant's own days: the
    driver (flow) is cut into quantile bins, each bin's output summarised (an upper quantile on
    the first pass, the median afterwards), forced to be non-decreasing, and interpolated
    linearly (flat beyond the observed range). The curve then meets the day's ceiling from
    capacity, maintenance and dispatch: ``expected = min(ceiling, curve(flow))``.

Runs of shortfall
    A private line takes a steady draw around the clock from a date, so the plant's shortfall
    against its curve is a *run* of days, not scattered days. Standardised shortfalls ``z``
    (residual over the plant's own robust scatter, inflated by its day-to-day persistence) less a
    drift allowance are summed over every contiguous run; the best run is the maximum-sum
    subarray (Kadane), the same statistic a one-sided CUSUM accumulates, and it is reported when
    its sum passes the threshold. Days under a dispatch or maintenance record contribute
    nothing: they neither build a run nor break one.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np

Arr = np.ndarray[Any, Any]


@dataclass(frozen=True)
class Curve:
    """A non-decreasing curve through (``knots_x``, ``knots_y``), flat outside them."""

    knots_x: Arr
    knots_y: Arr

    def __call__(self, x: Arr) -> Arr:
        return np.asarray(np.interp(x, self.knots_x, self.knots_y))


def fit_curve(x: Arr, y: Arr, bins: int, quantile: float) -> Curve:
    """Monotone binned-quantile fit of ``y`` on ``x`` (finite pairs only).

    Parameters
    ----------
    x, y : numeric arrays of the same length (NaN pairs are ignored).
    bins : number of quantile bins of ``x`` (fewer when there are few points; at least 3 points
        a bin).
    quantile : which quantile of ``y`` summarises a bin (0.5: median), interpolated linearly
        between order statistics as :func:`numpy.quantile` does.
    """
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    if x.size == 0:
        return Curve(np.array([0.0]), np.array([0.0]))
    order = np.argsort(x, kind="stable")
    x, y = x[order], y[order]
    n_bins = max(1, min(bins, x.size // 3))
    edges = np.linspace(0, x.size, n_bins + 1).astype(int)
    counts = np.diff(edges)
    member = np.repeat(np.arange(n_bins), counts)
    # every bin's values sorted in place, bins in order: one sort for all of them
    y_sorted = y[np.lexsort((y, member))]
    kx = _order_statistic(x, edges[:-1], counts, 0.5)  # x is sorted within each bin already
    ky = np.maximum.accumulate(_order_statistic(y_sorted, edges[:-1], counts, quantile))
    kx, first = np.unique(kx, return_index=True)
    return Curve(kx, ky[first])


def _order_statistic(values: Arr, starts: Arr, counts: Arr, quantile: float) -> Arr:
    """The ``quantile`` of each run ``values[start : start + count]`` (each sorted)."""
    position = starts + quantile * (counts - 1)
    low = np.floor(position).astype(int)
    high = np.minimum(low + 1, starts + counts - 1)
    weight = position - low
    return np.asarray(values[low] + weight * (values[high] - values[low]))


def _quantile_bins(x: Arr, y: Arr, bins: int, per_bin: int) -> list[tuple[Arr, Arr]]:
    """The finite pairs sorted by ``x`` and cut into at most ``bins`` equal-count bins of at
    least ``per_bin`` pairs each."""
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    if x.size == 0:
        return []
    order = np.argsort(x, kind="stable")
    x, y = x[order], y[order]
    n_bins = max(1, min(bins, x.size // per_bin))
    edges = np.linspace(0, x.size, n_bins + 1).astype(int)
    return [(x[a:b], y[a:b]) for a, b in pairwise(edges.tolist())]


def step_robust_spread(x: Arr, residual: Arr, bins: int, floor: float) -> Curve:
    """Like :func:`binned_spread`, from the differences of consecutive days (÷ √2), so that a
    step in the residual — a diversion not yet set aside — does not widen the scatter it is
    judged against. ``x`` and ``residual`` are day series (NaN where not judged)."""
    a, b = residual[:-1], residual[1:]
    ok = np.isfinite(a) & np.isfinite(b) & np.isfinite(x[1:])
    return binned_spread(x[1:][ok], (b[ok] - a[ok]) / np.sqrt(2.0), bins, floor)


def binned_spread(x: Arr, residual: Arr, bins: int, floor: float) -> Curve:
    """Robust spread of ``residual`` as a function of ``x`` (quantile bins of the finite pairs,
    1.4826 × MAD in each, at least ``floor``): the scatter of a plant's output is not the same
    at the turbines' start-up flow, in the middle of its range and at full capacity."""
    parts = _quantile_bins(x, residual, bins, per_bin=6)
    if sum(px.size for px, _ in parts) < 6:
        return Curve(np.array([0.0]), np.array([floor]))
    kx = np.array([np.median(px) for px, _ in parts])
    spreads = [robust_scale(pr) for _, pr in parts]
    ky = np.array([max(floor, v) if np.isfinite(v) else floor for v in spreads])
    kx, first = np.unique(kx, return_index=True)
    return Curve(kx, ky[first])


def robust_scale(values: Arr) -> float:
    """1.4826 × median absolute deviation of the finite values (σ of a normal sample)."""
    finite = values[np.isfinite(values)]
    if finite.size < 2:
        return float("nan")
    return float(1.4826 * np.median(np.abs(finite - np.median(finite))))


def persistence(z: Arr) -> float:
    """Long-run variance factor (1 + ρ)/(1 − ρ) of a series from its lag-1 correlation ρ
    (pairs of consecutive finite values; ρ clipped to [0, 0.95])."""
    a, b = z[:-1], z[1:]
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 10:
        return 1.0
    a, b = a[ok] - a[ok].mean(), b[ok] - b[ok].mean()
    denominator = float(np.sqrt((a * a).sum() * (b * b).sum()))
    rho = float((a * b).sum() / denominator) if denominator > 0 else 0.0
    rho = min(max(rho, 0.0), 0.95)
    return (1 + rho) / (1 - rho)


@dataclass(frozen=True)
class Run:
    """Days ``start`` … ``end`` (inclusive) and the sum of (z − drift) over them."""

    start: int
    end: int
    score: float

    @property
    def days(self) -> int:
        return self.end - self.start + 1

    def mask(self, n: int) -> Arr:
        out = np.zeros(n, dtype=bool)
        out[self.start : self.end + 1] = True
        return out


def best_run(gain: Arr) -> Run | None:
    """The contiguous stretch with the largest sum of ``gain`` (NaN counts as 0), or ``None``
    when no stretch sums above zero."""
    best = Run(0, -1, 0.0)
    running, start = 0.0, 0
    for i, g in enumerate(np.nan_to_num(gain, nan=0.0)):
        if running <= 0.0:
            running, start = float(g), i
        else:
            running += float(g)
        if running > best.score:
            best = Run(start, i, running)
    if best.end < 0:
        return None
    # trim neutral days at either end (they carry no evidence)
    s, e = best.start, best.end
    while s < e and not gain[s]:
        s += 1
    while e > s and not gain[e]:
        e -= 1
    return Run(s, e, best.score)


def standardise(
    residual: Arr, spread: Arr, judged: Arr, reference: Arr, *, centre: bool = False
) -> tuple[Arr, float]:
    """Standard units of ``residual / spread`` on ``judged`` days (NaN elsewhere).

    Persistence (and, with ``centre``, the median that is taken off) come from the
    ``reference`` days only (the judged days outside any run already suspected), so a long
    diversion does not hide itself by widening the scatter it is measured against. Centre only a
    residual whose model is not already unbiased on those days. Returns the standardised
    series, divided by the square root of its persistence factor, and that factor.
    """
    norm = residual / spread
    ref = np.where(judged & reference, norm, np.nan)
    if np.isfinite(ref).sum() < 10:
        ref = np.where(judged, norm, np.nan)
    middle = float(np.nanmedian(ref)) if centre and np.isfinite(ref).any() else 0.0
    factor = persistence(ref - middle)
    z = np.where(judged, norm - middle, np.nan)
    return z / np.sqrt(factor), factor
