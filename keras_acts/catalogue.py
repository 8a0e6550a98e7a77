"""The activation catalogue: one declarative entry per activation.

Every other part of keras-acts (string names, serialization, learnable layers,
initializers, docs table, plots, tests) is derived from the entries below.

An entry gives the formula as a function of ``x`` and keyword parameters written
with ``keras.ops`` only (so it runs on TensorFlow, JAX and torch, and parameters
may be Python floats *or* tensors, which is what lets ``layers.Learnable`` train
them), its analytic derivative, its parameters with defaults and valid ranges,
and its properties.

Adding an activation = one ``_add(name, fn=..., grad=..., ...)`` call here (keywords =
``Entry`` fields) + its NumPy reference in
``tests/library/reference.py``.

Why one long module: it is the catalogue -- 74 declarative entries (one ``_add`` each, a
field per line) and the small keras.ops helpers they share; splitting it would scatter the
one table everything else is generated from.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Mapping

import keras
from keras import ops

INF = float("inf")


@dataclass(frozen=True)
class Param:
    """A parameter of an activation: default, valid range, learnability."""

    default: object
    gt: float | None = None
    ge: float | None = None
    lt: float | None = None
    le: float | None = None
    learnable: bool = True
    kind: type = float
    optional: bool = False  # ``None`` is a valid value (e.g. relu max_value)

    def check(self, activation: str, name: str, value) -> None:
        if value is None and self.optional:
            return
        if self.kind is float:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                # tensors / variables are accepted (learnable layers); only
                # Python numbers are range-checked at construction.
                if hasattr(value, "shape"):
                    return
                raise ValueError(
                    f"{activation}: parameter {name!r} must be a number, got {value!r}"
                )
            value = float(value)
            if not math.isfinite(value):
                raise ValueError(f"{activation}: parameter {name!r} must be finite, got {value}")
        elif not isinstance(value, self.kind) or (
            self.kind is int and isinstance(value, bool)
        ):
            raise ValueError(
                f"{activation}: parameter {name!r} must be {self.kind.__name__}, got {value!r}"
            )
        for bound, ok, sym in (
            (self.gt, lambda v, b: v > b, ">"),
            (self.ge, lambda v, b: v >= b, ">="),
            (self.lt, lambda v, b: v < b, "<"),
            (self.le, lambda v, b: v <= b, "<="),
        ):
            if bound is not None and not ok(value, bound):
                raise ValueError(
                    f"{activation}: parameter {name!r} must be {sym} {bound}, got {value}"
                )

    @property
    def range_text(self) -> str:
        lo = f"({self.gt}" if self.gt is not None else (f"[{self.ge}" if self.ge is not None else "(-inf")
        hi = f"{self.lt})" if self.lt is not None else (f"{self.le}]" if self.le is not None else "inf)")
        return f"{lo}, {hi}" if self.kind is float else self.kind.__name__


@dataclass(frozen=True)
class Entry:
    """One activation function and everything known about it."""

    name: str
    fn: Callable  # fn(x, **params) -> tensor, keras.ops only
    grad: Callable | None  # analytic f'(x, **params); None if not elementwise
    formula: str
    range: tuple[float, float]  # tight bounds of f (default parameters)
    monotonic: bool
    smooth: bool  # f' continuous (C1) with the default parameters
    zero_centred: bool  # f(0) == 0 and f takes both signs
    init: str  # 'he' | 'lecun' | 'glorot' | 'gain' (see keras_acts.init)
    reference: str
    link: str  # the paper (arXiv / DOI) or, for non-papers, the defining documentation
    params: Mapping[str, Param] = field(default_factory=dict)
    keras_builtin: bool = False  # fn *is* keras.activations.<name>; never shadowed
    elementwise: bool = True
    surrogate_grad: bool = False  # grad is a training surrogate (straight-through)
    check: Callable | None = None  # cross-parameter validation, raises ValueError
    alias_of: str | None = None
    string_usable: bool = True  # False: Keras's function needs arguments
    # keras.ops form taking tensor-valued parameters, where ``fn`` (a Keras built-in) only
    # takes Python numbers on some backend; learnable layers call this one
    tensor_fn: Callable | None = None
    # native(**params) -> a framework primitive (keras.ops) that computes exactly this function
    # with these parameters, or None; used where that primitive is one fused kernel
    # (keras_acts.gradients.NATIVE)
    native: Callable | None = None
    # gated entries a*h(b), [a, b] = split(x, 2, axis=-1): the catalogue name of h, whose fn
    # and grad give the backward pass that keeps only x (keras_acts.gradients.efficient_gated)
    gate: str | None = None

    @property
    def defaults(self) -> dict:
        return {k: p.default for k, p in self.params.items()}

    @property
    def bounded(self) -> bool:
        return math.isfinite(self.range[0]) and math.isfinite(self.range[1])

    @property
    def learnable_params(self) -> tuple[str, ...]:
        return tuple(k for k, p in self.params.items() if p.learnable and p.kind is float)

    def validate(self, params: Mapping) -> dict:
        """Full parameter dict (defaults filled in), or ValueError."""
        unknown = set(params) - set(self.params)
        if unknown:
            allowed = ", ".join(self.params) or "none"
            raise ValueError(
                f"{self.name}: unknown parameter(s) {sorted(unknown)}; allowed: {allowed}"
            )
        full = {**self.defaults, **params}
        for k, v in full.items():
            self.params[k].check(self.name, k, v)
        if self.check is not None:
            self.check(full)
        return full


CATALOGUE: dict[str, Entry] = {}


def _add(name, *, range, params=None, **fields):
    """Register one entry; the keywords are ``Entry``'s fields (``range`` and ``params`` are
    normalised here)."""
    if name in CATALOGUE:
        raise RuntimeError(f"duplicate catalogue entry {name!r}")
    CATALOGUE[name] = Entry(name=name, range=tuple(range), params=params or {}, **fields)


# ----------------------------------------------------------------------------
# small building blocks (all keras.ops)
# ----------------------------------------------------------------------------
sig = ops.sigmoid
relu = ops.relu


def _dsig(z):
    # s(1 - s) with 1 - s = sigmoid(-z): no cancellation once sigmoid(z) rounds to 1
    return ops.sigmoid(z) * ops.sigmoid(-z)


def _dtanh(z):
    # 1 - tanh(z)^2 = 4 sigmoid(2z) sigmoid(-2z): relative accuracy also where tanh rounds to +-1
    return 4.0 * ops.sigmoid(2.0 * z) * ops.sigmoid(-2.0 * z)


def _ind(cond, x):
    """Indicator of a boolean condition, in x's dtype."""
    return ops.cast(cond, x.dtype)


def _pos(x):  # safe operands for the two branches of a where()
    return ops.maximum(x, 0.0)


def _neg(x):
    return ops.minimum(x, 0.0)


def _swish_grad(x, beta):
    s = ops.sigmoid(beta * x)
    # x * (s * (1 - s)) first: 0 for huge |x| (beta * x alone may overflow: inf * 0)
    return s + (x * (s * ops.sigmoid(-beta * x))) * beta


def _x_over_sqrt(x, a=1.0, c=1.0):
    """x / sqrt(c + a x^2) without overflowing x^2 (|x| > 1.8e19 in float32).

    With m = max(|x|, 1) this is (x/m) / sqrt(c/m^2 + a (x/m)^2): the same value,
    and for |x| > 1 no intermediate exceeds max(a, c). The floor only matters for
    c = 0 at x = 0, where it gives the limit from the x != 0 formula's numerator, 0.
    """
    m = ops.maximum(ops.abs(x), 1.0)
    u = x / m
    return u * ops.rsqrt(ops.maximum(c / (m * m) + a * u * u, 1e-30))


def _split(x, axis=-1):
    a, b = ops.split(x, 2, axis=axis)
    return a, b


_C_GELU = math.sqrt(2.0 / math.pi)
_INV_SQRT2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _gelu_tanh_grad(x):
    # (1 + tanh u)/2 = sigmoid(2u), (1 - tanh^2 u)/2 = 2 sigmoid(2u) sigmoid(-2u): no
    # cancellation for x << 0. Beyond |x| = 20 the second term underflows to 0, so x is
    # clipped there to keep x*(1 + 3c x^2) finite (no 0 * inf) for huge |x|.
    u = _C_GELU * (x + 0.044715 * x * x * x)
    s = ops.sigmoid(2.0 * u)
    xc = ops.clip(x, -20.0, 20.0)
    return s + 2.0 * xc * s * ops.sigmoid(-2.0 * u) * _C_GELU * (1.0 + 3 * 0.044715 * xc * xc)


def _gelu_grad(x, approximate=False):
    if approximate:
        return _gelu_tanh_grad(x)
    return 0.5 * (1.0 + ops.erf(x * _INV_SQRT2)) + x * ops.exp(-0.5 * x * x) * _INV_SQRT_2PI


def _mish_like_grad(x, shift=0.0):  # d/dx x*tanh(softplus(x+shift))
    t = ops.tanh(ops.softplus(x + shift))
    return t + x * (1.0 - t * t) * ops.sigmoid(x + shift)


REALS = (-INF, INF)  # the range of an unbounded activation
HE, LECUN, GLOROT, GAIN = "he", "lecun", "glorot", "gain"
SLOPE = {"negative_slope": Param(0.2, ge=0.0)}
AXIS = {"axis": Param(-1, kind=int, learnable=False)}

# ----------------------------------------------------------------------------
# Keras built-ins: the entry points at Keras's own function (never shadowed);
# the metadata, derivative and plots come from here.
# ----------------------------------------------------------------------------
_add(
    "linear",
    fn=keras.activations.linear,
    grad=lambda x: ops.ones_like(x),
    formula="x",
    range=REALS,
    monotonic=True,
    smooth=True,
    zero_centred=True,
    init=GLOROT,
    link="https://keras.io/api/layers/activations/",
    reference="identity",
    keras_builtin=True,
)
_add(
    "sigmoid",
    fn=keras.activations.sigmoid,
    grad=lambda x: _dsig(x),
    formula="1/(1+e^-x)",
    range=(0, 1),
    monotonic=True,
    smooth=True,
    zero_centred=False,
    init=GLOROT,
    link="https://en.wikipedia.org/wiki/Logistic_function",
    reference="logistic function",
    keras_builtin=True,
)
_add(
    "tanh",
    fn=keras.activations.tanh,
    grad=lambda x: _dtanh(x),
    formula="tanh(x)",
    range=(-1, 1),
    monotonic=True,
    smooth=True,
    zero_centred=True,
    init=GLOROT,
    link="https://doi.org/10.1007/3-540-49430-8_2",
    reference="LeCun et al. 1998, Efficient BackProp",
    keras_builtin=True,
)
_add(
    "relu",
    fn=keras.activations.relu,
    grad=lambda x, negative_slope=0.0, max_value=None, threshold=0.0: ops.where(
            x >= threshold, ops.ones_like(x), negative_slope * ops.ones_like(x))
        * (1.0 if max_value is None else _ind(x < max_value, x)),
    formula="max(x, 0)",
    range=(0, INF),
    monotonic=True,
    smooth=False,
    zero_centred=False,
    init=HE,
    link="https://proceedings.mlr.press/v15/glorot11a.html",
    reference="Nair & Hinton 2010; Glorot et al. 2011",
    params={"negative_slope": Param(0.0, ge=0.0), "max_value": Param(None, gt=0.0, optional=True),
        "threshold": Param(0.0)},
    keras_builtin=True,
    tensor_fn=lambda x, negative_slope=0.0, max_value=None, threshold=0.0: (
        (lambda p: p if max_value is None else ops.clip(p, 0.0, max_value))(
            ops.where(x > threshold, x, ops.zeros_like(x)))
        - negative_slope * ops.relu(threshold - x)),
)
_add(
    "relu6",
    fn=keras.activations.relu6,
    grad=lambda x: _ind((x > 0) & (x < 6), x),
    formula="min(max(x, 0), 6)",
    range=(0, 6),
    monotonic=True,
    smooth=False,
    zero_centred=False,
    init=HE,
    link="https://arxiv.org/abs/1704.04861",
    reference="Krizhevsky 2010; MobileNets (Howard et al. 2017)",
    keras_builtin=True,
)
_add(
    "leaky_relu",
    fn=keras.activations.leaky_relu,
    grad=lambda x, negative_slope=0.2: ops.where(x > 0, ops.ones_like(x), negative_slope * ops.ones_like(x)),
    formula="x if x > 0 else a*x",
    range=REALS,
    monotonic=True,
    smooth=False,
    zero_centred=False,
    init=HE,
    link="https://ai.stanford.edu/~amaas/papers/relu_hybrid_icml2013_final.pdf",
    reference="Maas et al. 2013",
    params=SLOPE,
    keras_builtin=True,
    tensor_fn=lambda x, negative_slope=0.2: ops.where(x > 0, x, negative_slope * x),
)
_add(
    "elu",
    fn=keras.activations.elu,
    grad=lambda x, alpha=1.0: ops.where(x > 0, ops.ones_like(x), alpha * ops.exp(_neg(x))),
    formula="x if x > 0 else a*(e^x - 1)",
    range=(-1, INF),
    monotonic=True,
    smooth=True,
    zero_centred=True,
    init=HE,
    link="https://arxiv.org/abs/1511.07289",
    reference="Clevert et al. 2015",
    params={"alpha": Param(1.0, ge=0.0)},
    keras_builtin=True,
    tensor_fn=lambda x, alpha=1.0: ops.where(x > 0, x, alpha * ops.expm1(ops.minimum(x, 0.0))),
)
_add(
    "celu",
    fn=keras.activations.celu,
    grad=lambda x, alpha=1.0: ops.where(x > 0, ops.ones_like(x), ops.exp(_neg(x) / alpha)),
    formula="x if x > 0 else a*(e^(x/a) - 1)",
    range=(-1, INF),
    monotonic=True,
    smooth=True,
    zero_centred=True,
    init=HE,
    link="https://arxiv.org/abs/1704.07483",
    reference="Barron 2017",
    params={"alpha": Param(1.0, gt=0.0)},
    keras_builtin=True,
    tensor_fn=lambda x, alpha=1.0: ops.where(
        x > 0, x, alpha * ops.expm1(ops.minimum(x, 0.0) / alpha)),
)
_add(
    "selu",
    fn=keras.activations.selu,
    grad=lambda x: _SELU_SCALE * ops.where(x > 0, ops.ones_like(x), _SELU_ALPHA * ops.exp(_neg(x))),
    formula="scale*(x if x > 0 else alpha*(e^x - 1))",
    range=(-_SELU_SCALE * _SELU_ALPHA, INF),
    monotonic=True,
    smooth=False,
    zero_centred=True,
    init=LECUN,
    link="https://arxiv.org/abs/1706.02515",
    reference="Klambauer et al. 2017, Self-Normalizing Neural Networks",
    keras_builtin=True,
)
_add(
    "exponential",
    fn=keras.activations.exponential,
    grad=lambda x: ops.exp(x),
    formula="e^x",
    range=(0, INF),
    monotonic=True,
    smooth=True,
    zero_centred=False,
    init=GAIN,
    link="https://keras.io/api/layers/activations/",
    reference="exponential",
    keras_builtin=True,
)
_add(
    "gelu",
    fn=keras.activations.gelu,
    grad=_gelu_grad,
    formula="x*Phi(x)",
    range=(-0.17, INF),
    monotonic=False,
    smooth=True,
    zero_centred=False,
    init=HE,
    link="https://arxiv.org/abs/1606.08415",
    reference="Hendrycks & Gimpel 2016",
    params={"approximate": Param(False, kind=bool, learnable=False)},
    keras_builtin=True,
)
_add(
    "softplus",
    fn=keras.activations.softplus,
    grad=lambda x: ops.sigmoid(x),
    formula="log(1 + e^x)",
    range=(0, INF),
    monotonic=True,
    smooth=True,
    zero_centred=False,
    init=HE,
    link="https://papers.nips.cc/paper/1920-incorporating-second-order-functional-knowledge-for-better-option-pricing",
    reference="Dugas et al. 2001",
    keras_builtin=True,
)
_add(
    "softsign",
    fn=keras.activations.softsign,
    grad=lambda x: 1.0 / ops.square(1.0 + ops.abs(x)),
    formula="x/(1+|x|)",
    range=(-1, 1),
    monotonic=True,
    smooth=True,
    zero_centred=True,
    init=GLOROT,
    link="https://keras.io/api/layers/activations/",
    reference="Bergstra et al. 2009",
    keras_builtin=True,
)
_add(
    "silu",
    fn=keras.activations.silu,
    grad=lambda x: _swish_grad(x, 1.0),
    formula="x*sigmoid(x)",
    range=(-0.2785, INF),
    monotonic=False,
    smooth=True,
    zero_centred=False,
    init=HE,
    link="https://arxiv.org/abs/1702.03118",
    reference="Elfwing et al. 2017; Ramachandran et al. 2017 (swish)",
    keras_builtin=True,
)
_add(
    "swish",
    fn=keras.activations.swish,
    grad=lambda x: _swish_grad(x, 1.0),
    formula="x*sigmoid(x)",
    range=(-0.2785, INF),
    monotonic=False,
    smooth=True,
    zero_centred=False,
    init=HE,
    link="https://arxiv.org/abs/1710.05941",
    reference="Ramachandran et al. 2017",
    keras_builtin=True,
    alias_of="silu",
)
_add(
    "hard_sigmoid",
    fn=keras.activations.hard_sigmoid,
    grad=lambda x: _ind((x > -3) & (x < 3), x) / 6.0,
    formula="relu6(x + 3)/6",
    range=(0, 1),
    monotonic=True,
    smooth=False,
    zero_centred=False,
    init=GLOROT,
    link="https://arxiv.org/abs/1905.02244",
    reference="Howard et al. 2019, MobileNetV3",
    keras_builtin=True,
)
_add(
    "hard_silu",
    fn=keras.activations.hard_silu,
    grad=lambda x: ops.clip(x + 3.0, 0.0, 6.0) / 6.0 + x * _ind((x > -3) & (x < 3), x) / 6.0,
    formula="x*relu6(x + 3)/6",
    range=(-0.375, INF),
    monotonic=False,
    smooth=False,
    zero_centred=False,
    init=HE,
    link="https://arxiv.org/abs/1905.02244",
    reference="Howard et al. 2019, MobileNetV3",
    keras_builtin=True,
)
_add(
    "hard_swish",
    fn=keras.activations.hard_swish,
    grad=lambda x: ops.clip(x + 3.0, 0.0, 6.0) / 6.0 + x * _ind((x > -3) & (x < 3), x) / 6.0,
    formula="x*relu6(x + 3)/6",
    range=(-0.375, INF),
    monotonic=False,
    smooth=False,
    zero_centred=False,
    init=HE,
    link="https://arxiv.org/abs/1905.02244",
    reference="Howard et al. 2019, MobileNetV3",
    keras_builtin=True,
    alias_of="hard_silu",
)
_add(
    "hard_tanh",
    fn=keras.activations.hard_tanh,
    grad=lambda x: _ind(ops.abs(x) < 1, x),
    formula="clip(x, -1, 1)",
    range=(-1, 1),
    monotonic=True,
    smooth=False,
    zero_centred=True,
    init=GLOROT,
    link="https://pytorch.org/docs/stable/generated/torch.nn.Hardtanh.html",
    reference="Collobert 2004",
    keras_builtin=True,
)
_add(
    "hard_shrink",
    fn=keras.activations.hard_shrink,
    grad=lambda x, threshold=0.5: _ind(ops.abs(x) > threshold, x),
    formula="x if |x| > t else 0",
    range=REALS,
    monotonic=True,
    smooth=False,
    zero_centred=True,
    init=GAIN,
    link="https://pytorch.org/docs/stable/generated/torch.nn.Hardshrink.html",
    reference="torch.nn.Hardshrink",
    params={"threshold": Param(0.5, ge=0.0)},
    keras_builtin=True,
    tensor_fn=lambda x, threshold=0.5: ops.where(ops.abs(x) > threshold, x, ops.zeros_like(x)),
)
_add(
    "soft_shrink",
    fn=keras.activations.soft_shrink,
    grad=lambda x, threshold=0.5: _ind(ops.abs(x) > threshold, x),
    formula="sign(x)*max(|x| - t, 0)",
    range=REALS,
    monotonic=True,
    smooth=False,
    zero_centred=True,
    init=GAIN,
    link="https://doi.org/10.1109/18.382009",
    reference="Donoho 1995 (soft thresholding); torch.nn.Softshrink",
    params={"threshold": Param(0.5, ge=0.0)},
    keras_builtin=True,
    tensor_fn=lambda x, threshold=0.5: ops.where(
        x > threshold, x - threshold, ops.where(x < -threshold, x + threshold, ops.zeros_like(x))),
)
_add(
    "tanh_shrink",
    fn=keras.activations.tanh_shrink,
    grad=lambda x: ops.square(ops.tanh(x)),
    formula="x - tanh(x)",
    range=REALS,
    monotonic=True,
    smooth=True,
    zero_centred=True,
    init=GAIN,
    link="https://pytorch.org/docs/stable/generated/torch.nn.Tanhshrink.html",
    reference="torch.nn.Tanhshrink",
    keras_builtin=True,
)
_add(
    "log_sigmoid",
    fn=keras.activations.log_sigmoid,
    grad=lambda x: ops.sigmoid(-x),
    formula="-softplus(-x)",
    range=(-INF, 0),
    monotonic=True,
    smooth=True,
    zero_centred=False,
    init=GLOROT,
    link="https://pytorch.org/docs/stable/generated/torch.nn.LogSigmoid.html",
    reference="log of the logistic function",
    keras_builtin=True,
)
_add(
    "mish",
    fn=keras.activations.mish,
    grad=lambda x: _mish_like_grad(x),
    formula="x*tanh(softplus(x))",
    range=(-0.3089, INF),
    monotonic=False,
    smooth=True,
    zero_centred=False,
    init=HE,
    link="https://arxiv.org/abs/1908.08681",
    reference="Misra 2019",
    keras_builtin=True,
)
_add(
    "sparse_plus",
    fn=keras.activations.sparse_plus,
    grad=lambda x: ops.where(x >= 1, ops.ones_like(x), 0.5 * ops.clip(x + 1.0, 0.0, 2.0)),
    formula="0 | (x+1)^2/4 | x",
    range=(0, INF),
    monotonic=True,
    smooth=True,
    zero_centred=False,
    init=HE,
    link="https://arxiv.org/abs/1602.02068",
    reference="Martins & Astudillo 2016 (sparsemax)",
    keras_builtin=True,
)
_add(
    "sparse_sigmoid",
    fn=keras.activations.sparse_sigmoid,
    grad=lambda x: 0.5 * _ind(ops.abs(x) < 1, x),
    formula="clip((x+1)/2, 0, 1)",
    range=(0, 1),
    monotonic=True,
    smooth=False,
    zero_centred=False,
    init=GLOROT,
    link="https://arxiv.org/abs/1602.02068",
    reference="Martins & Astudillo 2016",
    keras_builtin=True,
)
_add(
    "squareplus",
    fn=keras.activations.squareplus,
    grad=lambda x, b=4.0: 0.5 * (1.0 + x * ops.rsqrt(x * x + b)),
    formula="(x + sqrt(x^2 + b))/2",
    range=(0, INF),
    monotonic=True,
    smooth=True,
    zero_centred=False,
    init=HE,
    link="https://arxiv.org/abs/2112.11687",
    reference="Barron 2021, Squareplus",
    params={"b": Param(4.0, ge=0.0)},
    keras_builtin=True,
    tensor_fn=lambda x, b=4.0: 0.5 * (x + ops.sqrt(x * x + b)),
)
_add(
    "threshold",
    fn=keras.activations.threshold,
    grad=lambda x, threshold=0.0, default_value=0.0: _ind(x > threshold, x),
    formula="x if x > t else v",
    range=(0, INF),
    monotonic=True,
    smooth=False,
    zero_centred=False,
    init=HE,
    link="https://pytorch.org/docs/stable/generated/torch.nn.Threshold.html",
    reference="torch.nn.Threshold",
    params={"threshold": Param(0.0), "default_value": Param(0.0)},
    keras_builtin=True,
    string_usable=False,
    tensor_fn=lambda x, threshold=0.0, default_value=0.0: ops.where(
        x > threshold, x, default_value * ops.ones_like(x)),
)
_add(
    "softmax",
    fn=keras.activations.softmax,
    grad=None,
    formula="e^x_i / sum_j e^x_j",
    range=(0, 1),
    monotonic=False,
    smooth=True,
    zero_centred=False,
    init=GLOROT,
    link="https://doi.org/10.1007/978-3-642-76153-9_28",
    reference="Bridle 1990",
    params=AXIS,
    keras_builtin=True,
    elementwise=False,
)
_add(
    "log_softmax",
    fn=keras.activations.log_softmax,
    grad=None,
    formula="x_i - logsumexp(x)",
    range=(-INF, 0),
    monotonic=False,
    smooth=True,
    zero_centred=False,
    init=GLOROT,
    link="https://pytorch.org/docs/stable/generated/torch.nn.LogSoftmax.html",
    reference="log of softmax",
    params=AXIS,
    keras_builtin=True,
    elementwise=False,
)
_add(
    "sparsemax",
    fn=keras.activations.sparsemax,
    grad=None,
    formula="Euclidean projection onto the simplex",
    range=(0, 1),
    monotonic=False,
    smooth=False,
    zero_centred=False,
    init=GLOROT,
    link="https://arxiv.org/abs/1602.02068",
    reference="Martins & Astudillo 2016 -- **wrong in Keras 3.15** (keras-team/keras#23425: "
        "rows need not sum to 1); use `sparsemax_exact`",
    params=AXIS,
    keras_builtin=True,
    elementwise=False,
)
_add(
    "glu",
    fn=keras.activations.glu,
    grad=None,
    formula="a*sigmoid(b), [a, b] = split(x)",
    range=REALS,
    monotonic=False,
    smooth=True,
    zero_centred=False,
    init=GLOROT,
    link="https://arxiv.org/abs/1612.08083",
    reference="Dauphin et al. 2017",
    params=AXIS,
    keras_builtin=True,
    elementwise=False,
)


# ----------------------------------------------------------------------------
# keras-acts activations
# ----------------------------------------------------------------------------
def _step(x, threshold=0.0):
    return ops.cast(x >= threshold, x.dtype)


def _step_ste(x, threshold=0.0):
    c = ops.clip(x - threshold, -1.0, 1.0)
    return ops.stop_gradient(_step(x, threshold) - c) + c


_add(
    "binary_step",
    fn=_step,
    grad=lambda x, threshold=0.0: ops.zeros_like(x),
    formula="1 if x >= t else 0",
    range=(0, 1),
    monotonic=True,
    smooth=False,
    zero_centred=False,
    init=GLOROT,
    link="https://doi.org/10.1007/BF02478259",
    reference="Heaviside step; McCulloch & Pitts 1943",
    params={"threshold": Param(0.0)},
)
_add(
    "binary_step_ste",
    fn=_step_ste,
    grad=lambda x, threshold=0.0: _ind(ops.abs(x - threshold) <= 1, x),
    formula="1 if x >= t else 0 (straight-through gradient 1{|x-t|<=1})",
    range=(0, 1),
    monotonic=True,
    smooth=False,
    zero_centred=False,
    init=GLOROT,
    link="https://arxiv.org/abs/1308.3432",
    reference="Bengio et al. 2013; Hubara et al. 2016 (straight-through estimator)",
    params={"threshold": Param(0.0)},
    surrogate_grad=True,
)
_add(
    "swish_x",
    fn=lambda x, beta=1.0: x * sig(beta * x),
    grad=_swish_grad,
    formula="x*sigmoid(beta*x)",
    range=(-0.2785, INF),
    monotonic=False,
    smooth=True,
    zero_centred=False,
    init=HE,
    link="https://arxiv.org/abs/1710.05941",
    reference="Ramachandran et al. 2017, Searching for Activation Functions",
    params={"beta": Param(1.0, ge=0.0)},
    native=lambda beta=1.0: ops.silu if beta == 1.0 else None,
)
_add(
    "eswish",
    fn=lambda x, beta=1.375: beta * (x * sig(x)),
    grad=lambda x, beta=1.375: beta * _swish_grad(x, 1.0),
    formula="beta*x*sigmoid(x)",
    range=(-0.3829, INF),
    monotonic=False,
    smooth=True,
    zero_centred=False,
    init=HE,
    link="https://arxiv.org/abs/1801.07145",
    reference="Alcaide 2018, E-swish",
    params={"beta": Param(1.375, gt=0.0)},
)


def _gelu_tanh(x):
    # x/2 (1 + tanh u) = x sigmoid(2u): relative accuracy for x << 0, where 1 + tanh(u)
    # cancels (and so does its autodiff gradient)
    return x * sig(2.0 * _C_GELU * (x + 0.044715 * x * x * x))


_add(
    "gelu_tanh",
    fn=_gelu_tanh,
    grad=_gelu_tanh_grad,
    formula="x/2*(1 + tanh(sqrt(2/pi)*(x + 0.044715x^3)))",
    range=(-0.1701, INF),
    monotonic=False,
    smooth=True,
    zero_centred=False,
    init=HE,
    link="https://arxiv.org/abs/1606.08415",
    reference="Hendrycks & Gimpel 2016 (tanh approximation)",
    native=lambda: lambda x: ops.gelu(x, approximate=True),
)
_add(
    "quick_gelu",
    fn=lambda x: x * sig(1.702 * x),
    grad=lambda x: _swish_grad(x, 1.702),
    formula="x*sigmoid(1.702x)",
    range=(-0.164, INF),
    monotonic=False,
    smooth=True,
    zero_centred=False,
    init=HE,
    link="https://arxiv.org/abs/2103.00020",
    reference="Hendrycks & Gimpel 2016; Radford et al. 2021 (CLIP)",
)
_add(
    "lisht",
    fn=lambda x: x * ops.tanh(x),
    grad=lambda x: ops.tanh(x) + x * _dtanh(x),
    formula="x*tanh(x)",
    range=(0, INF),
    monotonic=False,
    smooth=True,
    zero_centred=False,
    init=HE,
    link="https://arxiv.org/abs/1901.05894",
    reference="Roy et al. 2019, LiSHT",
)
_add(
    "isru",
    fn=lambda x, alpha=1.0: _x_over_sqrt(x, alpha),
    grad=lambda x, alpha=1.0: ops.power(ops.rsqrt(1.0 + alpha * x * x), 3.0),
    formula="x/sqrt(1 + a*x^2)",
    range=(-1, 1),
    monotonic=True,
    smooth=True,
    zero_centred=True,
    init=GLOROT,
    link="https://arxiv.org/abs/1710.09967",
    reference="Carlile et al. 2017, ISRLU",
    params={"alpha": Param(1.0, gt=0.0)},
)
_add(
    "isrlu",
    fn=lambda x, alpha=1.0: ops.where(x >= 0, x, _x_over_sqrt(_neg(x), alpha)),
    grad=lambda x, alpha=1.0: ops.where(x >= 0, ops.ones_like(x),
        ops.power(ops.rsqrt(1.0 + alpha * ops.square(_neg(x))), 3.0)),
    formula="x if x >= 0 else x/sqrt(1 + a*x^2)",
    range=(-1, INF),
    monotonic=True,
    smooth=True,
    zero_centred=True,
    init=HE,
    link="https://arxiv.org/abs/1710.09967",
    reference="Carlile et al. 2017, ISRLU",
    params={"alpha": Param(1.0, gt=0.0)},
)


def _sqnl(x):
    c = ops.clip(x, -2.0, 2.0)
    return c - c * ops.abs(c) * 0.25


_add(
    "sqnl",
    fn=_sqnl,
    grad=lambda x: 1.0 - 0.5 * ops.abs(ops.clip(x, -2.0, 2.0)),
    formula="x -/+ x^2/4 on [-2, 2], clipped to +-1 outside",
    range=(-1, 1),
    monotonic=True,
    smooth=True,
    zero_centred=True,
    init=GLOROT,
    link="https://en.wikipedia.org/wiki/Activation_function",
    reference="Wuraola & Patel 2018, SQNL",
)


def _bent_identity(x):
    # sqrt(x^2 + 1) - 1 = x^2/(sqrt(x^2 + 1) + 1) (no cancellation near 0), and
    # sqrt(x^2 + 1) = m sqrt((x/m)^2 + 1/m^2), m = max(|x|, 1) (no overflow of x^2)
    m = ops.maximum(ops.abs(x), 1.0)
    u = x / m
    r = m * ops.sqrt(u * u + 1.0 / (m * m))
    return x + 0.5 * (x / (r + 1.0)) * x


_add(
    "bent_identity",
    fn=_bent_identity,
    grad=lambda x: 1.0 + 0.5 * _x_over_sqrt(x),
    formula="(sqrt(x^2 + 1) - 1)/2 + x",
    range=REALS,
    monotonic=True,
    smooth=True,
    zero_centred=False,
    init=GAIN,
    link="https://en.wikipedia.org/wiki/Activation_function",
    reference="bent identity (Echo)",
)
_add(
    "elish",
    fn=lambda x: ops.where(x >= 0, x, ops.expm1(_neg(x))) * sig(x),
    grad=lambda x: ops.where(x >= 0, _swish_grad(x, 1.0),
        ops.exp(_neg(x)) * sig(x) + ops.expm1(_neg(x)) * _dsig(x)),
    formula="x*sigmoid(x) if x >= 0 else (e^x - 1)*sigmoid(x)",
    range=(-0.1716, INF),
    monotonic=False,
    smooth=True,
    zero_centred=False,
    init=HE,
    link="https://arxiv.org/abs/1808.00783",
    reference="Basirat & Roth 2018, ELiSH",
)


def _hsig01(x):
    return ops.clip((x + 1.0) * 0.5, 0.0, 1.0)


_add(
    "hard_elish",
    fn=lambda x: ops.where(x >= 0, x, ops.expm1(_neg(x))) * _hsig01(x),
    grad=lambda x: ops.where(x >= 0, x, ops.expm1(_neg(x))) * 0.5 * _ind(ops.abs(x) < 1, x)
        + ops.where(x >= 0, ops.ones_like(x), ops.exp(_neg(x))) * _hsig01(x),
    formula="x*hs(x) if x >= 0 else (e^x - 1)*hs(x), hs = clip((x+1)/2, 0, 1)",
    range=(-0.0997, INF),
    monotonic=False,
    smooth=False,
    zero_centred=False,
    init=HE,
    link="https://arxiv.org/abs/1808.00783",
    reference="Basirat & Roth 2018, HardELiSH",
)


def _soft_clipping(x, alpha=0.5):
    # softplus(ax) - softplus(ax - a) cancels to 0 once ax - a rounds to ax (x ~ 1e8 in
    # float32); with softplus(z) = z + softplus(-z) the upper half becomes
    # a + softplus(-ax) - softplus(a - ax), which has no cancellation.
    lo = ops.softplus(alpha * x) - ops.softplus(alpha * (x - 1.0))
    hi = alpha + ops.softplus(-alpha * x) - ops.softplus(alpha * (1.0 - x))
    return ops.where(x >= 0.5, hi, lo) / alpha


_add(
    "soft_clipping",
    fn=_soft_clipping,
    grad=lambda x, alpha=0.5: sig(alpha * x) - sig(alpha * (x - 1.0)),
    formula="log((1 + e^(a*x))/(1 + e^(a*(x-1))))/a",
    range=(0, 1),
    monotonic=True,
    smooth=True,
    zero_centred=False,
    init=GLOROT,
    link="https://arxiv.org/abs/1810.11509",
    reference="Klimek & Perelstein 2018, soft clipping",
    params={"alpha": Param(0.5, gt=0.0)},
)


def _aria2(x, alpha=1.5, beta=0.5):
    return x * ops.exp(-alpha * ops.softplus(-beta * x))


def _aria2_grad(x, alpha=1.5, beta=0.5):
    return ops.exp(-alpha * ops.softplus(-beta * x)) * (1.0 + alpha * beta * x * sig(-beta * x))


_add(
    "aria2",
    fn=_aria2,
    grad=_aria2_grad,
    formula="x*sigmoid(beta*x)^alpha",
    range=(-0.2800, INF),
    monotonic=False,
    smooth=True,
    zero_centred=False,
    init=HE,
    link="https://arxiv.org/abs/1805.08878",
    reference="Patwardhan et al. 2019, ARiA (Richard's curve)",
    params={"alpha": Param(1.5, gt=0.0), "beta": Param(0.5, gt=0.0)},
)
_add(
    "fts",
    fn=lambda x, T=-0.2: relu(x) * sig(x) + T,
    grad=lambda x, T=-0.2: _ind(x >= 0, x) * _swish_grad(x, 1.0),
    formula="x*sigmoid(x) + T if x >= 0 else T",
    range=(-0.2, INF),
    monotonic=True,
    smooth=False,
    zero_centred=False,
    init=HE,
    link="https://arxiv.org/abs/1812.06247",
    reference="Chieng et al. 2018, Flatten-T Swish",
    params={"T": Param(-0.2, le=0.0)},
)
_add(
    "nlrelu",
    fn=lambda x, beta=1.0: ops.log1p(beta * relu(x)),
    grad=lambda x, beta=1.0: _ind(x > 0, x) * beta / (1.0 + beta * relu(x)),
    formula="log(1 + beta*relu(x))",
    range=(0, INF),
    monotonic=True,
    smooth=False,
    zero_centred=False,
    init=HE,
    link="https://arxiv.org/abs/1908.03682",
    reference="Liu et al. 2019, Natural-Logarithm ReLU",
    params={"beta": Param(1.0, gt=0.0)},
)
_add(
    "sine_relu",
    fn=lambda x, epsilon=0.0025: ops.where(x > 0, x, epsilon * (ops.sin(x) - ops.cos(x))),
    grad=lambda x, epsilon=0.0025: ops.where(x > 0, ops.ones_like(x), epsilon * (ops.cos(x) + ops.sin(x))),
    formula="x if x > 0 else eps*(sin x - cos x)",
    range=(-0.003536, INF),
    monotonic=False,
    smooth=False,
    zero_centred=False,
    init=HE,
    link="https://github.com/keras-team/keras-contrib/blob/master/keras_contrib/layers/advanced_activations/sinerelu.py",
    reference="Rodrigues 2018, SineReLU (keras-contrib)",
    params={"epsilon": Param(0.0025, ge=0.0)},
)


def _sparsemax(x, axis=-1):
    """Sparsemax (Martins & Astudillo 2016, arXiv:1602.02068): the Euclidean projection of
    each slice along ``axis`` onto the probability simplex, max(x - tau, 0), with tau from
    the sorted values: k(x) = max{k : 1 + k z_(k) > sum_{j<=k} z_(j)}."""
    x = x - ops.max(x, axis=axis, keepdims=True)  # shift-invariant; no cumsum overflow
    last = axis in (-1, len(x.shape) - 1)
    z = x if last else ops.moveaxis(x, axis, -1)
    zs = -ops.sort(-z, axis=-1)
    cs = ops.cumsum(zs, axis=-1)
    k = ops.cast(ops.arange(1, z.shape[-1] + 1), z.dtype)
    kz = ops.sum(ops.cast(1.0 + k * zs > cs, z.dtype), axis=-1, keepdims=True)
    csk = ops.take_along_axis(cs, ops.cast(kz, "int32") - 1, axis=-1)
    tau = (csk - 1.0) / kz
    out = ops.relu(z - tau)
    return out if last else ops.moveaxis(out, -1, axis)


def _softexp(x, alpha=0.0):
    if isinstance(alpha, (int, float)):  # a Python number: pick the branch here, in x's dtype
        if alpha > 0:
            return ops.expm1(alpha * x) / alpha + alpha
        if alpha < 0:
            return -ops.log(1.0 - alpha * (x + alpha)) / alpha
        return x
    alpha = ops.cast(alpha, x.dtype)
    a_safe = ops.where(alpha == 0, ops.ones_like(alpha), alpha)
    pos = ops.expm1(alpha * x) / a_safe + alpha
    inner = 1.0 - alpha * (x + alpha)
    neg = -ops.log(ops.where(alpha < 0, inner, 1.0)) / a_safe
    return ops.where(alpha > 0, pos, ops.where(alpha < 0, neg, x))


def _softexp_grad(x, alpha=0.0):
    if isinstance(alpha, (int, float)):
        if alpha > 0:
            return ops.exp(alpha * x)
        if alpha < 0:
            return 1.0 / (1.0 - alpha * (x + alpha))
        return ops.ones_like(x)
    alpha = ops.cast(alpha, x.dtype)
    pos = ops.exp(alpha * x)
    neg = 1.0 / ops.where(alpha < 0, 1.0 - alpha * (x + alpha), 1.0)
    return ops.where(alpha > 0, pos, ops.where(alpha < 0, neg, ops.ones_like(x)))


_add(
    "soft_exponential",
    fn=_softexp,
    grad=_softexp_grad,
    formula="-log(1 - a(x + a))/a if a < 0; x if a = 0; (e^(ax) - 1)/a + a if a > 0",
    range=REALS,
    monotonic=True,
    smooth=True,
    zero_centred=False,
    init=GAIN,
    link="https://arxiv.org/abs/1602.01321",
    reference="Godfrey & Gashler 2015, soft exponential",
    params={"alpha": Param(0.0)},
)
_add(
    "sparsemax_exact",
    fn=_sparsemax,
    grad=None,
    formula="Euclidean projection onto the simplex (sorted-threshold algorithm)",
    range=(0, 1),
    monotonic=False,
    smooth=False,
    zero_centred=False,
    init=GLOROT,
    link="https://arxiv.org/abs/1602.02068",
    reference="Martins & Astudillo 2016, arXiv:1602.02068 (a correct sparsemax: Keras "
        "3.15's is not)",
    params=AXIS,
    elementwise=False,
)
_add(
    "snake",
    fn=lambda x, alpha=1.0: x + ops.square(ops.sin(alpha * x)) / alpha,
    grad=lambda x, alpha=1.0: 1.0 + 2.0 * ops.sin(alpha * x) * ops.cos(alpha * x),
    formula="x + sin^2(a*x)/a",
    range=REALS,
    monotonic=True,
    smooth=True,
    zero_centred=False,
    init=HE,
    link="https://arxiv.org/abs/2006.08195",
    reference="Ziyin et al. 2020, Neural networks fail to learn periodic functions",
    params={"alpha": Param(1.0, gt=0.0)},
)


def _tanh_exp(x):
    return x * ops.tanh(ops.exp(ops.minimum(x, 20.0)))


def _tanh_exp_grad(x):
    e = ops.exp(ops.minimum(x, 20.0))
    return ops.tanh(e) + x * (e * _dtanh(e))  # e * sech^2(e) -> 0 before x * e overflows


_add(
    "tanh_exp",
    fn=_tanh_exp,
    grad=_tanh_exp_grad,
    formula="x*tanh(e^x)",
    range=(-0.3533, INF),
    monotonic=False,
    smooth=True,
    zero_centred=False,
    init=HE,
    link="https://arxiv.org/abs/2003.09855",
    reference="Liu & Di 2020, TanhExp",
)
_add(
    "logish",
    fn=lambda x: x * ops.log1p(sig(x)),
    grad=lambda x: ops.log1p(sig(x)) + x * _dsig(x) / (1.0 + sig(x)),
    formula="x*log(1 + sigmoid(x))",
    range=(-0.2528, INF),
    monotonic=False,
    smooth=True,
    zero_centred=False,
    init=HE,
    link="https://en.wikipedia.org/wiki/Activation_function",
    reference="Zhu et al. 2021, Logish",
)


def _smish_grad(x):
    s = sig(x)
    t = ops.tanh(ops.log1p(s))
    return t + x * (1.0 - t * t) * s * (1.0 - s) / (1.0 + s)


_add(
    "smish",
    fn=lambda x: x * ops.tanh(ops.log1p(sig(x))),
    grad=_smish_grad,
    formula="x*tanh(log(1 + sigmoid(x)))",
    range=(-0.25, INF),
    monotonic=False,
    smooth=True,
    zero_centred=False,
    init=HE,
    link="https://doi.org/10.3390/electronics11040540",
    reference="Wang et al. 2022, Smish",
)


def _serf_grad(x):
    sp = ops.softplus(x)
    return ops.erf(sp) + x * (ops.exp(-sp * sp) * sig(x) * (2.0 / math.sqrt(math.pi)))


_add(
    "serf",
    fn=lambda x: x * ops.erf(ops.softplus(x)),
    grad=_serf_grad,
    formula="x*erf(softplus(x))",
    range=(-0.3485, INF),
    monotonic=False,
    smooth=True,
    zero_centred=False,
    init=HE,
    link="https://arxiv.org/abs/2108.09598",
    reference="Nag & Bhattacharyya 2021, SERF",
)
_add(
    "gcu",
    fn=lambda x: x * ops.cos(x),
    grad=lambda x: ops.cos(x) - x * ops.sin(x),
    formula="x*cos(x)",
    range=REALS,
    monotonic=False,
    smooth=True,
    zero_centred=True,
    init=GAIN,
    link="https://arxiv.org/abs/2108.12943",
    reference="Noel et al. 2021, Growing Cosine Unit",
)
_add(
    "penalized_tanh",
    fn=lambda x, a=0.25: ops.where(x > 0, ops.tanh(x), a * ops.tanh(x)),
    grad=lambda x, a=0.25: ops.where(x > 0, ops.ones_like(x), a * ops.ones_like(x)) * _dtanh(x),
    formula="tanh(x) if x > 0 else a*tanh(x)",
    range=(-0.25, 1),
    monotonic=True,
    smooth=False,
    zero_centred=False,
    init=GLOROT,
    link="https://arxiv.org/abs/1602.05980",
    reference="Xu et al. 2016, Revise Saturated Activation Functions",
    params={"a": Param(0.25, ge=0.0, le=1.0)},
)
_add(
    "softmin",
    fn=lambda x, axis=-1: ops.softmax(-x, axis=axis),
    grad=None,
    formula="e^-x_i / sum_j e^-x_j",
    range=(0, 1),
    monotonic=False,
    smooth=True,
    zero_centred=False,
    init=GLOROT,
    link="https://pytorch.org/docs/stable/generated/torch.nn.Softmin.html",
    reference="torch.nn.Softmin",
    params=AXIS,
    elementwise=False,
)
_add(
    "squared_relu",
    fn=lambda x: ops.square(relu(x)),
    grad=lambda x: 2.0 * relu(x),
    formula="relu(x)^2",
    range=(0, INF),
    monotonic=True,
    smooth=True,
    zero_centred=False,
    init=HE,
    link="https://arxiv.org/abs/2109.08668",
    reference="So et al. 2021, Primer",
)
_add(
    "star_relu",
    fn=lambda x, s=0.8944, b=-0.4472: s * ops.square(relu(x)) + b,
    grad=lambda x, s=0.8944, b=-0.4472: 2.0 * s * relu(x),
    formula="s*relu(x)^2 + b",
    range=(-0.4472, INF),
    monotonic=True,
    smooth=True,
    zero_centred=False,
    init=HE,
    link="https://arxiv.org/abs/2210.13452",
    reference="Yu et al. 2022, MetaFormer Baselines (StarReLU)",
    params={"s": Param(0.8944, gt=0.0), "b": Param(-0.4472)},
)
_add(
    "sine",
    fn=lambda x, w0=1.0: ops.sin(w0 * x),
    grad=lambda x, w0=1.0: w0 * ops.cos(w0 * x),
    formula="sin(w0*x)",
    range=(-1, 1),
    monotonic=False,
    smooth=True,
    zero_centred=True,
    init=GAIN,
    link="https://arxiv.org/abs/2006.09661",
    reference="Sitzmann et al. 2020, SIREN",
    params={"w0": Param(1.0, gt=0.0)},
)
_add(
    "gaussian",
    fn=lambda x: ops.exp(-x * x),
    grad=lambda x: -2.0 * (x * ops.exp(-x * x)),
    formula="e^(-x^2)",
    range=(0, 1),
    monotonic=False,
    smooth=True,
    zero_centred=False,
    init=GAIN,
    link="https://en.wikipedia.org/wiki/Radial_basis_function",
    reference="radial basis function",
)
_add(
    "hard_mish",
    fn=lambda x: 0.5 * x * ops.clip(x + 2.0, 0.0, 2.0),
    grad=lambda x: 0.5 * ops.clip(x + 2.0, 0.0, 2.0) + 0.5 * x * _ind((x > -2) & (x < 0), x),
    formula="x/2*clip(x + 2, 0, 2)",
    range=(-0.5, INF),
    monotonic=False,
    smooth=False,
    zero_centred=False,
    init=HE,
    link="https://github.com/huggingface/pytorch-image-models/blob/main/timm/layers/activations.py",
    reference="timm hard_mish (Misra 2019 approximation)",
)


def _rrelu_slope(lower=0.125, upper=1.0 / 3.0):
    return 0.5 * (lower + upper)


def _rrelu_check(p):
    if not p["lower"] <= p["upper"]:
        raise ValueError(f"rrelu: need lower <= upper, got {p['lower']} > {p['upper']}")


_add(
    "rrelu",
    fn=lambda x, lower=0.125, upper=1.0 / 3.0: ops.where(x >= 0, x, _rrelu_slope(lower, upper) * x),
    grad=lambda x, lower=0.125, upper=1.0 / 3.0: ops.where(
        x >= 0, ops.ones_like(x), _rrelu_slope(lower, upper) * ops.ones_like(x)),
    formula="x if x >= 0 else (l+u)/2*x (inference form)",
    range=REALS,
    monotonic=True,
    smooth=False,
    zero_centred=False,
    init=HE,
    link="https://arxiv.org/abs/1505.00853",
    reference="Xu et al. 2015, Empirical Evaluation of Rectified Activations (RReLU)",
    params={"lower": Param(0.125, ge=0.0, le=1.0), "upper": Param(1.0 / 3.0, ge=0.0, le=1.0)},
    check=_rrelu_check,
)
_add(
    "mila",
    fn=lambda x, beta=-0.25: x * ops.tanh(ops.softplus(x + beta)),
    grad=lambda x, beta=-0.25: _mish_like_grad(x, beta),
    formula="x*tanh(softplus(beta + x))",
    range=(-0.2495, INF),
    monotonic=False,
    smooth=True,
    zero_centred=False,
    init=HE,
    link="https://github.com/digantamisra98/Echo",
    reference="Echo: Mila (mish with a shift)",
    params={"beta": Param(-0.25)},
)


def _gated(gate):
    def fn(x):
        a, b = _split(x)
        return a * gate(b)

    return fn


# gelu = the exact (erf) GELU, as the catalogue's `gelu` (ops.gelu defaults to the tanh form)
_add(
    "geglu",
    fn=_gated(lambda b: ops.gelu(b, approximate=False)),
    grad=None,
    formula="a*gelu(b), [a, b] = split(x, 2, axis=-1)",
    range=REALS,
    monotonic=False,
    smooth=True,
    zero_centred=False,
    init=GAIN,
    link="https://arxiv.org/abs/2002.05202",
    reference="Shazeer 2020, GLU Variants Improve Transformer",
    elementwise=False,
    gate="gelu",
)
_add(
    "swiglu",
    fn=_gated(ops.silu),
    grad=None,
    formula="a*silu(b), [a, b] = split(x, 2, axis=-1)",
    range=REALS,
    monotonic=False,
    smooth=True,
    zero_centred=False,
    init=GAIN,
    link="https://arxiv.org/abs/2002.05202",
    reference="Shazeer 2020, GLU Variants Improve Transformer",
    elementwise=False,
    gate="silu",
)
_add(
    "reglu",
    fn=_gated(ops.relu),
    grad=None,
    formula="a*relu(b), [a, b] = split(x, 2, axis=-1)",
    range=REALS,
    monotonic=False,
    smooth=False,
    zero_centred=False,
    init=GAIN,
    link="https://arxiv.org/abs/2002.05202",
    reference="Shazeer 2020, GLU Variants Improve Transformer",
    elementwise=False,
    gate="relu",
)

_add(
    "arctan",
    fn=ops.arctan,
    grad=lambda x: 1.0 / (1.0 + x * x),
    formula="arctan(x)",
    range=(-math.pi / 2, math.pi / 2),
    monotonic=True,
    smooth=True,
    zero_centred=True,
    init=GLOROT,
    link="https://en.wikipedia.org/wiki/Inverse_trigonometric_functions",
    reference="inverse tangent (sigmoid-shaped, zero-centred)",
)
_add(
    "shifted_softplus",
    fn=lambda x: ops.softplus(x) - math.log(2.0),
    grad=lambda x: sig(x),
    formula="log(1 + e^x) - log 2",
    range=(-math.log(2.0), INF),
    monotonic=True,
    smooth=True,
    zero_centred=True,
    init=HE,
    link="https://arxiv.org/abs/1706.08566",
    reference="Schütt et al. 2017, SchNet",
)
_add(
    "dsilu",
    fn=lambda x: sig(x) * (1.0 + x * sig(-x)),
    grad=lambda x: _dsig(x) * (2.0 + x * (1.0 - 2.0 * sig(x))),
    formula="sigmoid(x)*(1 + x*(1 - sigmoid(x)))",
    range=(-0.0999, 1.0999),
    monotonic=False,
    smooth=True,
    zero_centred=False,
    init=GLOROT,
    link="https://arxiv.org/abs/1702.03118",
    reference="Elfwing et al. 2017 (derivative of SiLU)",
)
_add(
    "weighted_tanh",
    fn=lambda x, weight=1.0: ops.tanh(weight * x),
    grad=lambda x, weight=1.0: weight * _dtanh(weight * x),
    formula="tanh(w*x)",
    range=(-1, 1),
    monotonic=True,
    smooth=True,
    zero_centred=True,
    init=GLOROT,
    link="https://github.com/digantamisra98/Echo",
    reference="Echo: weighted tanh",
    params={"weight": Param(1.0, gt=0.0)},
)


#: The "classic dozen" (PReLU is the learnable layer keras_acts.layers.PReLU).
CLASSIC = ("binary_step", "linear", "sigmoid", "tanh", "relu", "leaky_relu", "elu",
           "softmax", "swish", "gelu", "selu")
