"""The statistics behind flakiness scores and trends: the Beta distribution's CDF and quantiles, the Jeffreys
interval of a failure probability, and the direction of a series of counts.

The Beta functions are computed here (the regularised incomplete beta by its continued fraction, DLMF 8.17.22,
and quantiles by Halley's method safeguarded by bisection) so the analysis needs only the standard library. They
are accurate to about 1e-10, far below what a flakiness score shows.
"""

from __future__ import annotations

import functools
import math
from statistics import NormalDist
from typing import Literal

__all__ = ["TrendDirection", "beta_cdf", "beta_ppf", "jeffreys_interval", "trend_direction"]

TrendDirection = Literal["rising", "falling", "steady"]

_TINY = 1e-300
_EPS = 3e-15
_MAX_TERMS = 500


def _log_beta(a: float, b: float) -> float:
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)


def _continued_fraction(x: float, a: float, b: float) -> float:
    """The continued fraction of I_x(a, b), evaluated by the modified Lentz method; converges fast for
    x < (a + 1) / (a + b + 2)."""
    c = 1.0
    d = 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > _TINY else _TINY)
    value = d
    for m in range(1, _MAX_TERMS):
        two_m = 2 * m
        for term in (
            m * (b - m) * x / ((a + two_m - 1.0) * (a + two_m)),
            -(a + m) * (a + b + m) * x / ((a + two_m) * (a + two_m + 1.0)),
        ):
            d = 1.0 + term * d
            d = 1.0 / (d if abs(d) > _TINY else _TINY)
            c = 1.0 + term / c
            c = c if abs(c) > _TINY else _TINY
            value *= c * d
        if abs(c * d - 1.0) < _EPS:
            break
    return value


def _cdf(x: float, a: float, b: float, log_beta: float) -> float:
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    front = math.exp(a * math.log(x) + b * math.log1p(-x) - log_beta)
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _continued_fraction(x, a, b) / a
    return 1.0 - front * _continued_fraction(1.0 - x, b, a) / b


def beta_cdf(x: float, a: float, b: float) -> float:
    """P(X <= x) for X ~ Beta(a, b), with a, b > 0."""
    return _cdf(x, a, b, _log_beta(a, b))


def _initial_guess(q: float, a: float, b: float, log_beta: float) -> float:
    if a > 1.0 and b > 1.0:
        # Abramowitz & Stegun 26.5.22, a normal-based approximation good to a few per cent.
        y = -NormalDist().inv_cdf(q)
        lam = (y * y - 3.0) / 6.0
        h = 2.0 / (1.0 / (2.0 * a - 1.0) + 1.0 / (2.0 * b - 1.0))
        w = y * math.sqrt(h + lam) / h - (1.0 / (2.0 * b - 1.0) - 1.0 / (2.0 * a - 1.0)) * (
            lam + 5.0 / 6.0 - 2.0 / (3.0 * h)
        )
        return a / (a + b * math.exp(2.0 * w))
    # The tails: near 0, I_x ≈ x^a / (a B); near 1, 1 - I_x ≈ (1 - x)^b / (b B).
    low = math.exp((math.log(q * a) + log_beta) / a)
    high = 1.0 - math.exp((math.log((1.0 - q) * b) + log_beta) / b)
    mean = a / (a + b)
    return low if low < mean else high


@functools.lru_cache(maxsize=65_536)
def beta_ppf(q: float, a: float, b: float) -> float:
    """The x with P(X <= x) = q for X ~ Beta(a, b), with 0 <= q <= 1 and a, b > 0."""
    if q <= 0.0:
        return 0.0
    if q >= 1.0:
        return 1.0
    log_beta = _log_beta(a, b)
    low, high = 0.0, 1.0
    x = min(max(_initial_guess(q, a, b, log_beta), 1e-300), 1.0 - 1e-16)
    for _ in range(100):
        error = _cdf(x, a, b, log_beta) - q
        if error < 0.0:
            low = x
        else:
            high = x
        density = math.exp((a - 1.0) * math.log(x) + (b - 1.0) * math.log1p(-x) - log_beta)
        step = error / density if density > 0.0 else 0.0
        # Halley's correction: the density's log-derivative is (a - 1) / x - (b - 1) / (1 - x).
        curvature = (a - 1.0) / x - (b - 1.0) / (1.0 - x)
        denominator = 1.0 - 0.5 * step * curvature
        if denominator > 0.5:
            step /= denominator
        if abs(step) <= 1e-12 * x:
            return x - step
        proposal = x - step
        # A step that leaves the bracket falls back to bisection, so a poor first guess cannot diverge.
        x = proposal if low < proposal < high else (low + high) / 2.0
    return x


def jeffreys_interval(failures: int, runs: int, *, level: float = 0.95) -> tuple[float, float, float]:
    """The posterior mean and equal-tailed credible interval of a failure probability after `failures` in `runs`,
    under the Jeffreys prior Beta(1/2, 1/2).

    As is usual for this interval, the lower end is 0 when nothing failed and the upper end is 1 when everything
    did. With no runs, the prior's mean and the whole of [0, 1].
    """
    if runs <= 0:
        return 0.5, 0.0, 1.0
    a = failures + 0.5
    b = runs - failures + 0.5
    tail = (1.0 - level) / 2.0
    low = 0.0 if failures <= 0 else beta_ppf(tail, a, b)
    high = 1.0 if failures >= runs else beta_ppf(1.0 - tail, a, b)
    return a / (a + b), low, high


def trend_direction(counts: tuple[int, ...], *, ratio: float = 1.5, min_change: int = 2) -> TrendDirection:
    """Whether a series of counts rises, falls or holds: the later half against the earlier half (the middle
    bucket of an odd series belongs to neither). A change must be at least `ratio` times and `min_change` events,
    so a handful of failures never makes a trend."""
    half = len(counts) // 2
    earlier = sum(counts[:half])
    later = sum(counts[len(counts) - half :])
    if later - earlier >= min_change and later >= ratio * earlier:
        return "rising"
    if earlier - later >= min_change and earlier >= ratio * later:
        return "falling"
    return "steady"
