"""--seeds auto's group-sequential design (recipes.sequential): its error rate under repeated
looks and its cost against fixed seeds, by simulation of synthetic grids.

NumPy/SciPy only -- nothing here depends on the Keras backend, so tests/run.sh runs this
module under its first backend only (marker one_backend)."""
import math

import numpy as np
import pytest
from scipy import stats as st

from recipes import sequential as sq
from recipes.stats import ALPHA, holm, paired

pytestmark = pytest.mark.one_backend

M = 7  # activations against the baseline: the MNIST quick preset's eight, or cifar-quick's


def test_design_levels_worked_example():
    d = sq.Design()
    assert d.looks == (sq.FIRST_LOOK, 8, 11, sq.MAX_SEEDS) == (5, 8, 11, 14)
    assert sq.Design.rounds(5, 3, 12).looks == (5, 8, 11, 12)
    g = d.nominal_level(ALPHA)
    # spending 5 % over 4 correlated looks: stricter than one look, laxer than Bonferroni
    assert ALPHA / 4 < g < ALPHA
    assert d.overall_level(g) == pytest.approx(ALPHA, rel=0.02)
    # one look: G is the identity (the t-test's p-value is uniform under the null)
    one = sq.Design((6,))
    for p in (0.001, 0.01, 0.05, 0.3):
        assert one.overall_level(p) == pytest.approx(p, rel=0.05, abs=2e-4)
    with pytest.raises(ValueError, match="below the first round"):
        sq.Design.rounds(5, 3, 4)
    with pytest.raises(ValueError, match="rise"):
        sq.Design((5, 5))


def test_look_pvalues_are_the_paired_t_tests():
    d = np.random.default_rng(3).standard_normal(14) + 0.4
    got = sq.look_pvalues(d, (5, 8, 11, 14, 20))
    assert got.shape == (4,)  # the 20-seed look is not reached
    for p, n in zip(got, (5, 8, 11, 14)):
        assert p == pytest.approx(st.ttest_1samp(d[:n], 0.0).pvalue, rel=1e-10)
    # repeated p-value: G of the smallest look p-value, never below it
    rep, last = sq.Design().repeated_p(d)
    assert last == pytest.approx(got[-1]) and rep >= got.min()


def test_decide_settles_a_large_shift_at_the_first_look_and_stops_a_null_one():
    rng = np.random.default_rng(0)
    base = {s: 0.97 + 0.002 * rng.standard_normal() for s in range(5)}
    grid = {"relu": base,
            "sigmoid": {s: v - 0.02 + 0.001 * rng.standard_normal() for s, v in base.items()},
            "tanh": {s: v - 0.006 + 0.001 * rng.standard_normal() for s, v in base.items()},
            "elu": {s: v + 0.001 * rng.standard_normal() for s, v in base.items()}}
    dec = sq.decide(grid, "relu", sq.Design())
    assert dec["sigmoid"]["verdict"] == dec["tanh"]["verdict"] == "worse"
    assert dec["sigmoid"]["stop"] == dec["tanh"]["stop"] == "settled"
    assert dec["elu"]["verdict"] == "indistinguishable"
    # the repeated p-values, Holm-adjusted over the three
    reps = [dec[a]["p_repeated"] for a in ("sigmoid", "tanh", "elu")]
    assert [dec[a]["p_holm"] for a in ("sigmoid", "tanh", "elu")] == pytest.approx(holm(reps))
    # the next round: elu (if still open) and the baseline to the next look, nothing else
    nxt = sq.plan_round(dec, sq.Design())
    if dec["elu"]["stop"] == "open":
        assert nxt == {"relu": 8, "elu": 8}
    else:
        assert dec["elu"]["stop"] == "futile" and nxt == {}
    # before the first look there is nothing to decide; every activation gets 5 seeds
    early = {a: {s: v[s] for s in range(3)} for a, v in grid.items()}
    dec = sq.decide(early, "relu", sq.Design())
    assert {dec[a]["stop"] for a in ("sigmoid", "tanh", "elu")} == {"open"}
    assert sq.plan_round(dec, sq.Design()) == dict.fromkeys(grid, 5)


def _naive_false_rate(grids, seed):
    """Peeking without correction for it: a paired t-test with Holm at every look, stop at
    the first significant one -- the practice --seeds auto replaces."""
    rng = np.random.default_rng(seed)
    looks = sq.Design().looks
    false = 0
    for _ in range(grids):
        d = rng.standard_normal((M, looks[-1]))  # paired differences, all activations equal
        ps = sq.look_pvalues(d, looks)            # (M, looks)
        false += any(min(holm(ps[:, k])) < ALPHA for k in range(len(looks)))
    return false / grids


@pytest.mark.slow  # ~6 s of simulation: outside the quick tier
def test_false_verdicts_stay_below_alpha_under_repeated_looks():
    # 3,000 grids of 8 activations that are all equal (paired noise; its scale does not
    # matter to t-tests): any better/worse verdict is false
    grids = 3000
    res = sq.simulate(sq.Design(), [0.0] * M, grids=grids, seed=11)
    false = round(res["false"] * grids)
    # <= 5 %: the count is no more than a binomial(3000, 0.05) gives with 99.9 % probability
    # (the exact rate is ~4.7 %: Holm over 7 nearly independent tests spends nearly all of it)
    assert false <= st.binom.ppf(0.999, grids, ALPHA), res
    assert res["false"] <= ALPHA + 3 * math.sqrt(ALPHA * (1 - ALPHA) / grids)
    # the same looks without the correction give false verdicts far more often
    naive = _naive_false_rate(grids, seed=11)
    assert naive > 2 * ALPHA, naive
    # and the null activations stop early for futility instead of running to max seeds
    assert res["runs"] < (M + 1) * (sq.FIRST_LOOK + 3)


@pytest.mark.slow  # ~20 s of simulation: outside the quick tier
def test_fewer_runs_than_fixed_seeds_for_the_same_power():
    # CIFAR-10 quick sized differences (benchmarks/results/cifar-quick-*: gelu, mish, elu
    # +0.5..0.9 pp against relu with per-seed spread of the differences ~0.4-0.6 pp, i.e.
    # 1.5 sd), two large ones (sigmoid- and tanh-like) and two without a difference
    effects = [5.0, 5.0, 1.5, 1.5, 1.5, 0.0, 0.0]
    res = sq.simulate(sq.Design(), effects, grids=1500, seed=5)
    assert res["false"] <= 0.08  # (1,500 grids; the null test above is the strict one)
    # the fixed design with as many runs as the sequential one used on average ...
    n_same_runs = math.floor(res["runs"] / (M + 1))
    fixed = sq.fixed_power(n_same_runs, effects, grids=1500, seed=6)
    # ... finds fewer of the true differences: so for equal power it needs more runs
    assert res["true"] > fixed + 0.03, (res, n_same_runs, fixed)
    # and its power is not bought with a lax design: the 1.5-sd ones are found >= 85 %
    assert min(res["verdicts"][2:5]) >= 0.85, res


def test_paired_and_look_pvalues_agree_on_degenerate_differences():
    for d in (np.zeros(5), np.full(5, 0.01)):
        assert sq.look_pvalues(d, (5,))[0] == paired(d)["p"]


def test_published_comparison_worked_example():
    # benchmarks/published.py reads a grid's rows: the same order as Mish's table gives
    # tau = +1; a claim against the baseline is confirmed, contradicted or left open by the
    # verdict, and a pair without the baseline is not tested
    from benchmarks.published import PAPERS, compare

    pub = PAPERS["Mish (Misra 2019/2020; SqueezeNet, mean of 23 runs)"]["accuracy"]

    def row(a, verdict, delta=0.0):
        return {"activation": a, "test_accuracy_mean": pub[a] / 100, "verdict": verdict,
                "delta_vs_baseline_mean": delta, "seeds": 5}

    rows = [row("relu", "baseline"), row("mish", "better", 0.008),
            row("elu", "indistinguishable", -0.002), row("tanh", "better", 0.01)]
    text = compare(rows)
    assert "Kendall's τ over the 4 in common: **+1.00**" in text
    assert "| `mish` > `relu` | `mish` better than `relu` (+0.80 pp, 5 seeds) | confirms |" in text
    assert "| `mish` > `tanh` | not tested directly" in text
    # relu > elu is the GELU paper's claim: elu indistinguishable -> cannot resolve
    assert "| `relu` > `elu` | `elu` indistinguishable from `relu` (-0.20 pp" in text
    assert "cannot resolve" in text
    rows[3]["verdict"] = "better"
    rows[1]["verdict"] = "worse"
    assert "| `mish` > `relu` | `mish` worse than `relu` (+0.80 pp, 5 seeds) | contradicts |" in compare(rows)
