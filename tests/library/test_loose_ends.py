"""Loose ends users hit: names that need arguments, float64, load_model's errors, a correct
sparsemax, layers refusing what they cannot honour, defaults stated once."""
import zipfile

import keras
import numpy as np
import pytest

import keras_acts
from keras_acts.catalogue import CATALOGUE

_np = keras.ops.convert_to_numpy


def test_names_lists_only_plain_string_names():
    names = keras_acts.names()
    assert "threshold" not in names and "threshold" in keras_acts.names(all=True)
    info = keras_acts.info("threshold")
    assert not info["string_usable"] and "keras_acts.get('threshold'" in info["usage"]
    f = keras_acts.get("threshold", threshold=0.5, default_value=-1.0)
    y = _np(keras.layers.Dense(3, activation=f, kernel_initializer="identity",
                               use_bias=False)(np.float32([[0.2, 0.7, 3.0]])))
    np.testing.assert_allclose(y, [[-1.0, 0.7, 3.0]])


def _float64_cases():
    for name, e in sorted(CATALOGUE.items()):
        params = {} if e.string_usable else {k: p.default for k, p in e.params.items()}
        yield pytest.param(name, params, id=name)
    yield pytest.param("soft_exponential", {"alpha": 0.5}, id="soft_exponential-alpha=0.5")
    yield pytest.param("soft_exponential", {"alpha": -0.5}, id="soft_exponential-alpha=-0.5")
    yield pytest.param("swish_x", {"beta": 1.5}, id="swish_x-beta=1.5")


def _float64_available():
    if keras.backend.backend() != "jax":
        return True
    import jax

    return bool(jax.config.jax_enable_x64)


@pytest.mark.skipif(not _float64_available(),
                    reason="JAX without jax_enable_x64 has no float64 arrays at all")
@pytest.mark.parametrize("name,params", list(_float64_cases()))
def test_float64_in_float64_out(name, params):
    x = keras.ops.convert_to_tensor(np.linspace(-0.9, 0.9, 12).reshape(3, 4), "float64")
    f = keras_acts.get(name, **params) if params else keras_acts.get(name)
    y = f(x)
    assert keras.backend.standardize_dtype(y.dtype) == "float64", name
    assert np.all(np.isfinite(_np(y)))


def test_sparsemax_exact_is_a_projection_onto_the_simplex():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((50, 7)).astype("float32") * 2
    y = _np(keras_acts.get("sparsemax_exact")(x))
    np.testing.assert_allclose(y.sum(1), 1.0, atol=1e-5)
    assert (y >= 0).all() and (y == 0).any()
    np.testing.assert_allclose(_np(keras_acts.get("sparsemax_exact")(np.float32([[0.5, 0.0]]))),
                               [[0.75, 0.25]], atol=1e-6)  # Keras 3.15's gives [0.5, 0]
    yt = _np(keras_acts.get("sparsemax_exact", axis=0)(x.T))
    np.testing.assert_allclose(yt, y.T, atol=1e-6)
    assert "wrong in Keras 3.15" in CATALOGUE["sparsemax"].reference


def _saved(tmp_path, act="swish_x"):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation=act)])
    path = tmp_path / "m.keras"
    model.save(path)
    return model, path


def test_load_model_round_trip_and_errors(tmp_path):
    model, path = _saved(tmp_path)
    x = np.float32([[0.1, -0.2, 0.3]])
    np.testing.assert_array_equal(_np(keras_acts.load_model(path)(x)), _np(model(x)))
    with pytest.raises(FileNotFoundError, match="no such file"):
        keras_acts.load_model(tmp_path / "nope.keras")
    cut = tmp_path / "cut.keras"
    cut.write_bytes(path.read_bytes()[:200])
    with pytest.raises(ValueError, match="not a complete .keras file"):
        keras_acts.load_model(cut)
    # a name keras-acts does not know (e.g. saved by a newer version): closest matches
    odd = tmp_path / "odd.keras"
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(odd, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "config.json":
                data = data.replace(b"keras_acts>swish_x", b"keras_acts>swishx")
            zout.writestr(item, data)
    with pytest.raises(ValueError, match=r"'swishx' \(closest: swish_x"):
        keras_acts.load_model(odd)


@pytest.mark.parametrize("old, new, unknown, closest", [
    (b'"keras_acts>PReLU"', b'"keras_acts>PReLUX"', "PReLUX", "PReLU"),  # a layer class
    (b'"name": "aria2"', b'"name": "aria3"', "aria3", "aria2"),  # in an ActivationFunction
])
def test_load_model_names_unknown_layers_and_parametrised_entries(tmp_path, old, new, unknown,
                                                                  closest):
    inputs = keras.Input((3,))
    h = keras.layers.Dense(4, activation=keras_acts.get("aria2", alpha=2.0))(inputs)
    model = keras.Model(inputs, keras_acts.layers.PReLU()(h))
    path = tmp_path / "m.keras"
    model.save(path)
    x = np.float32([[0.1, -0.2, 0.3]])
    np.testing.assert_array_equal(_np(keras_acts.load_model(path)(x)), _np(model(x)))
    odd = tmp_path / "odd.keras"
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(odd, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "config.json":
                assert old in data
                data = data.replace(old, new)
            zout.writestr(item, data)
    with pytest.raises(ValueError, match=rf"'{unknown}' \(closest: {closest}"):
        keras_acts.load_model(odd)


@pytest.mark.parametrize("cls,kw", [("Maxout", {"shared_axes": [1]}),
                                    ("Maxout", {"channel_shared": True}),
                                    ("RReLU", {"per_channel": True}), ("DyT", {"per_channel": True})])
def test_layers_refuse_arguments_they_cannot_honour(cls, kw):
    from keras_acts import layers

    with pytest.raises(ValueError, match="does not take"):
        getattr(layers, cls)(**kw)
    with pytest.raises(ValueError, match="Unrecognized keyword"):  # as Keras says it
        getattr(layers, cls)(no_such_argument=1)
    layer = getattr(layers, cls)()  # and their configs still round-trip
    assert type(layer).from_config(layer.get_config()).get_config() == layer.get_config()


def _defaults(fn):
    import inspect

    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    return {k: p.default for k, p in list(sig.parameters.items())[1:]}


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_parameter_defaults_are_stated_once(name):
    """Every function of an entry (formula, derivative, tensor form) has the defaults of its
    ``params`` -- the catalogue's single statement of them."""
    e = CATALOGUE[name]
    want = e.defaults
    for role in ("fn", "grad", "tensor_fn"):
        fn = getattr(e, role)
        if fn is None or (role == "fn" and e.keras_builtin):
            continue  # Keras's own function: its signature is Keras's
        got = _defaults(fn)
        if got is None:
            continue
        import inspect

        assert set(got) == set(want), (role, sorted(got), sorted(want))
        stated = {k: v for k, v in got.items() if v is not inspect.Parameter.empty}
        assert stated == {k: want[k] for k in stated}, (role, stated, want)
