"""keras_acts.initializer_for: families, gains, and a 20-layer variance test."""

import math

import keras
import numpy as np
import pytest
from keras import ops

import keras_acts
from keras_acts import CATALOGUE, gain_for, initializer_for, second_moment
from keras_acts import init as ka_init
from keras_acts import layers as L

# ----------------------------------------------------------------------------
# Where "a 20-layer, 256-wide plain MLP initialised with initializer_for keeps the
# pre-activation second moment at layer 20 within [0.5, 2]x the input's" cannot
# hold, and why. Every other catalogue entry is tested below.
# ----------------------------------------------------------------------------
GLOROT = (
    "Glorot convention (fan_avg, gain 1) for a squashing function: E[f(z)^2] < 1, so the "
    "second moment shrinks layer by layer (tanh: q_l ~ 1/(2l), about 0.025 at layer 20). "
    "By design, not a bug: initializer_for(..., rule='gain') preserves it (tested)."
)
NORMALISES = (
    "normalises across the layer (softmax-like: outputs sum to 1, or x - logsumexp(x)): its "
    "second moment is set by the width (~1/n^2, or ~log(n)^2), not by a per-unit variance, "
    "so no variance-preserving gain exists; not a hidden-layer activation."
)
UNSTABLE = (
    "unstable variance fixed point: with gain 1/E[f(z)^2], q = 1 is a fixed point of "
    "q -> gain*E[f(sqrt(q) z)^2], but its slope s = d log E/d log q is > 1 (init.fixed_point_slope), "
    "so no gain keeps q fixed: finite-width fluctuations grow by ~s per layer (measured mean "
    "ratio over 8 nets: {measured})."
)
EXCLUDED = {
    # -- Glorot convention (tested with rule="gain" instead) --------------------
    "sigmoid": GLOROT, "tanh": GLOROT, "softsign": GLOROT, "hard_sigmoid": GLOROT,
    "hard_tanh": GLOROT, "sparse_sigmoid": GLOROT, "isru": GLOROT, "sqnl": GLOROT,
    "soft_clipping": GLOROT, "penalized_tanh": GLOROT, "arctan": GLOROT, "dsilu": GLOROT,
    "weighted_tanh": GLOROT,
    "binary_step": GLOROT + " Besides, the output is scale-free ({0, 1}): the next layer's "
    "second moment is gain*P(h >= t) whatever the input's scale, so the test is vacuous, and "
    "the gradient is zero almost everywhere.",
    "binary_step_ste": GLOROT + " Scale-free {0, 1} output as binary_step.",
    # -- normalisers -------------------------------------------------------------
    "softmax": NORMALISES, "log_softmax": NORMALISES, "sparsemax": NORMALISES, "sparsemax_exact": NORMALISES,
    "softmin": NORMALISES,
    # -- unstable fixed point (s measured by init.fixed_point_slope) -------------
    "exponential": UNSTABLE.format(measured="overflow, s=2.00: E[e^(2 sqrt(q) z)] = e^(2q)"),
    "squared_relu": UNSTABLE.format(measured="overflow, s=2.00: degree-2 homogeneous"),
    "star_relu": UNSTABLE.format(measured="overflow, s=2.00: s*relu^2 + b"),
    "geglu": UNSTABLE.format(measured="overflow, s=2.14: product of two pre-activations"),
    "swiglu": UNSTABLE.format(measured="overflow: product of two pre-activations"),
    "reglu": UNSTABLE.format(measured="overflow, s=2: product of two pre-activations"),
    "glu": UNSTABLE.format(measured="13.6 (s=1.11, even with rule='gain'; Glorot: 4e-16)"),
    "tanh_shrink": UNSTABLE.format(measured="9e10, s=1.83: x - tanh x ~ x^3/3 near 0"),
    "soft_shrink": UNSTABLE.format(measured="3e4, s=1.47"),
    "gcu": UNSTABLE.format(measured="2.9e3, s=1.45"),
    "fts": UNSTABLE.format(measured="4.6e3, s=1.34"),
    "aria2": UNSTABLE.format(measured="2e5, s=1.27"),
    "lisht": UNSTABLE.format(measured="16, s=1.27"),
    "hard_silu": UNSTABLE.format(measured="92, s=1.22"),
    "hard_swish": UNSTABLE.format(measured="92, s=1.22"),
    "elish": UNSTABLE.format(measured="39, s=1.20"),
    "silu": UNSTABLE.format(measured="18, s=1.17"),
    "swish": UNSTABLE.format(measured="18, s=1.17"),
    "swish_x": UNSTABLE.format(measured="18, s=1.17"),
    "eswish": UNSTABLE.format(measured="18, s=1.17 (beta*swish: same shape)"),
    "gelu": UNSTABLE.format(measured="3.0, s=1.14"),
    "gelu_tanh": UNSTABLE.format(measured="3.0, s=1.14"),
    "quick_gelu": UNSTABLE.format(measured="3.0, s=1.14"),
    "mila": UNSTABLE.format(measured="3.3, s=1.14"),
    "logish": UNSTABLE.format(measured="2.5, s=1.10"),
    "shifted_softplus": UNSTABLE.format(measured="5.3, s=1.09"),
}
#: above this fixed-point slope the 20-layer test is not expected to hold
UNSTABLE_SLOPE = 1.08

DEPTH, WIDTH, BATCH, NETS = 20, 256, 64, 8
X0 = np.random.default_rng(0).standard_normal((BATCH, WIDTH)).astype("float32")


_STANDARD = {}


def _kernels(act, layer, n, rule, check):
    """The NETS nets' kernels of one layer, stacked: ``initializer_for(act, seed)((n, WIDTH))``
    with seed 1000 * net + layer.

    Keras's fan_in truncated-normal VarianceScaling draws stddev * T(seed) with T the
    standard truncated normal for that seed, so T is drawn once per (layer, n) and
    scaled by the initializer's own stddev; ``check`` compares net 0's with a real call.
    """
    seeds = [1000 * net + layer for net in range(NETS)]
    init = initializer_for(act, seed=seeds[0], rule=rule)
    if not (isinstance(init, keras.initializers.VarianceScaling) and init.mode == "fan_in"
            and init.distribution == "truncated_normal"):
        return ops.stack([initializer_for(act, seed=s, rule=rule)((n, WIDTH)) for s in seeds])
    if (layer, n) not in _STANDARD:
        _STANDARD[(layer, n)] = ops.stack([
            keras.random.truncated_normal((n, WIDTH), stddev=1.0, seed=s) for s in seeds])
    w = _STANDARD[(layer, n)] * (math.sqrt(init.scale / n) / 0.87962566103423978)
    if check:
        np.testing.assert_allclose(ops.convert_to_numpy(w[0]),
                                   ops.convert_to_numpy(init((n, WIDTH))), rtol=1e-5, atol=1e-7)
    return w


def _ratio(act, rule="auto"):
    """E over NETS independent inits of q_20 / q_0, with h_{l+1} = W_{l+1} f(h_l), h_0 = x
    (the nets side by side: h is (NETS, BATCH, WIDTH), each layer one batched matmul)."""
    f = act if callable(act) else keras_acts.get(act)
    q0 = float(np.mean(X0 ** 2))
    h = ops.convert_to_tensor(np.broadcast_to(X0, (NETS, BATCH, WIDTH)))
    for layer in range(DEPTH):
        a = f(h)
        h = ops.matmul(a, _kernels(act, layer, a.shape[-1], rule, check=layer == 0))
    qs = ops.convert_to_numpy(ops.mean(h * h, axis=(1, 2))).astype(float).tolist()
    return float(np.mean(qs)) / q0, qs


TESTED = sorted(n for n in CATALOGUE if n not in EXCLUDED)


def test_excluded_reasons_are_consistent():
    assert set(EXCLUDED) <= set(CATALOGUE)
    for name, reason in EXCLUDED.items():
        e = CATALOGUE[name]
        if reason.startswith("Glorot"):
            assert e.init == "glorot", name
        elif reason.startswith("normalises"):
            assert not e.elementwise, name
        else:
            assert reason.startswith("unstable")
            assert ka_init.fixed_point_slope(name) > UNSTABLE_SLOPE, name
    for name in TESTED:  # everything tested has a stable or neutral fixed point
        if CATALOGUE[name].elementwise:
            assert ka_init.fixed_point_slope(name) < UNSTABLE_SLOPE, name


@pytest.mark.slow  # 20-layer forward passes of 8 nets per case: outside the quick tier
@pytest.mark.parametrize("name", TESTED)
def test_20_layer_mlp_keeps_second_moment(name):
    ratio, qs = _ratio(name)
    print(f"{name}: q20/q0 = {ratio:.3f} (per net {np.round(qs, 3).tolist()})")
    assert 0.5 <= ratio <= 2.0, (name, ratio, qs)


GLOROT_GAIN = sorted(n for n, r in EXCLUDED.items() if r.startswith("Glorot"))


@pytest.mark.slow  # 20-layer forward passes of 8 nets per case: outside the quick tier
@pytest.mark.parametrize("name", GLOROT_GAIN)
def test_20_layer_mlp_glorot_families_with_rule_gain(name):
    assert isinstance(initializer_for(name), keras.initializers.GlorotUniform)
    ratio, _ = _ratio(name, rule="gain")
    assert 0.5 <= ratio <= 2.0, (name, ratio)


LAYERS_20 = {
    "PReLU": lambda: L.PReLU(),
    "PELU": lambda: L.PELU(),
    "SReLU": lambda: L.SReLU(),
    "TLU": lambda: L.TLU(),
    "APL": lambda: L.APL(),
    "Rational": lambda: L.Rational(),
    "Snake": lambda: L.Snake(),
    "SoftExponential": lambda: L.SoftExponential(),
    "RReLU": lambda: L.RReLU(),
    "Maxout": lambda: L.Maxout(pieces=2),
    "DyT": lambda: L.DyT(),
    "Learnable(leaky_relu)": lambda: L.Learnable("leaky_relu", negative_slope=0.3),
}


@pytest.mark.slow  # 20-layer forward passes of 8 nets per case: outside the quick tier
@pytest.mark.parametrize("name", sorted(LAYERS_20))
def test_20_layer_mlp_with_layers(name):
    layer = LAYERS_20[name]()
    ratio, _ = _ratio(layer, rule="gain")
    assert 0.5 <= ratio <= 2.0, (name, ratio)


# ----------------------------------------------------------------------------
# the rule
# ----------------------------------------------------------------------------
def _scale(init):
    return init.get_config().get("scale")


def test_families():
    assert isinstance(initializer_for("selu"), keras.initializers.LecunNormal)
    assert isinstance(initializer_for("relu"), keras.initializers.HeNormal)
    assert isinstance(initializer_for(keras.activations.relu), keras.initializers.HeNormal)
    for name in ("tanh", "sigmoid", "softsign", "hard_sigmoid"):
        assert isinstance(initializer_for(name), keras.initializers.GlorotUniform), name
    # He with gain 2/(1+a^2), a = the negative slope
    assert _scale(initializer_for("leaky_relu")) == pytest.approx(2 / (1 + 0.2 ** 2))
    assert _scale(initializer_for(keras_acts.get("leaky_relu", negative_slope=0.5))) == pytest.approx(1.6)
    assert _scale(initializer_for(L.PReLU())) == pytest.approx(2 / (1 + 0.25 ** 2))
    assert _scale(initializer_for(L.PReLU(alpha_initializer=0.1))) == pytest.approx(2 / 1.01)
    assert _scale(initializer_for(keras.layers.LeakyReLU(negative_slope=0.1))) == pytest.approx(2 / 1.01)
    assert isinstance(initializer_for(keras.layers.PReLU()), keras.initializers.HeNormal)  # alpha 0
    assert isinstance(initializer_for(keras.layers.Activation("relu")), keras.initializers.HeNormal)
    assert _scale(initializer_for("rrelu")) == pytest.approx(2 / (1 + (0.5 * (0.125 + 1 / 3)) ** 2))
    assert _scale(initializer_for(L.Learnable("leaky_relu", negative_slope=0.3))) == pytest.approx(2 / 1.09)
    # gain family: 1 / E[f(z)^2]
    assert _scale(initializer_for("exponential")) == pytest.approx(math.exp(-2.0))
    assert _scale(initializer_for("sine")) == pytest.approx(2 / (1 - math.exp(-2)))
    # rule="gain" replaces the Glorot convention
    assert _scale(initializer_for("tanh", rule="gain")) == pytest.approx(1 / 0.3942944, rel=1e-4)
    with pytest.raises(ValueError, match="normalises across the layer"):
        initializer_for("softmax", rule="gain")
    with pytest.raises(ValueError, match="rule"):
        initializer_for("relu", rule="he")


def test_every_catalogue_entry_gets_an_initializer():
    for name in CATALOGUE:
        assert isinstance(initializer_for(name), keras.initializers.Initializer), name


def test_fresh_and_seeded():
    a, b = initializer_for("gelu", seed=3), initializer_for("gelu", seed=3)
    assert a is not b
    np.testing.assert_array_equal(ops.convert_to_numpy(a((8, 8))), ops.convert_to_numpy(b((8, 8))))
    assert initializer_for("relu") is not initializer_for("relu")


@pytest.mark.parametrize("name", sorted(ka_init.ANALYTIC))
def test_analytic_second_moments_match_quadrature(name):
    e = CATALOGUE[name]
    analytic = ka_init.ANALYTIC[name](**e.defaults)
    from keras_acts.registry import evaluate

    numeric = ka_init._quad_elementwise(lambda x: evaluate(e, e.fn, x, e.defaults))
    assert analytic == pytest.approx(numeric, rel=1e-3), name  # trapezoid error at a step


def test_known_second_moments_and_cache():
    assert second_moment("relu") == 0.5
    assert second_moment("selu") == 1.0
    assert second_moment("tanh") == pytest.approx(0.394294, rel=1e-5)
    assert second_moment("gelu") == pytest.approx(0.425219, rel=1e-4)
    assert second_moment("star_relu") == pytest.approx(1.0, abs=1e-3)  # by the StarReLU design
    ka_init._entry_m2.cache_clear()
    second_moment("mish")
    second_moment("mish")
    assert ka_init._entry_m2.cache_info().hits >= 1
    # gain == 1 / E[f(z)^2] for the He rectifiers too (the He formula is that moment)
    for name in ("relu", "leaky_relu", "rrelu"):
        assert gain_for(name) == pytest.approx(1 / second_moment(name))


def test_unknown_callable_gets_a_numeric_gain():
    def my_act(x):
        return ops.tanh(x) * 2.0

    assert gain_for(my_act) == pytest.approx(1 / (4 * 0.3942944), rel=1e-4)


def test_rule_is_documented():
    doc = ka_init.__doc__ + initializer_for.__doc__
    for word in ("lecun", "he", "glorot", "gain", "2 / (1 + a^2)", "E[f(z)^2]", "rule"):
        assert word in doc
