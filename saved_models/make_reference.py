"""Regenerate the reference ``.keras`` files under ``saved_models/reference/``.

Each reference is a tiny trained model saved by this version of keras-acts with
the TensorFlow (default) or JAX backend, next to ``NAME.npz`` holding fixed
inputs ``x`` and the outputs ``y`` the model gave when saved.
``tests/library/test_saved_models.py`` loads every file on every backend and checks the
outputs, so a change that breaks loading old files fails CI.

Existing references are kept (they are the point: files written by an older
version); only missing ones are written. ``--force`` rewrites all of them.

    KERAS_BACKEND=tensorflow python saved_models/make_reference.py [--force]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import zipfile

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import keras  # noqa: E402
import numpy as np  # noqa: E402

import keras_acts  # noqa: E402
from keras_acts import layers as L  # noqa: E402

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference")
FEATURES = 4

#: one model per learnable layer class: name -> factory
LAYER_MODELS = {
    "PReLU": lambda: L.PReLU(),
    # (the committed files were written before 0.2 with per_channel=True: they also show that
    # files with the old keys load)
    "Learnable": lambda: L.Learnable("aria2", shared_axes=None),
    "SwishX": lambda: L.SwishX(shared_axes=None),
    "Snake": lambda: L.Snake(),
    "SoftExponential": lambda: L.SoftExponential(),
    "PFTS": lambda: L.PFTS(),
    "StarReLU": lambda: L.StarReLU(),
    "RReLU": lambda: L.RReLU(seed=1),
    "PELU": lambda: L.PELU(),
    "SReLU": lambda: L.SReLU(t_right_initializer=0.0),
    "APL": lambda: L.APL(hinges=2),
    "TLU": lambda: L.TLU(),
    "DyT": lambda: L.DyT(),
    "Rational": lambda: L.Rational(),
    "Maxout": lambda: L.Maxout(pieces=2, units=FEATURES),
}

#: catalogue names used by the string-activation model
STRING_ACTIVATIONS = ("swish_x", "mish", "sqnl", "serf", "snake", "isrlu")


def _layer_model(make):
    inp = keras.Input((FEATURES,), name="x")
    h = keras.layers.Dense(FEATURES, name="dense_in")(inp)
    h = make()(h)
    return keras.Model(inp, keras.layers.Dense(2, name="dense_out")(h))


def _string_model():
    inp = keras.Input((FEATURES,), name="x")
    h = inp
    for i, name in enumerate(STRING_ACTIVATIONS[:4]):
        h = keras.layers.Dense(FEATURES, activation=name, name=f"dense_{name}")(h)
    h = keras.layers.Activation(STRING_ACTIVATIONS[4], name="act_snake")(h)
    h = keras.layers.Dense(FEATURES, activation=keras_acts.get("aria2", alpha=2.0, beta=0.75),
                           name="dense_aria2_params")(h)
    h = keras.layers.Dense(FEATURES, activation=STRING_ACTIVATIONS[5], name="dense_isrlu")(h)
    return keras.Model(inp, keras.layers.Dense(2, activation="softmin", name="dense_out")(h))


def _dense_activation_model():
    """Learnable layers passed as ``activation=`` of Dense layers."""
    inp = keras.Input((FEATURES,), name="x")
    h = keras.layers.Dense(FEATURES, activation=L.PReLU(), name="dense_prelu")(inp)
    h = keras.layers.Dense(FEATURES, activation=L.SwishX(), name="dense_swishx")(h)
    return keras.Model(inp, keras.layers.Dense(2, name="dense_out")(h))


MODELS = {f"layer_{k}": (lambda make=v: _layer_model(make)) for k, v in LAYER_MODELS.items()}
MODELS["string_activations"] = _string_model
MODELS["dense_activation"] = _dense_activation_model


def _deflate(path):
    with zipfile.ZipFile(path) as z:
        items = [(info.filename, z.read(info.filename)) for info in z.infolist()]
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for filename, data in items:
            z.writestr(filename, data)


def make(name: str, directory: str = HERE) -> dict:
    keras.utils.set_random_seed(0)
    model = MODELS[name]()
    rng = np.random.default_rng(0)
    x_train = rng.standard_normal((64, FEATURES)).astype("float32")
    y_train = np.stack([np.sin(2 * x_train[:, 0]), x_train[:, 1] * x_train[:, 2]], -1)
    model.compile(keras.optimizers.Adam(0.02), "mse")
    model.fit(x_train, y_train.astype("float32"), epochs=3, batch_size=16, verbose=0)
    # save the weights without the optimizer state, re-zipped with deflate: a few KB
    trained = model
    model = keras.models.clone_model(trained)
    model.set_weights(trained.get_weights())
    x = rng.standard_normal((8, FEATURES)).astype("float32")
    y = np.asarray(model.predict(x, verbose=0))
    path = os.path.join(directory, f"{name}.keras")
    model.save(path)
    _deflate(path)
    np.savez(os.path.join(directory, f"{name}.npz"), x=x, y=y)
    return {"file": f"{name}.keras", "keras": keras.__version__,
            "backend": keras.backend.backend(), "keras_acts": keras_acts.__version__}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--force", action="store_true", help="rewrite existing references")
    parser.add_argument("--dir", default=HERE)
    args = parser.parse_args(argv)
    if keras.backend.backend() not in ("tensorflow", "jax"):
        raise SystemExit("save the references with KERAS_BACKEND=tensorflow or jax")
    os.makedirs(args.dir, exist_ok=True)
    manifest_path = os.path.join(args.dir, "manifest.json")
    manifest = {}
    if os.path.exists(manifest_path) and not args.force:
        with open(manifest_path) as f:
            manifest = json.load(f)
    for name in MODELS:
        exists = os.path.exists(os.path.join(args.dir, f"{name}.keras"))
        if exists and name in manifest and not args.force:
            continue
        manifest[name] = make(name, args.dir)
        print("wrote", manifest[name]["file"])
    with open(manifest_path, "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
