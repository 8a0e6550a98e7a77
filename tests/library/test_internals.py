"""keras_acts.internals: the only module that reads Keras's private API. Each guard below
fails loudly, naming what to update, when a Keras release moves what keras-acts relies on."""
import keras
import numpy as np
import pytest

from keras_acts import internals, layers


def test_activation_table_is_what_keras_activations_get_reads():
    table = internals.activation_table()
    assert isinstance(table, dict), "ALL_OBJECTS_DICT is gone: update internals.activation_table"
    sentinel = "keras_acts_guard_probe"

    def probe(x):
        return x

    table[sentinel] = probe
    try:
        assert keras.activations.get(sentinel) is probe, (
            "keras.activations.get(str) no longer reads ALL_OBJECTS_DICT; keras_acts must "
            "install its names elsewhere")
        assert keras.layers.Dense(2, activation=sentinel).activation is probe
    finally:
        del table[sentinel]


def test_call_guards_exist_and_refuse_a_build_inside_a_stateless_call():
    guards = internals.call_guards()
    assert guards is not None, "Keras moved its call-context / scope modules: update internals"
    global_state, get_stateless_scope, in_symbolic_scope = guards
    assert get_stateless_scope() is None and not in_symbolic_scope()
    # what the guard is for: an unbuilt learnable layer inside a stateless call with state
    # given explicitly would create weights outside that state
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(3), layers.PReLU()])
    inner = layers.PReLU()
    v = keras.Variable(np.zeros(1, "float32"))
    with keras.StatelessScope(state_mapping=[(v, np.ones(1, "float32"))]):
        with pytest.raises(RuntimeError, match="stateless call"):
            inner(np.ones((2, 3), "float32"))
    assert model(np.ones((2, 3), "float32")).shape == (2, 3)


def test_is_functional_tells_graphs_from_subclassed_models():
    inputs = keras.Input((4,))
    functional = keras.Model(inputs, keras.layers.Dense(2)(inputs))
    sequential = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])

    class Sub(keras.Model):
        def __init__(self):
            super().__init__()
            self.d = keras.layers.Dense(2)

        def call(self, x):
            return self.d(x)

    assert internals.is_functional(functional)
    assert not internals.is_functional(sequential)  # Keras 3: a Sequential wraps one instead
    assert not internals.is_functional(Sub())
