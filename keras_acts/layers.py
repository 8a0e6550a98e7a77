"""Learnable activation layers.

Every layer here

* keeps its learned values in weights (never in ``get_config``), whose config
  mirrors ``__init__``; all are registered as ``keras_acts>ClassName`` so
  ``.keras`` files load after ``import keras_acts`` with ``safe_mode`` on;
* stores its parameters in float32 (``autocast=False``) and computes in float32
  for float16 / bfloat16 inputs, casting the result back to the layer's compute
  dtype, so ``mixed_float16`` / ``mixed_bfloat16`` policies work;
* says how a parameter is shared the one way Keras does, ``shared_axes``: None = one value
  per channel of ``axis`` (the last axis), shared over the batch and spatial axes; a list =
  those (1-based, the batch axis being 0) axes share a value, Keras's convention (``[]``: one
  value per element); ``"all"`` = one value per layer. Each layer's default follows its paper
  (PReLU per channel, SwishX one per layer, ...). The older ``channel_shared=True`` and
  ``per_channel=True/False`` still work, with a ``FutureWarning`` naming the replacement,
  and saved files that use them load unchanged.

``Learnable(name, trainable=(param, ...))`` turns any parametric catalogue entry
into a layer; ``SwishX``, ``Snake``, ``SoftExponential``, ``PFTS``, ``StarReLU``
and ``RReLU`` are thin subclasses of it (formula, defaults and bounds all come
from the catalogue). ``PReLU``, ``PELU``, ``SReLU``, ``APL``, ``TLU``, ``DyT``,
``Rational`` and ``Maxout`` have no catalogue entry and are written here.

Used as ``Dense(..., activation=layer)``: Keras tracks the layer as an attribute
of the Dense layer and ``fit`` / ``predict`` / ``evaluate`` build it (a symbolic
pass over every unbuilt sub-layer) before compiling their step, so its weights
train, appear in ``model.trainable_weights`` and are saved. Until the model has
been run once they are not yet created. Our layers refuse, with an error, the
two situations where they would silently never train: being *built* inside a
stateless call (e.g. ``model.stateless_call`` under ``jax.jit`` with a state
list taken before the layer existed), and being called from inside another
layer's ``call`` that does not track them (e.g. a ``Lambda`` closing over the
layer).

Why one long module: the 15 learnable layers share one base class (weight creation, half
precision, the untracked-call guards) and ``Learnable`` derives most of them from the
catalogue; each layer is short, and they are read and tested together.
"""

from __future__ import annotations

import functools
import inspect
import warnings
import weakref

import keras
import numpy as np
from keras import ops

from . import gradients
from .catalogue import CATALOGUE, Param
from .internals import call_guards
from .registry import HALF_DTYPES, PACKAGE, entry as _entry

__all__ = [
    "ActivationLayer", "Bounds", "Coefficients", "Learnable", "PReLU", "SwishX", "Snake", "SoftExponential",
    "PFTS", "StarReLU", "RReLU", "PELU", "SReLU", "APL", "TLU", "DyT", "Rational", "Maxout",
    "param_shape", "LAYERS",
]


def _register(cls):
    return keras.saving.register_keras_serializable(package=PACKAGE)(cls)


# ----------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------
#: ``shared_axes`` for one value per layer (every axis shared)
ALL = "all"


def _as_axes(shared_axes):
    if shared_axes is None or shared_axes == ALL:
        return shared_axes
    if isinstance(shared_axes, str):
        raise ValueError(f"shared_axes must be None, {ALL!r} or a list of axes, not {shared_axes!r}")
    if isinstance(shared_axes, int):
        return [shared_axes]
    return [int(a) for a in shared_axes]


def shared_axes_from_legacy(name, shared_axes, values: dict, warn: bool = True):
    """``shared_axes`` for the pre-0.2 spellings in ``values`` (removed from it):
    ``channel_shared=True`` and ``per_channel=False`` mean ``"all"``, ``per_channel=True``
    one value per channel (None, or the ``shared_axes`` list given beside it)."""
    old = {k: values.pop(k) for k in ("channel_shared", "per_channel") if k in values}
    if not old:
        return shared_axes
    one = bool(old.get("channel_shared", False)) or not old.get("per_channel", True)
    new = ALL if one else (None if shared_axes == ALL else shared_axes)
    if warn:
        said = ", ".join(f"{k}={v!r}" for k, v in old.items())
        warnings.warn(f"{name}({said}) is deprecated: write shared_axes={new!r}", FutureWarning,
                      stacklevel=4)
    return new


def param_shape(input_shape, axis=-1, shared_axes=None):
    """Shape of a parameter for ``input_shape`` (batch axis first).

    ``shared_axes`` None: one value per channel of ``axis``, broadcast over the batch and
    every other axis; a list: those (1-based, batch = 0) axes share one value (Keras
    ``PReLU`` convention; ``[]`` = one value per element); ``"all"``: a scalar.
    """
    if shared_axes == ALL:
        return ()
    input_shape = tuple(input_shape)
    ndim = len(input_shape)
    if ndim < 2:
        raise ValueError(f"expected an input of rank >= 2 (batch, ..., channels), got {input_shape}")
    ax = axis % ndim
    if ax == 0:
        raise ValueError("axis cannot be the batch axis (0)")
    if shared_axes is None:
        shared = [i for i in range(1, ndim) if i != ax]
    else:
        shared = [(a % ndim) for a in shared_axes]
        if 0 in shared:
            raise ValueError("shared_axes are 1-based (the batch axis 0 is always shared)")
    shape = list(input_shape[1:])
    for i in shared:
        shape[i - 1] = 1
    if any(d is None for d in shape):
        raise ValueError(
            f"input shape {input_shape}: the non-shared axes must be known to build "
            f"per-channel parameters (parameter shape {tuple(shape)}); share the unknown axes "
            "with shared_axes=... or use one value per layer"
        )
    # drop leading ones so that a (C,)-shaped weight broadcasts as usual
    while shape and shape[0] == 1:
        shape.pop(0)
    return tuple(shape)


def initializer_constant(initializer):
    """The constant a Constant initializer produces (None for random ones)."""
    if isinstance(initializer, (int, float)) and not isinstance(initializer, bool):
        return float(initializer)
    if isinstance(initializer, keras.initializers.Constant):
        return float(initializer.get_config()["value"])
    if isinstance(initializer, keras.initializers.Zeros):
        return 0.0
    if isinstance(initializer, keras.initializers.Ones):
        return 1.0
    return None


def _initializer(value):
    """A Keras initializer from a number (constant), a name, a dict or an initializer."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return keras.initializers.Constant(float(value))
    return keras.initializers.get(value)


def _ser(obj, kind):
    return None if obj is None else getattr(keras, kind).serialize(obj)


def _param_dtype(layer):
    """Parameters are float32 under mixed / half policies, else the variable dtype."""
    vd = keras.backend.standardize_dtype(layer.variable_dtype)
    return "float32" if vd in HALF_DTYPES else vd


_GUARDS = call_guards()


@_register
class Coefficients(keras.initializers.Initializer):
    """Initializes a ``(k, ...)`` weight with ``values[i]`` along its first axis
    (broadcast over the remaining, per-channel axes)."""

    def __init__(self, values):
        self.values = [float(v) for v in values]

    def __call__(self, shape, dtype=None):
        shape = tuple(shape)
        if not shape or shape[0] != len(self.values):
            raise ValueError(f"Coefficients: {len(self.values)} values for a weight of shape {shape}")
        v = ops.reshape(ops.convert_to_tensor(self.values, dtype=dtype or "float32"),
                        (len(self.values),) + (1,) * (len(shape) - 1))
        return ops.broadcast_to(v, shape)

    def get_config(self):
        return {"values": list(self.values)}


@_register
class Bounds(keras.constraints.Constraint):
    """Clips a weight into ``[min_value, max_value]`` after every optimizer step.

    Strict catalogue bounds (``gt`` / ``lt``) are kept by clipping to
    ``bound +/- eps``. Built from a catalogue ``Param`` by ``Bounds.from_param``.
    """

    def __init__(self, min_value=None, max_value=None):
        self.min_value = None if min_value is None else float(min_value)
        self.max_value = None if max_value is None else float(max_value)

    def __call__(self, w):
        if self.min_value is not None:
            w = ops.maximum(w, ops.cast(self.min_value, w.dtype))
        if self.max_value is not None:
            w = ops.minimum(w, ops.cast(self.max_value, w.dtype))
        return w

    @classmethod
    def from_param(cls, p: Param, eps: float = 1e-4):
        lo = p.ge if p.ge is not None else (p.gt + eps if p.gt is not None else None)
        hi = p.le if p.le is not None else (p.lt - eps if p.lt is not None else None)
        if lo is None and hi is None:
            return None
        return cls(lo, hi)

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value}


class ActivationLayer(keras.layers.Layer):
    """Base class: shape-preserving, channel-wise, half-precision safe.

    Subclasses create weights in ``build`` with ``self.add_param(...)`` and
    implement ``activation(x, training)`` on a float32-or-wider tensor, reading
    weights with ``self.param(variable, x)``.
    """

    #: family for keras_acts.initializer_for ('he' | 'lecun' | 'glorot' | 'gain')
    init_family = "gain"

    def __init__(self, axis=-1, shared_axes=None, **kwargs):
        shared_axes = shared_axes_from_legacy(type(self).__name__, shared_axes, kwargs)
        super().__init__(**kwargs)
        self.axis = int(axis)
        self.shared_axes = _as_axes(shared_axes)
        self.supports_masking = True
        object.__setattr__(self, "_ka_tracked_by", weakref.WeakSet())

    # -- guards against silently untrained weights ----------------------------
    def __call__(self, *args, **kwargs):
        if _GUARDS is not None:
            self._check_call_context()
        return super().__call__(*args, **kwargs)

    def _check_call_context(self):
        global_state, get_stateless_scope, in_symbolic_scope = _GUARDS
        scope = get_stateless_scope()
        # A stateless scope given explicit state (stateless_call) that does not hold
        # our weights: building here creates weights outside that state. (Keras's own
        # symbolic builds and JAX predict's eager build use an empty scope: fine.)
        if (not self.built and scope is not None and getattr(scope, "state_mapping", None)
                and not in_symbolic_scope()):
            raise RuntimeError(
                f"keras_acts: layer {self.name!r} ({type(self).__name__}) is being built inside a "
                "stateless call (e.g. model.stateless_call(...) under jax.jit). Its weights would "
                "not be part of the state you passed in and would never train. Build the model "
                "first: call it once on a batch (model(x)), or run fit/predict/evaluate, before "
                "taking model.trainable_variables."
            )
        ctx = global_state.get_global_attribute("current_call_ctx")
        outer = getattr(ctx, "entry_layer", None)
        if outer is None or outer is self:
            return
        try:
            if outer in self._ka_tracked_by:
                return
        except TypeError:  # pragma: no cover - not weak-referenceable
            return
        flatten = getattr(outer, "_flatten_layers", None)
        if flatten is None:  # pragma: no cover
            return
        if any(layer is self for layer in flatten(include_self=False, recursive=True)):
            self._ka_tracked_by.add(outer)
            return
        raise ValueError(
            f"keras_acts: layer {self.name!r} ({type(self).__name__}) is called from inside "
            f"{type(outer).__name__} {outer.name!r}, which does not track it: its weights are "
            f"not in {outer.name!r}.trainable_weights, would never train and would not be saved. "
            "Make it an attribute of the layer / model that calls it (self.act = ... in "
            "__init__), pass it as activation=, or use it as a layer of the model."
        )

    # -- shape ---------------------------------------------------------------
    def _param_shape(self, input_shape):
        """The per-channel weight shape for ``input_shape``; also sets ``input_spec`` (as
        Keras's PReLU does in ``build``), so that a later input of another rank or another
        size along a weight's axes fails with Keras's clear message, not a broadcast error."""
        shape = param_shape(input_shape, self.axis, self.shared_axes)
        self._pin_input(input_shape, shape)
        return shape

    def _pin_input(self, input_shape, weight_shape):
        input_shape = tuple(input_shape)
        ndim = len(input_shape)
        # weight_shape is right-aligned against input_shape[1:] (leading ones dropped)
        axes = {ndim - len(weight_shape) + i: d for i, d in enumerate(weight_shape) if d != 1}
        # one value per layer (or per shared axis only) fits any input: nothing to pin
        self.input_spec = keras.layers.InputSpec(ndim=ndim, axes=axes) if axes else None

    def compute_output_shape(self, input_shape):
        return input_shape

    def add_param(self, name, shape, initializer, regularizer=None, constraint=None):
        """A float32 (under half policies), never-autocast parameter weight."""
        return self.add_weight(
            name=name, shape=tuple(shape), initializer=initializer, regularizer=regularizer,
            constraint=constraint, dtype=_param_dtype(self), autocast=False,
        )

    # -- numerics ------------------------------------------------------------
    #: False where a call has side effects (RReLU draws its slopes in training):
    #: recomputing it in the backward pass would draw again
    recomputable = True

    def call(self, inputs, training=None):
        def forward(x):
            dtype = keras.backend.standardize_dtype(x.dtype)
            if dtype in HALF_DTYPES:
                return ops.cast(self.activation(ops.cast(x, "float32"), training=training), dtype)
            return self.activation(x, training=training)

        if self.recomputable and gradients.recompute_layers():
            # keeps the input (and reads the weights) only; the backward pass runs the
            # forward again (jax.checkpoint / tf.recompute_grad / torch checkpoint)
            return keras.remat(forward)(inputs)
        return forward(inputs)

    def activation(self, x, training=None):  # pragma: no cover - abstract
        raise NotImplementedError

    @staticmethod
    def param(variable, x):
        """A weight as a tensor in x's dtype (weights are float32, not autocast)."""
        v = variable.value if hasattr(variable, "value") else variable
        if keras.backend.standardize_dtype(v.dtype) != keras.backend.standardize_dtype(x.dtype):
            v = ops.cast(v, x.dtype)
        return v

    def get_config(self):
        config = super().get_config()
        config.update(axis=self.axis, shared_axes=self.shared_axes)
        return config

    @classmethod
    def from_config(cls, config):
        """Also files saved before 0.2 (``channel_shared`` / ``per_channel``), silently."""
        config = dict(config)
        if "channel_shared" in config or "per_channel" in config:
            default = inspect.signature(cls.__init__).parameters.get("shared_axes")
            given = config.get("shared_axes", None if default is None else default.default)
            config["shared_axes"] = shared_axes_from_legacy(cls.__name__, given, config, False)
        return super().from_config(config)


# ----------------------------------------------------------------------------
# PReLU
# ----------------------------------------------------------------------------
@_register
class PReLU(ActivationLayer):
    """Parametric ReLU, He et al. 2015 (Delving Deep into Rectifiers).

    ``f(x) = x if x > 0 else alpha * x`` with ``alpha`` learned, initialised to
    0.25 and **channel-wise** (one alpha per channel of the last axis, shared over
    batch and spatial axes) as in the paper. ``shared_axes=[]`` gives Keras's
    one-alpha-per-element form, ``shared_axes="all"`` a single alpha. The paper
    applies no weight decay to alpha: ``alpha_regularizer`` defaults to None.

    >>> keras.Sequential([keras.layers.Dense(64), keras_acts.layers.PReLU()])
    """

    init_family = "he"

    def __init__(self, alpha_initializer=0.25, alpha_regularizer=None, alpha_constraint=None,
                 shared_axes=None, axis=-1, **kwargs):
        super().__init__(axis=axis, shared_axes=shared_axes, **kwargs)
        self.alpha_initializer = _initializer(alpha_initializer)
        self.alpha_regularizer = keras.regularizers.get(alpha_regularizer)
        self.alpha_constraint = keras.constraints.get(alpha_constraint)

    def build(self, input_shape):
        self.alpha = self.add_param("alpha", self._param_shape(input_shape),
                                    self.alpha_initializer, self.alpha_regularizer,
                                    self.alpha_constraint)

    def activation(self, x, training=None):
        alpha = self.param(self.alpha, x)
        return ops.relu(x) + alpha * ops.minimum(x, 0.0)

    @property
    def negative_slope(self):
        """Initial slope (for keras_acts.initializer_for); 0.25 unless a random init."""
        v = initializer_constant(self.alpha_initializer)
        return 0.25 if v is None else v

    def get_config(self):
        config = super().get_config()
        config.update(
            alpha_initializer=_ser(self.alpha_initializer, "initializers"),
            alpha_regularizer=_ser(self.alpha_regularizer, "regularizers"),
            alpha_constraint=_ser(self.alpha_constraint, "constraints"),
        )
        return config


# ----------------------------------------------------------------------------
# Learnable: any parametric catalogue entry
# ----------------------------------------------------------------------------
def _soft_exponential(x, alpha=0.0):
    """The catalogue form, plus its first-order expansion x + alpha (1 + x^2 / 2) for
    |alpha| < 1e-3: the catalogue's identity branch at alpha = 0 has zero gradient
    w.r.t. alpha, so an alpha initialised at 0 (the identity) would never learn."""
    small = ops.abs(alpha) < 1e-3
    safe = ops.where(small, ops.ones_like(alpha), alpha)
    return ops.where(small, x + alpha * (1.0 + 0.5 * x * x),
                     CATALOGUE["soft_exponential"].fn(x, alpha=safe))


#: Learnable uses these instead of the catalogue's formula (``Entry.tensor_fn`` where set —
#: the Keras built-ins whose own functions take Python floats only on some backends — else
#: ``Entry.fn``): catalogue formulas whose parameter gradient vanishes where it should not.
OVERRIDES = {"soft_exponential": _soft_exponential}

#: (entry, parameter) pairs the output is piecewise constant in: the gradient is
#: zero almost everywhere, so they do not learn by backpropagation (a warning).
#: Value: when that holds, given the parameter values and the learned names.
ZERO_GRADIENT = {
    ("binary_step", "threshold"): lambda p, learn: True,
    ("hard_shrink", "threshold"): lambda p, learn: True,
    ("threshold", "threshold"): lambda p, learn: True,
    ("relu", "threshold"): lambda p, learn: p["negative_slope"] == 0 and "negative_slope" not in learn,
}


def zero_gradient_params(name: str, params: dict, learn) -> list:
    """The learned parameters of ``name`` that get zero gradient almost everywhere."""
    return [k for k in learn if ZERO_GRADIENT.get((name, k), lambda p, l: False)(params, learn)]


def learnable_entries() -> list[str]:
    """Catalogue names that ``Learnable`` can train (at least one learnable parameter)."""
    return sorted(n for n, e in CATALOGUE.items() if e.learnable_params)


def _split_trainable(trainable, learn):
    """``trainable=`` is Keras's bool flag or (the issue's API) parameter names."""
    if isinstance(trainable, str):
        return True, (trainable,)
    if isinstance(trainable, (list, tuple)):
        return True, tuple(trainable)
    if learn is not None:
        learn = (learn,) if isinstance(learn, str) else tuple(learn)
    return (True if trainable is None else bool(trainable)), learn


@_register
class Learnable(ActivationLayer):
    """Any parametric catalogue activation as a layer whose parameters learn.

    ``Learnable("swish_x")`` learns beta; ``Learnable("aria2", trainable=("beta",),
    alpha=2.0)`` learns beta and keeps alpha fixed at 2.0. Everything comes from
    the catalogue entry: the formula (``Entry.fn``, evaluated with the weights as
    tensors), the defaults, which parameters may learn (``Entry.learnable_params``)
    and their ranges: a ``gt`` / ``ge`` / ``lt`` / ``le`` bound becomes a
    ``Bounds`` constraint that clips the weight back into range after each step.

    Args:
        activation: catalogue name (``keras_acts.layers.learnable_entries()``).
        trainable: names of the parameters to learn (default: all learnable ones);
            a bool is Keras's usual layer flag. Stored in the config as ``learn``.
        shared_axes: ``"all"`` (default) one value per layer, None one per channel of
            ``axis``, or Keras's list of shared axes.
        params: initial values of the learned parameters and values of the fixed
            ones; catalogue parameter names may also be given as keywords.
        regularizer: applied to every learned parameter (default none).
        learn: same as a tuple ``trainable`` (what ``get_config`` stores).
    """

    def __init__(self, activation, trainable=None, params=None, regularizer=None, axis=-1,
                 shared_axes=ALL, learn=None, **kwargs):
        e = _entry(activation)
        if e.alias_of:
            e = CATALOGUE[e.alias_of] if CATALOGUE[e.alias_of].params == e.params else e
        params = dict(params or {})
        for k in list(kwargs):
            if k in e.params:
                params[k] = kwargs.pop(k)
        layer_trainable, learn = _split_trainable(trainable, learn)
        if learn is None:
            given = e.validate(params)
            learn = tuple(k for k in e.learnable_params if given[k] is not None)
            if not learn:
                raise ValueError(
                    f"{e.name} has no learnable parameters; use activation={e.name!r} "
                    f"(learnable entries: {', '.join(learnable_entries())})"
                )
        bad = [k for k in learn if k not in e.learnable_params]
        if bad:
            raise ValueError(
                f"{e.name}: cannot learn {bad}; learnable parameters: "
                f"{', '.join(e.learnable_params) or 'none'}"
            )
        full = e.validate(params)
        for k in learn:
            if full[k] is None:
                raise ValueError(f"{e.name}: give an initial value for learned parameter {k!r}")
        super().__init__(axis=axis, shared_axes=shared_axes, trainable=layer_trainable, **kwargs)
        self.entry = e
        self.learn = tuple(learn)
        self.params = {k: v for k, v in params.items()}
        self._full_params = full
        self.regularizer = keras.regularizers.get(regularizer)
        self.init_family = e.init
        self._fn = OVERRIDES.get(e.name) or e.tensor_fn or e.fn
        dead = zero_gradient_params(e.name, full, self.learn)
        if dead:
            warnings.warn(
                f"Learnable({e.name!r}): {dead} get zero gradient almost everywhere "
                f"({e.name} is piecewise constant in them); they will not move during training.",
                stacklevel=2,
            )

    # for keras_acts.initializer_for
    @property
    def catalogue_name(self):
        return self.entry.name

    @property
    def initial_params(self):
        return dict(self._full_params)

    def build(self, input_shape):
        shape = self._param_shape(input_shape)
        self.weights_by_param = {}
        for k in self.learn:
            w = self.add_param(k, shape, keras.initializers.Constant(float(self._full_params[k])),
                               self.regularizer, Bounds.from_param(self.entry.params[k]))
            self.weights_by_param[k] = w

    def current_params(self, x):
        """Parameter values for this call: learned weights (as tensors) + fixed values."""
        values = dict(self._full_params)
        for k in self.learn:
            values[k] = self.param(self.weights_by_param[k], x)
        return values

    def activation(self, x, training=None):
        return self._fn(x, **self.current_params(x))

    def get_config(self):
        config = super().get_config()
        config.update(
            activation=self.entry.name, learn=list(self.learn), params=dict(self.params),
            regularizer=_ser(self.regularizer, "regularizers"),
        )
        return config


class _FromCatalogue(Learnable):
    """A named Learnable with the parameters as keyword arguments (its config)."""

    _activation: str = ""

    def __init__(self, regularizer=None, axis=-1, shared_axes=ALL, trainable=True, **kwargs):
        e = CATALOGUE[self._activation]
        params = {k: kwargs.pop(k) for k in list(kwargs) if k in e.params}
        super().__init__(
            self._activation, trainable=bool(trainable), params=params, regularizer=regularizer,
            axis=axis, shared_axes=shared_axes, learn=self._learn(e), **kwargs,
        )

    def _learn(self, e):
        return e.learnable_params

    def get_config(self):
        config = super().get_config()
        for k in ("activation", "learn", "params"):
            config.pop(k)
        config.update(self._full_params_for_config())
        return config

    def _full_params_for_config(self):
        return {k: self._full_params[k] for k in self.entry.params}


@_register
class SwishX(_FromCatalogue):
    """Swish with a learnable beta: ``x * sigmoid(beta * x)`` (Ramachandran et al. 2017).

    ``SwishX(beta=1.0)`` learns one beta (``shared_axes=None``: one per channel);
    ``trainable=False`` freezes it. The string name ``"swish_x"`` stays the
    stateless function.
    """

    _activation = "swish_x"

    def __init__(self, beta=1.0, trainable=True, shared_axes=ALL, **kwargs):
        super().__init__(beta=beta, trainable=trainable, shared_axes=shared_axes, **kwargs)


@_register
class Snake(_FromCatalogue):
    """Snake, ``x + sin^2(alpha x) / alpha`` with learnable frequency alpha
    (Ziyin et al. 2020), one per channel by default (as in BigVGAN)."""

    _activation = "snake"

    def __init__(self, alpha=1.0, shared_axes=None, **kwargs):
        super().__init__(alpha=alpha, shared_axes=shared_axes, **kwargs)


@_register
class SoftExponential(_FromCatalogue):
    """Soft exponential (Godfrey & Gashler 2015) with learnable alpha (one per
    unit in the paper, hence per-channel by default); alpha = 0 is the identity."""

    _activation = "soft_exponential"

    def __init__(self, alpha=0.0, shared_axes=None, **kwargs):
        super().__init__(alpha=alpha, shared_axes=shared_axes, **kwargs)


@_register
class PFTS(_FromCatalogue):
    """Parametric Flatten-T Swish: FTS (Chieng et al. 2018) with learnable T <= 0."""

    _activation = "fts"

    def __init__(self, T=-0.2, shared_axes=ALL, **kwargs):
        super().__init__(T=T, shared_axes=shared_axes, **kwargs)


@_register
class StarReLU(_FromCatalogue):
    """StarReLU, ``s * relu(x)^2 + b`` with learnable scalars s, b (Yu et al. 2022)."""

    _activation = "star_relu"

    def __init__(self, s=0.8944, b=-0.4472, shared_axes=ALL, **kwargs):
        super().__init__(s=s, b=b, shared_axes=shared_axes, **kwargs)


@_register
class RReLU(_FromCatalogue):
    """Randomized leaky ReLU (Xu et al. 2015).

    Training: each negative element gets a slope drawn from U(lower, upper);
    inference: the catalogue's deterministic form with the mean slope
    (lower + upper) / 2. Nothing is learned (lower / upper are fixed).
    """

    _activation = "rrelu"
    init_family = "he"
    recomputable = False

    def __init__(self, lower=0.125, upper=1.0 / 3.0, seed=None, **kwargs):
        _refuse(self, kwargs, "per_channel", "channel_shared")
        super().__init__(lower=lower, upper=upper, **kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def _learn(self, e):
        return ()

    def activation(self, x, training=None):
        if not training:
            return super().activation(x)
        lower, upper = self._full_params["lower"], self._full_params["upper"]
        slope = keras.random.uniform(ops.shape(x), minval=lower, maxval=upper, dtype=x.dtype,
                                     seed=self.seed_generator)
        return ops.where(x >= 0, x, slope * x)

    def get_config(self):
        config = super().get_config()
        config["seed"] = self.seed
        return config


# ----------------------------------------------------------------------------
# dedicated layers (no catalogue entry)
# ----------------------------------------------------------------------------
class _ParamLayer(ActivationLayer):
    """Layer with named parameters, each with initializer / regularizer / constraint."""

    #: name -> (default initial value, default constraint or None)
    PARAMS: dict = {}

    def __init__(self, initializers, regularizer=None, constraints=None, axis=-1,
                 shared_axes=None, **kwargs):
        super().__init__(axis=axis, shared_axes=shared_axes, **kwargs)
        self.initializers = {k: _initializer(v) for k, v in initializers.items()}
        self.regularizer = keras.regularizers.get(regularizer)
        self.constraints = {k: keras.constraints.get(v) for k, v in (constraints or {}).items()}

    def build(self, input_shape):
        shape = self._param_shape(input_shape)
        for k, init in self.initializers.items():
            setattr(self, k, self.add_param(k, self._shape_for(k, shape), init, self.regularizer,
                                            self.constraints.get(k)))

    def _shape_for(self, name, shape):
        return shape

    def get_config(self):
        config = super().get_config()
        config.update({f"{k}_initializer": _ser(v, "initializers")
                       for k, v in self.initializers.items()})
        config["regularizer"] = _ser(self.regularizer, "regularizers")
        return config


@_register
class PELU(_ParamLayer):
    """Parametric ELU (Trottier et al. 2017):
    ``f(x) = (a/b) x if x >= 0 else a (exp(x/b) - 1)``, a, b > 0.

    a, b start at 1 (ELU) and are kept >= ``min_value`` (0.1 in the paper) by a
    constraint. One pair per layer as in the paper; ``shared_axes=None`` for one
    per channel.
    """

    init_family = "he"

    def __init__(self, a_initializer=1.0, b_initializer=1.0, min_value=0.1, regularizer=None,
                 shared_axes=ALL, **kwargs):
        self.min_value = float(min_value)
        bound = Bounds(self.min_value, None)
        super().__init__({"a": a_initializer, "b": b_initializer}, regularizer,
                         {"a": bound, "b": bound}, shared_axes=shared_axes, **kwargs)

    def activation(self, x, training=None):
        a, b = self.param(self.a, x), self.param(self.b, x)
        return ops.where(x >= 0, (a / b) * x, a * ops.expm1(ops.minimum(x, 0.0) / b))

    def get_config(self):
        return {**super().get_config(), "min_value": self.min_value}


@_register
class SReLU(_ParamLayer):
    """S-shaped ReLU (Jin et al. 2016), channel-wise:
    ``t_r + a_r (x - t_r)`` for ``x >= t_r``, ``x`` between, ``t_l + a_l (x - t_l)``
    for ``x <= t_l``. Initialised as a leaky ReLU (t_l = 0, a_l = 0.2) with the
    right threshold at 1 and identity slope beyond it."""

    init_family = "he"

    def __init__(self, t_left_initializer=0.0, a_left_initializer=0.2, t_right_initializer=1.0,
                 a_right_initializer=1.0, regularizer=None, shared_axes=None, **kwargs):
        super().__init__({"t_left": t_left_initializer, "a_left": a_left_initializer,
                          "t_right": t_right_initializer, "a_right": a_right_initializer},
                         regularizer, None, shared_axes=shared_axes, **kwargs)

    def activation(self, x, training=None):
        tl, al = self.param(self.t_left, x), self.param(self.a_left, x)
        tr, ar = self.param(self.t_right, x), self.param(self.a_right, x)
        return ops.where(x >= tr, tr + ar * (x - tr), ops.where(x <= tl, tl + al * (x - tl), x))


@_register
class APL(_ParamLayer):
    """Adaptive piecewise linear unit (Agostinelli et al. 2015):
    ``relu(x) + sum_s a_s * relu(b_s - x)`` with S hinges per channel.

    a starts at 0 (a ReLU; a moves first, then b), b spread over [-1, 1]. The
    paper puts L2 weight decay (0.001) on a: pass ``regularizer``.
    """

    init_family = "he"

    def __init__(self, hinges=2, a_initializer="zeros", b_initializer=None, regularizer=None,
                 shared_axes=None, **kwargs):
        self.hinges = int(hinges)
        if self.hinges < 1:
            raise ValueError(f"APL: hinges must be >= 1, got {hinges}")
        if b_initializer is None:
            b_initializer = keras.initializers.RandomUniform(-1.0, 1.0, seed=0)
        super().__init__({"a": a_initializer, "b": b_initializer}, regularizer, None,
                         shared_axes=shared_axes, **kwargs)

    def _shape_for(self, name, shape):
        return (self.hinges,) + (tuple(shape) or ())

    def activation(self, x, training=None):
        a, b = self.param(self.a, x), self.param(self.b, x)
        y = ops.relu(x)
        for s in range(self.hinges):
            y = y + a[s] * ops.relu(b[s] - x)
        return y

    def get_config(self):
        return {**super().get_config(), "hinges": self.hinges}


@_register
class TLU(_ParamLayer):
    """Thresholded linear unit (Singh & Krishnan 2020, FRN): ``max(x, tau)``,
    tau learned per channel, initialised to 0 (a ReLU)."""

    init_family = "he"

    def __init__(self, tau_initializer=0.0, regularizer=None, shared_axes=None, **kwargs):
        super().__init__({"tau": tau_initializer}, regularizer, None, shared_axes=shared_axes,
                         **kwargs)

    def activation(self, x, training=None):
        return ops.maximum(x, self.param(self.tau, x))


@_register
class DyT(_ParamLayer):
    """Dynamic Tanh (Zhu et al. 2025, Transformers without Normalization):
    ``gamma * tanh(alpha * x) + beta`` with a scalar alpha (init 0.5) and
    per-channel gamma (ones), beta (zeros); ``affine=False`` drops gamma, beta."""

    init_family = "glorot"

    def __init__(self, alpha_initializer=0.5, affine=True, gamma_initializer="ones",
                 beta_initializer="zeros", regularizer=None, **kwargs):
        self.affine = bool(affine)
        _refuse(self, kwargs, "per_channel", "channel_shared")
        inits = {"alpha": alpha_initializer}
        if self.affine:
            inits.update(gamma=gamma_initializer, beta=beta_initializer)
        super().__init__(inits, regularizer, None, **kwargs)

    def _shape_for(self, name, shape):
        return () if name == "alpha" else shape

    def activation(self, x, training=None):
        y = ops.tanh(self.param(self.alpha, x) * x)
        if self.affine:
            y = self.param(self.gamma, x) * y + self.param(self.beta, x)
        return y

    def get_config(self):
        config = super().get_config()
        config["affine"] = self.affine
        if not self.affine:
            config.update(gamma_initializer="ones", beta_initializer="zeros")
        return config


@functools.lru_cache(maxsize=32)
def rational_coefficients(negative_slope=0.01, degrees=(5, 4), lo=-3.0, hi=3.0):
    """(numerator, denominator) coefficients of a safe Pade unit fitted to a leaky ReLU.

    Least squares (SciPy's Levenberg-Marquardt) of ``P(x) / (1 + |Q(x)|)`` to
    ``leaky_relu(x, negative_slope)`` on 601 points of ``[lo, hi]``, started
    from the linearised fit; deterministic. As Molina et al. 2019 (PAU), who
    initialise with a fit to leaky ReLU.
    """
    from scipy.optimize import least_squares

    m, n = int(degrees[0]), int(degrees[1])
    x = np.linspace(lo, hi, 601)
    f = np.where(x >= 0, x, negative_slope * x)
    V = np.vander(x, m + 1, increasing=True)
    X = np.vander(x, n + 1, increasing=True)[:, 1:]
    start = np.linalg.lstsq(np.concatenate([V, -f[:, None] * X], 1), f, rcond=None)[0]

    def residual(p):
        return V @ p[: m + 1] / (1.0 + np.abs(X @ p[m + 1:])) - f

    def jacobian(p):
        B = X @ p[m + 1:]
        Q = 1.0 + np.abs(B)
        P = V @ p[: m + 1]
        return np.concatenate([V / Q[:, None], -(P / Q ** 2 * np.sign(B))[:, None] * X], 1)

    p = least_squares(residual, start, jac=jacobian, method="lm", xtol=1e-15, ftol=1e-15,
                      gtol=1e-15, max_nfev=20000).x
    return tuple(float(v) for v in p[: m + 1]), tuple(float(v) for v in p[m + 1:])


@_register
class Rational(_ParamLayer):
    """Rational (Pade) activation unit (Molina et al. 2019, safe PAU):
    ``P(x) / (1 + |b_1 x + ... + b_n x^n|)`` with ``P`` of degree m.

    Coefficients are initialised to approximate ``leaky_relu(x, negative_slope)``
    on [-3, 3] (``rational_coefficients``); one set per layer as in the paper,
    ``shared_axes=None`` for one per channel.
    """

    init_family = "he"

    def __init__(self, degrees=(5, 4), negative_slope=0.01, numerator_initializer=None,
                 denominator_initializer=None, regularizer=None, shared_axes=ALL, **kwargs):
        self.degrees = (int(degrees[0]), int(degrees[1]))
        self.negative_slope = float(negative_slope)
        if numerator_initializer is None or denominator_initializer is None:
            num, den = rational_coefficients(self.negative_slope, self.degrees)
            numerator_initializer = numerator_initializer or Coefficients(num)
            denominator_initializer = denominator_initializer or Coefficients(den)
        super().__init__({"numerator": numerator_initializer,
                          "denominator": denominator_initializer},
                         regularizer, None, shared_axes=shared_axes, **kwargs)

    def _shape_for(self, name, shape):
        k = self.degrees[0] + 1 if name == "numerator" else self.degrees[1]
        return (k,) + tuple(shape)

    def activation(self, x, training=None):
        a, b = self.param(self.numerator, x), self.param(self.denominator, x)
        p = a[self.degrees[0]] * ops.ones_like(x)
        for j in range(self.degrees[0] - 1, -1, -1):  # Horner
            p = p * x + a[j]
        q = b[self.degrees[1] - 1] * ops.ones_like(x)
        for k in range(self.degrees[1] - 2, -1, -1):
            q = q * x + b[k]
        return p / (1.0 + ops.abs(q * x))

    def get_config(self):
        config = super().get_config()
        config.update(degrees=list(self.degrees), negative_slope=self.negative_slope)
        return config


@_register
class Maxout(ActivationLayer):
    """Maxout (Goodfellow et al. 2013) with ``pieces`` linear pieces.

    ``Maxout(pieces=k, units=n)`` learns ``k`` affine maps to ``n`` units and
    takes their elementwise max (the paper's unit). ``units=None`` is the
    weight-free form: the ``axis`` channels are split into groups of ``k``
    consecutive channels and each group is reduced by max (C must divide by k).
    """

    init_family = "he"
    # its own call (a Dense-like unit): the backward keeps the matmul's input, as Dense does
    recomputable = False

    def __init__(self, pieces=2, units=None, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, axis=-1, **kwargs):
        _refuse(self, kwargs, "shared_axes", "channel_shared", "per_channel")
        super().__init__(axis=axis, **kwargs)
        self.pieces = int(pieces)
        if self.pieces < 1:
            raise ValueError(f"Maxout: pieces must be >= 1, got {pieces}")
        self.units = None if units is None else int(units)
        if self.units is not None and self.axis != -1:
            raise ValueError("Maxout with units acts on the last axis (axis=-1)")
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)

    def build(self, input_shape):
        c = input_shape[self.axis]
        if self.units is None:
            if c is None or c % self.pieces:
                raise ValueError(f"Maxout: {c} channels do not split into groups of {self.pieces}")
            return
        if c is None:
            raise ValueError("Maxout: the input's last axis must be known")
        self._pin_input(input_shape, (c,))
        self.kernel = self.add_weight(name="kernel", shape=(c, self.units * self.pieces),
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer)
        self.bias = self.add_weight(name="bias", shape=(self.units * self.pieces,),
                                    initializer=self.bias_initializer)

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        if self.units is not None:
            shape[-1] = self.units
        elif shape[self.axis] is not None:
            shape[self.axis] = shape[self.axis] // self.pieces
        return tuple(shape)

    def call(self, inputs, training=None):
        x = inputs
        if self.units is not None:
            x = ops.matmul(x, self.kernel) + self.bias
            shape = ops.shape(x)[:-1] + (self.units, self.pieces)
            return ops.max(ops.reshape(x, shape), axis=-1)
        ndim = len(x.shape)
        ax = self.axis % ndim
        shape = list(ops.shape(x))
        shape[ax: ax + 1] = [shape[ax] // self.pieces, self.pieces]
        return ops.max(ops.reshape(x, shape), axis=ax + 1)

    def initial_second_moment(self):
        """E[max_k z_k^2] for k iid standard normals (weight-free form, Monte Carlo)."""
        z = np.random.default_rng(0).standard_normal((400_000, self.pieces))
        return float(np.mean(np.max(z, axis=-1) ** 2))

    def get_config(self):
        config = super().get_config()
        config.pop("shared_axes")
        config.update(pieces=self.pieces, units=self.units,
                      kernel_initializer=_ser(self.kernel_initializer, "initializers"),
                      bias_initializer=_ser(self.bias_initializer, "initializers"),
                      kernel_regularizer=_ser(self.kernel_regularizer, "regularizers"))
        return config


def _refuse(layer, kwargs, *names):
    """Arguments the base class takes that this layer cannot honour: a ValueError, as Keras
    raises for unknown keyword arguments, instead of silently ignoring them."""
    given = [n for n in names if n in kwargs]
    if given:
        raise ValueError(f"{type(layer).__name__} does not take {', '.join(map(repr, given))}: "
                        "it has no per-element parameters to share or split")


#: every layer class of this module (tests build each one)
LAYERS = (PReLU, Learnable, SwishX, Snake, SoftExponential, PFTS, StarReLU, RReLU, PELU, SReLU,
          APL, TLU, DyT, Rational, Maxout)
