"""Memory-efficient gradients for elementwise catalogue entries, from the entry's ``grad``.

Autodiff of a ``keras.ops`` composition keeps every intermediate of the formula for the
backward pass (swish_x: 2x its input, isrlu: 9x). An elementwise f has a diagonal Jacobian,
so the backward pass needs only x: ``dL/dx = dL/dy * f'(x)`` with f' the entry's analytic
derivative. ``efficient(fn, grad)`` wraps a forward ``fn(x)`` and its derivative ``grad(x)``
(both ``keras.ops`` code) in the backend's own custom-gradient form, keeping x alone:

- JAX: ``jax.custom_jvp`` (the rule ``t * f'(x)``): reverse mode keeps f'(x), one tensor;
  ``jax.jvp``, ``jax.hessian`` and ``vmap`` keep working.
- torch: a ``torch.autograd.Function`` that saves x and computes f'(x) in ``backward``
  (as timm's ``*_me`` activations); its backward is differentiable, so double backward works.
- TensorFlow: ``tf.custom_gradient`` whose gradient function closes over x; nested tapes
  differentiate it again.

Second derivatives are the autodiff of the analytic ``grad`` (tested against finite
differences). ``set_mode("autodiff")`` or ``KERAS_ACTS_GRADIENTS=autodiff`` restores plain
autodiff of the formula; the mode is read when the activation is called (traced).
"""

from __future__ import annotations

import contextlib
import os

import keras

ENV = "KERAS_ACTS_GRADIENTS"
MODES = ("efficient", "autodiff")
_mode: list[str | None] = [None]  # None: read the environment variable


def mode() -> str:
    """'efficient' (the default) or 'autodiff': how catalogue activations are differentiated."""
    m = _mode[0] or os.environ.get(ENV, "efficient").strip().lower() or "efficient"
    if m not in MODES:
        raise ValueError(f"{ENV}={m!r}: use one of {', '.join(MODES)}.")
    return m


@contextlib.contextmanager
def _restoring(previous):
    try:
        yield
    finally:
        _mode[0] = previous


def set_mode(m: str | None):
    """Set the gradient mode for activations traced from now on ('efficient', 'autodiff', or
    None for the environment's). Also a context manager restoring the previous mode::

        with keras_acts.set_gradients("autodiff"):
            model.fit(...)   # plain autodiff of every keras-acts formula
    """
    if m is not None and m not in MODES:
        raise ValueError(f"gradient mode {m!r}: use one of {', '.join(MODES)} (or None).")
    previous, _mode[0] = _mode[0], m
    return _restoring(previous)


def efficient(fn, grad):
    """``fn`` with a backward pass that keeps only x and multiplies by ``grad(x)``."""
    return _BUILDERS[keras.backend.backend()](fn, grad)


#: Backends whose primitives (``Entry.native``) are single fused kernels forward and backward
#: that keep only their input: torch (``F.silu``, ``F.gelu``). TensorFlow's and JAX's
#: ``gelu``/``silu`` are compositions, which the custom gradient above beats in memory.
NATIVE_BACKENDS = ("torch",)


def _jax(fn, grad):
    import jax

    @jax.custom_jvp
    def f(x):
        return fn(x)

    @f.defjvp
    def _jvp(primals, tangents):
        (x,), (t,) = primals, tangents
        return f(x), t * grad(x)

    return f


_TORCH_FUNCTION = []


def _torch(fn, grad):
    if not _TORCH_FUNCTION:
        import torch

        class Elementwise(torch.autograd.Function):
            """y = fn(x); saves x; dL/dx = g * grad(x) (fn, grad: non-tensor arguments)."""

            @staticmethod
            def forward(ctx, x, fn, grad):
                ctx.save_for_backward(x)
                ctx.grad = grad
                return fn(x)

            @staticmethod
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return g * ctx.grad(x), None, None

        _TORCH_FUNCTION.append(Elementwise.apply)
    apply = _TORCH_FUNCTION[0]
    return lambda x: apply(x, fn, grad)


def _tensorflow(fn, grad):
    import tensorflow as tf

    @tf.custom_gradient
    def f(x):
        def backward(g):
            return g * grad(x)

        return fn(x), backward

    return f


_BUILDERS = {"jax": _jax, "torch": _torch, "tensorflow": _tensorflow}
