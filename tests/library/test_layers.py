"""Learnable activation layers: paper defaults, configs, training, dtype policies,
model styles, Dense(activation=layer). (Their fresh-process .keras round trip: test_fresh_process.)"""

import inspect
import json

import keras
import numpy as np
import pytest
from keras import ops

from keras_acts import CATALOGUE
from keras_acts import layers as L
from keras_acts.autodiff import loss_and_grads
from keras_acts.registry import FUNCTIONS, evaluate

BACKEND = keras.backend.backend()

#: one small instance of every layer class (non-default values where a default would be trivial)
FACTORIES = {
    "PReLU": lambda: L.PReLU(),
    "Learnable": lambda: L.Learnable("aria2", shared_axes=None),
    "SwishX": lambda: L.SwishX(beta=1.2),
    "Snake": lambda: L.Snake(),
    "SoftExponential": lambda: L.SoftExponential(),  # alpha = 0: the identity
    "PFTS": lambda: L.PFTS(),
    "StarReLU": lambda: L.StarReLU(),
    "RReLU": lambda: L.RReLU(seed=3),
    "PELU": lambda: L.PELU(),
    "SReLU": lambda: L.SReLU(t_right_initializer=0.0),  # t_right learns once a_right leaves 1
    "APL": lambda: L.APL(hinges=2),
    "TLU": lambda: L.TLU(),
    "DyT": lambda: L.DyT(),
    "Rational": lambda: L.Rational(),
    "Maxout": lambda: L.Maxout(pieces=2, units=6),
}
WIDTH = 6


def _np(x):
    return np.asarray(ops.convert_to_numpy(x))


def _data(n=32, seed=0):
    rng = np.random.default_rng(seed)
    x = 2.0 * rng.standard_normal((n, WIDTH)).astype("float32")
    y = np.tanh(x[:, :1] * 2.0 - x[:, 1:2]).astype("float32")
    return x, y


def _values(layer):
    return {w.path: _np(w).copy() for w in layer.trainable_weights}


def test_every_layer_class_has_a_factory():
    assert {cls.__name__ for cls in L.LAYERS} == set(FACTORIES)
    for name, make in FACTORIES.items():
        assert type(make()).__name__ == name
        registered = keras.saving.get_registered_name(type(make()))
        assert registered == f"keras_acts>{name}"


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_layers_with_weights_pin_their_input_in_build(name):
    W = 7   # no layer has a coefficient count of 7 (Rational's are 6 and 4)
    layer = FACTORIES[name]()
    layer.build((None, W))
    x = np.ones((2, W), "float32")
    assert _np(layer(x)).shape[0] == 2
    if not any(W in tuple(w.shape) for w in layer.weights):
        # nothing is sized by the first input (no weights, or one value per layer)
        assert layer.input_spec is None
        assert _np(layer(np.ones((2, 3, W + 1), "float32"))).shape == (2, 3, W + 1)
        return
    assert layer.input_spec is not None and layer.input_spec.ndim == 2
    with pytest.raises(ValueError, match="incompatible|expected"):
        layer(np.ones((2, W + 1), "float32"))   # Keras's input_spec message
    with pytest.raises(ValueError, match="incompatible|expected"):
        layer(np.ones((2, 3, W), "float32"))


# ----------------------------------------------------------------------------
# PReLU
# ----------------------------------------------------------------------------
def test_prelu_paper_defaults_channelwise():
    layer = L.PReLU()
    x = np.random.default_rng(0).standard_normal((2, 4, 4, 3)).astype("float32")
    y = _np(layer(x))
    assert tuple(layer.alpha.shape) == (3,)  # one alpha per channel
    np.testing.assert_allclose(_np(layer.alpha), 0.25)
    np.testing.assert_allclose(y, np.where(x > 0, x, 0.25 * x), rtol=1e-6)
    assert layer.alpha_regularizer is None  # the paper: no weight decay on alpha
    assert layer.losses == []
    # same as Keras's PReLU with alpha 0.25 shared over the spatial axes
    ref = keras.layers.PReLU(alpha_initializer=keras.initializers.Constant(0.25), shared_axes=[1, 2])
    np.testing.assert_allclose(y, _np(ref(x)), rtol=1e-6)


@pytest.mark.parametrize("kwargs, shape", [
    ({"shared_axes": []}, (4, 4, 3)),          # Keras's one alpha per element
    ({"shared_axes": [1]}, (4, 3)),
    ({"shared_axes": "all"}, ()),
    ({"axis": 1}, (4, 1, 1)),                   # channels_first: (B, C, H, W)
])
def test_prelu_sharing_options(kwargs, shape):
    layer = L.PReLU(**kwargs)
    layer(np.zeros((2, 4, 4, 3), "float32"))
    assert tuple(layer.alpha.shape) == shape


def test_prelu_regularizer_and_constraint():
    layer = L.PReLU(alpha_regularizer="l2", alpha_constraint="non_neg")
    layer(np.ones((2, 3), "float32"))
    assert len(layer.losses) == 1
    assert layer.alpha.constraint is not None
    clone = L.PReLU.from_config(layer.get_config())
    clone(np.ones((2, 3), "float32"))
    assert len(clone.losses) == 1


def test_prelu_unknown_channel_axis_is_a_clear_error():
    with pytest.raises(ValueError, match="non-shared axes must be known"):
        L.PReLU(shared_axes=[]).build((None, None, 3))


# ----------------------------------------------------------------------------
# configs
# ----------------------------------------------------------------------------
def _init_params(cls):
    names = set()
    for klass in cls.__mro__:
        if klass is keras.layers.Layer:
            break
        if "__init__" in vars(klass):
            names |= set(inspect.signature(klass.__init__).parameters) - {"self", "kwargs"}
    return names | {"name", "dtype", "trainable"}  # keras.layers.Layer kwargs


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_config_mirrors_init_and_never_holds_learned_values(name):
    layer = FACTORIES[name]()
    config = layer.get_config()
    assert set(config) <= _init_params(type(layer)), set(config) - _init_params(type(layer))
    json.dumps(config)  # plain JSON
    clone = type(layer).from_config(config)
    assert clone.get_config() == config


# ----------------------------------------------------------------------------
# every parameter moves during fit, in Sequential, Functional and subclassed models
# ----------------------------------------------------------------------------
class Chain(keras.Model):
    """Subclassed model: Dense -> activation layer, for every layer, then a head."""

    def __init__(self, acts, **kwargs):
        super().__init__(**kwargs)
        self.denses = [keras.layers.Dense(WIDTH) for _ in acts]
        self.acts = list(acts)
        self.head = keras.layers.Dense(1)

    def call(self, x):
        for dense, act in zip(self.denses, self.acts):
            x = act(dense(x))
        return self.head(x)


def _chain(style, acts):
    if style == "subclassed":
        return Chain(acts)
    layers = []
    for act in acts:
        layers += [keras.layers.Dense(WIDTH), act]
    layers.append(keras.layers.Dense(1))
    if style == "sequential":
        return keras.Sequential([keras.Input((WIDTH,))] + layers)
    inp = keras.Input((WIDTH,))
    h = inp
    for layer in layers:
        h = layer(h)
    return keras.Model(inp, h)


@pytest.mark.parametrize("style", ["sequential", "functional", "subclassed"])
def test_parameters_move_during_fit_in_every_model_style(style):
    keras.utils.set_random_seed(0)  # unseeded Dense kernels made this flaky (SReLU t_right)
    acts = [FACTORIES[n]() for n in sorted(FACTORIES)]
    model = _chain(style, acts)
    x, y = _data(64)
    model(x[:2])
    before = {id(a): _values(a) for a in acts}
    configs = {id(a): a.get_config() for a in acts}
    paths = {w.path for w in model.trainable_weights}
    for a in acts:
        for w in a.trainable_weights:
            assert w.path in paths
    # the subclassed model trains through the traced train step, the other two op by op (the
    # same updates in a fraction of the time: what differs between styles is the tracking)
    model.compile(keras.optimizers.Adam(0.03), "mse", jit_compile=False,
                  run_eagerly=style != "subclassed")
    # four steps of 32: every weight moves (SReLU's t_right from the second step, once
    # a_right has left 1) under seeds 0-5 on every backend; twelve steps of 16 took 2.5x as long
    model.fit(x, y, epochs=2, batch_size=32, verbose=0)
    for a in acts:
        after = _values(a)
        for path, value in before[id(a)].items():
            assert not np.array_equal(value, after[path]), f"{type(a).__name__}: {path} did not move"
        assert (len(after) > 0) == (type(a).__name__ != "RReLU")
        assert a.get_config() == configs[id(a)]  # learned values live in weights, not the config


# ----------------------------------------------------------------------------
# dtype policies
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_dtype_policies(policy):
    x, y = _data(32)
    names = sorted(FACTORIES)
    ref_model = _chain("sequential", [FACTORIES[n]() for n in names])
    ref = _np(ref_model(x))
    keras.config.set_dtype_policy(policy)
    try:
        acts = [FACTORIES[n]() for n in names]
        model = _chain("sequential", acts)
        model.set_weights(ref_model.get_weights())
        out = model(x)
        compute = policy.split("_")[1]
        for a in acts:
            assert a.compute_dtype == compute
            for w in a.weights:
                assert keras.backend.standardize_dtype(w.dtype) == "float32"
            assert keras.backend.standardize_dtype(a(ops.cast(x, compute)).dtype) == compute
        tol = 0.05 if compute == "float16" else 0.25
        np.testing.assert_allclose(_np(ops.cast(out, "float32")), ref, atol=tol, rtol=tol)
        # two steps op by op (the policy's casts and loss scaling are the same traced or not)
        model.compile(keras.optimizers.Adam(0.01), "mse", run_eagerly=True)
        history = model.fit(x, y, epochs=1, batch_size=16, verbose=0)
        assert np.isfinite(history.history["loss"][-1])
    finally:
        keras.config.set_dtype_policy("float32")


# ----------------------------------------------------------------------------
# Learnable: derived from the catalogue
# ----------------------------------------------------------------------------
LEARNABLE = L.learnable_entries()
GRID = np.linspace(-4.0, 4.0, 33, dtype="float32")[:, None] * np.ones((1, 3), "float32")


def test_learnable_covers_every_parametric_entry():
    parametric = {n for n, e in CATALOGUE.items() if e.learnable_params}
    assert set(LEARNABLE) == parametric
    assert len(LEARNABLE) >= 20


@pytest.mark.parametrize("name", LEARNABLE)
@pytest.mark.filterwarnings("ignore:Learnable")
def test_learnable_matches_catalogue_and_has_gradients(name):
    e = CATALOGUE[name]
    # relu's threshold has a gradient only through a non-zero negative slope
    params = {"negative_slope": 0.1} if name == "relu" else {}
    layer = L.Learnable(name, shared_axes=None, **params)
    want = _np(evaluate(e, e.fn, GRID, {**e.defaults, **params}))
    got = _np(layer(GRID))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert {w.name for w in layer.trainable_weights} == {
        k for k in e.learnable_params if e.defaults[k] is not None}
    for w in layer.trainable_weights:
        assert tuple(w.shape) == (3,)
        p = e.params[w.name]
        bounds = L.Bounds.from_param(p)
        if bounds is None:
            assert w.constraint is None
        else:
            assert w.constraint.get_config() == bounds.get_config()
    dead = L.zero_gradient_params(name, layer.initial_params, layer.learn)
    if set(dead) == set(layer.learn):
        return  # piecewise constant in every learned parameter (torch: no autograd path at all)
    # gradients w.r.t. every learned parameter are finite and not all zero
    model = keras.Sequential([keras.Input((3,)), layer])
    target = np.asarray(want * 0.5 + 0.3, "float32")
    _, grads = loss_and_grads(model, keras.losses.MeanSquaredError(), GRID, target,
                              layer.trainable_weights)
    for w, g in zip(layer.trainable_weights, grads):
        assert np.all(np.isfinite(g)), (name, w.name)
        if w.name in dead:  # piecewise constant in the parameter
            assert np.all(g == 0), (name, w.name)
        else:
            assert np.any(g != 0), (name, w.name)


def test_zero_gradient_parameters_warn():
    with pytest.warns(UserWarning, match="zero gradient"):
        L.Learnable("binary_step")
    assert {e for e, _ in L.ZERO_GRADIENT} <= set(LEARNABLE)


def test_learnable_partial_and_fixed_parameters():
    layer = L.Learnable("aria2", trainable=("beta",), alpha=2.0)
    layer(GRID)
    assert [w.name for w in layer.trainable_weights] == ["beta"]
    e = CATALOGUE["aria2"]
    np.testing.assert_allclose(_np(layer(GRID)), _np(evaluate(e, e.fn, GRID, {"alpha": 2.0, "beta": 0.5})),
                               rtol=1e-6)
    config = layer.get_config()
    assert config["learn"] == ["beta"] and config["params"] == {"alpha": 2.0}
    clone = L.Learnable.from_config(config)
    assert clone.learn == ("beta",) and clone.initial_params["alpha"] == 2.0
    assert L.Learnable("swish_x", trainable=False).trainable is False


def test_learnable_errors():
    with pytest.raises(ValueError, match="Unknown activation"):
        L.Learnable("swishh")
    with pytest.raises(ValueError, match="no learnable parameters"):
        L.Learnable("tanh")
    with pytest.raises(ValueError, match="cannot learn"):
        L.Learnable("gelu", trainable=("approximate",))
    with pytest.raises(ValueError, match="must be >"):
        L.Learnable("snake", alpha=-1.0)
    with pytest.raises(ValueError, match="initial value"):
        L.Learnable("relu", trainable=("max_value",))


def test_bounds_keep_parameters_in_range():
    layer = L.Learnable("fts")  # T <= 0
    layer(GRID)
    (w,) = layer.trainable_weights
    np.testing.assert_allclose(_np(w.constraint(ops.convert_to_tensor([0.5, -0.5]))), [0.0, -0.5])
    snake = L.Snake()
    snake(GRID)
    assert float(_np(snake.trainable_weights[0].constraint(ops.convert_to_tensor(-1.0)))) > 0
    # an optimizer step that would push T above 0 is clipped back
    x, y = _data(32)
    model = keras.Sequential([keras.Input((WIDTH,)), keras.layers.Dense(WIDTH), L.PFTS()])
    model.compile(keras.optimizers.SGD(50.0), "mse")
    model.fit(x, np.full((32, WIDTH), 5.0, "float32"), epochs=2, verbose=0)
    assert float(_np(model.layers[-1].trainable_weights[0])) <= 0.0


@pytest.mark.parametrize("name", sorted(n for n, e in CATALOGUE.items() if e.tensor_fn))
def test_tensor_forms_match_keras_builtins(name):
    e = CATALOGUE[name]
    x = np.linspace(-3, 3, 61, dtype="float32")
    variants = [{}] + [{k: (0.3 if v in (None, 0.0) else 0.7 * v)} for k, v in e.defaults.items()]
    if name == "relu":
        variants.append({"negative_slope": 0.1, "threshold": 0.5, "max_value": 2.0})
    for params in variants:
        full = {**e.defaults, **params}
        np.testing.assert_allclose(_np(e.tensor_fn(ops.convert_to_tensor(x), **full)),
                                   _np(e.fn(ops.convert_to_tensor(x), **full)), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("cls, entry", [(L.SwishX, "swish_x"), (L.Snake, "snake"),
                                        (L.SoftExponential, "soft_exponential"), (L.PFTS, "fts"),
                                        (L.StarReLU, "star_relu"), (L.RReLU, "rrelu")])
def test_named_layers_derive_from_learnable(cls, entry):
    assert issubclass(cls, L.Learnable)
    layer = cls()
    assert layer.entry is CATALOGUE[entry]
    assert layer.catalogue_name == entry


# ----------------------------------------------------------------------------
# specific layers
# ----------------------------------------------------------------------------
def test_swish_x_layer_and_string_stay_distinct():
    assert keras.activations.get("swish_x") is FUNCTIONS["swish_x"]
    assert not isinstance(keras.activations.get("swish_x"), keras.layers.Layer)
    layer = L.SwishX(beta=1.5)
    e = CATALOGUE["swish_x"]
    np.testing.assert_allclose(_np(layer(GRID)), _np(evaluate(e, e.fn, GRID, {"beta": 1.5})), rtol=1e-6)
    assert [tuple(w.shape) for w in layer.trainable_weights] == [()]
    per_channel = L.SwishX(shared_axes=None)
    per_channel(GRID)
    assert tuple(per_channel.trainable_weights[0].shape) == (3,)
    frozen = L.SwishX(trainable=False)
    frozen(GRID)
    assert frozen.trainable_weights == [] and len(frozen.weights) == 1


def test_rrelu_random_in_training_mean_slope_at_inference():
    layer = L.RReLU(lower=0.1, upper=0.3, seed=1)
    x = -np.ones((64, 8), "float32")
    slopes = -_np(layer(x, training=True))
    assert slopes.min() >= 0.1 - 1e-6 and slopes.max() <= 0.3 + 1e-6 and slopes.std() > 0.03
    np.testing.assert_allclose(_np(layer(x, training=False)), -0.2, rtol=1e-6)
    np.testing.assert_allclose(_np(layer(-x, training=True)), 1.0)


def _leaky(x, a):
    return np.where(x >= 0, x, a * x)


@pytest.mark.parametrize("name, reference, atol", [
    ("PELU", lambda x: np.where(x >= 0, x, np.expm1(np.minimum(x, 0))), 1e-6),   # ELU
    ("SReLU", lambda x: _leaky(x, 0.2), 1e-6),
    ("TLU", lambda x: np.maximum(x, 0.0), 0.0),
    ("APL", lambda x: np.maximum(x, 0.0), 0.0),
    ("DyT", lambda x: np.tanh(0.5 * x), 1e-6),
    ("Rational", lambda x: _leaky(x, 0.01), 0.05),          # Pade fit to leaky ReLU on [-3, 3]
])
def test_initial_form(name, reference, atol):
    layer = FACTORIES[name]()
    x = np.linspace(-3, 3, 121, dtype="float32")[:, None] * np.ones((1, WIDTH), "float32")
    np.testing.assert_allclose(_np(layer(x)), reference(x), atol=atol, rtol=1e-5)


def test_rational_coefficients_fit():
    num, den = L.rational_coefficients(0.2, (5, 4))
    layer = L.Rational(negative_slope=0.2, shared_axes=None)
    x = np.linspace(-3, 3, 61, dtype="float32")[:, None] * np.ones((1, 2), "float32")
    np.testing.assert_allclose(_np(layer(x)), _leaky(x, 0.2), atol=0.05)
    assert tuple(layer.numerator.shape) == (6, 2) and tuple(layer.denominator.shape) == (4, 2)
    np.testing.assert_allclose(_np(layer.numerator)[:, 1], num, rtol=1e-6)


def test_maxout_forms():
    x = np.arange(12, dtype="float32").reshape(2, 6) * np.array([1, -1, 1, -1, 1, -1], "float32")
    free = L.Maxout(pieces=2)
    np.testing.assert_array_equal(_np(free(x)), x.reshape(2, 3, 2).max(-1))
    assert free.weights == []
    dense = L.Maxout(pieces=3, units=4)
    assert tuple(dense(x).shape) == (2, 4)
    assert [tuple(w.shape) for w in dense.weights] == [(6, 12), (12,)]
    with pytest.raises(ValueError, match="groups of 4"):
        L.Maxout(pieces=4)(x)


# ----------------------------------------------------------------------------
# Dense(..., activation=<learnable layer>)
# ----------------------------------------------------------------------------
def _dense_act_model(style, act):
    if style == "functional":
        inp = keras.Input((3,))
        return keras.Model(inp, keras.layers.Dense(4, activation=act)(inp))
    if style == "sequential":
        return keras.Sequential([keras.layers.Dense(4, activation=act)])
    return DenseActModel(act)


class DenseActModel(keras.Model):
    def __init__(self, act, **kwargs):
        super().__init__(**kwargs)
        self.dense = keras.layers.Dense(4, activation=act)

    def call(self, x):
        return self.dense(x)


@pytest.mark.parametrize("style", ["functional", "sequential", "subclassed"])
def test_dense_activation_layer_trains_saves_and_loads(style, tmp_path):
    act = L.PReLU()
    model = _dense_act_model(style, act)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 3)).astype("float32")
    y = rng.standard_normal((32, 4)).astype("float32")
    model.compile(keras.optimizers.Adam(0.05), "mse")
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert act.built
    assert any(w is act.alpha for w in model.trainable_weights)
    alpha = _np(act.alpha)
    assert not np.allclose(alpha, 0.25)  # it trained
    if style == "subclassed":
        return  # a test-local Model class is not loadable; the fresh-process test covers saving
    path = str(tmp_path / "dense_act.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    loaded_act = loaded.layers[-1].activation
    assert isinstance(loaded_act, L.PReLU)
    np.testing.assert_array_equal(_np(loaded_act.alpha), alpha)
    np.testing.assert_array_equal(_np(loaded(x)), _np(model(x)))


def test_untracked_activation_layer_is_a_clear_error():
    act = L.PReLU()
    with pytest.raises(ValueError, match="does not track it"):
        inp = keras.Input((3,))
        model = keras.Model(inp, keras.layers.Lambda(lambda t: act(t), output_shape=(3,))(inp))
        model.predict(np.ones((2, 3), "float32"), verbose=0)

    class Hides(keras.layers.Layer):
        def __init__(self):
            super().__init__()
            object.__setattr__(self, "_hidden", [L.SwishX()])  # bypasses Keras tracking

        def call(self, t):
            return self._hidden[0](t)

    with pytest.raises(ValueError, match="does not track it"):
        Hides()(keras.Input((3,)))


@pytest.mark.skipif(BACKEND != "jax", reason="jax.jit + stateless_call is the JAX training idiom")
def test_building_inside_stateless_call_is_a_clear_error():
    import jax

    inp = keras.Input((3,))
    model = keras.Model(inp, keras.layers.Dense(4, activation=L.PReLU())(inp))
    tv = [v.value for v in model.trainable_variables]
    ntv = [v.value for v in model.non_trainable_variables]
    with pytest.raises(RuntimeError, match="stateless call"):
        jax.jit(lambda a, b, x: model.stateless_call(a, b, x))(tv, ntv, np.ones((2, 3), "float32"))


@pytest.mark.parametrize("cls, old, new", [
    ("PReLU", {"channel_shared": True}, "all"),
    ("SwishX", {"per_channel": True}, None),
    ("Snake", {"per_channel": False}, "all"),
    ("PELU", {"per_channel": True}, None),
])
def test_old_sharing_arguments_warn_with_the_replacement_and_still_work(cls, old, new):
    """channel_shared / per_channel (before 0.2) = shared_axes; a FutureWarning names the
    new spelling; a config holding the old keys (a saved file) loads silently, the same."""
    with pytest.warns(FutureWarning, match=f"shared_axes={new!r}"):
        layer = getattr(L, cls)(**old)
    ref = getattr(L, cls)(shared_axes=new)
    x = np.zeros((2, 4, 3), "float32")
    layer(x), ref(x)
    assert [tuple(w.shape) for w in layer.weights] == [tuple(w.shape) for w in ref.weights]
    def config(lay):
        return {k: v for k, v in lay.get_config().items() if k != "name"}

    assert config(layer) == config(ref) and "per_channel" not in config(layer)
    config = {**{k: v for k, v in ref.get_config().items() if k != "shared_axes"}, **old}
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = getattr(L, cls).from_config(config)
    assert loaded.shared_axes == new
