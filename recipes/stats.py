"""Statistics of an activation grid (SciPy): t-intervals, paired tests against a baseline,
Holm's correction, and the seeds a paired test would need.

Every activation of a grid is trained with the same seeds (same initial data order, same
augmentation draws), so per-seed differences to a baseline activation are *paired*: the
seed-to-seed noise that both share cancels, and a paired t-test resolves differences that
overlapping per-activation intervals cannot.

>>> compare_to_baseline({"relu": {0: .96, 1: .95}, "gelu": {0: .97, 1: .955}}, "relu")
"""
from __future__ import annotations

import math
from typing import Mapping

import numpy as np
from scipy import special as _sp  # the t, noncentral t and normal distributions as ufuncs


__all__ = ["ALPHA", "POWER", "mean_ci95", "paired", "t_pvalue", "holm", "seeds_needed",
           "compare_to_baseline"]

ALPHA = 0.05   # two-sided level of every verdict, after Holm's correction
POWER = 0.8    # the power ``seeds_needed`` plans for
MAX_SEEDS = 10_000


def mean_ci95(values) -> tuple[float, float]:
    """(mean, half-width of the 95 % t-interval); NaN half-width with fewer than 2 values."""
    kept = paired([x for x in values if x is not None and math.isfinite(x)])
    return kept["mean"], kept["ci95"]  # (the interval of a mean is the paired one's)


def paired(diffs) -> dict:
    """Mean, 95 % t-interval half-width, two-sided paired-t p-value and standard deviation of
    per-seed differences. Differences without spread give p = 1 (all zero) or p = 0 (a
    constant non-zero shift) instead of SciPy's NaN; fewer than 2 give NaNs."""
    d = np.asarray(diffs, np.float64)
    out = dict(n=int(d.size), mean=math.nan, ci95=math.nan, p=math.nan, sd=math.nan)
    if d.size == 0:
        return out
    out["mean"] = float(d.mean())
    if d.size < 2:
        return out
    sd = float(d.std(ddof=1))
    out["sd"] = sd
    out["ci95"] = float(_sp.stdtrit(d.size - 1, 0.975) * sd / math.sqrt(d.size))
    out["p"] = float(t_pvalue(out["mean"], sd, d.size))
    return out


def t_pvalue(mean, sd, n):
    """Two-sided one-sample t-test p-values of differences with mean ``mean``, standard
    deviation ``sd`` (ddof 1) and count ``n`` (arrays broadcast): ``2 T_{n-1}(-|t|)``, what
    ``scipy.stats.ttest_1samp`` gives, except that differences without spread give p = 1
    (all zero) or p = 0 (a constant non-zero shift) instead of NaN."""
    mean, sd = np.asarray(mean, np.float64), np.asarray(sd, np.float64)
    flat = sd <= 1e-12 * np.maximum(1.0, np.abs(mean))
    with np.errstate(divide="ignore", invalid="ignore"):
        p = 2.0 * _sp.stdtr(np.asarray(n) - 1, -np.abs(mean) / (sd / np.sqrt(n)))
    return np.where(flat, np.where(mean == 0.0, 1.0, 0.0), p)


def holm(pvalues) -> list[float]:
    """Holm's step-down adjusted p-values (same order as given; NaNs stay NaN and are not
    counted among the hypotheses)."""
    p = np.asarray(pvalues, np.float64)
    ok = np.flatnonzero(np.isfinite(p))
    out = np.full(p.shape, np.nan)
    m = ok.size
    running = 0.0
    for rank, i in enumerate(ok[np.argsort(p[ok], kind="stable")]):
        running = max(running, min(1.0, (m - rank) * p[i]))
        out[i] = running
    return out.tolist()


def power_paired(n: int, effect: float, alpha: float = ALPHA) -> float:
    """Power of the two-sided paired t-test with ``n`` pairs at standardised effect
    ``effect`` = mean difference / sd of the differences (noncentral t)."""
    if n < 2:
        return 0.0
    df = n - 1
    crit = _sp.stdtrit(df, 1 - alpha / 2)
    nc = abs(effect) * math.sqrt(n)
    return float(1.0 - _sp.nctdtr(df, nc, crit) + _sp.nctdtr(df, nc, -crit))


def seeds_needed(mean_diff: float, sd_diff: float, power: float = POWER,
                 alpha: float = ALPHA) -> int | None:
    """Smallest number of paired seeds whose paired t-test detects a true difference of
    ``mean_diff`` with differences of spread ``sd_diff`` at ``power`` (two-sided ``alpha``).
    None when it cannot be estimated (no spread or no difference) or exceeds 10,000."""
    if not (math.isfinite(mean_diff) and math.isfinite(sd_diff)) or sd_diff <= 0 or mean_diff == 0:
        return None
    effect = abs(mean_diff) / sd_diff
    z = _sp.ndtri(1 - alpha / 2) + _sp.ndtri(power)
    n = max(2, int(math.floor((z / effect) ** 2)))  # normal approximation: a lower bound
    while n <= MAX_SEEDS and power_paired(n, effect, alpha) < power:
        n += 1
    return n if n <= MAX_SEEDS else None


def compare_to_baseline(per_seed: Mapping[str, Mapping[int, float]], baseline: str, *,
                        higher_is_better: bool = True, alpha: float = ALPHA) -> dict[str, dict]:
    """Paired comparison of each activation with ``baseline`` on one metric.

    ``per_seed``: activation -> {seed: value} (only finished runs with a finite value).
    Returns activation -> ``{"delta_mean", "delta_ci95", "p_value", "p_value_holm", "verdict",
    "paired_seeds", "seeds_needed", "why"}``; the baseline gets verdict ``"baseline"``.
    Verdicts: ``better`` / ``worse`` when Holm's adjusted p < ``alpha`` (by the sign of the
    difference and ``higher_is_better``), else ``indistinguishable``; with fewer than 2
    paired seeds the numbers are NaN, the verdict None and ``why`` says so.
    ``seeds_needed`` (indistinguishable rows): paired seeds for 80 % power at the observed
    difference and spread, at level ``alpha / m`` for ``m`` comparisons (Holm's strictest
    step), so it is not optimistic.
    """
    if baseline not in per_seed:
        raise ValueError(f"baseline {baseline!r} has no finished runs")
    base = per_seed[baseline]
    res: dict[str, dict] = {}
    names = [a for a in per_seed if a != baseline]
    for a in names:
        seeds = sorted(set(base) & set(per_seed[a]))
        t = paired([per_seed[a][s] - base[s] for s in seeds])
        res[a] = dict(delta_mean=t["mean"], delta_ci95=t["ci95"], p_value=t["p"],
                      sd=t["sd"], paired_seeds=len(seeds), why=None)
        if len(seeds) < 2:
            res[a]["why"] = (f"{len(seeds)} seed{'s' if len(seeds) != 1 else ''} finished for "
                             f"both {a} and {baseline}; a paired test needs 2")
    adj = holm([res[a]["p_value"] for a in names])
    # planning level: Holm tests the least significant hypothesis at alpha, the most at
    # alpha / m; plan for the strict end (Bonferroni), so the estimate is not optimistic
    m = max(1, sum(math.isfinite(p) for p in adj))
    for a, p in zip(names, adj):
        r = res[a]
        r["p_value_holm"] = p
        if not math.isfinite(p):
            r["verdict"], r["seeds_needed"] = None, None
            continue
        if p < alpha:
            up = r["delta_mean"] > 0
            r["verdict"] = "better" if up == higher_is_better else "worse"
            r["seeds_needed"] = None
        else:
            r["verdict"] = "indistinguishable"
            r["seeds_needed"] = seeds_needed(r["delta_mean"], r["sd"], alpha=alpha / m)
    res[baseline] = dict(delta_mean=0.0, delta_ci95=math.nan, p_value=math.nan,
                         p_value_holm=math.nan, verdict="baseline", sd=math.nan,
                         paired_seeds=len(base), seeds_needed=None, why=None)
    return res
