"""String names in Keras, serialization, the lookup guard, errors and the README table."""

import ast
import json
import pathlib
import re

import keras
import numpy as np
import pytest

import keras_acts
from keras_acts import registry
from keras_acts.catalogue import CATALOGUE

ROOT = pathlib.Path(__file__).resolve().parents[2]
STRING_NAMES = keras_acts.names()  # every name names() lists must work by plain string
OURS = [n for n, e in sorted(CATALOGUE.items()) if not e.keras_builtin]


_np = keras.ops.convert_to_numpy


def _x(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def test_our_names_are_installed_and_builtins_untouched():
    from keras_acts.internals import activation_table

    for name in OURS:
        assert keras.activations.get(name) is registry.FUNCTIONS[name]
    for name in registry.KERAS_BUILTINS:
        assert CATALOGUE[name].keras_builtin, f"Keras built-in {name} lacks a catalogue entry"
        fn = activation_table()[name]
        assert fn.__module__.startswith("keras."), f"{name} was shadowed by {fn.__module__}"
        assert fn is CATALOGUE[name].fn
    assert not set(OURS) & registry.KERAS_BUILTINS
    assert registry.install() == []  # idempotent, nothing shadowed


def test_catalogue_size_and_classics():
    names = keras_acts.names()
    assert names == sorted(names) and len(names) >= 70
    assert registry.KERAS_BUILTINS <= set(keras_acts.names(all=True))
    assert "threshold" not in names and "threshold" in keras_acts.names(all=True)
    assert set(keras_acts.CLASSIC) <= set(names)


# --------------------------------------------------------------------------
# Every name works in Dense, Conv2D, Activation and keras.activations.get
# --------------------------------------------------------------------------
@pytest.mark.usefixtures("eager_jax")  # one call per name: compiling each costs more than it runs
@pytest.mark.parametrize("name", STRING_NAMES)
def test_string_name_in_layers(name):
    x = _x((3, 8))
    dense = keras.layers.Dense(8, activation=name, kernel_initializer="ones")
    conv = keras.layers.Conv2D(4, 3, padding="same", activation=name)
    act = keras.layers.Activation(name)
    ref = keras_acts.get(name)
    assert keras.activations.get(name) is ref
    np.testing.assert_array_equal(_np(act(x)), _np(ref(x)))
    assert _np(dense(x)).shape[0] == 3
    assert _np(conv(_x((2, 6, 6, 2)))).shape[:3] == (2, 6, 6)


def test_threshold_needs_parameters_in_keras_but_not_in_keras_acts():
    fn = keras_acts.get("threshold")
    assert isinstance(fn, keras_acts.ActivationFunction)
    x = np.array([-1.0, 0.5], "float32")
    np.testing.assert_array_equal(_np(fn(x)), [0.0, 0.5])


# --------------------------------------------------------------------------
# get(), parameters, errors
# --------------------------------------------------------------------------
def test_get_defaults_return_registered_function_params_return_object():
    assert keras_acts.get("swish_x") is keras.activations.get("swish_x")
    assert keras_acts.get("swish_x", beta=1.0) is keras.activations.get("swish_x")
    act = keras_acts.get("swish_x", beta=1.5)
    assert isinstance(act, keras_acts.ActivationFunction)
    assert act.get_config() == {"name": "swish_x", "params": {"beta": 1.5}}
    x = _x((50,))
    np.testing.assert_allclose(_np(act(x)), x / (1 + np.exp(-1.5 * x)), rtol=1e-6, atol=1e-7)
    assert keras_acts.get(act) is act
    assert keras_acts.get("relu") is keras.activations.relu


def test_unknown_name_suggests_close_matches():
    with pytest.raises(ValueError, match=r"Unknown activation 'swishx'.*swish_x"):
        keras_acts.get("swishx")
    with pytest.raises(ValueError, match="gelu_tanh"):
        keras_acts.info("gelu_tahn")


@pytest.mark.parametrize(
    "name, params, match",
    [
        ("isru", {"alpha": -1.0}, "alpha.*> 0"),
        ("swish_x", {"beta": float("nan")}, "finite"),
        ("swish_x", {"beta": "big"}, "must be a number"),
        ("elu", {"alpha": -0.5}, ">= 0"),
        ("rrelu", {"lower": 0.3, "upper": 0.1}, "lower <= upper"),
        ("sqnl", {"alpha": 1.0}, "unknown parameter"),
        ("softmax", {"axis": 1.5}, "must be int"),
    ],
)
def test_invalid_parameters_fail_at_construction(name, params, match):
    with pytest.raises(ValueError, match=match):
        keras_acts.get(name, **params)


def test_derivative_and_info():
    d = keras_acts.derivative("swish_x", beta=2.0)
    x = _x((20,))
    s = 1 / (1 + np.exp(-2 * x))
    np.testing.assert_allclose(_np(d(x)), s + 2 * x * s * (1 - s), rtol=1e-5, atol=1e-6)
    act = keras_acts.get("swish_x", beta=2.0)
    np.testing.assert_array_equal(_np(keras_acts.derivative(act)(x)), _np(d(x)))
    with pytest.raises(ValueError, match="not elementwise"):
        keras_acts.derivative("softmax")
    info = keras_acts.info("tanh")
    assert info["range"] == (-1, 1) and info["bounded"] and info["zero_centred"]
    assert json.dumps(keras_acts.info("swish_x"), default=str)


PAPER = re.compile(r"et al\.|\b(19|20)\d\d\b")
LINK = re.compile(r"^https://(arxiv\.org/abs/\d{4}\.\d{4,5}|doi\.org/10\.\d{4,}/\S+|\S+)$")


@pytest.mark.parametrize("name", sorted(n for n, e in CATALOGUE.items() if not e.keras_builtin))
def test_our_functions_carry_formula_reference_and_link(name):
    e = CATALOGUE[name]
    assert LINK.match(e.link), e.link
    doc = registry.entry_doc(e)
    for part in (e.formula, e.reference, e.link, *e.params):
        assert part in doc
    if e.string_usable:   # the function Keras finds by name carries it
        assert keras.activations.get(name).__doc__ == doc
    # a cited paper links to the paper (arXiv, DOI or a proceedings page), not to a wiki
    if PAPER.search(e.reference) and "Echo" not in e.reference and "timm" not in e.reference:
        assert "wikipedia" not in e.link or name in {"sqnl", "logish"}, e.link


def test_half_precision_keeps_dtype():
    for dtype in ("float16", "bfloat16"):
        x = keras.ops.cast(keras.ops.convert_to_tensor([-20.0, 0.0, 20.0]), dtype)
        y = keras_acts.get("tanh_exp")(x)
        assert keras.backend.standardize_dtype(y.dtype) == dtype


# --------------------------------------------------------------------------
# Package hygiene and docs
# --------------------------------------------------------------------------
# Function-local (lazy) framework imports allowed only here, each for a reason.
LAZY_FRAMEWORK_IMPORTS = {
    "autodiff.py": "Keras 3 has no backend-agnostic grad; dispatches on the active backend",
    "diagnostics.py": "optional TensorBoard logging writes tf.summary scalars (TF only)",
    "gradients.py": "each backend's own custom-gradient form (jax.custom_jvp, "
                    "torch.autograd.Function, tf.custom_gradient), imported when first built",
}


def test_package_imports_no_framework():
    """keras_acts/ runs on keras.ops; frameworks only lazily, in the allowlisted files."""
    banned = {"tensorflow", "jax", "torch"}
    for path in (ROOT / "keras_acts").glob("*.py"):
        tree = ast.parse(path.read_text())
        top_level = set(map(id, tree.body))
        for node in ast.walk(tree):
            mods = []
            if isinstance(node, ast.Import):
                mods = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                mods = [node.module]
            for m in mods:
                if m.split(".")[0] in banned:
                    assert id(node) not in top_level, f"{path.name} imports {m} at module level"
                    assert path.name in LAZY_FRAMEWORK_IMPORTS, f"{path.name} imports {m}"


def test_readme_table_and_list_index_are_current():
    """README.md's table and keras_acts/catalogue.json (what `keras-acts list` reads) are
    generated from the catalogue; the developer tool's check says neither is stale."""
    from tools import sync_catalogue

    assert sync_catalogue.stale() == [], "run `python tools/sync_catalogue.py`"
    readme = (ROOT / "README.md").read_text()
    m = re.search(r"<!-- catalogue:start -->\n(.*?)<!-- catalogue:end -->", readme, re.S)
    assert m and m.group(1) == keras_acts.catalogue_table()
    for name in keras_acts.names():
        assert f"`{name}`" in m.group(1)