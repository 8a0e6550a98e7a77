"""Learnable activation layers.

Every layer here

* keeps its learned values in weights (never in ``get_config``), whose config
  mirrors ``__init__``; all are registered as ``keras_acts>ClassName`` so
  ``.keras`` files load after ``import keras_acts`` with ``safe_mode`` on;
* stores its parameters in float32 (``autocast=False``) and computes in float32
  for float16 / bfloat16 inputs, casting the result back to the layer's compute
  dtype, so ``mixed_float16`` / ``mixed_bfloat16`` policies work;
* is channel-wise by default: one value per channel of ``axis`` (the last axis),
  shared over batch and spatial axes. ``shared_axes`` (Keras convention: 1-based
  axes, the batch axis being 0) overrides which axes share a value,
  ``channel_shared=True`` gives one scalar per parameter.
"""

from __future__ import annotations

import math

import keras
from keras import ops

from .catalogue import CATALOGUE, Param
from .registry import PACKAGE, entry as _entry

_HALF = ("float16", "bfloat16")


def _register(cls):
    return keras.saving.register_keras_serializable(package=PACKAGE)(cls)


# ----------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------
def _as_axes(shared_axes):
    if shared_axes is None:
        return None
    if isinstance(shared_axes, int):
        return [shared_axes]
    return [int(a) for a in shared_axes]


def param_shape(input_shape, axis=-1, shared_axes=None, channel_shared=False):
    """Shape of a per-channel parameter for ``input_shape`` (batch axis first).

    Default: one value per channel of ``axis``, broadcast over the batch and
    every other axis. ``shared_axes`` lists the (1-based, batch = 0) axes that
    share one value (Keras ``PReLU`` convention; ``[]`` = one value per element).
    ``channel_shared`` gives a scalar.
    """
    if channel_shared:
        return ()
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
            f"input shape {tuple(input_shape)}: the non-shared axes must be known to build "
            f"per-channel parameters (parameter shape {tuple(shape)}); share the unknown axes "
            "with shared_axes=... or use channel_shared=True"
        )
    # drop leading ones so that a (C,)-shaped weight broadcasts as usual
    while shape and shape[0] == 1:
        shape.pop(0)
    return tuple(shape)


def _init_value(initializer):
    """The constant a Constant initializer produces (None for random ones)."""
    if isinstance(initializer, (int, float)):
        return float(initializer)
    if isinstance(initializer, keras.initializers.Constant):
        return float(initializer.get_config()["value"])
    if isinstance(initializer, keras.initializers.Zeros):
        return 0.0
    if isinstance(initializer, keras.initializers.Ones):
        return 1.0
    return None


def _initializer(value):
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return keras.initializers.Constant(float(value))
    return keras.initializers.get(value)


class ActivationLayer(keras.layers.Layer):
    """Base class: shape-preserving, channel-wise, half-precision safe.

    Subclasses implement ``activation(x)`` on a float32-or-wider tensor, with
    their parameters obtained by ``self.param(variable, x)``.
    """

    #: family for keras_acts.initializer_for ('he' | 'lecun' | 'glorot' | 'gain')
    init_family = "gain"

    def __init__(self, axis=-1, shared_axes=None, channel_shared=False, **kwargs):
        super().__init__(**kwargs)
        self.axis = int(axis)
        self.shared_axes = _as_axes(shared_axes)
        self.channel_shared = bool(channel_shared)
        self.supports_masking = True

    # -- shape ---------------------------------------------------------------
    def _param_shape(self, input_shape):
        return param_shape(input_shape, self.axis, self.shared_axes, self.channel_shared)

    def compute_output_shape(self, input_shape):
        return input_shape

    # -- numerics ------------------------------------------------------------
    def call(self, inputs):
        x = inputs
        dtype = keras.backend.standardize_dtype(x.dtype)
        if dtype in _HALF:
            return ops.cast(self.activation(ops.cast(x, "float32")), dtype)
        return self.activation(x)

    def activation(self, x):  # pragma: no cover - abstract
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
        config.update(axis=self.axis, shared_axes=self.shared_axes,
                      channel_shared=self.channel_shared)
        return config


# ----------------------------------------------------------------------------
# PReLU
# ----------------------------------------------------------------------------
@_register
class PReLU(ActivationLayer):
    """Parametric ReLU, He et al. 2015 (Delving Deep into Rectifiers).

    ``f(x) = x if x > 0 else alpha * x`` with ``alpha`` learned, initialised to
    0.25 and **channel-wise** (one alpha per channel of the last axis, shared over
    batch and spatial axes) as in the paper. ``shared_axes=[]`` gives Keras's
    one-alpha-per-element form, ``channel_shared=True`` a single alpha. The paper
    applies no weight decay to alpha: ``alpha_regularizer`` defaults to None.

    >>> keras.Sequential([keras.layers.Dense(64), keras_acts.layers.PReLU()])
    """

    init_family = "he"

    def __init__(self, alpha_initializer=0.25, alpha_regularizer=None, alpha_constraint=None,
                 shared_axes=None, channel_shared=False, axis=-1, **kwargs):
        super().__init__(axis=axis, shared_axes=shared_axes, channel_shared=channel_shared,
                         **kwargs)
        self.alpha_initializer = _initializer(alpha_initializer)
        self.alpha_regularizer = keras.regularizers.get(alpha_regularizer)
        self.alpha_constraint = keras.constraints.get(alpha_constraint)

    def build(self, input_shape):
        self.alpha = self.add_weight(
            name="alpha", shape=self._param_shape(input_shape),
            initializer=self.alpha_initializer, regularizer=self.alpha_regularizer,
            constraint=self.alpha_constraint, dtype=_param_dtype(self), autocast=False,
        )

    def activation(self, x):
        alpha = self.param(self.alpha, x)
        return ops.relu(x) + alpha * ops.minimum(x, 0.0)

    @property
    def negative_slope(self):
        """Initial slope (for keras_acts.initializer_for); 0.25 unless a random init."""
        v = _init_value(self.alpha_initializer)
        return 0.25 if v is None else v

    def get_config(self):
        config = super().get_config()
        config.update(
            alpha_initializer=keras.initializers.serialize(self.alpha_initializer),
            alpha_regularizer=keras.regularizers.serialize(self.alpha_regularizer),
            alpha_constraint=keras.constraints.serialize(self.alpha_constraint),
        )
        return config


def _param_dtype(layer):
    """Parameters are float32 under mixed / half policies, else the variable dtype."""
    vd = keras.backend.standardize_dtype(layer.variable_dtype)
    return "float32" if vd in _HALF else vd
