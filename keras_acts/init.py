"""Weight initialization matched to the activation that follows the layer.

``initializer_for(activation)`` returns a fresh Keras initializer for the kernel
of a layer whose *output* goes through ``activation`` in the next layer, i.e. the
plain-MLP convention ``h_{l+1} = W_{l+1} f(h_l)``. With ``W`` zero-mean and
``Var(W) = gain / fan_in``, the pre-activation second moment propagates as
``q_{l+1} = gain * E[f(h_l)^2]``. The rule, by the catalogue's ``Entry.init``
family (shown in the README table):

=========  ====================================================================
family     initializer
=========  ====================================================================
lecun      ``LecunNormal`` (fan_in, gain 1). SELU: E[selu(z)^2] = 1, the
           self-normalizing fixed point (Klambauer et al. 2017).
he         fan_in truncated normal with gain ``2 / (1 + a^2)`` for the
           piecewise-linear rectifiers (relu, leaky_relu, PReLU, rrelu; ``a`` =
           negative slope, PReLU's initial alpha, rrelu's mean slope), which is
           exactly ``1 / E[f(z)^2]`` (He et al. 2015). Smooth rectifier-likes in
           this family (elu, gelu, swish, mish, ...) get the same He-style fan_in
           scaling with gain ``1 / E[f(z)^2]``, which reduces to 2/(1+a^2) for a
           rectifier and, unlike a fixed 2, keeps q = 1 a fixed point.
glorot     ``GlorotUniform`` (fan_avg, gain 1): the convention for tanh /
           sigmoid / softsign-like saturating and normalising (softmax) families.
           It preserves variance only in their linear regime; pass
           ``rule="gain"`` for the variance-preserving fan_in gain instead.
gain       fan_in truncated normal with gain ``1 / E[f(z)^2]``.
=========  ====================================================================

``E[f(z)^2]`` (z ~ N(0, 1)) is analytic where known (``ANALYTIC``), else computed
numerically (a 24,001-point quadrature over [-12, 12], or a 2-D product grid
for the gated, split-in-two activations) and cached per (activation, parameters).
Layers are handled by what they compute at initialisation: PReLU / LeakyReLU /
ReLU by their slope, Keras ``Activation`` by its function, ``keras_acts`` layers
by their catalogue entry or family and their initial parameters.
"""

from __future__ import annotations

import functools
import json
import math
from typing import Callable

import keras
import numpy as np
from keras import ops

from .catalogue import CATALOGUE, Entry
from .registry import ActivationFunction, entry, evaluate, name_of
from .registry import to_float64 as _numpy

_SQRT2 = math.sqrt(2.0)


def _Phi(x: float) -> float:
    return 0.5 * math.erfc(-x / _SQRT2)


def _elu_m2(alpha=1.0):
    return 0.5 + alpha * alpha * (math.e ** 2 * _Phi(-2.0) - 2.0 * math.exp(0.5) * _Phi(-1.0) + 0.5)


def _relu_m2(negative_slope=0.0, max_value=None, threshold=0.0):
    if max_value is not None or threshold != 0.0:
        return None  # numeric
    return 0.5 * (1.0 + negative_slope ** 2)


#: E[f(z)^2] for z ~ N(0, 1), closed forms (return None to fall back to numeric).
ANALYTIC: dict[str, Callable[..., float | None]] = {
    "linear": lambda: 1.0,
    "relu": _relu_m2,
    "leaky_relu": lambda negative_slope=0.2: 0.5 * (1.0 + negative_slope ** 2),
    "rrelu": lambda lower=0.125, upper=1.0 / 3.0: 0.5 * (1.0 + (0.5 * (lower + upper)) ** 2),
    "selu": lambda: 1.0,
    "elu": _elu_m2,
    "exponential": lambda: math.e ** 2,
    "sine": lambda w0=1.0: 0.5 * (1.0 - math.exp(-2.0 * w0 * w0)),
    "gaussian": lambda: 1.0 / math.sqrt(5.0),
    "squared_relu": lambda: 1.5,
    "star_relu": lambda s=0.8944, b=-0.4472: 1.5 * s * s + s * b + b * b,
    "binary_step": lambda threshold=0.0: _Phi(-threshold),
    "binary_step_ste": lambda threshold=0.0: _Phi(-threshold),
    "gcu": lambda: 0.5 - 1.5 * math.exp(-2.0),
}

#: rectifiers whose He gain is 2/(1+a^2) with a = their negative slope
_RECTIFIER_SLOPE = {
    "relu": lambda p: p.get("negative_slope", 0.0) if _relu_m2(**p) is not None else None,
    "leaky_relu": lambda p: p.get("negative_slope", 0.2),
    "rrelu": lambda p: 0.5 * (p.get("lower", 0.125) + p.get("upper", 1.0 / 3.0)),
}

_GRID = np.linspace(-12.0, 12.0, 24001)
_GRID_W = np.exp(-0.5 * _GRID ** 2) / math.sqrt(2.0 * math.pi) * (_GRID[1] - _GRID[0])
_GRID_W[[0, -1]] *= 0.5
_GRID_W = _GRID_W / _GRID_W.sum()

_GRID2 = np.linspace(-8.0, 8.0, 801)
_W2 = np.exp(-0.5 * _GRID2 ** 2)
_W2 = _W2 / _W2.sum()


def _quad_elementwise(f: Callable) -> float:
    y = _numpy(f(ops.convert_to_tensor(_GRID.astype("float32")[:, None])))
    return float(np.sum(np.square(y[:, 0]) * _GRID_W))


def _quad_split(f: Callable) -> float:
    """E[f([a, b])^2] for a, b iid N(0, 1), f splitting its last axis in two halves."""
    a, b = np.meshgrid(_GRID2, _GRID2, indexing="ij")
    x = np.stack([a.ravel(), b.ravel()], axis=-1).astype("float32")
    y = _numpy(f(ops.convert_to_tensor(x)))
    w = np.outer(_W2, _W2).ravel()
    return float(np.sum(np.square(y[:, 0]) * w))


@functools.lru_cache(maxsize=None)
def _entry_m2(name: str, frozen_params: tuple) -> float:
    e = CATALOGUE[name]
    params = dict(frozen_params)
    if name in ANALYTIC:
        v = ANALYTIC[name](**params)
        if v is not None:
            return float(v)
    f = lambda x: evaluate(e, e.fn, x, params)  # noqa: E731
    if e.elementwise:
        return _quad_elementwise(f)
    if name in ("glu", "geglu", "swiglu", "reglu"):
        return _quad_split(f)
    raise ValueError(
        f"{name} normalises across the layer (softmax-like): its output second moment "
        "depends on the layer width, so no width-independent variance-preserving gain exists; "
        "use the Glorot convention (rule='auto')."
    )


def _frozen(params: dict) -> tuple:
    return tuple(sorted((k, v) for k, v in params.items()))


# ----------------------------------------------------------------------------
# resolving an activation
# ----------------------------------------------------------------------------
class _Spec:
    """What initializer_for needs: family, E[f(z)^2] (lazily), rectifier slope."""

    def __init__(self, family: str, m2: Callable[[], float], slope: float | None = None,
                 label: str = ""):
        self.family, self._m2, self.slope, self.label = family, m2, slope, label

    def second_moment(self) -> float:
        return self._m2()


def _entry_spec(e: Entry, params: dict) -> _Spec:
    full = e.validate(params)
    if e.alias_of:
        e = CATALOGUE[e.alias_of]
    slope = _RECTIFIER_SLOPE[e.name](full) if e.name in _RECTIFIER_SLOPE else None
    return _Spec(e.init, lambda: _entry_m2(e.name, _frozen(full)), slope, e.name)


@functools.lru_cache(maxsize=256)
def _layer_m2(cls, config_json: str) -> float:
    config = json.loads(config_json)
    layer = cls.from_config(config)
    f = getattr(layer, "initial_second_moment", None)
    if f is not None:
        return float(f())
    return _quad_elementwise(layer)


def _layer_spec(layer) -> _Spec:
    from . import layers as ka_layers

    if isinstance(layer, keras.layers.Activation):
        return _spec(layer.activation)
    if isinstance(layer, ka_layers.PReLU):
        a = layer.negative_slope
        return _Spec("he", lambda: 0.5 * (1.0 + a * a), a, "prelu")
    if isinstance(layer, keras.layers.PReLU):
        from .layers import initializer_constant

        a = initializer_constant(layer.alpha_initializer)
        a = 0.0 if a is None else a
        return _Spec("he", lambda: 0.5 * (1.0 + a * a), a, "prelu")
    if isinstance(layer, keras.layers.LeakyReLU):
        return _entry_spec(CATALOGUE["leaky_relu"], {"negative_slope": float(layer.negative_slope)})
    if isinstance(layer, keras.layers.ReLU):
        params = {"negative_slope": float(layer.negative_slope), "threshold": float(layer.threshold),
                  "max_value": None if layer.max_value is None else float(layer.max_value)}
        return _entry_spec(CATALOGUE["relu"], params)
    name = getattr(layer, "catalogue_name", None)
    if name is not None:
        return _entry_spec(CATALOGUE[name], dict(layer.initial_params))
    family = getattr(layer, "init_family", None)
    if family is None:
        raise ValueError(
            f"initializer_for: don't know the activation computed by {type(layer).__name__}; "
            "pass a catalogue name, a function, or a keras_acts layer"
        )
    config = layer.get_config()
    config.pop("axis", None)
    if "shared_axes" in config:  # the moment is the same for one value per layer
        config["shared_axes"] = "all"
    key = json.dumps(config, sort_keys=True, default=str)
    return _Spec(family, lambda: _layer_m2(type(layer), key), getattr(layer, "negative_slope", None),
                 type(layer).__name__)


def _spec(activation) -> _Spec:
    if activation is None:
        return _entry_spec(CATALOGUE["linear"], {})
    if isinstance(activation, str):
        return _entry_spec(entry(activation), {})
    if isinstance(activation, ActivationFunction):
        return _entry_spec(activation.entry, dict(activation.params))
    if isinstance(activation, keras.layers.Layer):
        return _layer_spec(activation)
    if callable(activation):
        name = name_of(activation)
        if name is not None:
            return _entry_spec(CATALOGUE[name], {})
        key = id(activation)
        return _Spec("gain", lambda: _callable_m2(activation, key),
                     label=getattr(activation, "__name__", repr(activation)))
    raise TypeError(f"initializer_for: cannot interpret {activation!r} as an activation")


_CALLABLE_CACHE: dict = {}


def _callable_m2(fn, key) -> float:
    if key not in _CALLABLE_CACHE:
        _CALLABLE_CACHE[key] = (fn, _quad_elementwise(fn))  # keep fn alive: id stays unique
    return _CALLABLE_CACHE[key][1]


# ----------------------------------------------------------------------------
# public API
# ----------------------------------------------------------------------------
def second_moment(activation) -> float:
    """E[f(z)^2] for z ~ N(0, 1) (analytic where known, numeric otherwise, cached)."""
    return _spec(activation).second_moment()


def fixed_point_slope(activation, h: float = 0.05) -> float:
    """Stability of the variance fixed point under the variance-preserving gain.

    ``s = d log E[f(sqrt(q) z)^2] / d log q`` at ``q = 1``. With gain
    ``1 / E[f(z)^2]`` the map ``q -> gain * E[f(sqrt(q) z)^2]`` has its fixed point
    at q = 1; it is stable for ``s < 1`` (saturating f, e.g. tanh 0.46, selu 0.78),
    neutral for ``s = 1`` (positively homogeneous f: relu, leaky relu, PReLU) and
    unstable for ``s > 1`` (e.g. swish 1.17, gelu 1.14, squared_relu 2): no
    gain then keeps a deep plain MLP's second moment fixed, finite-width noise
    grows by about ``s`` per layer. Catalogue names and ``ActivationFunction``s.
    """
    if isinstance(activation, ActivationFunction):
        e, params = activation.entry, dict(activation.params)
    else:
        e, params = entry(activation), {}
    full = e.validate(params)
    if e.elementwise:
        quad = _quad_elementwise
    elif e.name in ("glu", "geglu", "swiglu", "reglu"):
        quad = _quad_split
    else:
        raise ValueError(f"{e.name} normalises across the layer; no per-unit variance map")

    def m2(q):
        return quad(lambda x: evaluate(e, e.fn, x * math.sqrt(q), full))

    return (math.log(m2(1.0 + h)) - math.log(m2(1.0 - h))) / (
        math.log(1.0 + h) - math.log(1.0 - h))


def gain_for(activation, rule: str = "auto") -> float | None:
    """The variance-scaling gain ``initializer_for`` uses (None for Glorot)."""
    spec = _spec(activation)
    family = _family(spec, rule)
    if family == "glorot":
        return None
    if family == "lecun":
        return 1.0
    if spec.slope is not None and family == "he":
        return 2.0 / (1.0 + spec.slope ** 2)
    m2 = spec.second_moment()
    if not (m2 > 0.0 and math.isfinite(m2)):
        raise ValueError(f"{spec.label}: E[f(z)^2] = {m2}; no variance-preserving gain exists")
    return 1.0 / m2


def _family(spec: _Spec, rule: str) -> str:
    if rule not in ("auto", "gain"):
        raise ValueError(f"rule must be 'auto' or 'gain', got {rule!r}")
    if rule == "gain" and spec.family in ("glorot", "gain"):
        return "gain"
    return spec.family


def initializer_for(activation, seed=None, rule: str = "auto"):
    """A fresh Keras initializer for a kernel whose layer output feeds ``activation``.

    ``activation``: a catalogue name, a function (Keras's or ours), an
    ``ActivationFunction`` (``keras_acts.get(name, **params)``), or a layer
    (``keras_acts.layers.*``, Keras ``PReLU`` / ``LeakyReLU`` / ``ReLU`` /
    ``Activation``). ``rule="gain"`` replaces the Glorot convention of the
    tanh / sigmoid families by the variance-preserving fan_in gain. See the
    module docstring for the rule.

    >>> keras.layers.Dense(256, kernel_initializer=keras_acts.initializer_for("selu"))
    """
    spec = _spec(activation)
    family = _family(spec, rule)
    if family == "glorot":
        return keras.initializers.GlorotUniform(seed=seed)
    if family == "lecun":
        return keras.initializers.LecunNormal(seed=seed)
    gain = gain_for(activation, rule)
    if gain == 2.0:
        return keras.initializers.HeNormal(seed=seed)
    return keras.initializers.VarianceScaling(
        scale=gain, mode="fan_in", distribution="truncated_normal", seed=seed
    )
