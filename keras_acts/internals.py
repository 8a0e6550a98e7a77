"""Every use of Keras's private API (``keras.src``) in keras-acts, in one place and guarded.

Keras 3 has no public hook for three things keras-acts needs, so they are read here and
nowhere else; ``tests/library/test_internals.py`` checks each against the installed Keras and fails
loudly when a release moves one:

- ``activation_table()``: the dict ``keras.activations.get(str)`` reads
  (``keras.src.activations.ALL_OBJECTS_DICT``; string names must go in there);
- ``call_guards()``: the call context and stateless / symbolic scopes that learnable layers
  inspect to refuse weights that would never train (best effort: None when they moved);
- ``is_functional(model)``: whether a model is a Functional graph (its layers can be rewired).
"""
from __future__ import annotations

import keras

__all__ = ["activation_table", "call_guards", "is_functional"]


def activation_table() -> dict:
    """Keras's private name -> activation function table."""
    try:
        from keras.src import activations as private

        table = private.ALL_OBJECTS_DICT
    except (ImportError, AttributeError) as exc:  # pragma: no cover - guarded by tests
        raise RuntimeError(
            "keras_acts: this Keras release no longer exposes "
            "keras.src.activations.ALL_OBJECTS_DICT, which keras.activations.get(str) "
            "used to read; string activation names cannot be installed. "
            f"Keras {keras.__version__}; please report this."
        ) from exc
    if not isinstance(table, dict):  # pragma: no cover
        raise RuntimeError("keras_acts: keras.src.activations.ALL_OBJECTS_DICT is not a dict")
    return table


def call_guards():
    """``(global_state, get_stateless_scope, in_symbolic_scope)`` from Keras's backend, or
    None where a release moved them (the layers' guards are then skipped)."""
    try:
        from keras.src.backend.common import global_state
        from keras.src.backend.common.stateless_scope import get_stateless_scope
        from keras.src.backend.common.symbolic_scope import in_symbolic_scope
    except ImportError:  # pragma: no cover - guarded by tests
        return None
    return global_state, get_stateless_scope, in_symbolic_scope


def is_functional(model) -> bool:
    """Whether ``model`` is a Functional model (in Keras 3 a Sequential is not: it builds
    one inside)."""
    from keras.src.models.functional import Functional

    return isinstance(model, Functional)
