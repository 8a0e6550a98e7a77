"""String names -> functions, installed where Keras looks them up.

Keras 3 resolves ``activation="name"`` through ``keras.activations.get``, which
reads only the private dict ``keras.src.activations.ALL_OBJECTS_DICT``
(``keras_acts.internals.activation_table``);
``register_keras_serializable`` alone makes a name *loadable* but not usable as
a string. So for every catalogue entry that is not a Keras built-in we

1. build a plain named function (default parameters), register it as
   ``keras_acts>NAME`` so ``.keras`` files refer to it, and
2. put it into ``ALL_OBJECTS_DICT`` under ``NAME``, never over an existing key.

Non-default parameters give an ``ActivationFunction`` object: a serializable
callable whose config is ``{"name": ..., "params": {...}}`` (no lambdas).
"""

from __future__ import annotations

import difflib
import functools
import warnings
from typing import Callable

import keras
import numpy as np
from keras import ops

from . import gradients
from .internals import activation_table
from .catalogue import CATALOGUE, Entry

PACKAGE = "keras_acts"
HALF_DTYPES = ("float16", "bfloat16")


def to_float64(x) -> np.ndarray:
    """Any backend tensor (or array-like) as a float64 NumPy array."""
    return np.asarray(ops.convert_to_numpy(x), dtype=np.float64)


#: Keras built-in names as they were before keras_acts touched the table.
KERAS_BUILTINS = frozenset(activation_table())


def entry(name: str) -> Entry:
    """The catalogue entry for ``name``; ValueError with close matches if unknown."""
    if isinstance(name, str) and name in CATALOGUE:
        return CATALOGUE[name]
    close = difflib.get_close_matches(str(name), list(CATALOGUE), n=5, cutoff=0.5)
    hint = f" Did you mean: {', '.join(close)}?" if close else ""
    raise ValueError(
        f"Unknown activation {name!r}.{hint} "
        f"keras_acts.names() lists all {len(CATALOGUE)} names."
    )


def _as_tensor(x):
    x = ops.convert_to_tensor(x)
    if not keras.backend.is_float_dtype(x.dtype):
        x = ops.cast(x, keras.backend.floatx())
    return x


def evaluate(e: Entry, fn: Callable, x, params: dict):
    """Apply ``fn(x, **params)`` of a keras-acts entry.

    Half-precision inputs are computed in float32 and cast back (XLA fuses the
    casts, so on an accelerator this costs no memory traffic); this keeps
    exp/square-based formulas finite over the whole float16 range.
    """
    x = _as_tensor(x)
    dtype = keras.backend.standardize_dtype(x.dtype)
    if dtype in HALF_DTYPES:
        return ops.cast(fn(ops.cast(x, "float32"), **params), dtype)
    return fn(x, **params)


@functools.lru_cache(maxsize=None)
def _native(backend: str, name: str, frozen: tuple) -> Callable | None:
    """The fused framework primitive that computes the entry with these parameters on
    ``backend`` (``Entry.native``, where ``gradients.NATIVE`` lists it), or None."""
    e = CATALOGUE[name]
    if e.native is None or name not in gradients.NATIVE[backend]:
        return None
    return e.native(**dict(frozen))


@functools.lru_cache(maxsize=None)
def _custom(backend: str, name: str, frozen: tuple) -> Callable:
    """The entry with these parameters and a backward pass that keeps only its input."""
    e, params = CATALOGUE[name], dict(frozen)
    if e.gate is not None:
        h = CATALOGUE[e.gate]
        return gradients.efficient_gated(lambda x: evaluate(e, e.fn, x, params),
                                         lambda b: evaluate(h, h.fn, b, h.defaults),
                                         lambda b: evaluate(h, h.grad, b, h.defaults))
    return gradients.efficient(lambda x: evaluate(e, e.fn, x, params),
                               lambda x: evaluate(e, e.grad, x, params))


def has_efficient_form(e: Entry) -> bool:
    """Whether keras_acts.gradients gives ``e`` a backward pass that keeps only its input:
    keras-acts's elementwise entries with an analytic derivative, and the gated ones."""
    return not e.keras_builtin and ((e.elementwise and e.grad is not None) or e.gate is not None)


def call(e: Entry, x, params: dict):
    """The activation ``e`` with ``params`` applied to ``x``, as layers call it.

    Unless the gradient mode is ``autodiff``: the framework's fused primitive where
    ``Entry.native`` names one, else the backward pass that keeps only the input where
    ``keras_acts.gradients.use_efficient`` says so (``keras_acts.set_gradients`` /
    ``KERAS_ACTS_GRADIENTS``). Otherwise, and for tensor-valued parameters, plain autodiff
    of the formula.
    """
    if not has_efficient_form(e) or gradients.mode() == "autodiff":
        return evaluate(e, e.fn, x, params)
    frozen = tuple(sorted(params.items()))
    try:
        hash(frozen)
    except TypeError:  # tensor-valued parameters
        return evaluate(e, e.fn, x, params)
    backend = keras.backend.backend()
    f = _native(backend, e.name, frozen)
    if f is None:
        if not gradients.use_efficient(e.name):
            return evaluate(e, e.fn, x, params)
        f = _custom(backend, e.name, frozen)
    return f(_as_tensor(x))


def entry_doc(e: Entry) -> str:
    """The docstring of a catalogue function, as Keras writes its activations: summary,
    formula, parameters, range and properties, reference with its link."""
    lo, hi = e.range
    props = [w for w, on in (("monotonic", e.monotonic), ("smooth", e.smooth),
                             ("zero-centred", e.zero_centred)) if on]
    lines = [f"{e.name.replace('_', ' ').capitalize()} activation function"
             + (f" (alias of `{e.alias_of}`)." if e.alias_of else "."), "",
             f"    {e.name}(x) = {e.formula}", "",
             f"Range: [{lo:g}, {hi:g}]" + (f"; {', '.join(props)}." if props else ".")]
    if e.params:
        lines += ["", "Args:", "    x: input tensor."]
        lines += [f"    {k}: default {p.default!r}." for k, p in e.params.items()]
    if not e.string_usable:
        lines += ["", f"Needs arguments: use keras_acts.get({e.name!r}, ...)."]
    lines += ["", "Reference:", f"    - {e.reference}: {e.link}"]
    return "\n".join(lines) + "\n"


def _named_function(e: Entry) -> Callable:
    """A plain, named module-level-like function with the entry's defaults."""
    defaults = e.defaults

    def activation(x):
        return call(e, x, defaults)

    activation.__name__ = activation.__qualname__ = e.name
    activation.__module__ = __name__
    activation.__doc__ = entry_doc(e)
    return keras.saving.register_keras_serializable(package=PACKAGE, name=e.name)(activation)


@keras.saving.register_keras_serializable(package=PACKAGE)
class ActivationFunction:
    """A catalogue activation with bound (non-default) parameters.

    Serializable without lambdas: ``get_config()`` is ``{"name", "params"}``,
    and it round-trips through ``.keras`` files after ``import keras_acts``.

    >>> act = ActivationFunction("swish_x", beta=1.5)
    >>> keras.layers.Dense(8, activation=act)
    """

    def __init__(self, name: str, **params):
        self.entry = entry(name)
        self.name = name
        self.params = self.entry.validate(params)
        self.__name__ = name

    def __call__(self, x):
        if self.entry.keras_builtin:
            return self.entry.fn(x, **self.params)
        return call(self.entry, x, self.params)

    def get_config(self):
        return {"name": self.name, "params": dict(self.params)}

    @classmethod
    def from_config(cls, config):
        return cls(config["name"], **config.get("params", {}))

    def __eq__(self, other):
        return isinstance(other, ActivationFunction) and other.get_config() == self.get_config()

    def __hash__(self):
        return hash((self.name, tuple(sorted(self.params.items()))))

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"ActivationFunction({self.name!r}{', ' if args else ''}{args})"


FUNCTIONS: dict[str, Callable] = {}


def name_of(fn) -> str | None:
    """The catalogue name of a registered activation function, or None.

    Where several names share one function (Keras's ``swish`` is ``silu``), the
    canonical name wins over the alias.
    """
    found = None
    for name, f in FUNCTIONS.items():
        if f is fn and (found is None or CATALOGUE[found].alias_of):
            found = name
    if found is None:
        name = getattr(fn, "__name__", None)
        if name in CATALOGUE and CATALOGUE[name].fn is fn:
            found = name
    return found


def install() -> list[str]:
    """Install every keras-acts name into Keras's lookup table. Idempotent.

    Returns the names that could not be installed because Keras already has a
    different object under that name (we never shadow Keras built-ins).
    """
    table = activation_table()
    skipped = []
    for name, e in CATALOGUE.items():
        if e.keras_builtin:
            FUNCTIONS[name] = table.get(name, e.fn)
            continue
        fn = FUNCTIONS.get(name) or _named_function(e)
        if table.get(name, fn) is not fn:
            skipped.append(name)
            continue
        table[name] = FUNCTIONS[name] = fn
    if skipped:
        warnings.warn(
            f"keras_acts: Keras already defines {skipped}; the Keras built-in keeps the name.",
            stacklevel=2,
        )
    return skipped


def get(identifier, **params) -> Callable:
    """A callable usable as ``activation=``.

    ``identifier`` is a catalogue name, an ``ActivationFunction`` or any
    callable. With parameters that differ from the defaults, a serializable
    ``ActivationFunction`` is returned; otherwise the registered plain function
    (which serializes by name).
    """
    if identifier is None:
        identifier = "linear"
    if callable(identifier) and not isinstance(identifier, str):
        if params:
            raise ValueError("keras_acts.get: parameters can only be given with a name")
        return identifier
    e = entry(identifier)
    full = e.validate(params)
    if full == e.defaults and e.string_usable:
        return FUNCTIONS[e.name]
    return ActivationFunction(e.name, **params)


def derivative(identifier, **params) -> Callable:
    """The analytic derivative f'(x) of an elementwise catalogue activation."""
    if isinstance(identifier, ActivationFunction):
        identifier, params = identifier.name, {**identifier.params, **params}
    e = entry(identifier)
    if e.grad is None:
        raise ValueError(
            f"{e.name} is not elementwise (its Jacobian is not diagonal); "
            "keras_acts.derivative only covers elementwise activations."
        )
    full = e.validate(params)

    def d(x):
        return evaluate(e, e.grad, x, full)

    d.__name__ = f"d_{e.name}"
    return d


def names(all: bool = False) -> list[str]:  # noqa: A002 (mirrors the CLI flag)
    """Sorted names that work by plain string (``activation="name"``): ours and Keras's.

    ``all=True`` adds the few Keras built-ins that need arguments (``threshold``), which
    only ``keras_acts.get(name, ...)`` makes usable."""
    return sorted(n for n, e in CATALOGUE.items() if all or e.string_usable)


def info(name: str) -> dict:
    """Properties of an activation as a plain dict."""
    e = entry(name)
    return {
        "name": e.name,
        "formula": e.formula,
        "params": {k: {"default": p.default, "range": p.range_text, "learnable": p.learnable}
                   for k, p in e.params.items()},
        "range": e.range,
        "bounded": e.bounded,
        "monotonic": e.monotonic,
        "smooth": e.smooth,
        "zero_centred": e.zero_centred,
        "elementwise": e.elementwise,
        "init": e.init,
        "reference": e.reference,
        "link": e.link,
        "keras_builtin": e.keras_builtin,
        "alias_of": e.alias_of,
        "string_usable": e.string_usable,
        "usage": (f'activation="{e.name}"' if e.string_usable else
                  f"keras_acts.get({e.name!r}, {', '.join(f'{k}=...' for k in e.params)}): "
                  "Keras's function needs its arguments, so the plain string fails"),
    }
