"""recipes.models: activation specs and the one build_model entry (tiny models, all backends)."""
import warnings

import keras
import numpy as np
import pytest

import keras_acts
from recipes.models import (DEFAULTS, KINDS, ActivationSpec, build_model, parse_activation,
                            resolve_activation, slug, split_activation_list)

SHAPES = {"mlp": (8, 8, 1), "snn": (8, 8, 1), "cnn": (8, 8, 1), "resnet": (8, 8, 3)}
SMALL = {"mlp": dict(depth=2, width=8), "snn": dict(depth=2, width=8),
         "cnn": dict(filters=(4,), dense=8), "resnet": dict(blocks=1, base_filters=4)}


# --------------------------------------------------------------------------- parse_activation
def test_parse_plain_name():
    spec = parse_activation("relu")
    assert spec.name == "relu" and spec.factory() == "relu" and not spec.is_layer
    name, factory = parse_activation("swish_x")  # unpacks as (display name, factory)
    assert name == "swish_x" and keras.activations.get(factory()) is not None


def test_parse_parameters():
    spec = parse_activation("swish_x:beta=1.5")
    assert spec.name == "swish_x:beta=1.5"
    fn = spec.factory()
    assert isinstance(fn, keras_acts.ActivationFunction) and fn.params["beta"] == 1.5
    assert parse_activation("aria2:alpha=1,beta=0.5").factory().params == {"alpha": 1, "beta": 0.5}


def test_parse_learnable_layers():
    spec = parse_activation("prelu")
    a, b = spec.factory(), spec.factory()
    assert isinstance(a, keras_acts.layers.PReLU) and a is not b and spec.is_layer
    spec = parse_activation("layer:PReLU:shared_axes=all")
    layer = spec.factory()
    assert isinstance(layer, keras_acts.layers.PReLU) and layer.shared_axes == "all"
    assert spec.name == "PReLU:shared_axes=all"
    assert isinstance(parse_activation("layer:keras.layers.LeakyReLU").factory(),
                      keras.layers.LeakyReLU)


@pytest.mark.parametrize("bad, match", [("relux", "relu"), ("swish_x:gamma=2", "gamma"),
                                        ("swish_x:beta", "key=value"), ("layer:NoSuch", "NoSuch"),
                                        ("", "non-empty")])
def test_parse_errors(bad, match):
    with pytest.raises((ValueError, TypeError), match=match):
        parse_activation(bad)


def test_binary_step_warns_and_points_to_ste():
    with pytest.warns(UserWarning, match="binary_step_ste"):
        parse_activation("binary_step")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        parse_activation("binary_step_ste")


def test_split_activation_list_and_slug():
    assert split_activation_list("relu, aria2:alpha=1,beta=0.5,prelu,,layer:PReLU") == [
        "relu", "aria2:alpha=1,beta=0.5", "prelu", "layer:PReLU"]
    assert slug("swish_x:beta=1.5") == "swish_x_beta_1.5"


def test_resolve_accepts_callables_layers_and_classes():
    assert resolve_activation(keras_acts.get("elu", alpha=0.5)).name == "elu:alpha=0.5"
    inst = keras_acts.layers.PReLU()
    spec = resolve_activation(inst)
    c1, c2 = spec.factory(), spec.factory()
    assert isinstance(c1, keras_acts.layers.PReLU) and c1 is not inst and c1 is not c2
    assert isinstance(resolve_activation(keras_acts.layers.PReLU).factory(), keras_acts.layers.PReLU)
    custom = ActivationSpec("mine", lambda: keras.layers.LeakyReLU(negative_slope=0.1))
    assert resolve_activation(custom) is custom


# --------------------------------------------------------------------------- build_model
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("act", ["relu", "swish_x:beta=1.5", "prelu"])
def test_build_every_kind(kind, act):
    model = build_model(kind, SHAPES[kind], 3, act, **SMALL[kind])
    y = keras.ops.convert_to_numpy(model(np.zeros((2, *SHAPES[kind]), "float32")))  # eager
    assert y.shape == (2, 3)
    np.testing.assert_allclose(y.sum(-1), 1.0, rtol=1e-5)


def test_learnable_layer_is_separate_and_fresh():
    inst = keras_acts.layers.PReLU()
    model = build_model("mlp", (8, 8, 1), 3, inst, depth=3, width=8)
    prelus = [l for l in model.layers if isinstance(l, keras_acts.layers.PReLU)]
    assert len(prelus) == 3 and inst not in prelus
    assert len({id(p.alpha) for p in prelus}) == 3  # own weights per use
    for d in (l for l in model.layers if isinstance(l, keras.layers.Dense)):
        assert d.activation in (keras.activations.linear, keras.activations.softmax)


def test_cnn_batchnorm_and_learnable_layer_order():
    model = build_model("cnn", (8, 8, 1), 3, "prelu", filters=(4,), dense=8, batchnorm=True)
    names = [type(l).__name__ for l in model.layers]
    i = names.index("Conv2D")
    assert names[i:i + 3] == ["Conv2D", "BatchNormalization", "PReLU"]


def test_cnn_pool_first_and_global_pool_layout():
    model = build_model("cnn", (8, 8, 3), 3, "relu", filters=(4, 6), convs_per_stage=2,
                        batchnorm=True, pool="first", global_pool="max", dense=0, dropout=0)
    kinds = [type(l).__name__ for l in model.layers]
    stage = ["Conv2D", "BatchNormalization", "Activation", "MaxPooling2D",
             "Conv2D", "BatchNormalization", "Activation"]
    assert kinds[1:] == stage * 2 + ["GlobalMaxPooling2D", "Dense"]
    convs = [l for l in model.layers if isinstance(l, keras.layers.Conv2D)]
    # the second conv of each stage runs on the pooled (half-size) feature map
    assert [tuple(c.output.shape[1:3]) for c in convs] == [(8, 8), (4, 4), (4, 4), (2, 2)]
    x = np.random.default_rng(0).normal(size=(2, 8, 8, 3)).astype("float32")
    # global max pooling: the head sees the channel-wise maximum of the last feature map
    feat = keras.Model(model.inputs, model.layers[-2].input)(x)
    pooled = keras.Model(model.inputs, model.layers[-2].output)(x)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(pooled),
                               keras.ops.convert_to_numpy(feat).max(axis=(1, 2)), rtol=1e-6)
    avg = build_model("cnn", (8, 8, 3), 3, "relu", filters=(4,), global_pool="avg", dense=0,
                      head_scale=0.125)
    assert any(isinstance(l, keras.layers.GlobalAveragePooling2D) for l in avg.layers)
    # head_scale: the classifier sees 0.125 x the pooled features, so logits shrink 8-fold
    head = avg.get_layer("predictions")
    feats = keras.ops.convert_to_numpy(keras.Model(avg.inputs, avg.layers[-3].output)(x))
    kernel, bias = (keras.ops.convert_to_numpy(w) for w in head.weights)
    logits = 0.125 * feats @ kernel + bias
    want = np.exp(logits - logits.max(1, keepdims=True))
    want /= want.sum(1, keepdims=True)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(avg(x)), want, rtol=1e-5, atol=1e-6)
    assert not any(l.name == "head_scale" for l in model.layers)  # default 1.0: no layer
    for bad in (dict(pool="middle"), dict(global_pool="sum")):
        with pytest.raises(ValueError, match=next(iter(bad))):
            build_model("cnn", (8, 8, 3), 3, "relu", filters=(4,), **bad)


def test_bn_momentum_reaches_every_batchnorm_layer():
    for kind, opts in (("cnn", dict(filters=(4,), dense=8, batchnorm=True)),
                       ("mlp", dict(depth=2, width=8, batchnorm=True)),
                       ("resnet", dict(blocks=1, base_filters=4))):
        model = build_model(kind, SHAPES[kind], 3, "relu", bn_momentum=0.7, **opts)
        bns = [l for l in model.layers if isinstance(l, keras.layers.BatchNormalization)]
        assert bns and all(l.momentum == pytest.approx(0.7) for l in bns), kind
        default = build_model(kind, SHAPES[kind], 3, "relu", **opts)
        assert all(l.momentum == pytest.approx(0.99) for l in default.layers
                   if isinstance(l, keras.layers.BatchNormalization))
    with pytest.raises(ValueError, match="bn_momentum"):
        build_model("cnn", (8, 8, 1), 3, "relu", filters=(4,), bn_momentum=1.0)


def test_kernel_initializer_from_initializer_for_unless_given():
    model = build_model("snn", (8, 8, 1), 3, "selu", depth=1, width=8)
    dense = [l for l in model.layers if isinstance(l, keras.layers.Dense)]
    assert all(isinstance(d.kernel_initializer, keras.initializers.LecunNormal) for d in dense)
    assert any(isinstance(l, keras.layers.AlphaDropout) for l in model.layers)
    model = build_model("mlp", (8, 8, 1), 3, "selu", depth=1, width=8,
                        kernel_initializer="glorot_normal")
    dense = [l for l in model.layers if isinstance(l, keras.layers.Dense)]
    assert all(isinstance(d.kernel_initializer, keras.initializers.GlorotNormal) for d in dense)


def test_build_model_rejects_unknown():
    with pytest.raises(ValueError, match="kind"):
        build_model("transformer", (8, 8, 1), 3, "relu")
    with pytest.raises(TypeError, match="widht"):
        build_model("mlp", (8, 8, 1), 3, "relu", widht=3)
    assert set(DEFAULTS) == set(KINDS)


def test_snn_selu_comes_from_keras_acts_snn():
    snn = pytest.importorskip("keras_acts.snn")
    model = build_model("snn", (8, 8, 1), 3, "selu", depth=2, width=8, dropout=0.05)
    ref = snn.snn_mlp((8, 8, 1), 2, 8, 3, dropout=0.05)
    assert [type(l).__name__ for l in model.layers] == [type(l).__name__ for l in ref.layers]
    assert any(l.name.endswith("alpha_dropout_0") for l in model.layers)
    other = build_model("snn", (8, 8, 1), 3, "elu", depth=2, width=8, dropout=0.05)
    assert [type(l).__name__ for l in other.layers] == [type(l).__name__ for l in ref.layers]
