"""Every catalogue entry against the independent float64 NumPy reference (tests/reference.py).

Per entry (and per non-default parameter set in ``PARAM_SETS``): float32 values, the
analytic derivative against finite differences of the reference and against autodiff,
large inputs, float16/bfloat16, and the declared metadata (range, monotonic, smooth,
zero-centred, parameter validation).

Tolerances. A float32 function cannot do better than the rounding of its argument, so
every value comparison allows ``atol + rtol*|f(x)| + spread``, where spread is how much
the reference changes when x moves by 2 ulps (relative 2*eps; ~ 4*eps*|x*f'(x)| where f is
smooth, the jump where x sits on a discontinuity, the full swing for sin(1e30)).
Derivatives: ``atol + rtol*|f'| + 4*eps*|x*f''|``. rtol = 1e-5, atol = 1e-6.

Kinks are found from the reference, not hand-listed: at a kink the slopes just left and
right of x differ by an amount that does not shrink with the step (see ``fd``). Derivative
comparisons skip such points (the derivative there is a convention).

Speed: each case is evaluated once, on one array holding all its float32 points (the grid,
|x| up to 1e4 and +-1e30), and the results are shared by the tests (``_computed``); the
JAX backend compiles per shape, so fewer shapes means far fewer compilations.
"""

from __future__ import annotations

import functools
import inspect
import math

import keras
import numpy as np
import pytest
from keras import ops

import keras_acts
from keras_acts import autodiff
from keras_acts.catalogue import CATALOGUE
from reference import REFERENCE

BACKEND = keras.backend.backend()
NAMES = keras_acts.names(all=True)
ELEMENTWISE = [n for n in NAMES if CATALOGUE[n].elementwise]
ALONG_AXIS = [n for n in NAMES if not CATALOGUE[n].elementwise]

EPS32 = float(np.finfo(np.float32).eps)
F32_MAX = float(np.finfo(np.float32).max)
RTOL, ATOL = 1e-5, 1e-6

#: Non-default parameter sets, at least one for every parametric entry. Thresholds are
#: exactly representable in float32 so both sides agree on which side of a kink a grid
#: point lies.
PARAM_SETS = {
    "relu": [dict(negative_slope=0.1, max_value=6.0, threshold=0.5), dict(max_value=1.5)],
    "leaky_relu": [dict(negative_slope=0.05)],
    "elu": [dict(alpha=0.5)],
    "celu": [dict(alpha=2.0)],
    "gelu": [dict(approximate=True)],
    "hard_shrink": [dict(threshold=1.0)],
    "soft_shrink": [dict(threshold=1.5)],
    "squareplus": [dict(b=1.0), dict(b=0.0)],
    "threshold": [dict(threshold=0.5, default_value=-1.0)],
    "softmax": [dict(axis=0)],
    "log_softmax": [dict(axis=0)],
    "sparsemax": [dict(axis=0)],
    "sparsemax_exact": [dict(axis=0)],
    "glu": [dict(axis=0)],
    "softmin": [dict(axis=0)],
    "binary_step": [dict(threshold=0.5)],
    "binary_step_ste": [dict(threshold=-0.5)],
    "swish_x": [dict(beta=1.5), dict(beta=0.0)],
    "eswish": [dict(beta=1.75)],
    "isru": [dict(alpha=0.25)],
    "isrlu": [dict(alpha=3.0)],
    "soft_clipping": [dict(alpha=2.0)],
    "aria2": [dict(alpha=2.0, beta=1.0)],
    "fts": [dict(T=-0.5)],
    "nlrelu": [dict(beta=2.0)],
    "sine_relu": [dict(epsilon=0.1)],
    "soft_exponential": [dict(alpha=0.5), dict(alpha=-0.5)],
    "snake": [dict(alpha=0.5)],
    "penalized_tanh": [dict(a=0.5)],
    "star_relu": [dict(s=1.5, b=0.25)],
    "sine": [dict(w0=30.0)],
    "rrelu": [dict(lower=0.1, upper=0.3)],
    "mila": [dict(beta=0.5)],
    "weighted_tanh": [dict(weight=2.0)],
}

#: Looser value/derivative tolerances for an entry, with the reason: {name: (rtol, atol, why)}.
#: (Empty: every entry meets rtol=1e-5, atol=1e-6 plus argument rounding.)
TOL: dict[str, tuple[float, float, str]] = {}


# eager on JAX (conftest.eager_jax): hundreds of XLA compilations otherwise, 3x slower
pytestmark = pytest.mark.usefixtures("eager_jax")


# ----------------------------------------------------------------------------- points
def _grid():
    base = np.linspace(-20.0, 20.0, 1001)
    special = [0.0, 1e-6, 1e-3, 0.1, 0.5, 1.0, 1.5, 2.0, 3.0, 6.0, 20.0]
    x = np.concatenate([base, special, np.negative(special)]).astype(np.float32)
    return np.unique(x)


GRID = _grid()
BIG = np.float32([21.0, 30.0, 50.0, 88.0, 89.0, 100.0, 500.0, 1e3, 1e4])
BIG = np.concatenate([-BIG[::-1], BIG])
HUGE = np.float32([-1e30, 1e30])
XALL = np.concatenate([GRID, BIG, HUGE])  # one array, one shape: see the module docstring
PART = {"grid": slice(0, GRID.size), "big": slice(GRID.size, GRID.size + BIG.size),
        "huge": slice(GRID.size + BIG.size, XALL.size)}


# ----------------------------------------------------------------------------- helpers
def _case_id(name, params):
    return name + "".join(f"-{k}={v}" for k, v in params.items())


def _cases(names):
    out = []
    for n in names:
        for p in [{}] + PARAM_SETS.get(n, []):
            out.append(pytest.param(n, p, id=_case_id(n, p)))
    return out


def act(name, params=None):
    """The callable users get: ``keras.activations.get`` for string names, else ours."""
    e = CATALOGUE[name]
    if not params and e.string_usable:
        return keras.activations.get(name)
    return keras_acts.get(name, **(params or {}))


def run(fn, x):
    return np.asarray(ops.convert_to_numpy(fn(ops.convert_to_tensor(x))))


def _to64(t, dtype):
    assert keras.backend.standardize_dtype(t.dtype) == dtype, (t.dtype, dtype)
    return np.asarray(ops.convert_to_numpy(ops.cast(t, "float32")), np.float64)


def _full(name, params):
    return {**CATALOGUE[name].defaults, **params}


def ref(name, x, params):
    with np.errstate(all="ignore"):
        return REFERENCE[name](np.asarray(x, np.float64), **_full(name, params))


def fd(name, x, params):
    """Reference slope c, curvature f2 and a kink mask at float64 points x.

    c is the central difference over [x - h/2, x + h/2]. x is a kink when the slopes
    right and left of it (J(s) = their difference, slopes centred at x +- 2s) differ by an
    amount that does not shrink with the step (|J(h) - 2 J(h/2)|; smooth f: both ~ 4 s f''),
    or when f jumps (c is not between the neighbouring slopes). Kinks farther than h/2 do
    not touch c; nearer ones make |J(h) - 2 J(h/2)| ~ the change of slope. NaN (outside
    the domain) counts as a kink.
    """
    x = np.asarray(x, np.float64)
    h = 1e-6 * np.maximum(1.0, np.abs(x))
    F = {k: ref(name, x + k * h, params) for k in (-3, -1.5, -1, -0.5, 0.5, 1, 1.5, 3)}
    with np.errstate(all="ignore"):
        c = (F[0.5] - F[-0.5]) / h
        left, right = (F[-1] - F[-3]) / (2 * h), (F[3] - F[1]) / (2 * h)
        j1 = right - left
        j2 = (F[1.5] - F[0.5]) / h - (F[-0.5] - F[-1.5]) / h
        kink = ~(np.abs(j1 - 2 * j2) <= 1e-5 * (1.0 + np.abs(c)))
        kink |= ~(np.abs(c - 0.5 * (left + right)) <= 1e-5 * (1.0 + np.abs(left) + np.abs(right)))
        f2 = j1 / (4 * h)
    return c, f2, kink


def spread(name, x, params, delta):
    """How much the reference changes when x moves by a relative delta (argument rounding)."""
    x = np.asarray(x, np.float64)
    vals = np.stack([ref(name, x * (1.0 + delta * k), params) for k in np.linspace(-1, 1, 9)])
    with np.errstate(all="ignore"):
        return np.nan_to_num(vals.max(0) - vals.min(0), nan=0.0)


def value_tol(name, x, r, params, eps=EPS32, rtol=None, atol=None):
    rt, at, _ = TOL.get(name, (RTOL, ATOL, ""))
    rt = rt if rtol is None else rtol
    at = at if atol is None else atol
    with np.errstate(all="ignore"):
        return at + rt * np.nan_to_num(np.abs(r), posinf=0.0) + spread(name, x, params, 2 * eps)


def slope_tol(name, x, c, f2):
    rt, at, _ = TOL.get(name, (RTOL, ATOL, ""))
    with np.errstate(all="ignore"):
        return (at + rt * np.nan_to_num(np.abs(c), posinf=0.0)
                + np.nan_to_num(4 * EPS32 * np.abs(x) * np.abs(f2), nan=0.0))


def assert_close(what, x, got, want, tol, mask=None):
    got = np.asarray(got, np.float64)
    want = np.asarray(want, np.float64)
    with np.errstate(all="ignore"):
        ok = (got == want) | (np.abs(got - want) <= tol) | (np.isnan(got) & np.isnan(want))
    if mask is not None:
        ok |= ~mask
    if not ok.all():
        bad = np.flatnonzero(~ok.reshape(-1))
        xs, gs, ws, ts = (np.broadcast_to(a, ok.shape).reshape(-1) for a in (x, got, want, tol))
        worst = bad[np.argsort(-np.nan_to_num(np.abs(gs[bad] - ws[bad]), nan=np.inf))][:8]
        rows = "\n".join(f"  x={xs[i]:.9g}: got {gs[i]:.9g}, want {ws[i]:.9g}, tol {ts[i]:.3g}"
                         for i in worst)
        pytest.fail(f"{what}: {bad.size} of {ok.size} points off\n{rows}")


def _check_finite(what, xs, y, r, top):
    """y finite where the true value r is finite and |r| <= top; +-inf (sign of r) beyond."""
    valid = ~np.isnan(r)
    fin = valid & (np.abs(r) <= top)
    assert np.isfinite(y[fin]).all(), f"{what}: not finite at x={xs[fin & ~np.isfinite(y)]}"
    over = valid & ~fin
    assert ((np.abs(y[over]) >= top) & (np.sign(y[over]) == np.sign(r[over]))).all(), (
        f"{what}: expected overflow at x={xs[over]}, got {y[over]}")
    return fin


def _with_path(fn):
    # + 0*t gives piecewise-constant functions (binary_step) a gradient path on TF/torch,
    # whose autodiff otherwise returns None / raises instead of zeros
    return lambda t: ops.add(fn(t), ops.multiply(t, 0.0))


@functools.lru_cache(maxsize=None)
def _computed(name, frozen):
    """Backend results for one case on XALL: f, the analytic f', autodiff f' of the formula,
    and the efficient gradient (keras_acts.gradients: from the analytic f')."""
    params = dict(frozen)
    fn = act(name, params)
    y = run(fn, XALL)
    d = run(keras_acts.derivative(name, **params), XALL)
    with keras_acts.set_gradients("autodiff"):
        g = autodiff.grad_sum(_with_path(act(name, params)), XALL)
    with keras_acts.set_gradients("efficient"):
        g_efficient = autodiff.grad_sum(_with_path(act(name, params)), XALL)
    for v in (y, d, g, g_efficient):
        assert v.dtype == np.float32 and v.shape == XALL.shape
    return y, d, g, g_efficient


@functools.lru_cache(maxsize=None)
def _reference(name, frozen):
    """Reference results for one case on XALL: f, c, f2, kink, value tolerance."""
    params = dict(frozen)
    x64 = XALL.astype(np.float64)
    r = ref(name, x64, params)
    c, f2, kink = fd(name, x64, params)
    return r, c, f2, kink, value_tol(name, x64, r, params)


def _both(name, params, part):
    frozen = tuple(sorted(params.items()))
    s = PART[part]
    return ([a[s] for a in _computed(name, frozen)[:3]], [a[s] for a in _reference(name, frozen)],
            XALL[s].astype(np.float64))


# ----------------------------------------------------------------------------- Keras xfails
def _keras_sparsemax_is_wrong():
    y = run(keras.activations.sparsemax, np.float32([[0.0, 0.5, 1.0]]))
    return not np.allclose(y, [[0.0, 0.25, 0.75]], atol=1e-6)


#: Keras built-ins that fail a check because of Keras's own code (never changed here):
#: {(check, case id[, dtype]): reason}. Strict xfails, so a Keras release that fixes one
#: shows up as XPASS(strict) -> failure and the entry can go. Backend-specific ones are in
#: KERAS_XFAIL_BACKEND[backend].
KERAS_XFAIL: dict[tuple, str] = {}
_SQUAREPLUS_CANCEL = ("Keras computes (x + sqrt(x^2 + b))/2, which cancels for x << 0 "
                      "(0 instead of b/(4|x|) at x = -1e4; absolute error ~ ulp(|x|))")
_SQUAREPLUS_OVERFLOW = ("Keras squares x: x^2 overflows (float32: |x| > 1.8e19; float16: "
                        "|x| > 256; bfloat16: |x| > 1.8e19) and gives inf, or NaN, where the "
                        "true value is about max(x, 0)")
for _id in ("squareplus", "squareplus-b=1.0"):
    KERAS_XFAIL[("big", _id)] = _SQUAREPLUS_CANCEL
for _id in ("squareplus", "squareplus-b=1.0", "squareplus-b=0.0"):
    KERAS_XFAIL[("huge", _id)] = _SQUAREPLUS_OVERFLOW
for _dt in ("float16", "bfloat16"):
    KERAS_XFAIL[("half", "squareplus", _dt)] = _SQUAREPLUS_OVERFLOW
if _keras_sparsemax_is_wrong():
    for _check in ("values", "vjp", "half"):
        for _id in ("sparsemax", "sparsemax-axis=0"):
            KERAS_XFAIL[(_check, _id)] = (
                "Keras sparsemax sums every cumulative sum in the support to get its threshold, "
                "so the output does not sum to 1 when more than one entry is positive "
                "(keras-team/keras#23425, fixed upstream in #23469)")
for _id in ("sparsemax", "sparsemax-axis=0"):
    KERAS_XFAIL[("stability", _id)] = (
        "Keras sparsemax: when a slice's entries are equal and huge (1e30), 1 + k z_k rounds to "
        "the cumulative sum, the support is empty (k = 0) and tau = -1/0: inf outputs")
_TANH_SHRINK_HALF = ("Keras computes x - tanh(x) in the half dtype: the difference cancels for "
                     "|x| < ~0.3 (relative error ~ eps |x| / (|x|^3/3))")
KERAS_XFAIL[("half", "tanh_shrink", "float16")] = _TANH_SHRINK_HALF
KERAS_XFAIL[("half", "tanh_shrink", "bfloat16")] = _TANH_SHRINK_HALF
KERAS_XFAIL_BACKEND: dict[str, dict[tuple, str]] = {"jax": {}, "tensorflow": {}, "torch": {}}
_FP16_SIGMOID = ("Keras (jax.nn.sigmoid) computes 1/(1 + exp(-x)) in float16: exp(-x) overflows "
                 "for x < -11.1, so the result is 0 where the true value (~1e-5) is a float16 number")
for _n in ("sigmoid", "silu", "swish"):
    KERAS_XFAIL_BACKEND["jax"][("half", _n, "float16")] = _FP16_SIGMOID
for _b in ("jax", "tensorflow"):
    KERAS_XFAIL_BACKEND[_b][("autodiff", "gelu-approximate=True")] = (
        "autodiff of Keras's gelu(approximate=True) differentiates 0.5 x (1 + tanh(u)), which "
        "cancels in float32 for x < -4 (absolute error ~1e-6; our derivative uses sigmoid(2u))")
for _id in ("celu", "celu-alpha=2.0"):
    KERAS_XFAIL_BACKEND["tensorflow"][("autodiff", _id)] = (
        "Keras's TF celu is max(x, 0) + a expm1(min(x, 0)/a) and TF passes gradient 1 through "
        "both max and min at the tie x = 0: autodiff says f'(0) = 2 (true: 1)")
for _n in ("elu", "selu"):
    for _dt in ("float16", "bfloat16"):
        KERAS_XFAIL_BACKEND["tensorflow"][("half", _n, _dt)] = (
            f"TF's {_n} kernel computes exp(x) - 1 (not expm1) in the half dtype: for "
            "|x| < ~1e-3 the difference cancels (0 at x = -1e-5, 2% off at -1e-3)")
for _n in ("hard_silu", "hard_swish"):
    KERAS_XFAIL_BACKEND["torch"][("half", _n, "bfloat16")] = (
        "torch's hardswish computes x * relu6(x + 3) before dividing by 6, in bfloat16: inf "
        "for x > 5.6e37 where the true value (x) is a bfloat16 number")

def _torch_bf16_gelu_overflows():
    """Probed, not assumed: on CPUs with native bfloat16 kernels (this machine's AMD EPYC has
    AVX512_BF16) torch's bfloat16 gelu returns inf for x near the bfloat16 maximum; on others
    it is finite."""
    if BACKEND != "torch":
        return False
    # (a vector: the one-element path is scalar code and stays finite)
    x = ops.cast(ops.convert_to_tensor(np.full(64, 3.2e38, np.float32)), "bfloat16")
    y = ops.convert_to_numpy(ops.cast(keras.activations.gelu(x), "float32"))
    return not np.isfinite(y).all()


if _torch_bf16_gelu_overflows():
    KERAS_XFAIL_BACKEND["torch"][("half", "gelu", "bfloat16")] = (
        "torch's bfloat16 gelu overflows to inf for x > ~3e38 on this CPU (native bfloat16 "
        "kernels) where the true value, x, is a bfloat16 number")

#: Extra absolute tolerance for autodiff through a framework kernel, with the reason:
#: {backend: {case id: (atol, reason)}}.
AUTODIFF_ATOL = {"jax": {}, "tensorflow": {}, "torch": {}}
AUTODIFF_ATOL["tensorflow"]["weighted_tanh-weight=2.0"] = (
    3e-6, "TF's float32 tanh kernel (Eigen) returns exactly +-1 for |z| > 7.9, so its gradient "
    "1 - tanh^2 is 0 where the true w sech^2(w x) is up to 2.2e-6")


def _xfail(request, *key):
    reason = KERAS_XFAIL.get(key) or KERAS_XFAIL_BACKEND[BACKEND].get(key)
    if reason:
        name = key[1].split("-")[0]
        assert CATALOGUE[name].keras_builtin, f"{key}: only Keras built-ins may be xfailed"
        request.applymarker(pytest.mark.xfail(reason=reason, strict=True))


# ----------------------------------------------------------------------------- coverage
def test_reference_covers_catalogue():
    assert set(REFERENCE) == set(keras_acts.names(all=True))


@pytest.mark.parametrize("name", NAMES)
def test_reference_signature_matches_params(name):
    e = CATALOGUE[name]
    sig = inspect.signature(REFERENCE[name])
    missing = set(e.params) - set(sig.parameters)
    assert not missing, f"reference for {name} lacks parameter(s) {missing}"
    for k, p in e.params.items():  # independently written defaults agree
        d = sig.parameters[k].default
        if d is not inspect.Parameter.empty:
            assert d == p.default, f"{name}.{k}: catalogue default {p.default!r}, reference {d!r}"


def test_every_parametric_entry_has_a_non_default_set():
    for name in NAMES:
        e = CATALOGUE[name]
        if e.params:
            assert PARAM_SETS.get(name), f"{name}: add a non-default parameter set to PARAM_SETS"
        for p in PARAM_SETS.get(name, []):
            assert e.validate(p) != e.defaults, (name, p)


# ----------------------------------------------------------------------------- elementwise
@pytest.mark.parametrize("name, params", _cases(ELEMENTWISE))
def test_values_float32(name, params):
    (y, _, _), (r, _, _, _, tol), x = _both(name, params, "grid")
    assert_close(_case_id(name, params), x, y, r, tol)


@pytest.mark.parametrize("name, params", _cases(ELEMENTWISE))
def test_derivative(name, params):
    """keras_acts.derivative vs central differences of the reference (away from kinks)."""
    if CATALOGUE[name].surrogate_grad:
        pytest.skip("a surrogate gradient: checked against autodiff in test_autodiff")
    (_, d, _), (_, c, f2, kink, _), x = _both(name, params, "grid")
    smooth_pt = ~kink & np.isfinite(c)
    assert_close(f"derivative vs FD of reference, {_case_id(name, params)}", x, d, c,
                 slope_tol(name, x, c, f2), mask=smooth_pt)


def _jumps_of(dfn, x32):
    h = np.float32(1e-6) * np.maximum(np.float32(1), np.abs(x32))
    return np.abs(run(dfn, x32 + 2 * h) - run(dfn, x32 - 2 * h)) > 1e-3


@pytest.mark.parametrize("name, params", _cases(ELEMENTWISE))
def test_autodiff(name, params, request):
    """Autodiff of the activation == keras_acts.derivative on the grid and for |x| <= 1e4
    (finite there too), away from kinks. Straight-through entries: autodiff == the
    declared surrogate (the forward pass is a step, its FD carries no information)."""
    _xfail(request, "autodiff", _case_id(name, params))
    cid = _case_id(name, params)
    for part in ("grid", "big"):
        (_, d, g), (_, c, f2, kink, _), x = _both(name, params, part)
        if CATALOGUE[name].surrogate_grad:
            dfn = keras_acts.derivative(name, **params)
            assert_close(f"autodiff vs surrogate, {cid}", x, g, d, ATOL,
                         mask=~_jumps_of(dfn, XALL[PART[part]]))
            continue
        ok = ~kink & np.isfinite(c) & (np.abs(c) <= F32_MAX)
        assert np.isfinite(g[ok]).all(), f"autodiff of {cid} not finite at x={x[ok & ~np.isfinite(g)]}"
        extra = AUTODIFF_ATOL[BACKEND].get(cid, (0.0, ""))[0]
        assert_close(f"autodiff vs derivative ({part}), {cid}", x, g, d,
                     slope_tol(name, x, c, f2) + extra, mask=ok)


@pytest.mark.parametrize("name, params", _cases(ELEMENTWISE))
def test_efficient_gradient(name, params):
    """The gradient of ``keras_acts.set_gradients("efficient")`` (the default, ``auto``, is
    this or plain autodiff -- test_autodiff -- per entry and backend): for keras-acts entries
    the analytic derivative, exactly, or a fused primitive's (Entry.native) within the
    derivative tolerance; on the grid and for |x| <= 1e4, away from kinks. (Keras's own
    functions keep their autodiff: test_autodiff.)"""
    e = CATALOGUE[name]
    if e.keras_builtin:
        pytest.skip("Keras's own function: its autodiff is checked by test_autodiff")
    frozen = tuple(sorted(params.items()))
    _, d, _, g = _computed(name, frozen)
    _, c, f2, kink, _ = _reference(name, frozen)
    native = e.native(**_full(name, params)) if e.native else None
    fused = native is not None and name in keras_acts.gradients.NATIVE[BACKEND]
    for part in ("grid", "big"):
        s = PART[part]
        x = XALL[s].astype(np.float64)
        if fused:
            assert_close(f"fused primitive's gradient vs derivative ({part}), {_case_id(name, params)}",
                         x, g[s], d[s], slope_tol(name, x, c[s], f2[s]) + ATOL,
                         mask=~kink[s] & np.isfinite(c[s]))
        else:
            assert_close(f"efficient gradient vs derivative ({part}), {_case_id(name, params)}",
                         x, g[s], d[s], 0.0)


@pytest.mark.parametrize("name, params", _cases(ELEMENTWISE))
def test_stability_float32(name, params, request):
    """21 <= |x| <= 1e4: values right (inf only where the true value overflows float32);
    the analytic derivative finite and right, away from kinks."""
    cid = _case_id(name, params)
    _xfail(request, "big", cid)
    (y, d, _), (r, c, f2, kink, tol), x = _both(name, params, "big")
    fin = _check_finite(cid, x, y, r, F32_MAX)
    assert_close(f"values {cid}", x, y, r, tol, mask=fin)
    ok = np.isfinite(c) & (np.abs(c) <= F32_MAX) & ~kink
    assert np.isfinite(d[ok]).all(), f"derivative of {cid} not finite at x={x[ok & ~np.isfinite(d)]}"
    if not CATALOGUE[name].surrogate_grad:
        assert_close(f"derivative {cid}", x, d, c, slope_tol(name, x, c, f2), mask=ok)


@pytest.mark.parametrize("name, params", _cases(ELEMENTWISE))
def test_stability_huge(name, params, request):
    """x = +-1e30: values finite and right where the true value is representable
    (saturating and linear-growth functions), inf where it overflows; the analytic
    derivative finite where f' is (no 0 * inf)."""
    cid = _case_id(name, params)
    _xfail(request, "huge", cid)
    (y, d, _), (r, c, _, _, tol), x = _both(name, params, "huge")
    fin = _check_finite(cid, x, y, r, F32_MAX)
    assert_close(f"values {cid}", x, y, r, tol, mask=fin)
    ok = np.isfinite(c) & (np.abs(c) <= F32_MAX)
    assert np.isfinite(d[ok]).all(), f"derivative of {cid} not finite at x={x[ok & ~np.isfinite(d)]}"


# ----------------------------------------------------------------------------- half precision
HALF = {
    # bfloat16: no subnormal points (XLA's CPU backend flushes float32 subnormals to zero)
    "float16": dict(eps=2.0 ** -10, max=65504.0,
                    extra=[65504.0, 6e4, 1e4, 1e3, 100.0, 30.0, 1e-3, 1e-5, 2.0 ** -24]),
    "bfloat16": dict(eps=2.0 ** -7, max=3.3895313892515355e38,
                     extra=[3.3e38, 1e30, 1e10, 6e4, 1e4, 1e3, 100.0, 30.0, 1e-3, 1e-30, 1e-37]),
}


def _half_points(dtype):
    # as many points as XALL: our entries compute half inputs in float32, on that shape
    extra = np.float32(HALF[dtype]["extra"])
    n = XALL.size - 2 * extra.size - 1
    x = np.concatenate([np.linspace(-20, 20, n, dtype=np.float32), extra, -extra, [0.0]])
    t = ops.cast(ops.convert_to_tensor(x), dtype)
    return t, _to64(t, dtype)


@pytest.mark.parametrize("dtype", list(HALF))
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_half_precision(name, dtype, request):
    """float16 / bfloat16 in, same dtype out; finite where the true value is representable
    in the dtype (inf only beyond its max); within a half-precision tolerance (rtol = eps
    of the dtype, plus argument rounding) of the reference. The analytic derivative keeps
    the dtype and is finite where f' is representable."""
    _xfail(request, "half", name, dtype)
    info = HALF[dtype]
    t, x = _half_points(dtype)
    y = _to64(act(name)(t), dtype)
    r = ref(name, x, {})
    fin = _check_finite(f"{name} {dtype}", x, y, r, info["max"])
    tol = value_tol(name, x, r, {}, eps=info["eps"], rtol=info["eps"])
    assert_close(f"{name} {dtype}", x, y, r, tol, mask=fin)
    d = _to64(keras_acts.derivative(name)(t), dtype)
    c, _, kink = fd(name, x, {})
    ok = np.isfinite(c) & (np.abs(c) <= info["max"]) & ~kink
    assert np.isfinite(d[ok]).all(), (
        f"derivative of {name} in {dtype} not finite at x={x[ok & ~np.isfinite(d)]}")


# ----------------------------------------------------------------------------- along an axis
def _matrix(extreme=None):
    """(64, 8) float32: specials, a row of ties, uniform(-20, 20); optionally rows of
    extreme magnitude (stability) at the end."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-20, 20, size=(64, 8))
    x[0] = [0.0, 1e-6, -1e-6, 1.0, -1.0, 20.0, -20.0, 0.5]
    x[1] = 3.0
    if extreme is not None:
        x[-3] = extreme * np.array([1, -1, 0.5, 0, -3 / extreme, 1, 2 / extreme, -1])
        x[-2] = extreme * np.array([1, -1, 1, 0, 1 / extreme, -1, 1, 2 / extreme])
        x[-1] = extreme
    return x.astype(np.float32)


def _along_tol(x, r, eps=EPS32, rtol=RTOL):
    # argument rounding: a 2-ulp change of the largest |x| in a slice moves each output by
    # about that much times the Jacobian (<= 1 in units of max(|f|, 1))
    return ATOL + rtol * np.abs(r) + 4 * eps * np.max(np.abs(x)) * np.maximum(np.abs(r), 1.0)


@pytest.mark.parametrize("name, params", _cases(ALONG_AXIS))
def test_values_along_axis(name, params, request):
    _xfail(request, "values", _case_id(name, params))
    x = _matrix()
    y = run(act(name, params), x)
    r = ref(name, x, params)
    assert y.dtype == np.float32 and y.shape == r.shape
    assert_close(_case_id(name, params), 0.0, y, r, _along_tol(x, r))


def _shift_axis(params):
    # for a reference evaluated on a stack of inputs (new leading axis)
    axis = params.get("axis", -1)
    return {**params, "axis": axis + 1} if axis >= 0 else params


@pytest.mark.parametrize("name, params", _cases(ALONG_AXIS))
def test_vjp_along_axis(name, params, request):
    """Autodiff VJP vs central differences of <cotangent, reference> along every coordinate
    direction and along random directions."""
    _xfail(request, "vjp", _case_id(name, params))
    rng = np.random.default_rng(1)
    x = rng.uniform(-1.5, 1.5, size=(64, 8)).astype(np.float32)
    cot = rng.normal(size=ref(name, x, params).shape)
    g = autodiff.vjp(act(name, params), x, cot.astype(np.float32))
    assert g.shape == x.shape
    dirs = np.concatenate([np.eye(x.size).reshape(-1, *x.shape), rng.normal(size=(4, *x.shape))])
    h = 1e-6
    stacked = _shift_axis(params)
    x64 = x.astype(np.float64)
    want = np.sum(cot * (ref(name, x64 + h * dirs, stacked) - ref(name, x64 - h * dirs, stacked)),
                  axis=(1, 2)) / (2 * h)
    got = np.sum(g * dirs, axis=(1, 2))
    scale = np.linalg.norm(cot) * np.linalg.norm(dirs.reshape(len(dirs), -1), axis=1)
    assert_close(f"VJP {_case_id(name, params)}", 0.0, got, want, 1e-5 * scale + RTOL * np.abs(want))


@pytest.mark.parametrize("name, params", _cases(ALONG_AXIS))
def test_stability_along_axis(name, params, request):
    """Slices with entries of 1e4 and 1e30: finite where the true value is; the VJP is
    finite for the 1e4 slices."""
    _xfail(request, "stability", _case_id(name, params))
    x = _matrix(extreme=1e30)
    y = run(act(name, params), x)
    _check_finite(_case_id(name, params), x, y, ref(name, x, params), F32_MAX)
    xb = _matrix(extreme=1e4)
    g = autodiff.vjp(act(name, params), xb, np.ones(ref(name, xb, params).shape, np.float32))
    assert np.isfinite(g).all()


@pytest.mark.parametrize("dtype", list(HALF))
@pytest.mark.parametrize("name", ALONG_AXIS)
def test_half_precision_along_axis(name, dtype, request):
    _xfail(request, "half", name, dtype)
    _xfail(request, "half", name)
    info = HALF[dtype]
    x32 = _matrix(extreme=info["extra"][1])
    t = ops.cast(ops.convert_to_tensor(x32), dtype)
    x = _to64(t, dtype)
    y = _to64(act(name)(t), dtype)
    r = ref(name, x, {})
    _check_finite(f"{name} {dtype}", x, y, r, info["max"])
    rows = slice(0, -3)  # the extreme rows: finiteness only
    tol = _along_tol(x[rows], r[rows], eps=info["eps"], rtol=info["eps"])
    assert_close(f"{name} {dtype}", 0.0, y[rows], r[rows], tol)


# ----------------------------------------------------------------------------- metadata
META_X = np.concatenate([np.linspace(-30.0, 30.0, 30001), -np.logspace(1.5, 30, 60),
                         np.logspace(1.5, 30, 60)])
META_X.sort()
META_IN = META_X[np.abs(META_X) <= 30]


@functools.lru_cache(maxsize=None)
def _meta_fd(name):
    return fd(name, META_IN, {})


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_range(name):
    """f stays within entry.range (the reference over [-30, 30] and out to 1e30, and our
    float32 implementation on [-30, 30]); its finite bounds are attained within 2e-3."""
    e = CATALOGUE[name]
    lo, hi = e.range
    r = ref(name, META_X, {})
    assert np.all(r >= lo - 1e-6) and np.all(r <= hi + 1e-6), (
        f"{name}: reference spans [{r.min():.6g}, {r.max():.6g}], declared {e.range}")
    if math.isfinite(lo):
        assert r.min() - lo <= 2e-3, f"{name}: lower bound {lo} not attained (min {r.min():.6g})"
    if math.isfinite(hi):
        assert hi - r.max() <= 2e-3, f"{name}: upper bound {hi} not attained (max {r.max():.6g})"
    y = _computed(name, ())[0][PART["grid"]]
    assert np.all(y >= lo - 1e-6 * max(1.0, abs(lo))) and np.all(y <= hi + 1e-6 * max(1.0, abs(hi)))


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_monotonic(name):
    """monotonic <=> the reference slope never changes sign on [-30, 30] (up to noise)."""
    e = CATALOGUE[name]
    c, _, _ = _meta_fd(name)
    noise = 1e-9 * (1.0 + np.abs(c))
    rising, falling = np.any(c > noise), np.any(c < -noise)
    if e.monotonic:
        assert not (rising and falling), (
            f"{name} is declared monotonic but f' < 0 at x={META_IN[c < -noise][:3]}")
    else:
        assert rising and falling, f"{name} is declared non-monotonic but f' never changes sign"


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_smooth(name):
    """smooth <=> f' continuous (no kink, no jump of f) on [-30, 30], default parameters."""
    e = CATALOGUE[name]
    _, _, kink = _meta_fd(name)
    if e.smooth:
        assert not kink.any(), f"{name} is declared smooth but f' jumps near x={META_IN[kink][:5]}"
    else:
        assert kink.any(), f"{name} is declared non-smooth but f' is continuous on [-30, 30]"


@pytest.mark.parametrize("name", [n for n in NAMES if CATALOGUE[n].zero_centred])
def test_zero_centred(name):
    """zero_centred means f(0) == 0 (and f takes both signs)."""
    e = CATALOGUE[name]
    assert ref(name, np.zeros(1), {})[0] == 0.0, f"{name}: declared zero-centred but f(0) != 0"
    if e.elementwise:
        assert _computed(name, ())[0][np.flatnonzero(XALL == 0)[0]] == 0.0
    assert e.range[0] < 0 < e.range[1]


# ----------------------------------------------------------------------------- parameters
def _invalid_values(p):
    if p.kind is bool:
        return ["yes", 1, None]
    if p.kind is int:
        return [1.5, "x", None]
    bad = ["abc", True, float("nan"), float("inf"), [1.0]]
    if not p.optional:
        bad.append(None)
    if p.gt is not None:
        bad += [p.gt, p.gt - 1.0]
    if p.ge is not None:
        bad.append(p.ge - 1e-3)
    if p.lt is not None:
        bad += [p.lt, p.lt + 1.0]
    if p.le is not None:
        bad.append(p.le + 1e-3)
    return bad


@pytest.mark.parametrize("name", [n for n in NAMES if CATALOGUE[n].params])
def test_param_validation(name):
    """Defaults pass their own validation; out-of-range, non-number, NaN/inf and unknown
    parameters raise ValueError at keras_acts.get(...) time; PARAM_SETS are valid."""
    e = CATALOGUE[name]
    assert e.validate({}) == e.defaults
    for k, p in e.params.items():
        p.check(name, k, p.default)
        for v in _invalid_values(p):
            with pytest.raises(ValueError):
                keras_acts.get(name, **{k: v})
    with pytest.raises(ValueError):
        keras_acts.get(name, no_such_parameter=1.0)
    for p in PARAM_SETS.get(name, []):
        keras_acts.get(name, **p)


@pytest.mark.parametrize("name, params", [
    ("isru", dict(alpha=-1.0)),
    ("isrlu", dict(alpha=0.0)),
    ("rrelu", dict(lower=0.3, upper=0.1)),
    ("swish_x", dict(beta="fast")),
    ("relu", dict(max_value=-1.0)),
    ("penalized_tanh", dict(a=2.0)),
    ("soft_clipping", dict(alpha=0.0)),
])
def test_invalid_params_raise_at_get(name, params):
    with pytest.raises(ValueError):
        keras_acts.get(name, **params)


def test_parameterless_entries_reject_parameters():
    for name in NAMES:
        if not CATALOGUE[name].params:
            with pytest.raises(ValueError):
                keras_acts.get(name, alpha=1.0)
