"""keras_acts.diagnostics.GradientFlow: numbers checked against hand computations in NumPy."""

import json

import keras
import numpy as np
import pytest

import keras_acts
from keras_acts.diagnostics import GradientFlow, dead_units, summarize

BACKEND = keras.backend.backend()
RNG = np.random.default_rng(0)


def _dense(units, kernel, bias=None, activation=None, name=None):
    kernel = np.asarray(kernel, np.float32)
    return keras.layers.Dense(
        units, activation=activation, name=name, use_bias=bias is not None,
        kernel_initializer=keras.initializers.Constant(kernel) if kernel.ndim == 0 else
        (lambda shape, dtype=None: keras.ops.convert_to_tensor(kernel, dtype=dtype)),
        bias_initializer=keras.initializers.Constant(0.0 if bias is None else bias))


def _measure(model, x, y, loss="mse", **kw):
    if loss is not None:
        model.compile("sgd", loss)
    flow = GradientFlow(x, y, probe_size=len(x), **kw)
    flow.set_model(model)
    flow.on_train_begin()
    return flow


def test_forced_dead_relu_layer_is_100_percent_dead():
    keras.utils.set_random_seed(1)  # unseeded kernels left an 'alive' unit dead now and then
    x = RNG.random((32, 5)).astype("float32")
    y = RNG.random((32, 1)).astype("float32")
    inp = keras.Input((5,))
    h = keras.layers.Dense(8, activation="relu", name="dead",
                           bias_initializer=keras.initializers.Constant(-100.0))(inp)
    h2 = keras.layers.Dense(8, activation="relu", name="alive",
                            bias_initializer=keras.initializers.Constant(0.5))(inp)
    out = keras.layers.Dense(1, name="out")(keras.layers.Concatenate()([h, h2]))
    flow = _measure(keras.Model(inp, out), x, y)
    h = flow.history
    assert h["epoch"] == [0]
    assert h["dead_fraction"]["dead"] == [1.0]
    assert h["saturated_fraction"]["dead"] == [1.0]  # relu' = 0 everywhere
    assert h["dead_fraction"]["alive"] == [0.0]
    assert h["grad_norm"]["dead"] == [0.0]  # no gradient reaches a dead layer's kernel
    s = summarize(h)
    assert s["dead_fraction"] == pytest.approx(0.5)  # 8 of 16 hidden units


def test_gradient_norm_matches_numpy_by_hand():
    n = 16
    x = RNG.normal(size=(n, 3)).astype("float32")
    y = RNG.normal(size=(n, 1)).astype("float32")
    K = RNG.normal(size=(3, 2)).astype("float32")
    V = RNG.normal(size=(2, 1)).astype("float32")
    model = keras.Sequential([keras.Input((3,)), _dense(2, K, name="first"), _dense(1, V, name="last")])
    flow = _measure(model, x, y, loss="mse")
    # loss = mean((x K V - y)^2)  =>  dL/dV = (xK)^T r, dL/dK = x^T r V^T, r = 2 (xKV - y) / n
    xk = x.astype(np.float64) @ K
    r = 2.0 * (xk @ V - y) / n
    gV = xk.T @ r
    gK = x.T @ r @ V.T
    h = flow.history
    assert h["layers"]["kernel"] == ["first", "last"]
    assert h["loss"][0] == pytest.approx(float(np.mean((xk @ V - y) ** 2)), rel=1e-5)
    assert h["grad_norm"]["first"][0] == pytest.approx(np.linalg.norm(gK), rel=1e-4)
    assert h["grad_norm"]["last"][0] == pytest.approx(np.linalg.norm(gV), rel=1e-4)
    assert h["grad_rms"]["first"][0] == pytest.approx(np.linalg.norm(gK) / np.sqrt(6), rel=1e-4)
    assert h["grad_norm_ratio"][0] == pytest.approx(np.linalg.norm(gK) / np.linalg.norm(gV), rel=1e-4)
    assert h["layers"]["activation"] == []  # linear layers are not activation sites


@pytest.mark.parametrize("style", ["fused", "separate"])
def test_activation_mean_variance_and_saturation_match_numpy(style):
    x = RNG.normal(size=(64, 4)).astype("float32")
    y = RNG.normal(size=(64, 1)).astype("float32")
    K = (RNG.normal(size=(4, 6)) * np.array([0.1, 0.5, 1, 3, 30, 300])).astype("float32")
    b = np.float32(0.2)
    if style == "fused":
        layers = [_dense(6, K, b, activation="tanh", name="site")]
    else:
        layers = [_dense(6, K, b, name="lin"), keras.layers.Activation("tanh", name="site")]
    model = keras.Sequential([keras.Input((4,)), *layers, keras.layers.Dense(1, name="out")])
    flow = _measure(model, x, y)
    z = x.astype(np.float64) @ K + b
    a = np.tanh(z)
    h = flow.history
    assert h["activation_mean"]["site"][0] == pytest.approx(a.mean(), rel=1e-5, abs=1e-6)
    assert h["activation_var"]["site"][0] == pytest.approx(a.var(), rel=1e-5, abs=1e-6)
    d = 1.0 - np.tanh(z) ** 2
    assert h["saturated_fraction"]["site"][0] == pytest.approx(np.mean(d.mean(0) < 0.01))
    assert h["saturated_entries_fraction"]["site"][0] == pytest.approx(np.mean(d < 0.01))
    assert 0 < h["saturated_fraction"]["site"][0] < 1  # the scales make some units saturate
    [site] = [s for s in h["layers"]["activation"] if s["layer"] == "site"]
    assert site["activation"] == "tanh" and site["derivative"] == "analytic"
    if style == "fused":  # the pre-activation trick leaves the layer as it was
        assert model.get_layer("site").activation is keras.activations.tanh


def test_sigmoid_with_huge_preactivations_is_100_percent_saturated():
    x = (RNG.random((32, 4)) + 1.0).astype("float32")  # positive inputs
    y = RNG.random((32, 1)).astype("float32")
    model = keras.Sequential([
        keras.Input((4,)),
        _dense(5, np.full((4, 5), 100.0), 0.0, activation="sigmoid", name="sig"),
        keras.layers.Dense(1, name="out")])
    flow = _measure(model, x, y)
    assert flow.history["saturated_fraction"]["sig"] == [1.0]
    assert flow.history["saturated_entries_fraction"]["sig"] == [1.0]
    assert flow.history["grad_norm"]["sig"][0] < 1e-10


def test_learnable_layer_uses_autodiff_derivative():
    x = RNG.random((16, 3)).astype("float32")
    y = RNG.random((16, 1)).astype("float32")
    inp = keras.Input((3,))
    h = keras.layers.Dense(4, name="pre", bias_initializer=keras.initializers.Constant(-100.0))(inp)
    h = keras_acts.layers.PReLU(alpha_initializer=0.0, name="prelu")(h)
    h2 = keras_acts.layers.PReLU(name="prelu_ok")(keras.layers.Dense(4, name="pre2")(inp))
    out = keras.layers.Dense(1, name="out")(keras.layers.Concatenate()([h, h2]))
    flow = _measure(keras.Model(inp, out), x, y)
    h = flow.history
    sites = {s["layer"]: s for s in h["layers"]["activation"]}
    assert sites["prelu"]["derivative"] == "autodiff"
    assert h["saturated_fraction"]["prelu"] == [1.0]  # alpha = 0 and z = -100: f' = 0
    assert h["dead_fraction"]["prelu"] == [1.0]  # output constant 0
    assert h["saturated_fraction"]["prelu_ok"] == [0.0]  # f' in {0.25, 1}
    assert h["dead_fraction"]["prelu_ok"] == [0.0]


def test_keras_activation_layers_and_softmax_output():
    x = RNG.normal(size=(32, 3)).astype("float32")
    y = RNG.integers(0, 3, 32)
    inp = keras.Input((3,))
    h = keras.layers.LeakyReLU(negative_slope=0.1, name="lrelu")(keras.layers.Dense(4)(inp))
    h = keras.layers.ReLU(name="relu_layer")(keras.layers.Dense(4)(h))
    out = keras.layers.Dense(3, activation="softmax", name="out")(h)
    flow = _measure(keras.Model(inp, out), x, y, loss="sparse_categorical_crossentropy")
    h = flow.history
    sites = {s["layer"]: s for s in h["layers"]["activation"]}
    assert sites["lrelu"]["activation"] == "leaky_relu"
    assert sites["lrelu"]["params"] == {"negative_slope": pytest.approx(0.1)}
    assert sites["relu_layer"]["activation"] == "relu"
    assert sites["out"]["output"] and not sites["out"]["elementwise"]
    assert h["saturated_fraction"]["out"] == [None]  # not defined for softmax
    assert h["activation_mean"]["out"][0] == pytest.approx(1 / 3, rel=1e-5)


def test_conv_units_are_channels():
    x = RNG.random((8, 6, 6, 2)).astype("float32")
    y = RNG.random((8, 1)).astype("float32")
    model = keras.Sequential([
        keras.Input((6, 6, 2)),
        keras.layers.Conv2D(3, 3, activation="relu", name="conv",
                            bias_initializer=keras.initializers.Constant(-100.0)),
        keras.layers.Conv2D(2, 3, activation="relu", name="conv_ok",
                            kernel_initializer="ones", bias_initializer="ones"),
        keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(1, name="out")])
    flow = _measure(model, x, y)
    h = flow.history
    assert h["layers"]["kernel"] == ["conv", "conv_ok", "out"]
    assert h["dead_fraction"]["conv"] == [1.0]
    assert {s["layer"]: s["units"] for s in h["layers"]["activation"]} == {"conv": 3, "conv_ok": 2}
    # conv_ok sees all-zero inputs -> output = bias = 1 everywhere: constant, hence dead
    assert h["dead_fraction"]["conv_ok"] == [1.0]


def test_dead_units_definition():
    out = np.array([[0.0, 1.0, -1.0, 2.0], [0.0, 3.0, -2.0, 2.0]])
    assert dead_units(out, 0.0).tolist() == [True, False, True, True]
    assert dead_units(out, None).tolist() == [True, False, False, True]  # only "constant"


def test_fit_records_every_epoch_and_is_json_serializable(tmp_path):
    x = RNG.normal(size=(96, 8)).astype("float32")
    y = RNG.integers(0, 2, 96)
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(8, activation="swish_x"),
                              keras.layers.Dense(8, activation="selu"),
                              keras.layers.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    flow = GradientFlow(x, y, probe_size=32)
    model.fit(x, y, epochs=3, batch_size=32, verbose=0, callbacks=[flow])
    h = flow.history
    assert h["epoch"] == [0, 1, 2, 3]
    assert len(h["epoch_time_s"]) == 3 and len(h["time_s"]) == 4
    assert all(len(v) == 4 for key in ("grad_norm", "activation_var") for v in h[key].values())
    assert all(np.isfinite(h["grad_norm_ratio"]))
    assert flow.cost() > 0
    data = json.loads(flow.to_json(tmp_path / "d.json"))
    assert data == json.loads((tmp_path / "d.json").read_text())
    assert data["config"]["probe_size"] == 32
    assert summarize(data)["epoch"] == 3


def test_every_and_nonfinite_become_null():
    x = RNG.normal(size=(20, 2)).astype("float32")
    y = RNG.normal(size=(20, 1)).astype("float32")
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    flow = GradientFlow(x, y, every=2, at_start=False)
    model.fit(x, y, epochs=3, verbose=0, callbacks=[flow])
    assert flow.history["epoch"] == [2, 3]  # every 2nd, and the last one
    assert flow.history["grad_norm_ratio"] == [None, None]  # one kernel layer: no ratio
    json.loads(flow.to_json())


def test_subclassed_model_records_gradients_only():
    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.a = keras.layers.Dense(4, activation="relu")
            self.b = keras.layers.Dense(1)

        def call(self, x, training=None):
            return self.b(self.a(x))

    x = RNG.normal(size=(16, 3)).astype("float32")
    y = RNG.normal(size=(16, 1)).astype("float32")
    model = Net()
    model(x[:2])
    model.compile("sgd", "mse")
    with pytest.warns(UserWarning, match="Functional or Sequential"):
        flow = _measure(model, x, y, loss=None)
    assert len(flow.history["grad_norm"]) == 2
    assert flow.history["layers"]["activation"] == []


def test_needs_probe_data_and_a_loss():
    with pytest.raises(ValueError, match="probe data"):
        GradientFlow()
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    flow = GradientFlow(np.zeros((4, 2), "float32"), np.zeros((4, 1), "float32"))
    flow.set_model(model)
    with pytest.raises(ValueError, match="loss"):
        flow.on_train_begin()


def test_tensorboard_logging(tmp_path):
    x = RNG.normal(size=(16, 3)).astype("float32")
    y = RNG.normal(size=(16, 1)).astype("float32")
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="relu"),
                              keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    flow = GradientFlow(x, y, tensorboard_dir=tmp_path / "tb")
    model.fit(x, y, epochs=1, verbose=0, callbacks=[flow])
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    # any backend: TensorBoard's own writer and reader, no TensorFlow needed
    acc = EventAccumulator(str(tmp_path / "tb"))
    acc.Reload()
    tags = acc.Tags()["scalars"]
    assert [e.step for e in acc.Scalars("gradient_flow/loss")] == [0, 1]
    assert any(tag.startswith("dead_fraction/") for tag in tags)
    assert [e.value for e in acc.Scalars("gradient_flow/loss")] == pytest.approx(
        flow.history["loss"], rel=1e-6)
