"""Seeds on demand (``--seeds auto``): a group-sequential paired comparison with Holm's
correction, so a grid stops spending seeds on activations whose answer is settled.

The grid runs in rounds ("looks"): every activation and the baseline get the design's first
number of seeds; after each round every activation is tested against the baseline, paired by
seed, and only the ones still open (and the baseline) get the next round's seeds.

Error control under repeated looks. Each activation's look-``j`` test is the paired t-test on
its first ``n_j`` seeds, with nominal p-value ``p_j``. Its *repeated p-value* after look ``k``
is ``G(min_{j<=k} p_j)``, where ``G(g)`` is the probability, when the activation equals the
baseline, that the smallest nominal p-value over **all** of the design's looks is ``<= g``.
For normally distributed paired differences the t-statistics of the looks have a null
distribution that does not depend on the unknown spread, so ``G`` is computed once per design
by simulating that distribution (``Design.overall_level``; fixed seed, 200,000 paths) -- a
Pocock-type boundary, one nominal level for every look, calibrated exactly for the t-tests'
small degrees of freedom instead of from normal-theory tables. Under the null a repeated
p-value is uniform, and it never rises as looks are added, so "reject when it is ``<= a``" is
a test of level ``a`` however many of the looks are taken. Holm's step-down over the
activations' repeated p-values at each look is then a closed test whose local tests are
Bonferroni tests of these level-``a`` sequential tests (valid whatever the dependence through
the shared baseline), so the chance of any false *better* / *worse* verdict over the whole
sequence stays <= alpha. Stopping early for futility, for the budget or for max seeds only
removes chances to reject, so it keeps that bound (it is non-binding).

Futility: an activation whose conditional power -- the chance of a verdict at the last look
if the true difference and spread were the ones observed so far -- is below ``futility``
(10 %) stops as ``futile``: more seeds would most likely not settle it.

``simulate`` runs the procedure on synthetic grids (paired normal noise); the tests use it to
show the false-verdict rate and the runs saved against the fixed-seed design of equal power.
"""
from __future__ import annotations

import dataclasses
import functools
import math
from typing import Mapping

import numpy as np
from scipy import special as _sp

from .stats import ALPHA, holm, t_pvalue

__all__ = ["Design", "decide", "history", "look_pvalues", "plan_round", "simulate", "fixed_power",
           "FIRST_LOOK", "STEP", "MAX_SEEDS"]

#: the default design: first look at 5 seeds (a paired t-test with 4 degrees of freedom can
#: settle a large difference there), then 3 more seeds per round up to 14 seeds
FIRST_LOOK, STEP, MAX_SEEDS = 5, 3, 14
_PATHS = 200_000  # simulated null paths per design


def look_pvalues(diffs, looks) -> np.ndarray:
    """Two-sided paired-t p-values of per-seed differences (``(..., seeds)``, seed order) on
    their first ``n`` seeds for each look ``n`` they reach: shape ``(..., looks reached)``.
    (``stats.t_pvalue``: differences without spread give p = 1 (all zero) or 0 (a shift).)"""
    d = np.asarray(diffs, np.float64)
    ns = np.array([n for n in looks if n <= d.shape[-1]])
    if ns.size == 0:
        return np.empty(d.shape[:-1] + (0,))
    mean = np.cumsum(d, -1)[..., ns - 1] / ns
    centred = [((d[..., :n] - mean[..., [i]]) ** 2).sum(-1) for i, n in enumerate(ns)]
    return t_pvalue(mean, np.sqrt(np.stack(centred, -1) / (ns - 1)), ns)


@functools.lru_cache(maxsize=16)
def _null_min_p(looks: tuple[int, ...]) -> np.ndarray:
    """Sorted smallest nominal p-value over ``looks`` on ``_PATHS`` simulated null paths
    (standard normal differences; the t-statistics do not depend on their scale)."""
    rng = np.random.default_rng(20261207)
    out = [look_pvalues(rng.standard_normal((min(25_000, _PATHS - start), looks[-1])),
                        looks).min(-1) for start in range(0, _PATHS, 25_000)]
    return np.sort(np.concatenate(out))


@dataclasses.dataclass(frozen=True)
class Design:
    """The looks (cumulative seeds per activation at each round) and the levels."""

    looks: tuple[int, ...] = tuple(range(FIRST_LOOK, MAX_SEEDS + 1, STEP))
    alpha: float = ALPHA
    futility: float = 0.10

    def __post_init__(self):
        looks = tuple(int(n) for n in self.looks)
        if not looks or looks[0] < 2 or any(b <= a for a, b in zip(looks, looks[1:])):
            raise ValueError(f"looks must rise from at least 2 seeds: {self.looks}")
        object.__setattr__(self, "looks", looks)

    @classmethod
    def rounds(cls, first: int = FIRST_LOOK, step: int = STEP, max_seeds: int = MAX_SEEDS,
               **kw) -> "Design":
        """Looks at ``first``, ``first + step``, ... and at ``max_seeds`` (the last)."""
        if max_seeds < first:
            raise ValueError(f"--max-seeds {max_seeds} is below the first round's {first} seeds")
        looks = list(range(first, max_seeds + 1, step))
        if looks[-1] != max_seeds:
            looks.append(max_seeds)
        return cls(tuple(looks), **kw)

    def overall_level(self, nominal_p: float) -> float:
        """``G``: the null probability that some look's nominal p-value is ``<= nominal_p``
        (Monte Carlo, add-one so that it is never optimistic)."""
        null = _null_min_p(self.looks)
        return float((np.searchsorted(null, nominal_p, side="right") + 1) / (null.size + 1))

    def nominal_level(self, level: float) -> float:
        """``G``'s inverse: the per-look nominal level that spends ``level`` over the looks."""
        null = _null_min_p(self.looks)
        k = int(math.floor(level * (null.size + 1))) - 1
        return float(null[k]) if k >= 0 else 0.0

    def repeated_p(self, diffs) -> tuple[float, float]:
        """(repeated p-value, last look's nominal p) of per-seed differences in seed order;
        NaNs before the first look."""
        ps = look_pvalues(diffs, self.looks)
        if not ps.size:
            return math.nan, math.nan
        return min(1.0, self.overall_level(ps.min())), float(ps[-1])

    def look_of(self, n: int) -> int:
        """How many looks ``n`` seeds have passed."""
        return sum(1 for k in self.looks if k <= n)

    def conditional_power(self, diffs, level: float) -> float:
        """Chance of a verdict at the last look at ``level`` if the rest of the seeds had the
        observed mean difference and spread (normal approximation of the final mean)."""
        d = np.asarray(diffs, np.float64)
        n, big = d.size, self.looks[-1]
        if n >= big or n < 2:
            return 0.0
        mean, sd = float(d.mean()), float(d.std(ddof=1))
        if sd <= 1e-12 * max(1.0, abs(mean)):
            return 1.0 if mean != 0.0 else 0.0
        crit = -_sp.stdtrit(big - 1, self.nominal_level(level) / 2) * sd / math.sqrt(big)
        spread = sd * math.sqrt(big - n) / big  # sd of the final mean given the first n
        return float(_sp.ndtr((mean - crit) / spread) + _sp.ndtr((-crit - mean) / spread))


def decide(per_seed: Mapping[str, Mapping[int, float]], baseline: str, design: Design, *,
           higher_is_better: bool = True) -> dict[str, dict]:
    """Sequential verdicts of every activation against ``baseline`` after the looks their
    seeds have passed.

    ``per_seed``: activation -> {seed: value}. Returns activation -> ``{"n", "look",
    "delta_mean", "p_nominal", "p_repeated", "p_holm", "verdict", "stop",
    "conditional_power"}``: ``verdict`` better / worse when the Holm-adjusted repeated
    p-value is ``< alpha``, else indistinguishable (None before the first look); ``stop``:
    ``settled`` (better/worse), ``futile`` (conditional power below ``design.futility``),
    ``max seeds`` (the last look passed) or ``open`` (give it the next round).
    """
    base = per_seed[baseline]
    names = [a for a in per_seed if a != baseline]
    res: dict[str, dict] = {}
    diffs = {}
    for a in names:
        seeds = sorted(set(base) & set(per_seed[a]))
        diffs[a] = np.array([per_seed[a][s] - base[s] for s in seeds], np.float64)
        p_rep, p_nom = design.repeated_p(diffs[a])
        res[a] = dict(n=len(seeds), look=design.look_of(len(seeds)),
                      delta_mean=float(diffs[a].mean()) if len(seeds) else math.nan,
                      p_nominal=p_nom, p_repeated=p_rep)
    adj = holm([res[a]["p_repeated"] for a in names])
    rejected = sum(1 for p in adj if p < design.alpha)
    # the level an open activation would be tested at if none of the others settled
    level = design.alpha / max(1, sum(math.isfinite(p) for p in adj) - rejected)
    for a, p in zip(names, adj):
        r = res[a]
        r["p_holm"], r["conditional_power"] = p, math.nan
        if not math.isfinite(p):
            r["verdict"], r["stop"] = None, "open"
        elif p < design.alpha:
            up = r["delta_mean"] > 0
            r["verdict"], r["stop"] = ("better" if up == higher_is_better else "worse"), "settled"
        else:
            r["verdict"] = "indistinguishable"
            if r["n"] >= design.looks[-1]:
                r["stop"] = "max seeds"
            else:
                r["conditional_power"] = design.conditional_power(diffs[a], level)
                r["stop"] = "futile" if r["conditional_power"] < design.futility else "open"
    res[baseline] = dict(n=len(base), look=design.look_of(len(base)), delta_mean=0.0,
                         p_nominal=math.nan, p_repeated=math.nan, p_holm=math.nan,
                         verdict="baseline", stop=None, conditional_power=math.nan)
    return res


def history(per_seed: Mapping[str, Mapping[int, float]], baseline: str, design: Design, *,
            higher_is_better: bool = True) -> list[dict]:
    """The decisions as they were at each look the baseline has passed: ``[{"seeds": n,
    "decisions": decide(...)}, ...]``. Each activation's seeds at look ``n`` are its first
    ``n`` (an activation that stopped earlier had no more), so the finished runs alone
    reproduce every round's decisions."""
    out = []
    for n in design.looks:
        if n > len(per_seed[baseline]):
            break
        cut = {a: dict(sorted(v.items())[:n]) for a, v in per_seed.items()}
        out.append({"seeds": n, "decisions": decide(cut, baseline, design,
                                                    higher_is_better=higher_is_better)})
    return out


def plan_round(decisions: Mapping[str, dict], design: Design) -> dict[str, int]:
    """Seeds each activation should have after the next round: the next look for the open
    ones and the baseline (when any is open); {} when nothing is open."""
    open_ = [a for a, r in decisions.items() if r["stop"] == "open"]
    if not open_:
        return {}
    done = max(decisions[a]["n"] for a in open_)
    target = next((k for k in design.looks if k > done), None)
    if all(decisions[a]["n"] < design.looks[0] for a in open_):
        target = design.looks[0]
    if target is None:
        return {}
    base = next(a for a, r in decisions.items() if r["verdict"] == "baseline")
    return {a: target for a in [base, *open_]}


def _synthetic_grid(rng, effects, n: int, sd: float) -> dict[str, np.ndarray]:
    """Per-seed values of a baseline and one activation per entry of ``effects`` on ``n``
    seeds: a per-seed effect every activation shares, plus each value's own noise of
    variance ``sd^2 / 2``, so a paired difference has spread ``sd``."""
    shared = rng.standard_normal(n)
    values = {"base": shared + rng.standard_normal(n) * sd / math.sqrt(2)}
    for i, e in enumerate(effects):
        values[f"a{i}"] = shared + e + rng.standard_normal(n) * sd / math.sqrt(2)
    return values


def _right(verdict, effect) -> bool:
    """A better/worse verdict with the sign of a non-zero true effect."""
    return effect != 0 and verdict in ("better", "worse") and (verdict == "better") == (effect > 0)


def simulate(design: Design, effects, *, sd: float = 1.0, grids: int = 2000,
             seed: int = 0) -> dict:
    """Run the sequential procedure on ``grids`` synthetic grids (``_synthetic_grid``: the
    baseline and one activation per entry of ``effects``, true mean differences, paired
    noise of spread ``sd``). Returns ``{"false", "true", "runs", "verdicts"}``: the fraction
    of grids with any wrong verdict (better/worse where the effect is 0, or the wrong sign),
    the mean fraction of non-null activations given the right verdict, the mean number of
    runs per grid, and per activation the fraction given the right verdict."""
    rng = np.random.default_rng(seed)
    effects = np.asarray(effects, np.float64)
    names = [f"a{i}" for i in range(effects.size)]
    false = runs = 0
    true = np.zeros(effects.size)
    for _ in range(grids):
        values = _synthetic_grid(rng, effects, design.looks[-1], sd)
        have = {a: design.looks[0] for a in ["base", *names]}
        while True:
            dec = decide({a: dict(enumerate(values[a][:n])) for a, n in have.items()},
                         "base", design)
            nxt = plan_round(dec, design)
            if not nxt:
                break
            have.update(nxt)
        runs += sum(have.values())
        verdicts = [dec[a]["verdict"] for a in names]
        false += any(v in ("better", "worse") and not _right(v, e)
                     for v, e in zip(verdicts, effects))
        true += [_right(v, e) for v, e in zip(verdicts, effects)]
    nz = effects != 0
    return {"false": false / grids, "true": float(true[nz].mean() / grids) if nz.any() else 0.0,
            "runs": runs / grids, "verdicts": (true / grids).tolist()}


def fixed_power(n: int, effects, *, sd: float = 1.0, alpha: float = ALPHA, grids: int = 2000,
                seed: int = 0) -> float:
    """Power of the fixed design (``n`` seeds each, paired t-tests, Holm at ``alpha``): the
    mean fraction of non-null activations given the right verdict, by simulation on the same
    synthetic grids as ``simulate``."""
    from .stats import compare_to_baseline

    rng = np.random.default_rng(seed)
    effects = np.asarray(effects, np.float64)
    hits = 0.0
    for _ in range(grids):
        values = _synthetic_grid(rng, effects, n, sd)
        res = compare_to_baseline({a: dict(enumerate(v)) for a, v in values.items()}, "base",
                                  alpha=alpha)
        hits += np.mean([_right(res[f"a{i}"]["verdict"], e)
                         for i, e in enumerate(effects) if e != 0])
    return hits / grids
