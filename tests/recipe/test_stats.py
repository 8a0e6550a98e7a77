"""recipes.stats against hand-computed cases and textbook values."""
import math

import numpy as np
import pytest

from recipes import stats

# NumPy/SciPy only, nothing the Keras backend computes: tests/run.sh runs this module under
# its first backend only
pytestmark = pytest.mark.one_backend


def test_mean_ci95_worked_example():
    # values 1, 2, 3: mean 2, sd 1, t_{0.975, 2} = 4.302653; half-width 4.302653 / sqrt(3)
    m, h = stats.mean_ci95([1.0, 2.0, 3.0])
    assert m == 2.0
    assert h == pytest.approx(4.302652729749464 / math.sqrt(3), rel=1e-12)
    assert math.isnan(stats.mean_ci95([5.0])[1])
    assert math.isnan(stats.mean_ci95([])[0])


def test_identical_runs_are_indistinguishable():
    acc = {0: 0.95, 1: 0.96, 2: 0.955}
    res = stats.compare_to_baseline({"relu": acc, "gelu": dict(acc)}, "relu")
    g = res["gelu"]
    assert g["delta_mean"] == 0.0 and g["delta_ci95"] == 0.0
    assert g["p_value"] == 1.0 and g["verdict"] == "indistinguishable"
    assert g["seeds_needed"] is None  # no difference to resolve
    assert res["relu"]["verdict"] == "baseline"


@pytest.mark.parametrize("shift,higher,verdict", [(0.01, True, "better"), (-0.01, True, "worse"),
                                                  (0.01, False, "worse"), (-0.01, False, "better")])
def test_constant_shift_with_small_noise(shift, higher, verdict):
    rng = np.random.default_rng(0)
    base = {s: 0.9 + 0.01 * rng.standard_normal() for s in range(6)}
    other = {s: v + shift + 1e-4 * rng.standard_normal() for s, v in base.items()}
    res = stats.compare_to_baseline({"b": base, "o": other}, "b", higher_is_better=higher)
    assert res["o"]["verdict"] == verdict
    assert res["o"]["delta_mean"] == pytest.approx(shift, abs=2e-4)
    assert res["o"]["p_value_holm"] < 1e-6


def test_paired_test_matches_scipy_ttest_rel():
    from scipy.stats import ttest_rel

    a = [0.91, 0.93, 0.92, 0.95, 0.90]
    b = [0.90, 0.925, 0.921, 0.94, 0.897]
    t = stats.paired(np.subtract(a, b))
    assert t["p"] == pytest.approx(ttest_rel(a, b).pvalue, rel=1e-12)


def test_holm_worked_example():
    # p = (0.01, 0.04, 0.03, 0.005), m = 4: sorted 0.005*4=0.02, 0.01*3=0.03,
    # 0.03*2=0.06, 0.04*1=0.04 -> monotone 0.06; in input order:
    assert stats.holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    out = stats.holm([0.2, float("nan"), 0.5])   # NaN is not a hypothesis: m = 2
    assert out[0] == pytest.approx(0.4) and math.isnan(out[1]) and out[2] == pytest.approx(0.5)
    assert stats.holm([0.6, 0.7]) == [1.0, 1.0]


def test_holm_changes_a_verdict():
    # three activations each at raw p ~0.03: significant alone, not after Holm (x3 > 0.05)
    base = {s: 0.0 for s in range(4)}
    diffs = [0.010, 0.012, 0.008, 0.003]
    raw = stats.paired(diffs)["p"]
    assert 0.0167 < raw < 0.05
    per_seed = {"b": base}
    for name in ("x", "y", "z"):
        per_seed[name] = {s: d for s, d in enumerate(diffs)}
    res = stats.compare_to_baseline(per_seed, "b")
    assert res["x"]["p_value_holm"] == pytest.approx(min(1.0, 3 * raw))
    assert res["x"]["verdict"] == "indistinguishable"
    assert res["x"]["seeds_needed"] > 4


def test_seeds_needed_known_case():
    # two-sided paired t-test, alpha 0.05, power 0.8, effect size d = 0.5: n = 34
    # (the standard table value; the normal approximation gives 31.4)
    assert stats.seeds_needed(0.5, 1.0) == 34
    assert stats.seeds_needed(-1.0, 1.0) == 10  # d = 1: n = 10
    assert stats.power_paired(34, 0.5) >= 0.8 > stats.power_paired(33, 0.5)
    assert stats.seeds_needed(0.0, 1.0) is None and stats.seeds_needed(1.0, 0.0) is None
    # the power is the noncentral t's (scipy.stats, computed independently)
    from scipy.stats import nct, t as student

    for n, d in ((34, 0.5), (10, -1.0), (5, 2.0)):
        crit, nc = student.ppf(0.975, n - 1), abs(d) * math.sqrt(n)
        want = nct.sf(crit, n - 1, nc) + nct.cdf(-crit, n - 1, nc)
        assert stats.power_paired(n, d) == pytest.approx(want, rel=1e-9)


def test_too_few_paired_seeds_say_why():
    res = stats.compare_to_baseline({"relu": {0: 0.9, 1: 0.91}, "elu": {1: 0.92, 2: 0.9}}, "relu")
    e = res["elu"]
    assert e["paired_seeds"] == 1 and e["verdict"] is None and math.isnan(e["p_value_holm"])
    assert "1 seed finished for both elu and relu" in e["why"]
    with pytest.raises(ValueError, match="baseline 'tanh'"):
        stats.compare_to_baseline({"relu": {0: 1.0}}, "tanh")
