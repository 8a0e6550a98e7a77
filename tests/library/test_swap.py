"""keras_acts.swap: which sites are found, what is replaced, what is kept, weights, saving."""
import keras
import numpy as np
import pytest

import keras_acts
from keras_acts import layers as kl

L = keras.layers

EXPECTED = {  # layer -> (attribute, activation) of every hidden site
    "conv": ("activation", "relu"), "sep": ("activation", "elu"),
    "lstm": ("activation", "tanh"), "bi": ("activation", "tanh"),
    "d1": ("activation", "selu"), "act": ("layer", "sigmoid"), "relu_l": ("layer", "ReLU"),
    "leaky": ("layer", "LeakyReLU"), "kprelu": ("layer", "PReLU"), "elu_l": ("layer", "ELU"),
    "hsoft": ("layer", "Softmax"), "inner/inner_dense": ("activation", "tanh"),
}
FEEDS = {"act": "d2", "relu_l": "d3", "leaky": "d4", "kprelu": "d5", "elu_l": "d6",
         "hsoft": "d7"}


def every_site_model():
    keras.utils.set_random_seed(0)
    img = keras.Input((8, 8, 3), name="img")
    seq = keras.Input((5, 4), name="seq")
    a = L.Conv2D(4, 3, activation="relu", name="conv")(img)
    a = L.SeparableConv2D(4, 3, activation="elu", name="sep")(a)
    a = L.GlobalAveragePooling2D()(a)
    b = L.LSTM(4, return_sequences=True, name="lstm")(seq)
    b = L.Bidirectional(L.LSTM(3), name="bi")(b)
    h = L.Concatenate()([a, b])
    h = L.Dense(8, activation="selu", name="d1")(h)
    h = L.Dense(8, name="d2")(h)
    h = L.BatchNormalization(name="bn")(h)
    h = L.Activation("sigmoid", name="act")(h)
    for i, layer in enumerate([L.ReLU(name="relu_l"), L.LeakyReLU(name="leaky"),
                               L.PReLU(name="kprelu"), L.ELU(name="elu_l"),
                               L.Softmax(name="hsoft")]):
        h = layer(L.Dense(8, name=f"d{i + 3}")(h))
    inner = keras.Sequential([keras.Input((8,)), L.Dense(8, activation="tanh", name="inner_dense")],
                             name="inner")
    h = inner(h)
    h = L.Dense(8, name="linear_dense")(h)  # linear: not a site
    out = L.Dense(3, activation="softmax", name="out")(h)
    return keras.Model([img, seq], out)


def inputs(n=4, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((n, 8, 8, 3)).astype("float32"),
            rng.standard_normal((n, 5, 4)).astype("float32")]


def np_(x):
    return keras.ops.convert_to_numpy(x)


def test_sites_are_exactly_the_hidden_nonlinearities():
    sites = keras_acts.activation_sites(every_site_model())
    assert {s.layer: (s.attribute, s.activation) for s in sites} == EXPECTED
    feeds = {s.layer: s.feeds for s in sites if s.attribute == "layer"}
    assert feeds == FEEDS
    assert not any(s.output for s in sites)
    with_out = keras_acts.activation_sites(every_site_model(), keep_output=False)
    assert [(s.layer, s.activation, s.output) for s in with_out if s.output] == [
        ("out", "softmax", True)]
    rec = keras_acts.activation_sites(every_site_model(), recurrent=True)
    assert {(s.layer, s.activation) for s in rec if s.attribute == "recurrent_activation"} == {
        ("lstm", "sigmoid"), ("bi", "sigmoid")}


def test_swap_changes_exactly_the_sites_and_leaves_the_original_alone():
    model = every_site_model()
    x = inputs()
    before = np_(model(x))
    weights = [np_(w).copy() for w in model.weights]
    new = keras_acts.swap_activations(model, "gelu")
    sites = keras_acts.activation_sites(new)
    assert {s.layer for s in sites} == set(EXPECTED)
    assert {s.activation for s in sites} == {"gelu"}
    assert new.get_layer("out").activation is keras.activations.softmax
    assert new.get_layer("bi").forward_layer.cell.recurrent_activation is \
        keras.activations.sigmoid  # gates kept
    # the original: same sites, same weights, same outputs
    assert {s.layer: (s.attribute, s.activation)
            for s in keras_acts.activation_sites(model)} == EXPECTED
    for w, v in zip(weights, model.weights):
        np.testing.assert_array_equal(w, np_(v))
    np.testing.assert_array_equal(before, np_(model(x)))
    assert np.allclose(np_(new(x)).sum(1), 1.0, atol=1e-5)


def test_include_exclude_and_predicate():
    model = every_site_model()
    only = keras_acts.activation_sites(model, include=["d1", "act"])
    assert [s.layer for s in only] == ["d1", "act"]
    rest = keras_acts.activation_sites(model, exclude=lambda layer: "LSTM" in type(layer).__name__
                                       or isinstance(layer, L.Bidirectional))
    assert {s.layer for s in rest} == set(EXPECTED) - {"lstm", "bi"}
    new = keras_acts.swap_activations(model, "mish", include=["d1"])
    assert {s.layer: s.activation for s in keras_acts.activation_sites(new)} == {
        **{k: v[1] for k, v in EXPECTED.items()}, "d1": "mish"}


def test_relu_for_relu_without_reinitialize_is_the_same_model():
    model = every_site_model()
    x = inputs()
    same = keras_acts.swap_activations(model, "relu", include=["conv"], reinitialize=False)
    np.testing.assert_array_equal(np_(model(x)), np_(same(x)))


def test_outputs_differ_only_downstream_of_a_changed_site():
    model = every_site_model()
    x = inputs()
    new = keras_acts.swap_activations(model, "gelu", include=["act"], reinitialize=False)

    def at(m, name):
        return np_(keras.Model(m.inputs, m.get_layer(name).output)(x))

    np.testing.assert_array_equal(at(model, "bn"), at(new, "bn"))       # upstream: equal
    assert not np.allclose(at(model, "act"), at(new, "act"))             # the site: changed
    np.testing.assert_allclose(at(new, "act"), np_(keras.activations.gelu(at(model, "bn"))),
                               atol=1e-6)


def test_reinitialize_uses_initializer_for():
    model = every_site_model()
    new = keras_acts.swap_activations(model, "selu")
    for name in ("d1", "d2", "d6", "conv"):
        init = new.get_layer(name).kernel_initializer
        assert type(init) is type(keras_acts.initializer_for("selu")), name
    # not feeding a site: left with its own initializer
    assert type(new.get_layer("linear_dense").kernel_initializer) is keras.initializers.GlorotUniform


def test_learnable_layer_sites_get_their_own_weights():
    model = every_site_model()
    new = keras_acts.swap_activations(model, kl.PReLU, exclude=["lstm", "bi"])
    x = inputs()
    new.compile(optimizer=keras.optimizers.SGD(0.5), loss="sparse_categorical_crossentropy")
    alphas = [w for w in new.trainable_weights if "alpha" in w.path]
    # act, relu_l, leaky, kprelu, elu_l, hsoft (layers) + conv, sep, d1, inner_dense (attributes)
    assert len(alphas) == 10 and len({id(a) for a in alphas}) == 10
    new.fit(x, np.array([0, 1, 2, 0]), epochs=2, verbose=0)
    values = [tuple(np.round(np_(a).ravel()[:2], 7)) for a in alphas]
    assert len(set(values)) > 1  # trained apart
    with pytest.raises(TypeError, match="recurrent cell"):
        keras_acts.swap_activations(model, kl.PReLU)
    inst = kl.SwishX(beta=2.0)
    other = keras_acts.swap_activations(model, inst, include=["act", "relu_l"])
    made = [layer for layer in other.layers if isinstance(layer, kl.SwishX)]
    assert len(made) == 2 and made[0] is not made[1] and made[0] is not inst


def test_subclassed_and_bad_inputs_say_what_to_do():
    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.d = L.Dense(2, activation="relu")

        def call(self, x):
            return self.d(x)

    net = Net()
    net(np.zeros((1, 3), "float32"))
    with pytest.raises(TypeError, match="--model-fn"):
        keras_acts.swap_activations(net, "gelu")
    with pytest.raises(ValueError, match="swish_x"):
        keras_acts.swap_activations(every_site_model(), "swishx")
    with pytest.raises(TypeError, match="keras Layer"):
        keras_acts.swap_activations(every_site_model(), lambda: 3)
