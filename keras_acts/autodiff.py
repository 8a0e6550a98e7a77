"""Backend autodiff behind one small API.

Keras 3 exposes no backend-agnostic ``grad``; the analytic-derivative checks
and the gradient-flow diagnostics need one. This is the only module of the
package that touches the active backend's framework, and it imports it lazily
(inside the functions), so ``import keras_acts`` never imports TensorFlow, JAX
or torch beyond what Keras itself loads.
"""

from __future__ import annotations

import importlib

import keras
import numpy as np


def _framework():
    return keras.backend.backend(), importlib.import_module(
        {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}[keras.backend.backend()]
    )


def grad_sum(f, x):
    """d/dx sum(f(x)) as a NumPy array: f'(x) for an elementwise f."""
    name, fw = _framework()
    x = np.asarray(x)
    if name == "jax":
        return np.asarray(fw.grad(lambda t: fw.numpy.sum(f(t)))(fw.numpy.asarray(x)))
    if name == "tensorflow":
        t = fw.Variable(x)
        with fw.GradientTape() as tape:
            s = fw.reduce_sum(f(t))
        g = tape.gradient(s, t)  # None: no gradient path (e.g. a step function)
        return np.zeros_like(x) if g is None else g.numpy()
    t = fw.tensor(x, requires_grad=True)
    y = f(t).sum()
    if not y.requires_grad:  # no gradient path
        return np.zeros_like(x)
    y.backward()
    return np.zeros_like(x) if t.grad is None else t.grad.detach().cpu().numpy()


def second_derivative(f, x):
    """f''(x) for an elementwise f by nested autodiff (d/dx sum(d/dx sum f)), as NumPy."""
    name, fw = _framework()
    x = np.asarray(x)
    if name == "jax":
        d1 = fw.grad(lambda t: fw.numpy.sum(f(t)))
        return np.asarray(fw.grad(lambda t: fw.numpy.sum(d1(t)))(fw.numpy.asarray(x)))
    if name == "tensorflow":
        t = fw.Variable(x)
        with fw.GradientTape() as outer:
            with fw.GradientTape() as inner:
                s = fw.reduce_sum(f(t))
            g = inner.gradient(s, t, unconnected_gradients=fw.UnconnectedGradients.ZERO)
        return outer.gradient(g, t, unconnected_gradients=fw.UnconnectedGradients.ZERO).numpy()
    t = fw.tensor(x, requires_grad=True)
    y = f(t).sum()
    if not y.requires_grad:
        return np.zeros_like(x)
    (g,) = fw.autograd.grad(y, t, create_graph=True)
    if not g.requires_grad:  # f' does not depend on x
        return np.zeros_like(x)
    (h,) = fw.autograd.grad(g.sum(), t, allow_unused=True)
    return np.zeros_like(x) if h is None else h.detach().cpu().numpy()


def vjp(f, x, cotangent):
    """d/dx <f(x), cotangent> as NumPy: vector-Jacobian product for any f."""
    c = np.asarray(cotangent)
    name, fw = _framework()
    if name == "jax":
        ct = fw.numpy.asarray(c)
        return np.asarray(fw.grad(lambda t: fw.numpy.sum(f(t) * ct))(fw.numpy.asarray(np.asarray(x))))
    if name == "tensorflow":
        t = fw.Variable(np.asarray(x))
        with fw.GradientTape() as tape:
            s = fw.reduce_sum(f(t) * c)
        return tape.gradient(s, t).numpy()
    t = fw.tensor(np.asarray(x), requires_grad=True)
    (f(t) * fw.as_tensor(c)).sum().backward()
    return t.grad.detach().cpu().numpy()


def loss_and_grads(model, loss_fn, x, y, variables):
    """(loss, [d loss / d v for v in variables]) for a Keras model, as NumPy.

    Runs the model in training mode off the optimizer's path: nothing is
    updated. Used by the diagnostics callback on every backend.
    """
    name, fw = _framework()
    if name == "jax":
        values = [v.value for v in variables]
        trainable = [v.value for v in model.trainable_variables]
        non_trainable = [v.value for v in model.non_trainable_variables]
        index = {id(v): i for i, v in enumerate(model.trainable_variables)}
        pos = [index[id(v)] for v in variables]

        def compute(vals):
            tv = list(trainable)
            for p, val in zip(pos, vals):
                tv[p] = val
            out, _ = model.stateless_call(tv, non_trainable, x, training=False)
            return loss_fn(y, out)

        loss, grads = fw.value_and_grad(compute)(values)
        return float(loss), [np.asarray(g) for g in grads]
    if name == "tensorflow":
        with fw.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=False))
        grads = tape.gradient(loss, [v.value for v in variables])
        return float(loss), [np.zeros(v.shape) if g is None else g.numpy() for v, g in zip(variables, grads)]
    for v in variables:
        v.value.grad = None
    loss = loss_fn(y, model(x, training=False))
    grads = fw.autograd.grad(loss, [v.value for v in variables], allow_unused=True)
    return float(loss.detach()), [
        np.zeros(v.shape) if g is None else g.detach().cpu().numpy() for v, g in zip(variables, grads)
    ]
