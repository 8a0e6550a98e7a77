"""keras_acts.gradients: the memory-efficient backward of elementwise keras-acts entries.

What users rely on: the gradient is the analytic derivative (test_catalogue's
test_efficient_gradient, against finite differences there); second derivatives through it
are right (here, against second differences of the independent float64 reference); the
backward keeps only the input, in the input's dtype; training gives what plain autodiff
gives; the switch (``keras_acts.set_gradients`` / ``KERAS_ACTS_GRADIENTS``) restores plain
autodiff, also in a fresh process and for saved models; JAX keeps forward mode.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
from keras import ops

import keras_acts
from keras_acts import autodiff, gradients
from keras_acts.catalogue import CATALOGUE
from keras_acts.registry import has_efficient_form
from reference import REFERENCE

BACKEND = keras.backend.backend()
ROOT = Path(__file__).resolve().parents[2]
#: every entry with an efficient backward (elementwise ones and the gated ones)
EFFICIENT = sorted(n for n, e in CATALOGUE.items() if has_efficient_form(e))
#: the elementwise ones with a real derivative (second derivatives)
OURS = sorted(n for n in EFFICIENT if CATALOGUE[n].elementwise
              and not CATALOGUE[n].surrogate_grad and n != "binary_step")
#: points away from every entry's kinks (0, +-1, +-2, thresholds at +-0.5, ...)
X = (np.linspace(-5.0, 5.0, 41) + 0.0371).astype(np.float32)


@pytest.fixture(autouse=True)
def _efficient_everywhere():
    with keras_acts.set_gradients("efficient"):
        yield


def _second_difference(name, x, h=1e-3):
    f = REFERENCE[name]
    x = np.asarray(x, np.float64)
    with np.errstate(all="ignore"):
        return (f(x + h) - 2 * f(x) + f(x - h)) / (h * h)


def _kinked(name, x, h=1e-3):
    """Points within 2h of a jump in f' (second differences mean nothing there)."""
    f = REFERENCE[name]
    x = np.asarray(x, np.float64)
    with np.errstate(all="ignore"):
        left = (f(x) - f(x - 2 * h)) / (2 * h)
        right = (f(x + 2 * h) - f(x)) / (2 * h)
        mid = (f(x + h) - f(x - h)) / (2 * h)
    return np.abs(right - left - 2 * (mid - left)) > 1e-2 * (1 + np.abs(mid))


@pytest.mark.parametrize("name", OURS)
def test_second_derivative_matches_finite_differences(name):
    """Gradient penalties and physics-informed losses differentiate the gradient: through
    the efficient backward that is the autodiff of the analytic f', on every backend."""
    got = autodiff.second_derivative(keras.activations.get(name), X)
    want = _second_difference(name, X)
    ok = ~_kinked(name, X) & np.isfinite(want)
    err = np.abs(got - want)
    tol = 2e-3 * (1 + np.abs(want))
    assert ok.sum() >= 30, name
    bad = ok & ~(err <= tol)
    assert not bad.any(), (f"{name}: f'' off at x={X[bad][:5]}: got {got[bad][:5]}, "
                           f"want {want[bad][:5]}")


def _saved_bytes_torch(f, x):
    import torch

    seen = {}

    def pack(t):
        seen[(t.untyped_storage().data_ptr(), t.storage_offset(), t.numel())] = (
            t.numel() * t.element_size())
        return t

    xr = torch.as_tensor(x).requires_grad_(True)
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        y = f(xr)
    return sum(seen.values()), y


@pytest.mark.skipif(BACKEND not in ("torch", "jax"), reason="the kept tensors are measured on "
                    "torch (saved_tensors_hooks) and JAX (vjp residuals); TensorFlow's graph "
                    "measure is in benchmarks/ops.py")
@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_backward_keeps_only_the_input(dtype):
    """Every efficient entry (gated ones included) keeps at most one input-sized tensor, in
    the input's dtype."""
    x = ops.cast(ops.convert_to_tensor(np.linspace(-3, 3, 4096, dtype=np.float32)), dtype)
    nbytes = 4096 * (4 if dtype == "float32" else 2)
    assert {"geglu", "swiglu", "reglu", "isrlu", "serf"} <= set(EFFICIENT)
    for name in EFFICIENT:
        f = keras.activations.get(name)
        if BACKEND == "torch":
            kept, y = _saved_bytes_torch(f, x)
        else:
            import jax

            y, pull = jax.vjp(f, x)
            kept = sum(int(a.nbytes) for a in {id(a): a for a in
                                                jax.tree_util.tree_leaves(pull)}.values())
        assert keras.backend.standardize_dtype(y.dtype) == dtype, name
        assert kept <= nbytes, f"{name}: keeps {kept / nbytes:.2f}x its input"
    if BACKEND == "torch":  # the switch restores autodiff's intermediates
        with keras_acts.set_gradients("autodiff"):
            assert _saved_bytes_torch(keras.activations.get("isrlu"), x)[0] > 2 * nbytes


def _train(activation, mode, seed=0):
    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((64, 8)).astype(np.float32)
    y = rng.standard_normal((64, 1)).astype(np.float32)
    with keras_acts.set_gradients(mode):
        model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation=activation),
                                  keras.layers.Dense(16, activation=activation),
                                  keras.layers.Dense(1)])
        model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
        hist = model.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False)
    return hist.history["loss"], [np.asarray(w) for w in model.get_weights()]


@pytest.mark.slow  # two compiled training runs per case: outside the quick tier
@pytest.mark.parametrize("activation", ["isrlu", "serf", "gelu_tanh"])
def test_fit_gives_what_plain_autodiff_gives(activation):
    """Model.fit (compiled train step on each backend) with the efficient backward follows
    plain autodiff's trajectory: same losses and weights after 8 SGD steps."""
    loss_e, w_e = _train(activation, "efficient")
    loss_a, w_a = _train(activation, "autodiff")
    np.testing.assert_allclose(loss_e, loss_a, rtol=1e-4)
    for a, b in zip(w_e, w_a):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    assert loss_e[-1] < loss_e[0]


def test_bad_mode_is_one_sentence(monkeypatch):
    with pytest.raises(ValueError, match="use one of auto, efficient, autodiff"):
        keras_acts.set_gradients("fast")
    monkeypatch.setenv(gradients.ENV, "fast")
    with keras_acts.set_gradients(None):
        with pytest.raises(ValueError, match=r"KERAS_ACTS_GRADIENTS='fast' is not a gradient mode"):
            keras.activations.get("isrlu")(np.float32([1.0]))


def test_auto_keeps_autodiff_where_it_is_faster():
    """auto = efficient except AUTODIFF_FASTER[backend] (measured); the switch overrides."""
    slow = gradients.AUTODIFF_FASTER[BACKEND]
    with keras_acts.set_gradients("auto"):
        for name in EFFICIENT:
            assert gradients.use_efficient(name) == (name not in slow), name
    with keras_acts.set_gradients("autodiff"):
        assert not any(gradients.use_efficient(n) for n in EFFICIENT)


@pytest.mark.skipif(BACKEND != "jax", reason="forward mode is JAX's (jax.jvp, jax.hessian)")
def test_jax_forward_mode_and_vmap():
    import jax

    f = keras.activations.get("isrlu")
    d = keras_acts.derivative("isrlu")
    x = jax.numpy.asarray(X)
    y, t = jax.jvp(f, (x,), (jax.numpy.ones_like(x),))
    np.testing.assert_allclose(np.asarray(t), np.asarray(d(x)), rtol=1e-6)
    h = jax.hessian(lambda v: jax.numpy.sum(f(v)))(x[:5])
    np.testing.assert_allclose(np.diag(np.asarray(h)), _second_difference("isrlu", X[:5]),
                               rtol=2e-3, atol=2e-3)
    np.testing.assert_allclose(np.asarray(jax.vmap(jax.grad(f))(x)), np.asarray(d(x)), rtol=1e-6)


@pytest.mark.slow  # a fresh Python process that imports Keras: outside the quick tier
def test_saved_model_loads_and_trains_with_the_switch_off(tmp_path):
    """Files do not record the gradient mode: a model saved with efficient gradients loads
    in a fresh process under KERAS_ACTS_GRADIENTS=autodiff and gives the same outputs."""
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="isrlu"),
                              keras.layers.Dense(2, activation=keras_acts.get("swish_x", beta=1.5))])
    path = tmp_path / "m.keras"
    model.save(path)
    x = np.float32([[0.3, -1.2, 2.0]])
    np.save(tmp_path / "y.npy", np.asarray(ops.convert_to_numpy(model(x))))
    code = (
        "import sys, numpy as np, keras, keras_acts\n"
        "from keras_acts import gradients\n"
        "assert gradients.mode() == 'autodiff', gradients.mode()\n"
        "m = keras_acts.load_model(sys.argv[1])\n"
        "y = np.asarray(keras.ops.convert_to_numpy(m(np.float32([[0.3, -1.2, 2.0]]))))\n"
        "np.testing.assert_array_equal(y, np.load(sys.argv[2]))\n"
        "print('ok')\n"
    )
    env = {**os.environ, gradients.ENV: "autodiff", "KERAS_BACKEND": BACKEND}
    r = subprocess.run([sys.executable, "-c", code, str(path), str(tmp_path / "y.npy")],
                       capture_output=True, text=True, timeout=300, cwd=tmp_path, env=env)
    assert r.returncode == 0 and r.stdout.strip().endswith("ok"), r.stderr[-2000:]


#: one instance per learnable layer class (constructor arguments where defaults need them)
LAYER_ARGS = {"Learnable": dict(activation="aria2", shared_axes=None), "APL": dict(hinges=2),
              "Maxout": dict(pieces=2, units=8)}


@pytest.mark.parametrize("cls", [c for c in keras_acts.layers.LAYERS if c.recomputable],
                         ids=lambda c: c.__name__)
def test_layers_recompute_in_efficient_mode(cls):
    """In efficient mode every learnable layer recomputes its forward pass in the backward
    (keras.remat): same outputs and the same input and weight gradients as autodiff, and on
    torch it keeps no more than its input and its weights."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 8)).astype(np.float32) * 2
    y = rng.standard_normal((32, 8)).astype(np.float32)
    inputs = keras.Input((8,))
    layer = cls(**LAYER_ARGS.get(cls.__name__, {}))
    model = keras.Model(inputs, layer(inputs))
    loss = keras.losses.MeanSquaredError()
    variables = list(model.trainable_variables)
    results = {}
    for mode in ("autodiff", "efficient"):
        with keras_acts.set_gradients(mode):
            results[mode] = autodiff.loss_and_grads(model, loss, x, y, variables)
    (la, ga), (le, ge) = results["autodiff"], results["efficient"]
    assert le == pytest.approx(la, rel=1e-6)
    assert variables and len(ga) == len(ge)
    for a, b in zip(ga, ge):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-7)
    if BACKEND == "torch":
        params = sum(int(np.prod(v.shape)) * 4 for v in layer.weights)
        with keras_acts.set_gradients("efficient"):
            kept, _ = _saved_bytes_torch(layer, x)
        assert kept <= x.nbytes + params, f"{cls.__name__} keeps {kept} bytes"
