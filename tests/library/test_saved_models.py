"""Reference .keras files saved by an earlier keras-acts (TensorFlow backend) must
keep loading, on every backend, and give the outputs stored next to them.

Regenerate missing ones with ``python saved_models/make_reference.py``; never
rewrite existing ones to make this test pass: that is the breakage it catches.
"""

import json
import os

import keras
import numpy as np
import pytest

import keras_acts
from keras_acts import layers as L

REFERENCE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                         "saved_models", "reference")
with open(os.path.join(REFERENCE, "manifest.json")) as _f:
    MANIFEST = json.load(_f)


def test_every_layer_class_has_a_reference():
    for cls in L.LAYERS:
        assert f"layer_{cls.__name__}" in MANIFEST, cls.__name__
    assert "string_activations" in MANIFEST and "dense_activation" in MANIFEST
    for name, entry in MANIFEST.items():
        assert entry["backend"] in ("tensorflow", "jax"), name
        path = os.path.join(REFERENCE, entry["file"])
        assert os.path.getsize(path) < 16_000, name  # small files


@pytest.mark.parametrize("name", sorted(MANIFEST))
@pytest.mark.parametrize("loader", [keras_acts.load_model, keras.saving.load_model],
                         ids=["keras_acts.load_model", "keras.saving.load_model"])
def test_reference_loads_and_matches(name, loader):
    """Every reference file loads through the loader the README recommends and through
    Keras's own (safe_mode on, no custom_objects), and gives its stored outputs."""
    entry = MANIFEST[name]
    model = loader(os.path.join(REFERENCE, entry["file"]))
    data = np.load(os.path.join(REFERENCE, f"{name}.npz"))
    out = np.asarray(keras.ops.convert_to_numpy(model(data["x"], training=False)))
    np.testing.assert_allclose(out, data["y"], rtol=1e-5, atol=1e-6, err_msg=name)
    if name.startswith("layer_"):
        cls = name[len("layer_"):]
        assert any(type(l).__name__ == cls for l in model.layers), cls


def test_string_activation_reference_uses_catalogue_names():
    model = keras.saving.load_model(os.path.join(REFERENCE, "string_activations.keras"))
    used = {getattr(l.activation, "__name__", None) for l in model.layers if hasattr(l, "activation")}
    assert {"swish_x", "mish", "sqnl", "serf", "snake", "isrlu", "softmin"} <= used
    assert any(isinstance(l.activation, keras_acts.ActivationFunction) for l in model.layers
               if hasattr(l, "activation"))


def test_dense_activation_reference_restores_learned_weights():
    model = keras.saving.load_model(os.path.join(REFERENCE, "dense_activation.keras"))
    prelu = model.get_layer("dense_prelu").activation
    assert isinstance(prelu, L.PReLU) and prelu.built
    assert not np.allclose(keras.ops.convert_to_numpy(prelu.alpha), 0.25)  # trained values
