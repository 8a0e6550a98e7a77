"""Memory-efficient gradients for elementwise catalogue entries, from the entry's ``grad``.

Autodiff of a ``keras.ops`` composition keeps every intermediate of the formula for the
backward pass (swish_x: 2x its input, isrlu: 9x). An elementwise f has a diagonal Jacobian,
so the backward pass needs only x: ``dL/dx = dL/dy * f'(x)`` with f' the entry's analytic
derivative. ``efficient(fn, grad)`` wraps a forward ``fn(x)`` and its derivative ``grad(x)``
(both ``keras.ops`` code) in the backend's own custom-gradient form, keeping x alone:

- JAX: ``jax.custom_jvp`` (the rule ``t * f'(x)``, f'(x) computed behind an optimization
  barrier so that XLA cannot share it with f's intermediates): reverse mode keeps one tensor;
  ``jax.jvp``, ``jax.hessian`` and ``vmap`` keep working.
- torch: a ``torch.autograd.Function`` that saves x and computes f'(x) in ``backward``
  (as timm's ``*_me`` activations); its backward is differentiable, so double backward works.
- TensorFlow: ``tf.custom_gradient`` whose gradient function closes over x; nested tapes
  differentiate it again.

Second derivatives are the autodiff of the analytic ``grad`` (tested against finite
differences).

The mode (``keras_acts.set_gradients(...)`` or ``KERAS_ACTS_GRADIENTS``; read when the
activation is called or traced):

- ``auto`` (default): a fused framework primitive where one computes the entry exactly
  (``Entry.native``, on the backends in ``NATIVE``), else the efficient backward, except for
  the entries in ``AUTODIFF_FASTER``
  on their backend -- those whose analytic derivative costs measurably more passes than
  autodiff's reuse of the forward intermediates (fwd+bwd > 1.05x plain autodiff in the op
  benchmark), where plain autodiff stays: faster, but keeping 2-4x the input;
- ``efficient``: the efficient backward everywhere (least memory), and learnable layers
  (``keras_acts.layers``) recompute their forward pass in the backward (``keras.remat``),
  keeping only their input and weights;
- ``autodiff``: plain autodiff of every formula (as before keras-acts 0.2).
"""

from __future__ import annotations

import contextlib
import functools
import os

import keras

ENV = "KERAS_ACTS_GRADIENTS"
MODES = ("auto", "efficient", "autodiff")
_mode: list[str | None] = [None]  # None: read the environment variable

#: backend -> entries whose efficient backward measured slower than plain autodiff
#: (fwd+bwd > 1.05x on 4M float32, CPU; TensorFlow as Keras runs it there, without XLA):
#: benchmarks/results/ops-cpu-<backend>-efficient.md. ``auto`` keeps plain autodiff for them.
AUTODIFF_FASTER: dict[str, frozenset] = {
    "jax": frozenset({"binary_step", "elish", "eswish", "hard_elish", "hard_mish", "lisht",
                      "logish", "mila", "quick_gelu", "reglu", "serf", "sine", "soft_exponential",
                      "squared_relu", "swiglu", "tanh_exp", "weighted_tanh"}),
    "tensorflow": frozenset({"arctan", "binary_step", "elish", "eswish", "fts", "gelu_tanh",
                             "lisht", "mila", "nlrelu", "penalized_tanh", "reglu", "smish",
                             "swiglu", "swish_x", "tanh_exp", "weighted_tanh"}),
    "torch": frozenset({"arctan", "dsilu", "eswish", "fts", "gaussian", "geglu", "lisht",
                        "logish", "mila", "nlrelu", "penalized_tanh", "quick_gelu", "reglu",
                        "serf", "shifted_softplus", "smish", "soft_exponential", "swiglu",
                        "tanh_exp", "weighted_tanh"}),
}


def mode() -> str:
    """'auto' (the default), 'efficient' or 'autodiff': how catalogue activations are
    differentiated (see the module docstring)."""
    m = _mode[0] or os.environ.get(ENV, "auto").strip().lower() or "auto"
    if m not in MODES:
        raise ValueError(f"{ENV}={m!r} is not a gradient mode: use one of {', '.join(MODES)}.")
    return m


def recompute_layers() -> bool:
    """Whether learnable layers (keras_acts.layers) recompute their forward pass in the
    backward pass (``keras.remat``: keeps the input and the weights only). Only in
    ``efficient`` mode: recomputing costs a second forward pass, so ``auto`` leaves the
    layers to autodiff."""
    return mode() == "efficient"


def use_efficient(name: str) -> bool:
    """Whether the catalogue entry ``name`` gets the efficient backward now."""
    m = mode()
    return m == "efficient" or (m == "auto" and name not in AUTODIFF_FASTER[keras.backend.backend()])


@contextlib.contextmanager
def _restoring(previous):
    try:
        yield
    finally:
        _mode[0] = previous


def set_mode(m: str | None):
    """Set the gradient mode for activations called or traced from now on ('auto',
    'efficient', 'autodiff', or None for the environment's). Also a context manager
    restoring the previous mode::

        with keras_acts.set_gradients("autodiff"):
            model.fit(...)   # plain autodiff of every keras-acts formula
    """
    if m is not None and m not in MODES:
        raise ValueError(f"gradient mode {m!r}: use one of {', '.join(MODES)} (or None).")
    previous, _mode[0] = _mode[0], m
    return _restoring(previous)


def efficient(fn, grad):
    """Elementwise ``fn`` with a backward pass that keeps only x: ``dL/dx = g * grad(x)``."""
    return custom(fn, lambda x, t: t * grad(x), lambda x, g: g * grad(x))


def efficient_gated(fn, gate, dgate, axis=-1):
    """``fn(x) = a * gate(b)``, ``[a, b] = split(x, 2, axis)``, keeping only x: the backward
    recomputes gate(b) and gate'(b) (``dL/da = g gate(b)``, ``dL/db = g a gate'(b)``)."""
    from keras import ops

    def jvp(x, t):
        (a, b), (ta, tb) = ops.split(x, 2, axis=axis), ops.split(t, 2, axis=axis)
        return ta * gate(b) + tb * (a * dgate(b))

    def vjp(x, g):
        a, b = ops.split(x, 2, axis=axis)
        return ops.concatenate([g * gate(b), g * (a * dgate(b))], axis=axis)

    return custom(fn, jvp, vjp)


def custom(fn, jvp, vjp):
    """``fn`` whose derivative is given, as ``jvp(x, t)`` (JAX: forward mode, linear in t)
    and ``vjp(x, g)`` (torch, TensorFlow), both reading x alone."""
    return _BUILDERS[keras.backend.backend()](fn, jvp, vjp)


#: backend -> entries whose ``Entry.native`` primitive (where the parameters make the entry
#: exactly that primitive) is a fused kernel there that keeps only its input: torch's
#: ``F.silu`` / ``F.gelu``, TensorFlow's ``tf.nn.silu`` (its own custom gradient). JAX's
#: ``silu`` / ``gelu`` are compositions that the custom rule above beats in memory.
NATIVE: dict[str, frozenset] = {
    "jax": frozenset(),
    "tensorflow": frozenset({"swish_x"}),
    "torch": frozenset({"swish_x", "gelu_tanh"}),
}


def _jax(fn, jvp, vjp):
    import jax

    @jax.custom_jvp
    def f(x):
        return fn(x)

    @f.defjvp
    def _jvp(primals, tangents):
        (x,), (t,) = primals, tangents
        # The barrier keeps XLA from sharing f's intermediates with the derivative (common
        # subexpressions such as serf's softplus(x)), which would keep them alive until the
        # backward pass: a jitted 16x1024 serf MLP step held 49 activation-sized temporaries
        # without it, 17 with it (benchmarks/results/model-memory-cpu-jax.md).
        return fn(x), jvp(jax.lax.optimization_barrier(x), t)

    return f


@functools.cache
def _torch_function():
    """One ``torch.autograd.Function`` for every entry: fn and vjp come as arguments."""
    import torch

    class Custom(torch.autograd.Function):
        """y = fn(x); saves x; dL/dx = vjp(x, g) (fn, vjp: non-tensor arguments)."""

        @staticmethod
        def forward(ctx, x, fn, vjp):
            ctx.save_for_backward(x)
            ctx.vjp = vjp
            return fn(x)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return ctx.vjp(x, g), None, None

    return Custom.apply


def _torch(fn, jvp, vjp):
    apply = _torch_function()
    return lambda x: apply(x, fn, vjp)


def _tensorflow(fn, jvp, vjp):
    import tensorflow as tf

    @tf.custom_gradient
    def f(x):
        def backward(g):
            return vjp(x, g)

        return fn(x), backward

    return f


_BUILDERS = {"jax": _jax, "torch": _torch, "tensorflow": _tensorflow}
