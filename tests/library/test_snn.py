"""SELU kit: the self-normalizing fixed point, and the block / MLP builders."""

import keras
import numpy as np
import pytest

from keras_acts import snn
from keras_acts.snn import layer_moments, snn_block, snn_mlp

DEPTH, WIDTH = 32, 256
X = np.random.default_rng(0).standard_normal((1024, WIDTH)).astype("float32")


def _curve(moments):
    return " ".join(f"{m['mean']:+.3f}/{m['var']:.3f}" for m in moments)


def test_selu_fixed_point_32_layers():
    model = snn_mlp(WIDTH, depth=DEPTH, width=WIDTH, dropout=0.05, seed=0)
    moments = layer_moments(model, X)
    print("\nSNN (selu + lecun_normal + AlphaDropout 0.05), per-layer mean/var:\n" + _curve(moments))
    assert len(moments) == DEPTH
    for i, m in enumerate(moments):
        assert abs(m["mean"]) <= 0.1, (i, m)
        assert 0.8 <= m["var"] <= 1.25, (i, m)


def test_selu_fixed_point_holds_with_alpha_dropout_active():
    model = snn_mlp(WIDTH, depth=DEPTH, width=WIDTH, dropout=0.05, seed=1)
    moments = layer_moments(model, X, training=True)
    for i, m in enumerate(moments):
        assert abs(m["mean"]) <= 0.1 and 0.8 <= m["var"] <= 1.25, (i, m)


def test_relu_glorot_does_not_self_normalize():
    inp = keras.Input((WIDTH,))
    h = inp
    for i in range(DEPTH):
        h = keras.layers.Dense(WIDTH, activation="relu",
                               kernel_initializer=keras.initializers.GlorotUniform(seed=i))(h)
    moments = layer_moments(keras.Model(inp, h), X)
    print("\nrelu + glorot_uniform, per-layer mean/var:\n" + _curve(moments))
    outside = [m for m in moments if not (abs(m["mean"]) <= 0.1 and 0.8 <= m["var"] <= 1.25)]
    assert len(outside) >= DEPTH - 1  # every layer (the first is already at var ~0.34)
    assert moments[-1]["var"] < 1e-6  # the variance halves layer after layer


def test_snn_block():
    block = snn_block(64, dropout=0.1, seed=0)
    dense, drop = block.layers
    assert dense.activation is keras.activations.selu
    assert isinstance(dense.kernel_initializer, keras.initializers.LecunNormal)
    assert isinstance(drop, keras.layers.AlphaDropout) and drop.rate == 0.1
    assert tuple(block(np.zeros((2, 8), "float32")).shape) == (2, 64)
    assert len(snn_block(8, dropout=0).layers) == 1


def test_snn_mlp_structure_and_training():
    model = snn_mlp((4, 4), depth=3, width=16, num_classes=3, dropout=0.05, seed=0)
    names = [l.name for l in model.layers]
    assert names[1] == "snn_flatten"
    assert sum(isinstance(l, keras.layers.AlphaDropout) for l in model.layers) == 3
    assert model.layers[-1].activation is keras.activations.softmax
    for l in model.layers:
        if isinstance(l, keras.layers.Dense):
            assert isinstance(l.kernel_initializer, keras.initializers.LecunNormal)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 4, 4)).astype("float32")
    y = rng.integers(0, 3, 32)
    model.compile("adam", "sparse_categorical_crossentropy")
    history = model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert snn_mlp(4, depth=1, width=4, num_classes=1).layers[-1].activation is keras.activations.sigmoid


def test_standardize_data_adds_an_adapted_normalization():
    rng = np.random.default_rng(0)
    data = (rng.standard_normal((512, 8)) * 5 + 3).astype("float32")
    model = snn_mlp(8, depth=2, width=8, standardize_data=data)
    norm = model.get_layer("snn_standardize")
    z = keras.ops.convert_to_numpy(norm(data))
    np.testing.assert_allclose(z.mean(0), 0, atol=1e-3)
    np.testing.assert_allclose(z.std(0), 1, atol=1e-3)
    xs, mean, std = snn.standardize(data)
    np.testing.assert_allclose(xs.mean(0), 0, atol=1e-4)
    np.testing.assert_allclose(snn.standardize(data, mean, std)[0], xs)


def test_dropout_validation():
    with pytest.warns(UserWarning, match="0.05-0.1"):
        snn_block(8, dropout=0.3)
    with pytest.raises(ValueError, match="dropout"):
        snn_mlp(8, depth=1, width=8, dropout=1.0)
    with pytest.raises(ValueError, match="depth"):
        snn_mlp(8, depth=0, width=8)
