"""The activation catalogue: one declarative entry per activation.

Every other part of keras-acts (string names, serialization, learnable layers,
initializers, docs table, plots, tests) is derived from the entries below.

An entry gives the formula as a function of ``x`` and keyword parameters written
with ``keras.ops`` only (so it runs on TensorFlow, JAX and torch, and parameters
may be Python floats *or* tensors, which is what lets ``layers.Learnable`` train
them), its analytic derivative, its parameters with defaults and valid ranges,
and its properties.

Adding an activation = one ``_add(...)`` call here + its NumPy reference in
``tests/reference.py``.
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


def _add(name, fn, grad, formula, range, mono, smooth, zc, init, ref, params=None, **kw):
    if name in CATALOGUE:
        raise RuntimeError(f"duplicate catalogue entry {name!r}")
    CATALOGUE[name] = Entry(
        name=name, fn=fn, grad=grad, formula=formula, range=tuple(range),
        monotonic=mono, smooth=smooth, zero_centred=zc, init=init, reference=ref,
        params=params or {}, **kw,
    )


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


A = keras.activations
P = Param
R = (-INF, INF)
HE, LECUN, GLOROT, GAIN = "he", "lecun", "glorot", "gain"
SLOPE = {"negative_slope": P(0.2, ge=0.0)}
AXIS = {"axis": P(-1, kind=int, learnable=False)}

# ----------------------------------------------------------------------------
# Keras built-ins: the entry points at Keras's own function (never shadowed);
# the metadata, derivative and plots come from here.
# ----------------------------------------------------------------------------
_add("linear", A.linear, lambda x: ops.ones_like(x), "x", R, True, True, True, GLOROT,
     "identity", keras_builtin=True)
_add("sigmoid", A.sigmoid, lambda x: _dsig(x), "1/(1+e^-x)", (0, 1), True, True, False, GLOROT,
     "logistic function", keras_builtin=True)
_add("tanh", A.tanh, lambda x: _dtanh(x), "tanh(x)", (-1, 1), True, True, True, GLOROT,
     "LeCun et al. 1998, Efficient BackProp", keras_builtin=True)
_add("relu", A.relu,
     lambda x, negative_slope=0.0, max_value=None, threshold=0.0: ops.where(
         x >= threshold, ops.ones_like(x), negative_slope * ops.ones_like(x))
     * (1.0 if max_value is None else _ind(x < max_value, x)),
     "max(x, 0)", (0, INF), True, False, False, HE, "Nair & Hinton 2010; Glorot et al. 2011",
     params={"negative_slope": P(0.0, ge=0.0), "max_value": P(None, gt=0.0, optional=True),
             "threshold": P(0.0)},
     keras_builtin=True,
     tensor_fn=lambda x, negative_slope=0.0, max_value=None, threshold=0.0: (
         (lambda p: p if max_value is None else ops.clip(p, 0.0, max_value))(
             ops.where(x > threshold, x, ops.zeros_like(x)))
         - negative_slope * ops.relu(threshold - x)))
_add("relu6", A.relu6, lambda x: _ind((x > 0) & (x < 6), x), "min(max(x, 0), 6)", (0, 6), True,
     False, False, HE, "Krizhevsky 2010; MobileNets (Howard et al. 2017)", keras_builtin=True)
_add("leaky_relu", A.leaky_relu,
     lambda x, negative_slope=0.2: ops.where(x > 0, ops.ones_like(x), negative_slope * ops.ones_like(x)),
     "x if x > 0 else a*x", R, True, False, False, HE, "Maas et al. 2013",
     params=SLOPE, keras_builtin=True,
     tensor_fn=lambda x, negative_slope=0.2: ops.where(x > 0, x, negative_slope * x))
_add("elu", A.elu,
     lambda x, alpha=1.0: ops.where(x > 0, ops.ones_like(x), alpha * ops.exp(_neg(x))),
     "x if x > 0 else a*(e^x - 1)", (-1, INF), True, True, True, HE,  # C1 at the default a = 1
     "Clevert et al. 2015",
     params={"alpha": P(1.0, ge=0.0)}, keras_builtin=True,
     tensor_fn=lambda x, alpha=1.0: ops.where(x > 0, x, alpha * ops.expm1(ops.minimum(x, 0.0))))
_add("celu", A.celu,
     lambda x, alpha=1.0: ops.where(x > 0, ops.ones_like(x), ops.exp(_neg(x) / alpha)),
     "x if x > 0 else a*(e^(x/a) - 1)", (-1, INF), True, True, True, HE, "Barron 2017",
     params={"alpha": P(1.0, gt=0.0)}, keras_builtin=True,
     tensor_fn=lambda x, alpha=1.0: ops.where(
         x > 0, x, alpha * ops.expm1(ops.minimum(x, 0.0) / alpha)))
_add("selu", A.selu,
     lambda x: _SELU_SCALE * ops.where(x > 0, ops.ones_like(x), _SELU_ALPHA * ops.exp(_neg(x))),
     "scale*(x if x > 0 else alpha*(e^x - 1))", (-_SELU_SCALE * _SELU_ALPHA, INF), True, False,
     True, LECUN, "Klambauer et al. 2017, Self-Normalizing Neural Networks", keras_builtin=True)
_add("exponential", A.exponential, lambda x: ops.exp(x), "e^x", (0, INF), True, True, False, GAIN,
     "exponential", keras_builtin=True)
_add("gelu", A.gelu, _gelu_grad, "x*Phi(x)", (-0.17, INF), False, True, False, HE,
     "Hendrycks & Gimpel 2016",
     params={"approximate": P(False, kind=bool, learnable=False)}, keras_builtin=True)
_add("softplus", A.softplus, lambda x: ops.sigmoid(x), "log(1 + e^x)", (0, INF), True, True, False,
     HE, "Dugas et al. 2001", keras_builtin=True)
_add("softsign", A.softsign, lambda x: 1.0 / ops.square(1.0 + ops.abs(x)), "x/(1+|x|)", (-1, 1),
     True, True, True, GLOROT, "Bergstra et al. 2009", keras_builtin=True)
_add("silu", A.silu, lambda x: _swish_grad(x, 1.0), "x*sigmoid(x)", (-0.2785, INF), False, True,
     False, HE, "Elfwing et al. 2017; Ramachandran et al. 2017 (swish)", keras_builtin=True)
_add("swish", A.swish, lambda x: _swish_grad(x, 1.0), "x*sigmoid(x)", (-0.2785, INF), False, True,
     False, HE, "Ramachandran et al. 2017", keras_builtin=True, alias_of="silu")
_add("hard_sigmoid", A.hard_sigmoid, lambda x: _ind((x > -3) & (x < 3), x) / 6.0,
     "relu6(x + 3)/6", (0, 1), True, False, False, GLOROT, "Howard et al. 2019, MobileNetV3",
     keras_builtin=True)
_add("hard_silu", A.hard_silu,
     lambda x: ops.clip(x + 3.0, 0.0, 6.0) / 6.0 + x * _ind((x > -3) & (x < 3), x) / 6.0,
     "x*relu6(x + 3)/6", (-0.375, INF), False, False, False, HE, "Howard et al. 2019, MobileNetV3",
     keras_builtin=True)
_add("hard_swish", A.hard_swish,
     lambda x: ops.clip(x + 3.0, 0.0, 6.0) / 6.0 + x * _ind((x > -3) & (x < 3), x) / 6.0,
     "x*relu6(x + 3)/6", (-0.375, INF), False, False, False, HE, "Howard et al. 2019, MobileNetV3",
     keras_builtin=True, alias_of="hard_silu")
_add("hard_tanh", A.hard_tanh, lambda x: _ind(ops.abs(x) < 1, x), "clip(x, -1, 1)", (-1, 1), True,
     False, True, GLOROT, "Collobert 2004", keras_builtin=True)
_add("hard_shrink", A.hard_shrink,
     lambda x, threshold=0.5: _ind(ops.abs(x) > threshold, x), "x if |x| > t else 0", R, True,
     False, True, GAIN, "torch.nn.Hardshrink", params={"threshold": P(0.5, ge=0.0)},
     keras_builtin=True,
     tensor_fn=lambda x, threshold=0.5: ops.where(ops.abs(x) > threshold, x, ops.zeros_like(x)))
_add("soft_shrink", A.soft_shrink,
     lambda x, threshold=0.5: _ind(ops.abs(x) > threshold, x), "sign(x)*max(|x| - t, 0)", R, True,
     False, True, GAIN, "Donoho 1995 (soft thresholding); torch.nn.Softshrink",
     params={"threshold": P(0.5, ge=0.0)}, keras_builtin=True,
     tensor_fn=lambda x, threshold=0.5: ops.where(
         x > threshold, x - threshold, ops.where(x < -threshold, x + threshold, ops.zeros_like(x))))
_add("tanh_shrink", A.tanh_shrink, lambda x: ops.square(ops.tanh(x)), "x - tanh(x)", R, True, True,
     True, GAIN, "torch.nn.Tanhshrink", keras_builtin=True)
_add("log_sigmoid", A.log_sigmoid, lambda x: ops.sigmoid(-x), "-softplus(-x)", (-INF, 0), True,
     True, False, GLOROT, "log of the logistic function", keras_builtin=True)
_add("mish", A.mish, lambda x: _mish_like_grad(x), "x*tanh(softplus(x))", (-0.3089, INF), False,
     True, False, HE, "Misra 2019", keras_builtin=True)
_add("sparse_plus", A.sparse_plus,
     lambda x: ops.where(x >= 1, ops.ones_like(x), 0.5 * ops.clip(x + 1.0, 0.0, 2.0)),
     "0 | (x+1)^2/4 | x", (0, INF), True, True, False, HE, "Martins & Astudillo 2016 (sparsemax)",
     keras_builtin=True)
_add("sparse_sigmoid", A.sparse_sigmoid, lambda x: 0.5 * _ind(ops.abs(x) < 1, x),
     "clip((x+1)/2, 0, 1)", (0, 1), True, False, False, GLOROT, "Martins & Astudillo 2016",
     keras_builtin=True)
_add("squareplus", A.squareplus,
     lambda x, b=4.0: 0.5 * (1.0 + x * ops.rsqrt(x * x + b)), "(x + sqrt(x^2 + b))/2", (0, INF),
     True, True, False, HE, "Barron 2021, Squareplus", params={"b": P(4.0, ge=0.0)},
     keras_builtin=True,
     tensor_fn=lambda x, b=4.0: 0.5 * (x + ops.sqrt(x * x + b)))
_add("threshold", A.threshold,
     lambda x, threshold=0.0, default_value=0.0: _ind(x > threshold, x),
     "x if x > t else v", (0, INF), True, False, False, HE, "torch.nn.Threshold",
     params={"threshold": P(0.0), "default_value": P(0.0)}, keras_builtin=True,
     string_usable=False,
     tensor_fn=lambda x, threshold=0.0, default_value=0.0: ops.where(
         x > threshold, x, default_value * ops.ones_like(x)))
_add("softmax", A.softmax, None, "e^x_i / sum_j e^x_j", (0, 1), False, True, False, GLOROT,
     "Bridle 1990", params=AXIS, keras_builtin=True, elementwise=False)
_add("log_softmax", A.log_softmax, None, "x_i - logsumexp(x)", (-INF, 0), False, True, False,
     GLOROT, "log of softmax", params=AXIS, keras_builtin=True, elementwise=False)
_add("sparsemax", A.sparsemax, None, "Euclidean projection onto the simplex", (0, 1), False, False,
     False, GLOROT, "Martins & Astudillo 2016 -- **wrong in Keras 3.15** (keras-team/keras#23425: "
     "rows need not sum to 1); use `sparsemax_exact`", params=AXIS, keras_builtin=True,
     elementwise=False)
_add("glu", A.glu, None, "a*sigmoid(b), [a, b] = split(x)", R, False, True, False, GLOROT,
     "Dauphin et al. 2017", params=AXIS, keras_builtin=True, elementwise=False)


# ----------------------------------------------------------------------------
# keras-acts activations
# ----------------------------------------------------------------------------
def _step(x, threshold=0.0):
    return ops.cast(x >= threshold, x.dtype)


def _step_ste(x, threshold=0.0):
    c = ops.clip(x - threshold, -1.0, 1.0)
    return ops.stop_gradient(_step(x, threshold) - c) + c


_add("binary_step", _step, lambda x, threshold=0.0: ops.zeros_like(x), "1 if x >= t else 0",
     (0, 1), True, False, False, GLOROT, "Heaviside step; McCulloch & Pitts 1943",
     params={"threshold": P(0.0)})
_add("binary_step_ste", _step_ste,
     lambda x, threshold=0.0: _ind(ops.abs(x - threshold) <= 1, x),
     "1 if x >= t else 0 (straight-through gradient 1{|x-t|<=1})", (0, 1), True, False, False,
     GLOROT, "Bengio et al. 2013; Hubara et al. 2016 (straight-through estimator)",
     params={"threshold": P(0.0)}, surrogate_grad=True)
_add("swish_x", lambda x, beta=1.0: x * sig(beta * x), _swish_grad, "x*sigmoid(beta*x)",
     (-0.2785, INF), False, True, False, HE, "Ramachandran et al. 2017, Searching for Activation Functions",
     params={"beta": P(1.0, ge=0.0)})
_add("eswish", lambda x, beta=1.375: beta * (x * sig(x)),
     lambda x, beta=1.375: beta * _swish_grad(x, 1.0), "beta*x*sigmoid(x)", (-0.3829, INF), False,
     True, False, HE, "Alcaide 2018, E-swish", params={"beta": P(1.375, gt=0.0)})


def _gelu_tanh(x):
    # x/2 (1 + tanh u) = x sigmoid(2u): relative accuracy for x << 0, where 1 + tanh(u)
    # cancels (and so does its autodiff gradient)
    return x * sig(2.0 * _C_GELU * (x + 0.044715 * x * x * x))


_add("gelu_tanh", _gelu_tanh, _gelu_tanh_grad,
     "x/2*(1 + tanh(sqrt(2/pi)*(x + 0.044715x^3)))", (-0.1701, INF), False, True, False, HE,
     "Hendrycks & Gimpel 2016 (tanh approximation)")
_add("quick_gelu", lambda x: x * sig(1.702 * x), lambda x: _swish_grad(x, 1.702),
     "x*sigmoid(1.702x)", (-0.164, INF), False, True, False, HE,
     "Hendrycks & Gimpel 2016; Radford et al. 2021 (CLIP)")
_add("lisht", lambda x: x * ops.tanh(x), lambda x: ops.tanh(x) + x * _dtanh(x), "x*tanh(x)",
     (0, INF), False, True, False, HE, "Roy et al. 2019, LiSHT")
_add("isru", lambda x, alpha=1.0: _x_over_sqrt(x, alpha),
     lambda x, alpha=1.0: ops.power(ops.rsqrt(1.0 + alpha * x * x), 3.0),
     "x/sqrt(1 + a*x^2)", (-1, 1), True, True, True, GLOROT,
     "Carlile et al. 2017, ISRLU", params={"alpha": P(1.0, gt=0.0)})
_add("isrlu", lambda x, alpha=1.0: ops.where(x >= 0, x, _x_over_sqrt(_neg(x), alpha)),
     lambda x, alpha=1.0: ops.where(x >= 0, ops.ones_like(x),
                                    ops.power(ops.rsqrt(1.0 + alpha * ops.square(_neg(x))), 3.0)),
     "x if x >= 0 else x/sqrt(1 + a*x^2)", (-1, INF), True, True, True, HE,
     "Carlile et al. 2017, ISRLU", params={"alpha": P(1.0, gt=0.0)})


def _sqnl(x):
    c = ops.clip(x, -2.0, 2.0)
    return c - c * ops.abs(c) * 0.25


_add("sqnl", _sqnl, lambda x: 1.0 - 0.5 * ops.abs(ops.clip(x, -2.0, 2.0)),
     "x -/+ x^2/4 on [-2, 2], clipped to +-1 outside", (-1, 1), True, True, True, GLOROT,
     "Wuraola & Patel 2018, SQNL")


def _bent_identity(x):
    # sqrt(x^2 + 1) - 1 = x^2/(sqrt(x^2 + 1) + 1) (no cancellation near 0), and
    # sqrt(x^2 + 1) = m sqrt((x/m)^2 + 1/m^2), m = max(|x|, 1) (no overflow of x^2)
    m = ops.maximum(ops.abs(x), 1.0)
    u = x / m
    r = m * ops.sqrt(u * u + 1.0 / (m * m))
    return x + 0.5 * (x / (r + 1.0)) * x


_add("bent_identity", _bent_identity,
     lambda x: 1.0 + 0.5 * _x_over_sqrt(x), "(sqrt(x^2 + 1) - 1)/2 + x", R, True,
     True, False, GAIN, "bent identity (Echo)")
_add("elish", lambda x: ops.where(x >= 0, x, ops.expm1(_neg(x))) * sig(x),
     lambda x: ops.where(x >= 0, _swish_grad(x, 1.0),
                         ops.exp(_neg(x)) * sig(x) + ops.expm1(_neg(x)) * _dsig(x)),
     "x*sigmoid(x) if x >= 0 else (e^x - 1)*sigmoid(x)", (-0.1716, INF), False, True, False, HE,
     "Basirat & Roth 2018, ELiSH")


def _hsig01(x):
    return ops.clip((x + 1.0) * 0.5, 0.0, 1.0)


_add("hard_elish", lambda x: ops.where(x >= 0, x, ops.expm1(_neg(x))) * _hsig01(x),
     lambda x: ops.where(x >= 0, x, ops.expm1(_neg(x))) * 0.5 * _ind(ops.abs(x) < 1, x)
     + ops.where(x >= 0, ops.ones_like(x), ops.exp(_neg(x))) * _hsig01(x),
     "x*hs(x) if x >= 0 else (e^x - 1)*hs(x), hs = clip((x+1)/2, 0, 1)", (-0.0997, INF), False,
     False, False, HE, "Basirat & Roth 2018, HardELiSH")


def _soft_clipping(x, alpha=0.5):
    # softplus(ax) - softplus(ax - a) cancels to 0 once ax - a rounds to ax (x ~ 1e8 in
    # float32); with softplus(z) = z + softplus(-z) the upper half becomes
    # a + softplus(-ax) - softplus(a - ax), which has no cancellation.
    lo = ops.softplus(alpha * x) - ops.softplus(alpha * (x - 1.0))
    hi = alpha + ops.softplus(-alpha * x) - ops.softplus(alpha * (1.0 - x))
    return ops.where(x >= 0.5, hi, lo) / alpha


_add("soft_clipping", _soft_clipping,
     lambda x, alpha=0.5: sig(alpha * x) - sig(alpha * (x - 1.0)),
     "log((1 + e^(a*x))/(1 + e^(a*(x-1))))/a", (0, 1), True, True, False, GLOROT,
     "Klimek & Perelstein 2018, soft clipping", params={"alpha": P(0.5, gt=0.0)})


def _aria2(x, alpha=1.5, beta=0.5):
    return x * ops.exp(-alpha * ops.softplus(-beta * x))


def _aria2_grad(x, alpha=1.5, beta=0.5):
    return ops.exp(-alpha * ops.softplus(-beta * x)) * (1.0 + alpha * beta * x * sig(-beta * x))


_add("aria2", _aria2, _aria2_grad, "x*sigmoid(beta*x)^alpha", (-0.2800, INF), False, True, False, HE,
     "Patwardhan et al. 2019, ARiA (Richard's curve)",
     params={"alpha": P(1.5, gt=0.0), "beta": P(0.5, gt=0.0)})
_add("fts", lambda x, T=-0.2: relu(x) * sig(x) + T,
     lambda x, T=-0.2: _ind(x >= 0, x) * _swish_grad(x, 1.0),
     "x*sigmoid(x) + T if x >= 0 else T", (-0.2, INF), True, False, False, HE,
     "Chieng et al. 2018, Flatten-T Swish", params={"T": P(-0.2, le=0.0)})
_add("nlrelu", lambda x, beta=1.0: ops.log1p(beta * relu(x)),
     lambda x, beta=1.0: _ind(x > 0, x) * beta / (1.0 + beta * relu(x)), "log(1 + beta*relu(x))",
     (0, INF), True, False, False, HE, "Liu et al. 2019, Natural-Logarithm ReLU",
     params={"beta": P(1.0, gt=0.0)})
_add("sine_relu", lambda x, epsilon=0.0025: ops.where(x > 0, x, epsilon * (ops.sin(x) - ops.cos(x))),
     lambda x, epsilon=0.0025: ops.where(x > 0, ops.ones_like(x), epsilon * (ops.cos(x) + ops.sin(x))),
     "x if x > 0 else eps*(sin x - cos x)", (-0.003536, INF), False, False, False, HE,
     "Rodrigues 2018, SineReLU (keras-contrib)", params={"epsilon": P(0.0025, ge=0.0)})


def _sparsemax(x, axis=-1):
    """Sparsemax (Martins & Astudillo 2016, arXiv:1602.02068): the Euclidean projection of
    each slice along ``axis`` onto the probability simplex, max(x - tau, 0), with tau from
    the sorted values: k(x) = max{k : 1 + k z_(k) > sum_{j<=k} z_(j)}."""
    z = ops.moveaxis(x, axis, -1)
    zs = -ops.sort(-z, axis=-1)
    cs = ops.cumsum(zs, axis=-1)
    k = ops.cast(ops.arange(1, z.shape[-1] + 1), z.dtype)
    kz = ops.sum(ops.cast(1.0 + k * zs > cs, z.dtype), axis=-1, keepdims=True)
    csk = ops.take_along_axis(cs, ops.cast(kz, "int32") - 1, axis=-1)
    tau = (csk - 1.0) / kz
    return ops.moveaxis(ops.relu(z - tau), -1, axis)


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


_add("soft_exponential", _softexp, _softexp_grad,
     "-log(1 - a(x + a))/a if a < 0; x if a = 0; (e^(ax) - 1)/a + a if a > 0", R, True, True,
     False, GAIN, "Godfrey & Gashler 2015, soft exponential", params={"alpha": P(0.0)})
_add("sparsemax_exact", _sparsemax, None,
     "Euclidean projection onto the simplex (sorted-threshold algorithm)", (0, 1), False, False,
     False, GLOROT, "Martins & Astudillo 2016, arXiv:1602.02068 (a correct sparsemax: Keras "
     "3.15's is not)", params=AXIS, elementwise=False)
_add("snake", lambda x, alpha=1.0: x + ops.square(ops.sin(alpha * x)) / alpha,
     lambda x, alpha=1.0: 1.0 + 2.0 * ops.sin(alpha * x) * ops.cos(alpha * x),  # 2ax may overflow
     "x + sin^2(a*x)/a", R, True, True,
     False, HE, "Ziyin et al. 2020, Neural networks fail to learn periodic functions",
     params={"alpha": P(1.0, gt=0.0)})


def _tanh_exp(x):
    return x * ops.tanh(ops.exp(ops.minimum(x, 20.0)))


def _tanh_exp_grad(x):
    e = ops.exp(ops.minimum(x, 20.0))
    return ops.tanh(e) + x * (e * _dtanh(e))  # e * sech^2(e) -> 0 before x * e overflows


_add("tanh_exp", _tanh_exp, _tanh_exp_grad, "x*tanh(e^x)", (-0.3533, INF), False, True, False, HE,
     "Liu & Di 2020, TanhExp")
_add("logish", lambda x: x * ops.log1p(sig(x)),
     lambda x: ops.log1p(sig(x)) + x * _dsig(x) / (1.0 + sig(x)), "x*log(1 + sigmoid(x))",
     (-0.2528, INF), False, True, False, HE, "Zhu et al. 2021, Logish")


def _smish_grad(x):
    s = sig(x)
    t = ops.tanh(ops.log1p(s))
    return t + x * (1.0 - t * t) * s * (1.0 - s) / (1.0 + s)


_add("smish", lambda x: x * ops.tanh(ops.log1p(sig(x))), _smish_grad,
     "x*tanh(log(1 + sigmoid(x)))", (-0.25, INF), False, True, False, HE,
     "Wang et al. 2022, Smish")


def _serf_grad(x):
    sp = ops.softplus(x)
    return ops.erf(sp) + x * (ops.exp(-sp * sp) * sig(x) * (2.0 / math.sqrt(math.pi)))


_add("serf", lambda x: x * ops.erf(ops.softplus(x)), _serf_grad, "x*erf(softplus(x))",
     (-0.3485, INF), False, True, False, HE, "Nag & Bhattacharyya 2021, SERF")
_add("gcu", lambda x: x * ops.cos(x), lambda x: ops.cos(x) - x * ops.sin(x), "x*cos(x)", R, False,
     True, True, GAIN, "Noel et al. 2021, Growing Cosine Unit")
_add("penalized_tanh", lambda x, a=0.25: ops.where(x > 0, ops.tanh(x), a * ops.tanh(x)),
     lambda x, a=0.25: ops.where(x > 0, ops.ones_like(x), a * ops.ones_like(x)) * _dtanh(x),
     "tanh(x) if x > 0 else a*tanh(x)", (-0.25, 1), True, False, False, GLOROT,
     "Xu et al. 2016, Revise Saturated Activation Functions", params={"a": P(0.25, ge=0.0, le=1.0)})
_add("softmin", lambda x, axis=-1: ops.softmax(-x, axis=axis), None, "e^-x_i / sum_j e^-x_j",
     (0, 1), False, True, False, GLOROT, "torch.nn.Softmin", params=AXIS, elementwise=False)
_add("squared_relu", lambda x: ops.square(relu(x)), lambda x: 2.0 * relu(x), "relu(x)^2",
     (0, INF), True, True, False, HE, "So et al. 2021, Primer")
_add("star_relu", lambda x, s=0.8944, b=-0.4472: s * ops.square(relu(x)) + b,
     lambda x, s=0.8944, b=-0.4472: 2.0 * s * relu(x), "s*relu(x)^2 + b", (-0.4472, INF), True, True,
     False, HE, "Yu et al. 2022, MetaFormer Baselines (StarReLU)",
     params={"s": P(0.8944, gt=0.0), "b": P(-0.4472)})
_add("sine", lambda x, w0=1.0: ops.sin(w0 * x), lambda x, w0=1.0: w0 * ops.cos(w0 * x),
     "sin(w0*x)", (-1, 1), False, True, True, GAIN, "Sitzmann et al. 2020, SIREN",
     params={"w0": P(1.0, gt=0.0)})
_add("gaussian", lambda x: ops.exp(-x * x), lambda x: -2.0 * (x * ops.exp(-x * x)), "e^(-x^2)",
     (0, 1), False, True, False, GAIN, "radial basis function")
_add("hard_mish", lambda x: 0.5 * x * ops.clip(x + 2.0, 0.0, 2.0),
     lambda x: 0.5 * ops.clip(x + 2.0, 0.0, 2.0) + 0.5 * x * _ind((x > -2) & (x < 0), x),
     "x/2*clip(x + 2, 0, 2)", (-0.5, INF), False, False, False, HE,
     "timm hard_mish (Misra 2019 approximation)")


def _rrelu_slope(lower=0.125, upper=1.0 / 3.0):
    return 0.5 * (lower + upper)


def _rrelu_check(p):
    if not p["lower"] <= p["upper"]:
        raise ValueError(f"rrelu: need lower <= upper, got {p['lower']} > {p['upper']}")


_add("rrelu", lambda x, lower=0.125, upper=1.0 / 3.0: ops.where(x >= 0, x, _rrelu_slope(lower, upper) * x),
     lambda x, lower=0.125, upper=1.0 / 3.0: ops.where(
         x >= 0, ops.ones_like(x), _rrelu_slope(lower, upper) * ops.ones_like(x)),
     "x if x >= 0 else (l+u)/2*x (inference form)", R, True, False, False, HE,
     "Xu et al. 2015, Empirical Evaluation of Rectified Activations (RReLU)",
     params={"lower": P(0.125, ge=0.0, le=1.0), "upper": P(1.0 / 3.0, ge=0.0, le=1.0)},
     check=_rrelu_check)
_add("mila", lambda x, beta=-0.25: x * ops.tanh(ops.softplus(x + beta)),
     lambda x, beta=-0.25: _mish_like_grad(x, beta), "x*tanh(softplus(beta + x))",
     (-0.2495, INF), False, True, False, HE, "Echo: Mila (mish with a shift)", params={"beta": P(-0.25)})


def _gated(gate):
    def fn(x):
        a, b = _split(x)
        return a * gate(b)

    return fn


# gelu = the exact (erf) GELU, as the catalogue's `gelu` (ops.gelu defaults to the tanh form)
_add("geglu", _gated(lambda b: ops.gelu(b, approximate=False)), None,
     "a*gelu(b), [a, b] = split(x, 2, axis=-1)", R, False, True, False, GAIN,
     "Shazeer 2020, GLU Variants Improve Transformer", elementwise=False)
_add("swiglu", _gated(ops.silu), None, "a*silu(b), [a, b] = split(x, 2, axis=-1)", R, False, True,
     False, GAIN, "Shazeer 2020, GLU Variants Improve Transformer", elementwise=False)
_add("reglu", _gated(ops.relu), None, "a*relu(b), [a, b] = split(x, 2, axis=-1)", R, False, False,
     False, GAIN, "Shazeer 2020, GLU Variants Improve Transformer", elementwise=False)

_add("arctan", ops.arctan, lambda x: 1.0 / (1.0 + x * x), "arctan(x)", (-math.pi / 2, math.pi / 2),
     True, True, True, GLOROT, "inverse tangent (sigmoid-shaped, zero-centred)")
_add("shifted_softplus", lambda x: ops.softplus(x) - math.log(2.0), lambda x: sig(x),
     "log(1 + e^x) - log 2", (-math.log(2.0), INF), True, True, True, HE,
     "Schütt et al. 2017, SchNet")
_add("dsilu", lambda x: sig(x) * (1.0 + x * sig(-x)),  # 1 - sigmoid(x) = sigmoid(-x), no cancellation
     lambda x: _dsig(x) * (2.0 + x * (1.0 - 2.0 * sig(x))), "sigmoid(x)*(1 + x*(1 - sigmoid(x)))",
     (-0.0999, 1.0999), False, True, False, GLOROT, "Elfwing et al. 2017 (derivative of SiLU)")
_add("weighted_tanh", lambda x, weight=1.0: ops.tanh(weight * x),
     lambda x, weight=1.0: weight * _dtanh(weight * x), "tanh(w*x)", (-1, 1), True, True, True,
     GLOROT, "Echo: weighted tanh", params={"weight": P(1.0, gt=0.0)})


#: The "classic dozen" (PReLU is the learnable layer keras_acts.layers.PReLU).
CLASSIC = ("binary_step", "linear", "sigmoid", "tanh", "relu", "leaky_relu", "elu",
           "softmax", "swish", "gelu", "selu")
