"""keras-acts: every activation function, by plain string name, in Keras 3.

>>> import keras, keras_acts
>>> keras.layers.Dense(64, activation="swish_x")        # any catalogue name
>>> keras.layers.Dense(64, activation=keras_acts.get("swish_x", beta=1.5))

Importing the package installs the names where ``keras.activations.get``
looks them up; ``.keras`` files that use them load after ``import keras_acts``.
"""

from .catalogue import CATALOGUE, CLASSIC, Entry, Param
from .registry import ActivationFunction, derivative, get, info, install, names
from .docs import catalogue_table
from . import layers, optim, snn
from .init import gain_for, initializer_for, second_moment
from .snn import layer_moments, snn_block, snn_mlp
from .swap import activation_sites, as_layer, swap_activations
from .saving import load_model
from .gradients import set_mode as set_gradients

__version__ = "0.2.0"

install()

__all__ = [
    "CATALOGUE", "CLASSIC", "Entry", "Param", "ActivationFunction",
    "catalogue_table", "derivative", "get", "info", "install", "names",
    "layers", "optim", "snn", "initializer_for", "gain_for", "second_moment",
    "snn_block", "snn_mlp", "layer_moments", "activation_sites", "swap_activations", "as_layer", "load_model",
    "set_gradients",
]
