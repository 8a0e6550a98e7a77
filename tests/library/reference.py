"""Independent float64 NumPy reference for every catalogue activation.

Written from the papers / Keras documentation, *not* from ``keras_acts.catalogue``
(no Keras, no keras_acts imports here), so that ``tests/library/test_catalogue.py`` compares
two independent implementations. Forms are chosen to be accurate in float64 over the
whole float32 range (|x| up to 3.4e38): softplus via ``logaddexp``, sigmoid without
overflow, cancellation-free branches where the textbook form cancels.

``REFERENCE[name](x, **params)`` takes a float64 array (any shape) and returns a
float64 array. Elementwise functions broadcast; the non-elementwise ones (softmax,
log_softmax, softmin, sparsemax: normalise along ``axis``; glu, geglu, swiglu,
reglu: split in two halves along ``axis`` / the last axis) act along one axis.
Outside a function's domain (soft_exponential with alpha < 0) the value is NaN.
"""

from __future__ import annotations

import math

import numpy as np

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946
_LOG2 = math.log(2.0)

_erf_u = np.frompyfunc(math.erf, 1, 1)
_erfc_u = np.frompyfunc(math.erfc, 1, 1)


def _a(x):
    return np.asarray(x, dtype=np.float64)


def erf(x):
    return np.asarray(_erf_u(_a(x)), dtype=np.float64)


def erfc(x):
    return np.asarray(_erfc_u(_a(x)), dtype=np.float64)


def sigmoid(x):
    x = _a(x)
    e = np.exp(-np.abs(x))  # in (0, 1]: never overflows
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def softplus(x):
    return np.logaddexp(0.0, _a(x))


def _tanh_gelu(x):
    x = _a(x)
    with np.errstate(over="ignore", invalid="ignore"):
        u = math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)
    return 0.5 * x * (1.0 + np.tanh(u))


def _gelu_exact(x):
    x = _a(x)
    # x * Phi(x), Phi(x) = erfc(-x/sqrt2)/2 (no cancellation for x << 0)
    return 0.5 * x * erfc(-x / math.sqrt(2.0))


# ----------------------------------------------------------------------------- elementwise
def linear(x):
    return _a(x) * 1.0


def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    # Keras docs: max_value if x >= max_value; x if threshold < x < max_value;
    # negative_slope * (x - threshold) otherwise.
    x = _a(x)
    y = np.where(x > threshold, x, negative_slope * (x - threshold))
    if max_value is not None:
        y = np.minimum(y, max_value)
    return y


def relu6(x):
    return np.clip(_a(x), 0.0, 6.0)


def leaky_relu(x, negative_slope=0.2):
    x = _a(x)
    return np.where(x > 0, x, negative_slope * x)


def elu(x, alpha=1.0):
    x = _a(x)
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0)))


def celu(x, alpha=1.0):
    x = _a(x)
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0) / alpha))


def selu(x):
    x = _a(x)
    return _SELU_SCALE * np.where(x > 0, x, _SELU_ALPHA * np.expm1(np.minimum(x, 0.0)))


def exponential(x):
    with np.errstate(over="ignore"):
        return np.exp(_a(x))


def gelu(x, approximate=False):
    return _tanh_gelu(x) if approximate else _gelu_exact(x)


def softsign(x):
    x = _a(x)
    return x / (1.0 + np.abs(x))


def silu(x):
    x = _a(x)
    return x * sigmoid(x)


def hard_sigmoid(x):
    return np.clip(_a(x) / 6.0 + 0.5, 0.0, 1.0)


def hard_silu(x):
    x = _a(x)
    return x * hard_sigmoid(x)


def hard_tanh(x):
    return np.clip(_a(x), -1.0, 1.0)


def hard_shrink(x, threshold=0.5):
    x = _a(x)
    return np.where(np.abs(x) > threshold, x, 0.0)


def soft_shrink(x, threshold=0.5):
    x = _a(x)
    return np.sign(x) * np.maximum(np.abs(x) - threshold, 0.0)


def tanh_shrink(x):
    x = _a(x)
    # x - tanh(x); Taylor series for small |x| where the difference cancels
    small = np.abs(x) < 1e-2
    xs = np.where(small, x, 0.0)
    series = xs ** 3 / 3.0 - 2.0 * xs ** 5 / 15.0 + 17.0 * xs ** 7 / 315.0
    return np.where(small, series, x - np.tanh(x))


def log_sigmoid(x):
    return -softplus(-_a(x))


def mish(x):
    x = _a(x)
    return x * np.tanh(softplus(x))


def sparse_plus(x):
    x = _a(x)
    return np.where(x <= -1, 0.0, np.where(x >= 1, x, 0.25 * (x + 1.0) ** 2))


def sparse_sigmoid(x):
    return np.clip(0.5 * (_a(x) + 1.0), 0.0, 1.0)


def squareplus(x, b=4.0):
    x = _a(x)
    r = np.hypot(x, math.sqrt(b))
    # (x + r)/2; for x < 0 the same value as b / (2 (r - x)), without cancellation
    with np.errstate(divide="ignore", invalid="ignore"):
        neg = np.where(r - x > 0, b / (2.0 * (r - x)), 0.0)
    return np.where(x >= 0, 0.5 * (x + r), neg)


def threshold(x, threshold=0.0, default_value=0.0):
    x = _a(x)
    return np.where(x > threshold, x, default_value)


def binary_step(x, threshold=0.0):
    return np.where(_a(x) >= threshold, 1.0, 0.0)


def swish_x(x, beta=1.0):
    x = _a(x)
    return x * sigmoid(beta * x)


def eswish(x, beta=1.375):
    x = _a(x)
    return beta * x * sigmoid(x)


def quick_gelu(x):
    x = _a(x)
    return x * sigmoid(1.702 * x)


def lisht(x):
    x = _a(x)
    return x * np.tanh(x)


def isru(x, alpha=1.0):
    x = _a(x)
    return x / np.sqrt(1.0 + alpha * x * x)


def isrlu(x, alpha=1.0):
    x = _a(x)
    return np.where(x >= 0, x, isru(x, alpha))


def sqnl(x):
    x = _a(x)
    return np.where(x > 2, 1.0, np.where(x >= 0, x - x * x / 4.0,
                                         np.where(x >= -2, x + x * x / 4.0, -1.0)))


def bent_identity(x):
    x = _a(x)
    # (sqrt(x^2+1) - 1)/2 + x, with sqrt(x^2+1) - 1 = x^2/(sqrt(x^2+1) + 1)
    r = np.hypot(x, 1.0)
    return x + 0.5 * (x / (r + 1.0)) * x


def elish(x):
    x = _a(x)
    return np.where(x >= 0, x, np.expm1(np.minimum(x, 0.0))) * sigmoid(x)


def hard_elish(x):
    x = _a(x)
    hs = np.clip(0.5 * (x + 1.0), 0.0, 1.0)
    return np.where(x >= 0, x, np.expm1(np.minimum(x, 0.0))) * hs


def soft_clipping(x, alpha=0.5):
    # (1/a) log((1 + e^(a x)) / (1 + e^(a (x - 1)))) = (softplus(a x) - softplus(a x - a))/a;
    # for x >= 1/2 use softplus(z) = z + softplus(-z): a + softplus(-a x) - softplus(a - a x)
    x = _a(x)
    lo = softplus(alpha * x) - softplus(alpha * (x - 1.0))
    hi = alpha + softplus(-alpha * x) - softplus(-alpha * (x - 1.0))
    return np.where(x >= 0.5, hi, lo) / alpha


def aria2(x, alpha=1.5, beta=0.5):
    # Richard's curve special case: x * sigmoid(beta x)^alpha
    x = _a(x)
    return x * np.exp(-alpha * softplus(-beta * x))


def fts(x, T=-0.2):
    x = _a(x)
    return np.where(x >= 0, x * sigmoid(x), 0.0) + T


def nlrelu(x, beta=1.0):
    return np.log1p(beta * np.maximum(_a(x), 0.0))


def sine_relu(x, epsilon=0.0025):
    x = _a(x)
    return np.where(x > 0, x, epsilon * (np.sin(x) - np.cos(x)))


def soft_exponential(x, alpha=0.0):
    x = _a(x)
    if alpha == 0:
        return x * 1.0
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        if alpha > 0:
            return np.expm1(alpha * x) / alpha + alpha
        arg = -alpha * (x + alpha)  # log(1 - a(x + a)) = log1p(arg); NaN below the domain
        return -np.where(arg >= -1, np.log1p(np.maximum(arg, -1.0)), np.nan) / alpha


def snake(x, alpha=1.0):
    x = _a(x)
    return x + np.sin(alpha * x) ** 2 / alpha


def tanh_exp(x):
    x = _a(x)
    with np.errstate(over="ignore"):
        return x * np.tanh(np.exp(x))


def logish(x):
    x = _a(x)
    return x * np.log1p(sigmoid(x))


def smish(x):
    x = _a(x)
    return x * np.tanh(np.log1p(sigmoid(x)))


def serf(x):
    x = _a(x)
    return x * erf(softplus(x))


def gcu(x):
    x = _a(x)
    return x * np.cos(x)


def penalized_tanh(x, a=0.25):
    x = _a(x)
    return np.where(x > 0, np.tanh(x), a * np.tanh(x))


def squared_relu(x):
    with np.errstate(over="ignore"):
        return np.maximum(_a(x), 0.0) ** 2


def star_relu(x, s=0.8944, b=-0.4472):
    with np.errstate(over="ignore"):
        return s * np.maximum(_a(x), 0.0) ** 2 + b


def sine(x, w0=1.0):
    return np.sin(w0 * _a(x))


def gaussian(x):
    x = _a(x)
    with np.errstate(over="ignore"):
        return np.exp(-x * x)


def hard_mish(x):
    x = _a(x)
    return 0.5 * x * np.clip(x + 2.0, 0.0, 2.0)


def rrelu(x, lower=0.125, upper=1.0 / 3.0):
    # inference form: the fixed slope (lower + upper)/2 for x < 0
    x = _a(x)
    return np.where(x >= 0, x, 0.5 * (lower + upper) * x)


def mila(x, beta=-0.25):
    x = _a(x)
    return x * np.tanh(softplus(x + beta))


def arctan(x):
    return np.arctan(_a(x))


def shifted_softplus(x):
    return softplus(x) - _LOG2


def dsilu(x):
    # d/dx [x sigmoid(x)] = sigmoid(x) (1 + x (1 - sigmoid(x))), 1 - sigmoid(x) = sigmoid(-x)
    x = _a(x)
    return sigmoid(x) * (1.0 + x * sigmoid(-x))


def weighted_tanh(x, weight=1.0):
    return np.tanh(weight * _a(x))


# ----------------------------------------------------------------------------- along an axis
def softmax(x, axis=-1):
    x = _a(x)
    z = x - np.max(x, axis=axis, keepdims=True)
    e = np.exp(z)
    return e / np.sum(e, axis=axis, keepdims=True)


def log_softmax(x, axis=-1):
    x = _a(x)
    z = x - np.max(x, axis=axis, keepdims=True)
    return z - np.log(np.sum(np.exp(z), axis=axis, keepdims=True))


def softmin(x, axis=-1):
    return softmax(-_a(x), axis=axis)


def sparsemax(x, axis=-1):
    """Euclidean projection of each slice onto the probability simplex (Martins &
    Astudillo 2016, Algorithm 1): max(x - tau, 0) with sum 1."""
    x = np.moveaxis(_a(x), axis, -1)
    z = -np.sort(-x, axis=-1)  # descending
    k = np.arange(1, x.shape[-1] + 1, dtype=np.float64)
    cs = np.cumsum(z, axis=-1)
    support = (z - cs / k) + 1.0 / k > 0  # 1 + k z_k > cumsum_k, scale-free (k = 1 always in)
    k_z = np.sum(support, axis=-1, keepdims=True)  # support size (>= 1)
    tau = (np.take_along_axis(cs, k_z.astype(int) - 1, axis=-1) - 1.0) / k_z
    return np.moveaxis(np.maximum(x - tau, 0.0), -1, axis)


def _halves(x, axis=-1):
    a, b = np.split(_a(x), 2, axis=axis)
    return a, b


def glu(x, axis=-1):
    a, b = _halves(x, axis)
    return a * sigmoid(b)


def geglu(x):
    a, b = _halves(x)
    return a * _gelu_exact(b)


def swiglu(x):
    a, b = _halves(x)
    return a * silu(b)


def reglu(x):
    a, b = _halves(x)
    with np.errstate(over="ignore", invalid="ignore"):
        return a * np.maximum(b, 0.0)


REFERENCE = {
    # Keras built-ins
    "linear": linear,
    "sigmoid": sigmoid,
    "tanh": lambda x: np.tanh(_a(x)),
    "relu": relu,
    "relu6": relu6,
    "leaky_relu": leaky_relu,
    "elu": elu,
    "celu": celu,
    "selu": selu,
    "exponential": exponential,
    "gelu": gelu,
    "softplus": softplus,
    "softsign": softsign,
    "silu": silu,
    "swish": silu,
    "hard_sigmoid": hard_sigmoid,
    "hard_silu": hard_silu,
    "hard_swish": hard_silu,
    "hard_tanh": hard_tanh,
    "hard_shrink": hard_shrink,
    "soft_shrink": soft_shrink,
    "tanh_shrink": tanh_shrink,
    "log_sigmoid": log_sigmoid,
    "mish": mish,
    "sparse_plus": sparse_plus,
    "sparse_sigmoid": sparse_sigmoid,
    "squareplus": squareplus,
    "threshold": threshold,
    "softmax": softmax,
    "log_softmax": log_softmax,
    "sparsemax": sparsemax,
    "sparsemax_exact": sparsemax,
    "glu": glu,
    # keras-acts
    "binary_step": binary_step,
    "binary_step_ste": binary_step,  # forward pass is the step; only the gradient differs
    "swish_x": swish_x,
    "eswish": eswish,
    "gelu_tanh": _tanh_gelu,
    "quick_gelu": quick_gelu,
    "lisht": lisht,
    "isru": isru,
    "isrlu": isrlu,
    "sqnl": sqnl,
    "bent_identity": bent_identity,
    "elish": elish,
    "hard_elish": hard_elish,
    "soft_clipping": soft_clipping,
    "aria2": aria2,
    "fts": fts,
    "nlrelu": nlrelu,
    "sine_relu": sine_relu,
    "soft_exponential": soft_exponential,
    "snake": snake,
    "tanh_exp": tanh_exp,
    "logish": logish,
    "smish": smish,
    "serf": serf,
    "gcu": gcu,
    "penalized_tanh": penalized_tanh,
    "softmin": softmin,
    "squared_relu": squared_relu,
    "star_relu": star_relu,
    "sine": sine,
    "gaussian": gaussian,
    "hard_mish": hard_mish,
    "rrelu": rrelu,
    "mila": mila,
    "geglu": geglu,
    "swiglu": swiglu,
    "reglu": reglu,
    "arctan": arctan,
    "shifted_softplus": shifted_softplus,
    "dsilu": dsilu,
    "weighted_tanh": weighted_tanh,
}
