"""Self-normalizing networks (Klambauer et al. 2017) in one call.

SELU networks keep activations at mean 0 / variance 1 layer after layer, but
only with all four ingredients together: SELU, ``lecun_normal`` weights,
``AlphaDropout`` (not ordinary dropout) and standardized inputs. Keras leaves
the last three to the SELU docstring; here they come together:

>>> model = keras_acts.snn.snn_mlp(784, depth=8, width=256, num_classes=10, dropout=0.05)
>>> keras_acts.snn.layer_moments(model, x)      # per-layer mean / variance curve
"""

from __future__ import annotations

import warnings

import keras
import numpy as np

from .registry import to_float64

__all__ = ["snn_block", "snn_mlp", "layer_moments", "standardize", "SELU_ALPHA", "SELU_SCALE"]

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _check_dropout(dropout):
    dropout = float(dropout)
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout}")
    if dropout > 0.1:
        warnings.warn(
            f"AlphaDropout rate {dropout} > 0.1: Klambauer et al. 2017 recommend 0.05-0.1; "
            "larger rates pull the activations away from the self-normalizing fixed point.",
            stacklevel=3,
        )
    return dropout


def _seed(seed, i):
    return None if seed is None else int(seed) + i


def snn_block(width: int, dropout: float = 0.05, seed=None, name: str | None = None):
    """``Dense(width, selu, lecun_normal)`` followed by ``AlphaDropout(dropout)``.

    Returns a ``keras.Sequential`` usable as a layer. ``dropout=0`` omits the
    dropout layer.
    """
    dropout = _check_dropout(dropout)
    layers = [keras.layers.Dense(int(width), activation="selu",
                                 kernel_initializer=keras.initializers.LecunNormal(seed=seed),
                                 name=None if name is None else f"{name}_dense")]
    if dropout > 0:
        layers.append(keras.layers.AlphaDropout(dropout, seed=seed,
                                                name=None if name is None else f"{name}_dropout"))
    return keras.Sequential(layers, name=name)


def standardize(x, mean=None, std=None, eps: float = 1e-7):
    """Standardize features to mean 0, variance 1 (statistics over the batch axis).

    Returns ``(x_std, mean, std)`` as NumPy so the same statistics can be
    applied to validation / test data.
    """
    x = np.asarray(x, dtype="float32")
    if mean is None:
        mean = x.mean(axis=0)
    if std is None:
        std = x.std(axis=0)
    return (x - mean) / (std + eps), mean, std


def snn_mlp(input_shape, depth: int, width: int, num_classes: int | None = None,
            dropout: float = 0.05, standardize_data=None, seed=None, name: str = "snn"):
    """A self-normalizing MLP as a Functional model.

    Args:
        input_shape: int (features) or shape tuple; inputs of rank > 1 are flattened.
        depth: number of hidden SELU layers; width: their units.
        num_classes: adds a softmax (``> 1``) or sigmoid (``== 1``) output layer with
            ``lecun_normal`` weights; ``None`` returns the last hidden activations.
        dropout: ``AlphaDropout`` rate after every hidden layer (0.05-0.1 recommended).
        standardize_data: the inputs are assumed standardized. Pass training data
            here to put a ``Normalization`` layer adapted to it in front instead.
        seed: makes the initialization (and dropout masks) reproducible.

    Hidden layers are named ``{name}_dense_{i}`` and ``{name}_alpha_dropout_{i}``.
    """
    dropout = _check_dropout(dropout)
    if int(depth) < 1:
        raise ValueError(f"depth must be >= 1, got {depth}")
    shape = (int(input_shape),) if np.isscalar(input_shape) else tuple(input_shape)
    inputs = keras.Input(shape, name=f"{name}_input")
    h = inputs
    if len(shape) > 1:
        h = keras.layers.Flatten(name=f"{name}_flatten")(h)
    if standardize_data is not None:
        norm = keras.layers.Normalization(axis=-1, name=f"{name}_standardize")
        data = np.asarray(standardize_data, dtype="float32").reshape(len(standardize_data), -1)
        norm.adapt(data)
        h = norm(h)
    for i in range(int(depth)):
        h = keras.layers.Dense(
            int(width), activation="selu",
            kernel_initializer=keras.initializers.LecunNormal(seed=_seed(seed, i)),
            name=f"{name}_dense_{i}",
        )(h)
        if dropout > 0:
            h = keras.layers.AlphaDropout(dropout, seed=_seed(seed, 10_000 + i),
                                          name=f"{name}_alpha_dropout_{i}")(h)
    if num_classes is not None:
        h = keras.layers.Dense(
            int(num_classes), activation="sigmoid" if int(num_classes) == 1 else "softmax",
            kernel_initializer=keras.initializers.LecunNormal(seed=_seed(seed, 20_000)),
            name=f"{name}_output",
        )(h)
    return keras.Model(inputs, h, name=name)


def layer_moments(model, x, layers=None, training: bool = False):
    """Mean and variance of every hidden layer's activations on ``x``.

    ``layers``: the layers to read (default: every ``Dense`` layer except an
    output layer with softmax / sigmoid). Statistics are over all samples and
    units of the layer's output (activation applied). Returns a list of dicts
    ``{"layer", "mean", "var"}`` in depth order.
    """
    if layers is None:
        layers = [
            l for l in _flat_layers(model)
            if isinstance(l, keras.layers.Dense)
            and getattr(l.activation, "__name__", "") not in ("softmax", "sigmoid")
        ]
    inputs = model.inputs[0] if len(model.inputs) == 1 else model.inputs
    probe = keras.Model(inputs, [l.output for l in layers])
    outs = probe(np.asarray(x, dtype="float32"), training=training)
    if not isinstance(outs, (list, tuple)):
        outs = [outs]
    result = []
    for layer, out in zip(layers, outs):
        a = to_float64(out)
        result.append({"layer": layer.name, "mean": float(a.mean()), "var": float(a.var())})
    return result


def _flat_layers(model):
    out = []
    for l in model.layers:
        if isinstance(l, keras.Model) and not isinstance(l, keras.Sequential):
            out.extend(_flat_layers(l))
        else:
            out.append(l)
    return out
