"""Files saved here, loaded by a fresh Python process -- one process for all of them (each
start imports Keras, 6-12 s on a 2-core machine). Before ``import keras_acts``, plain Keras
refuses a file that uses our names with the sentence the README explains; after it, with
``safe_mode`` on and no ``custom_objects``, every string name, the parametrised functions,
every learnable layer (its weights moved off their initial values, compiled) and a model
rewritten by ``keras_acts.swap_activations`` load and give bit-identical outputs and weights.
"""
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import numpy as np
import pytest

import keras_acts
from keras_acts import layers as L
from test_layers import FACTORIES, WIDTH, _chain, _data
from test_registry import _x
from test_swap import every_site_model, inputs

BACKEND = keras.backend.backend()
ROOT = Path(__file__).resolve().parents[2]

#: names with parameters other than the defaults (ActivationFunction objects)
PARAMETRIC = [
    ("swish_x", {"beta": 1.5}),
    ("elu", {"alpha": 0.5}),
    ("isru", {"alpha": 2.0}),
    ("rrelu", {"lower": 0.1, "upper": 0.2}),
    ("threshold", {"threshold": 0.1, "default_value": -1.0}),
    ("softmin", {"axis": -1}),
]


def _every_name_model():
    """Every plain string name, the parametrised functions and an Activation layer."""
    inp = keras.Input((16,))
    outs = [keras.layers.Dense(8, activation=name, name=f"d_{name}")(inp)
            for name in keras_acts.names()]
    for name, params in PARAMETRIC:
        act = keras_acts.get(name, **params)
        outs.append(keras.layers.Dense(8, activation=act, name=f"p_{name}")(inp))
    outs.append(keras.layers.Activation("sqnl", name="act_layer")(inp))
    return keras.Model(inp, keras.layers.Concatenate()(outs))


LOADER = textwrap.dedent("""
    import json, sys
    import numpy as np
    import keras
    jobs = json.loads(sys.argv[1])
    try:  # plain Keras, before keras_acts is imported
        keras.saving.load_model(jobs["plain"])
        refusal = "loaded"
    except Exception as e:
        refusal = f"{type(e).__name__}: {e}"
    with open(jobs["plain"] + ".refusal.txt", "w") as f:
        f.write(refusal)
    import keras_acts
    for model_path, x_paths, out_path in jobs["models"]:
        model = keras.saving.load_model(model_path, safe_mode=True)
        xs = [np.load(p) for p in x_paths]
        np.save(out_path, np.asarray(model.predict(xs if len(xs) > 1 else xs[0], verbose=0)))
        weights = {v.path: keras.ops.convert_to_numpy(v) for v in model.weights}
        np.savez(out_path + ".weights.npz", **{k.replace("/", "|"): w for k, w in weights.items()})
    print("backend", keras.backend.backend())
""")


def _moved(model):
    """Every weight moved off its initial value, as training moves it (that learnable layers
    train is test_layers'; here what matters is that the learned values are what is saved):
    each grows by 1-10 % of its size plus up to 0.01, so no sign flips and zeros move too."""
    rng = np.random.default_rng(5)
    for w in model.weights:
        v = keras.ops.convert_to_numpy(w)
        if not np.issubdtype(v.dtype, np.floating):
            continue  # (a seed's state)
        w.assign(v + (0.1 * np.abs(v) + 0.01) * rng.uniform(0.1, 1.0, v.shape).astype(v.dtype))
    return model


def _trained_layer_models():
    """Every learnable layer class: a chain of them, and three as Dense(activation=...),
    compiled (the file keeps the optimizer and loss), weights off their initial values."""
    x, _ = _data(16, seed=5)
    chain = _chain("sequential", [FACTORIES[n]() for n in sorted(FACTORIES)])
    inp = keras.Input((WIDTH,))
    h = keras.layers.Dense(WIDTH, activation=L.PReLU())(inp)
    h = keras.layers.Dense(WIDTH, activation=L.SwishX(shared_axes=None))(h)
    h = keras.layers.Dense(WIDTH, activation=L.Learnable("snake", shared_axes=None))(h)
    h = keras.layers.Dense(1, activation="swish_x")(h)
    dense = keras.Model(inp, h)
    for model in (chain, dense):
        model.compile(keras.optimizers.Adam(0.03), "mse")
        _moved(model)
    return {"chain": (chain, [x]), "dense_activation": (dense, [x])}


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    """Saves the models, loads them all in one fresh process. Returns, per model, (the model,
    its outputs here, its outputs there, its weights there), and plain Keras's refusal."""
    tmp = tmp_path_factory.mktemp("fresh")
    models = {"every_name": (_every_name_model(), [_x((5, 16), seed=1)]),
              **_trained_layer_models()}
    swapped = keras_acts.swap_activations(every_site_model(), "swish_x", exclude=["lstm"])
    models["swapped"] = (keras_acts.swap_activations(swapped, L.PReLU,
                                                     include=["act", "d1"]), inputs())
    plain = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="swish_x")])
    plain.save(tmp / "plain.keras")
    jobs, here = [], {}
    for name, (model, xs) in models.items():
        model.save(tmp / f"{name}.keras")
        x_paths = []
        for i, x in enumerate(xs):
            np.save(tmp / f"{name}.x{i}.npy", x)
            x_paths.append(str(tmp / f"{name}.x{i}.npy"))
        here[name] = np.asarray(model.predict(xs if len(xs) > 1 else xs[0], verbose=0))
        jobs.append([str(tmp / f"{name}.keras"), x_paths, str(tmp / f"{name}.out.npy")])
    env = {**os.environ, "KERAS_BACKEND": BACKEND,
           "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.run(
        [sys.executable, "-c", LOADER, json.dumps({"plain": str(tmp / "plain.keras"),
                                                   "models": jobs})],
        env=env, capture_output=True, text=True, timeout=300, cwd=tmp)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"backend {BACKEND}" in proc.stdout
    there = {name: (np.load(tmp / f"{name}.out.npy"), np.load(tmp / f"{name}.out.npy.weights.npz"))
             for name in models}
    return ({name: (model, here[name], *there[name]) for name, (model, _) in models.items()},
            (tmp / "plain.keras.refusal.txt").read_text())


def test_plain_keras_refuses_our_names_with_the_readme_sentence(fresh):
    """The contract the README documents: the names resolve only after ``import keras_acts``;
    without it the error ends in the sentence the README quotes."""
    refusal = fresh[1]
    assert "Could not locate function 'keras_acts>swish_x'" in refusal, refusal[-2000:]
    readme = (ROOT / "README.md").read_text()
    assert "Could not locate function 'keras_acts>" in readme and "import keras_acts" in readme


def test_every_name_round_trips(fresh):
    model, here, there, _ = fresh[0]["every_name"]
    assert np.isfinite(here).all()
    config = json.dumps(model.get_config())
    assert "<lambda>" not in config and "__lambda__" not in config
    np.testing.assert_array_equal(there, here)


@pytest.mark.parametrize("name", ["chain", "dense_activation"])
def test_every_learnable_layer_round_trips_with_its_weights(fresh, name):
    model, here, there, weights = fresh[0][name]
    assert np.isfinite(here).all(), name
    np.testing.assert_array_equal(there, here, err_msg=name)  # bit-identical
    assert len(weights.files) == len(model.weights), name
    by_shape = sorted((w.shape, w.tobytes()) for w in (weights[k] for k in weights.files))
    mine = sorted((tuple(w.shape), np.asarray(keras.ops.convert_to_numpy(w)).tobytes())
                  for w in model.weights)
    assert by_shape == mine, f"{name}: weights differ after the fresh-process load"


def test_swapped_model_round_trips(fresh):
    model, here, there, weights = fresh[0]["swapped"]
    assert any(isinstance(layer, L.PReLU) for layer in model.layers)  # swapped in
    np.testing.assert_array_equal(there, here)
    assert len(weights.files) == len(model.weights)
