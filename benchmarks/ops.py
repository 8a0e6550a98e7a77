"""Micro-benchmark every keras-acts activation against the memory-bandwidth bound
and against the nearest Keras built-in, forward and forward+backward, compiled.

    KERAS_BACKEND=jax python benchmarks/ops.py                       # all names + layers
    KERAS_BACKEND=jax python benchmarks/ops.py --size 1000000 --out benchmarks/results/ops-cpu-jax.md
    KERAS_BACKEND=jax python benchmarks/ops.py --names swish_x,mish,PReLU --repeats 9

What is timed, per row (one catalogue name, or one learnable layer of
``keras_acts.layers``), on a float32 tensor of shape ``(size // 1024, 1024)``
(gated entries - glu, geglu, swiglu, reglu - halve the last axis):

* ``fwd``: ``y = f(x)``;
* ``fwd+bwd``: ``y = f(x)`` *and* ``dx = d/dx sum(f(x) * c)`` (``c`` a fixed random
  cotangent, so nothing is optimised away; for layers also the gradients of the
  layer's trainable weights). Both results are returned, as in a training step,
  where the activation output feeds the next layer and ``dx`` the previous one.
  Returning only ``dx`` would be unfair to the bound: the copy's gradient
  ``1.0001 * c`` never reads ``x``, so any real activation would need 1.5x its
  memory traffic;
* the same two for the **copy** baseline ``x * 1.0001`` (the memory-bandwidth bound)
  and for the **nearest Keras built-in** (``NEAREST`` below), **interleaved** with
  the row's own repeats so that machine load hits all three alike.

Compiled: JAX ``jax.jit``; TensorFlow ``tf.function(jit_compile=True)``; torch eager,
or ``torch.compile`` with ``--compile``. Compilation is excluded: every function is
called ``--warmup`` times before timing (the first call's time is reported as
``compile s``). Each repeat runs the function ``inner`` times back to back (``inner``
chosen so that a repeat lasts >= ``--min-time``) and then synchronises
(``block_until_ready`` / ``tf.test.experimental.sync_devices`` /
``torch.cuda.synchronize``); the reported time is the median over ``--repeats``.

Targets (flagged ``MISS``): GPU - stateless rows <= 1.15x the copy, learnable layers
<= 1.3x the copy (fwd and fwd+bwd); CPU - <= 1.25x the nearest built-in.

Also a float64-leak check: ``f(x)`` for a float32 ``x`` must be float32 for every row
(eagerly on a small tensor - on JAX with ``jax_enable_x64`` switched on for the check,
since otherwise JAX silently truncates float64 to float32 and would hide a leak - and
in the compiled benchmark itself, output and gradient). bfloat16/float16 inputs are
checked too and reported, informationally.

The module also holds the small environment/Markdown helpers that
``benchmarks/recipes.py`` reuses.
"""

from __future__ import annotations

import argparse
import datetime
import math
import os
import platform
import re
import shlex
import statistics
import sys
import time
import traceback
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results"
if str(ROOT) not in sys.path:  # `python benchmarks/ops.py` from any directory
    sys.path.insert(0, str(ROOT))


# =============================================================================
# environment & Markdown helpers (also used by benchmarks/recipes.py)
# =============================================================================
def loadavg():
    try:
        return os.getloadavg()
    except (OSError, AttributeError):  # pragma: no cover
        return None


def nproc() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover
        return os.cpu_count() or 1


def load_text(la=None) -> str:
    la = loadavg() if la is None else la
    if la is None:
        return f"load average n/a / nproc {nproc()}"
    return f"load average {la[0]:.2f} {la[1]:.2f} {la[2]:.2f} / nproc {nproc()}"


def is_loaded(la=None, threshold=0.5) -> bool:
    """1-minute load average >= threshold x nproc (taken before our own work starts)."""
    la = loadavg() if la is None else la
    return la is not None and la[0] >= threshold * nproc()


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def backend_info():
    """(backend, 'gpu' | 'cpu', device description, {package: version})."""
    import keras
    import numpy as np

    backend = keras.backend.backend()
    versions = {"python": platform.python_version(), "keras": keras.__version__,
                "numpy": np.__version__}
    try:
        import keras_acts

        versions["keras_acts"] = keras_acts.__version__
    except Exception:  # pragma: no cover
        pass
    kind, desc = "cpu", f"CPU: {cpu_model()} ({nproc()} cores)"
    if backend == "jax":
        import jax
        import jaxlib

        versions.update(jax=jax.__version__, jaxlib=jaxlib.__version__)
        dev = jax.devices()[0]
        if dev.platform != "cpu":
            kind, desc = "gpu", f"{dev.platform.upper()}: {dev.device_kind} (x{len(jax.devices())})"
    elif backend == "tensorflow":
        import tensorflow as tf

        versions["tensorflow"] = tf.__version__
        gpus = tf.config.list_physical_devices("GPU")
        if gpus:
            name = tf.config.experimental.get_device_details(gpus[0]).get("device_name", gpus[0].name)
            kind, desc = "gpu", f"GPU: {name} (x{len(gpus)})"
    elif backend == "torch":
        import torch

        versions["torch"] = torch.__version__
        if torch.cuda.is_available():
            kind, desc = "gpu", f"GPU: {torch.cuda.get_device_name(0)} (x{torch.cuda.device_count()})"
    return backend, kind, desc, versions


def git_state() -> str:
    """Commit and the package files with uncommitted changes (what was measured)."""
    import subprocess

    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "keras_acts", "recipes"],
                               cwd=ROOT, capture_output=True, text=True, timeout=10).stdout.split("\n")
    except (OSError, subprocess.SubprocessError):
        return "n/a"
    files = [ln[3:] for ln in dirty if ln.strip()]
    return head + (f" + uncommitted changes in {', '.join(files)}" if files else "")


def header_lines(title, backend, desc, versions, la_start, la_end=None, extra=(), note=None):
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"# {title}", "", f"- date: {now}", f"- device: {desc}", f"- backend: {backend}",
             "- versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()),
             f"- code: git {git_state()}",
             f"- load at start: {load_text(la_start)}"]
    if la_end is not None:
        lines.append(f"- load at end: {load_text(la_end)}")
    lines += [f"- {e}" for e in extra]
    loaded = is_loaded(la_start) or (la_end is not None and is_loaded(la_end, 1.0))
    if loaded:
        lines += ["", "> **Measured on a loaded machine** (load average >= half the cores before "
                  "the run): other jobs shared the CPU, so absolute times are inflated and "
                  "noisy. Re-run on a quiet machine before quoting numbers."]
    if note:
        lines += ["", f"> {note}"]
    return lines


def md_table(headers, rows):
    from keras_acts.docs import cell, markdown_table

    return markdown_table(headers, [[cell(c) for c in r] for r in rows]).rstrip("\n").split("\n")


def text_table(headers, rows) -> str:
    cells = [[str(h) for h in headers]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def fmt(r):
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))

    return "\n".join([fmt(cells[0]), fmt(["-" * w for w in widths])] + [fmt(r) for r in cells[1:]])


def write_md(path, lines):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    print(f"wrote {path}", flush=True)


# =============================================================================
# nearest Keras built-in
# =============================================================================
#: catalogue name -> (Keras built-in, its parameters). Rule: the built-in a user
#: would swap it for (same shape family) *with comparable transcendental work*,
#: so the CPU target (<= 1.25x) measures formulation overhead, not the inherent
#: cost of, say, a log against a max. Keras built-ins map to themselves.
NEAREST = {
    # rectifier / step family: max, compare, select - no transcendentals
    "binary_step": "relu", "binary_step_ste": "relu", "squared_relu": "relu",
    "star_relu": "relu", "rrelu": "leaky_relu", "sqnl": "hard_tanh",
    "hard_mish": "hard_silu",
    # one sigmoid (swish family)
    "swish_x": "silu", "eswish": "silu", "quick_gelu": "silu", "fts": "silu",
    "dsilu": "silu", "elish": "silu", "aria2": "silu",
    "gelu_tanh": ("gelu", {"approximate": True}),
    # two nested transcendentals (mish family)
    "tanh_exp": "mish", "logish": "mish", "smish": "mish", "serf": "mish", "mila": "mish",
    # one tanh-like transcendental
    "lisht": "tanh", "penalized_tanh": "tanh", "weighted_tanh": "tanh", "arctan": "tanh",
    "snake": "tanh", "gcu": "tanh", "sine": "tanh",
    # exp / log
    "gaussian": "exponential", "nlrelu": "softplus", "soft_clipping": "softplus",
    "shifted_softplus": "softplus", "isrlu": "elu", "sine_relu": "elu", "hard_elish": "elu",
    "soft_exponential": "elu",
    # (r)sqrt / rational
    "isru": "softsign", "bent_identity": "squareplus",
    # non-elementwise
    "softmin": "softmax", "geglu": "glu", "swiglu": "glu", "reglu": "glu",
}
#: learnable layer (lower-case class name) -> built-in; layers wrapping a catalogue
#: entry (``catalogue_name`` / ``entry``) use that entry's nearest built-in
LAYER_NEAREST = {"prelu": "leaky_relu", "pelu": "elu", "srelu": "leaky_relu", "apl": "relu",
                 "tlu": "relu", "dyt": "tanh", "rational": "leaky_relu", "maxout": "relu",
                 "rrelu": "leaky_relu"}
#: constructor arguments for layers that have required ones (else: defaults)
LAYER_ARGS = {"Learnable": {"activation": "aria2"}}
DEFAULT_NEAREST = "relu"


def _as_spec(v):
    return (v, {}) if isinstance(v, str) else (v[0], dict(v[1]))


def _spec_label(spec):
    name, params = spec
    return name + (f"({', '.join(f'{k}={v}' for k, v in params.items())})" if params else "")


def nearest_for_entry(name):
    from keras_acts import CATALOGUE

    e = CATALOGUE[name]
    if e.keras_builtin:
        return (name, {})
    return _as_spec(NEAREST.get(name, DEFAULT_NEAREST))


def _snake(s):
    return re.sub(r"(?<!^)(?=[A-Z][a-z])", "_", s).lower()


def nearest_for_layer(layer):
    """Explicit map, else the catalogue entry the layer names/wraps, else relu."""
    from keras_acts import CATALOGUE

    cls = type(layer).__name__.lower()
    if cls in LAYER_NEAREST:
        return _as_spec(LAYER_NEAREST[cls])
    for attr in ("catalogue_name", "entry", "activation_name", "base", "function", "fn_name"):
        v = getattr(layer, attr, None)
        v = getattr(v, "name", v)
        if isinstance(v, str) and v in CATALOGUE:
            return nearest_for_entry(v)
    sn = _snake(type(layer).__name__)
    for cand in (sn, sn.removeprefix("learnable_"), sn.removeprefix("parametric_")):
        if cand in CATALOGUE:
            return nearest_for_entry(cand)
    return (DEFAULT_NEAREST, {})


def discover_layers():
    """[(class name, class)]: Layers defined in keras_acts.layers and registered as
    ``keras_acts>Name`` (abstract bases are not registered; any that is and cannot be
    called is reported as skipped)."""
    try:
        import keras
        import keras_acts.layers as mod
    except ImportError:
        return []
    found = []
    for attr, obj in sorted(vars(mod).items()):
        if not (isinstance(obj, type) and issubclass(obj, keras.layers.Layer)):
            continue
        if not obj.__module__.startswith("keras_acts"):
            continue
        registered = keras.saving.get_registered_name(obj)
        if attr.startswith("_") or not registered.startswith("keras_acts>"):
            continue
        found.append((attr, obj))
    return found


# =============================================================================
# backend adapters: compile, sync, grad
# =============================================================================
class Adapter:
    """Backend-specific pieces. ``apply(params, x)`` -> y, params a list of tensors
    (empty for stateless functions)."""

    def __init__(self, backend, kind, use_compile=False, xla=True):
        self.backend, self.kind, self.use_compile, self.xla = backend, kind, use_compile, xla
        self.note = ""
        if backend == "jax":
            import jax

            self.jax = jax
            self.note = "jax.jit"
        elif backend == "tensorflow":
            import tensorflow as tf

            self.tf = tf
            self.note = f"tf.function(jit_compile={xla})"
        elif backend == "torch":
            import torch

            self.torch = torch
            self.device = "cuda" if torch.cuda.is_available() else "cpu"
            self.note = "torch.compile" if use_compile else "torch eager"
        else:  # pragma: no cover
            raise SystemExit(f"unsupported backend {backend}")

    # -- tensors ---------------------------------------------------------------
    def tensor(self, arr):
        if self.backend == "jax":
            return self.jax.device_put(arr)
        if self.backend == "tensorflow":
            return self.tf.convert_to_tensor(arr)
        return self.torch.as_tensor(arr, device=self.device)

    @staticmethod
    def dtype(t):
        import keras

        return keras.backend.standardize_dtype(t.dtype)

    def sync(self, out):
        if self.backend == "jax":
            self.jax.block_until_ready(out)
        elif self.backend == "tensorflow":
            if self.kind == "gpu":
                self.tf.test.experimental.sync_devices()
        elif self.device == "cuda":
            self.torch.cuda.synchronize()

    # -- compiled functions ------------------------------------------------------
    def build(self, apply):
        """(fwd(params, x) -> y, fb(params, x, c) -> (y, dx, [dparams]))."""
        if self.backend == "jax":
            jax = self.jax

            def fb(params, x, c):
                y, pull = jax.vjp(apply, params, x)
                dparams, dx = pull(c)
                return y, dx, dparams

            return jax.jit(apply), jax.jit(fb)
        if self.backend == "tensorflow":
            tf = self.tf

            def fb(params, x, c):
                with tf.GradientTape() as tape:
                    tape.watch(x)
                    y = apply(params, x)
                grads = tape.gradient(y, [x] + list(params), output_gradients=c,
                                      unconnected_gradients=tf.UnconnectedGradients.ZERO)
                return y, grads[0], grads[1:]

            fwd_c = tf.function(lambda params, x: apply(params, x), jit_compile=self.xla)
            fb_c = tf.function(fb, jit_compile=self.xla)
            return fwd_c, fb_c
        torch = self.torch
        f = torch.compile(apply) if self.use_compile else apply

        def fwd(params, x):
            with torch.no_grad():
                return f(params, x)

        def fb(params, x, c):
            xr = x.detach().requires_grad_(True)
            y = f(params, xr)
            if not y.requires_grad:  # piecewise constant (binary_step's autodiff): zero
                return y, torch.zeros_like(xr), [torch.zeros_like(p) for p in params]
            grads = torch.autograd.grad(y, [xr] + list(params), grad_outputs=c, allow_unused=True)
            grads = [torch.zeros_like(t) if g is None else g for g, t in zip(grads, [xr, *params])]
            return y.detach(), grads[0], list(grads[1:])

        return fwd, fb

    def kept(self, apply, params, x):
        """Bytes kept between forward and backward, per byte of x (see the module docstring)."""
        nbytes = x.shape[0] * x.shape[1] * 4
        if self.backend == "torch":
            xr = x.detach().requires_grad_(True)
            return torch_saved_bytes(lambda: apply(params, xr)) / nbytes
        if self.backend == "jax":
            jax = self.jax
            _, pull = jax.vjp(apply, params, x)
            leaves = {id(a): a for a in jax.tree_util.tree_leaves(pull) if hasattr(a, "nbytes")}
            return sum(int(a.nbytes) for a in leaves.values()) / nbytes
        return self._tf_kept(apply, params, x) / nbytes

    def _tf_kept(self, apply, params, x):
        """TensorFlow: in the graph of fwd+bwd (tf.function, before Grappler), the tensors of
        the forward pass (the ancestors of y: x, the weights, every intermediate) that the
        backward ops (the other ancestors of the gradients) read; static sizes, constants and
        tensors under 1024 elements left out."""
        tf = self.tf

        def fb(params, x, c):
            with tf.GradientTape() as tape:
                tape.watch(x)
                y = apply(params, x)
            return y, tape.gradient(y, [x] + list(params), output_gradients=c,
                                    unconnected_gradients=tf.UnconnectedGradients.ZERO)

        c = tf.zeros_like(apply(params, x))
        graph = tf.function(fb).get_concrete_function(params, x, c).graph
        y, grads = graph.structured_outputs

        def ancestors(tensors):
            seen, stack = set(), [t.op for t in tensors if t is not None]
            while stack:
                op = stack.pop()
                if op.name not in seen:
                    seen.add(op.name)
                    stack += [t.op for t in op.inputs] + list(op.control_inputs)
            return seen

        forward = ancestors([y])
        backward = ancestors(grads) - forward
        kept = {}
        for op in graph.get_operations():
            if op.name not in backward:
                continue
            for t in op.inputs:
                n = t.shape.num_elements()
                if t.op.name in forward and t.op.type != "Const" and n is not None and n >= 1024:
                    kept[t.name] = n * t.dtype.size
        return sum(kept.values())

    def x64_context(self):
        """Context in which float64 is representable (JAX truncates it otherwise)."""
        import contextlib

        if self.backend == "jax":
            try:
                return self.jax.enable_x64(True)
            except Exception:  # pragma: no cover - older jax
                from jax.experimental import enable_x64

                return enable_x64()
        return contextlib.nullcontext()


def torch_saved_bytes(run, skip=frozenset()):
    """Bytes autograd saves for backward while ``run()`` runs (``saved_tensors_hooks``),
    counting each distinct storage view once and none whose storage pointer is in ``skip``."""
    import torch

    seen = {}

    def pack(t):
        ptr = t.untyped_storage().data_ptr()
        if ptr not in skip:
            seen[(ptr, t.storage_offset(), t.numel())] = t.numel() * t.element_size()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        run()
    return sum(seen.values())


# =============================================================================
# rows
# =============================================================================
class Row:
    """One thing to time: a catalogue name or a layer."""

    def __init__(self, name, kind, apply, params, nearest, elementwise=True, layer=None):
        self.name, self.kind, self.apply, self.params = name, kind, apply, params
        self.nearest, self.elementwise, self.layer = nearest, elementwise, layer
        self.res = {}
        self.err = None
        self.dtype_issues = []


def catalogue_rows(names):
    import keras
    import keras_acts
    from keras_acts import CATALOGUE

    rows = []
    for n in names:
        e = CATALOGUE[n]
        f = keras_acts.get(n)
        kind = "keras" if e.keras_builtin else "ours"
        rows.append(Row(n, kind, (lambda f: lambda params, x: f(x))(f), [], nearest_for_entry(n),
                        elementwise=e.elementwise))
    return rows


def builtin_apply(spec):
    import functools

    import keras

    name, params = spec
    f = keras.activations.get(name)
    if params:
        f = functools.partial(f, **params)
    return lambda p, x: f(x)


def layer_rows(adapter, shape, selected):
    """Instantiate every discovered layer with defaults and build it on ``shape``."""
    rows, skipped = [], []
    for cname, cls in discover_layers():
        if selected is not None and cname not in selected:
            continue
        kwargs = LAYER_ARGS.get(cname, {})
        label = cname + (f"({', '.join(map(str, kwargs.values()))})" if kwargs else "")
        try:
            layer = cls(**kwargs)
            layer.build(shape)
        except NotImplementedError:
            continue  # an abstract base that happens to be registered
        except Exception as exc:  # noqa: BLE001 - report, don't die
            skipped.append((cname, f"{type(exc).__name__}: {exc}".splitlines()[0][:160]))
            continue
        rows.append(Row(label, "layer", None, None, nearest_for_layer(layer), layer=layer))
        rows[-1].cls_name = cname
    for row in rows:
        _bind_layer(adapter, row)
    return rows, skipped


def _bind_layer(adapter, row):
    layer = row.layer
    tv = list(layer.trainable_variables)
    if adapter.backend == "jax":
        ntv = [v.value for v in layer.non_trainable_variables]
        row.params = [v.value for v in tv]

        def apply(params, x):
            y, _ = layer.stateless_call(params, ntv, x)
            return y
    else:
        row.params = [v.value for v in tv]

        def apply(params, x):
            return layer(x)
    row.apply = apply


# =============================================================================
# timing
# =============================================================================
def _time_once(adapter, fn, args, inner):
    t0 = time.perf_counter()
    out = None
    for _ in range(inner):
        out = fn(*args)
    adapter.sync(out)
    return (time.perf_counter() - t0) / inner


def prepare(adapter, fn, args, warmup, min_time):
    """Compile + warm up; returns (output, first-call seconds, inner)."""
    t0 = time.perf_counter()
    out = fn(*args)
    adapter.sync(out)
    first = time.perf_counter() - t0
    for _ in range(max(0, warmup - 1)):
        out = fn(*args)
        adapter.sync(out)
    t1 = _time_once(adapter, fn, args, 1)
    inner = max(1, min(1000, math.ceil(min_time / max(t1, 1e-7))))
    return out, first, inner


def interleaved(adapter, jobs, repeats):
    """jobs: {label: (fn, args, inner)} -> {label: median seconds}; labels rotate
    each repeat so drifting load hits every job alike."""
    labels = list(jobs)
    times = {k: [] for k in labels}
    for r in range(repeats):
        k = r % len(labels)
        for label in labels[k:] + labels[:k]:
            fn, args, inner = jobs[label]
            times[label].append(_time_once(adapter, fn, args, inner))
    return {k: statistics.median(v) for k, v in times.items()}


class Bench:
    def __init__(self, adapter, x, repeats, warmup, min_time, seed=0):
        import numpy as np

        self.np = np
        self.a, self.x = adapter, x
        self.repeats, self.warmup, self.min_time = repeats, warmup, min_time
        self.rng = np.random.default_rng(seed + 1)
        self.cot = {}
        self.compiled = {}  # key -> dict(fwd=(fn, args, inner), fb=..., first=..)

    def cotangent(self, shape):
        shape = tuple(int(d) for d in shape)
        if shape not in self.cot:
            self.cot[shape] = self.a.tensor(self.rng.standard_normal(shape, dtype=self.np.float32))
        return self.cot[shape]

    def ready(self, key, apply, params):
        """Compile and warm up fwd and fwd+bwd of ``apply`` once per key."""
        if key in self.compiled:
            return self.compiled[key]
        fwd, fb = self.a.build(apply)
        y, first_f, inner_f = prepare(self.a, fwd, (params, self.x), self.warmup, self.min_time)
        c = self.cotangent(y.shape)
        out, first_b, inner_b = prepare(self.a, fb, (params, self.x, c), self.warmup, self.min_time)
        info = {"fwd": (fwd, (params, self.x), inner_f), "fb": (fb, (params, self.x, c), inner_b),
                "compile": first_f + first_b, "dtypes": (self.a.dtype(y), self.a.dtype(out[0]),
                                                         self.a.dtype(out[1]))}
        self.compiled[key] = info
        return info

    def copy(self):
        return self.ready("__copy__", lambda p, x: x * 1.0001, [])

    def nearest(self, spec):
        return self.ready(("nearest", _spec_label(spec)), builtin_apply(spec), [])

    def run(self, row, repeats=None):
        repeats = repeats or self.repeats
        me = self.ready(("row", row.name), row.apply, row.params)
        cp = self.copy()
        self_nearest = row.kind == "keras" and row.nearest == (row.name, {})
        nb = None if self_nearest else self.nearest(row.nearest)
        ad = None if row.kind == "keras" else self.ready(("autodiff", row.name),
                                                          plain_autodiff(row.apply), row.params)
        out = {}
        for mode in ("fwd", "fb"):
            jobs = {"me": me[mode], "copy": cp[mode]}
            if nb is not None:
                jobs["nearest"] = nb[mode]
            if ad is not None and mode == "fb":
                jobs["autodiff"] = ad[mode]
            t = interleaved(self.a, jobs, repeats)
            out[mode] = t["me"]
            out[mode + "_copy"] = t["copy"]
            out[mode + "_nearest"] = t.get("nearest", t["me"])
        out["fb_autodiff"] = t.get("autodiff", t["me"])
        kx = self.x[:64]
        out["kept"] = self.a.kept(row.apply, row.params, kx)
        out["kept_autodiff"] = out["kept"] if ad is None else self.a.kept(
            plain_autodiff(row.apply), row.params, kx)
        out["compile"] = me["compile"]
        row.res = out
        y_dt, y2_dt, dx_dt = me["dtypes"]
        for what, dt in (("compiled f(x)", y_dt), ("compiled fwd+bwd y", y2_dt),
                         ("compiled dx", dx_dt)):
            if dt != "float32":
                row.dtype_issues.append(f"{what}: {dt}")
        return out


KEPT_HOW = {
    "torch": "torch: every tensor saved for backward (`torch.autograd.graph.saved_tensors_hooks`, "
             "distinct storages, the input included)",
    "jax": "JAX: the residuals held by `jax.vjp`'s pullback (eager, not jitted; XLA may fuse "
           "some away inside a jitted step: see the model-level page)",
    "tensorflow": "TensorFlow: in the graph of fwd+bwd (`tf.function`, before Grappler), the "
                  "forward tensors (ancestors of y, the input included) that backward ops read",
}


#: an ours row slower than this x plain autodiff (fwd+bwd) is listed (AUTODIFF_FASTER)
SLOWER_THAN_AUTODIFF = 1.05


def plain_autodiff(apply):
    """``apply`` with keras-acts's plain-autodiff switch on while it runs (and is traced)."""
    import keras_acts

    def f(params, x):
        with keras_acts.set_gradients("autodiff"):
            return apply(params, x)

    return f


def targets(kind):
    """(reference, limit) per row kind for the device."""
    if kind == "gpu":
        return {"keras": ("copy", 1.15), "ours": ("copy", 1.15), "layer": ("copy", 1.30)}
    return {"keras": ("nearest", 1.25), "ours": ("nearest", 1.25), "layer": ("nearest", 1.25)}


def misses(row, device_kind):
    ref, limit = targets(device_kind)[row.kind]
    r = row.res
    bad = []
    if not r:
        return bad
    if r["fwd"] / r["fwd_" + ref] > limit:
        bad.append("fwd")
    if r["fb"] / r["fb_" + ref] > limit:
        bad.append("f+b")
    return bad


# =============================================================================
# dtype check
# =============================================================================
def dtype_check(adapter, rows):
    """Eager call on a small tensor per dtype; float32 must stay float32 (x64 on for JAX)."""
    import keras
    import numpy as np

    x_np = np.random.default_rng(3).standard_normal((4, 1024)).astype(np.float32) * 3
    report = {}
    with adapter.x64_context():
        for row in rows:
            issues = []
            for dt in ("float32", "bfloat16", "float16"):
                try:
                    x = keras.ops.cast(adapter.tensor(x_np), dt)
                    if row.layer is None:
                        y = row.apply(row.params, x)
                    elif dt == "float32":
                        y = row.layer(x)
                    else:  # a float32 layer would autocast the input: use a mixed policy
                        layer = type(row.layer)(**LAYER_ARGS.get(type(row.layer).__name__, {}),
                                                dtype=f"mixed_{dt}")
                        layer.build(x_np.shape)
                        y = layer(x)
                    got = adapter.dtype(y)
                    if got != dt:
                        issues.append(f"{dt} -> {got}")
                except Exception as exc:  # noqa: BLE001
                    issues.append(f"{dt}: {type(exc).__name__}: {str(exc).splitlines()[0][:100]}")
            report[row.name] = issues
    return report


# =============================================================================
# main
# =============================================================================
def fmt_ms(s):
    return f"{s * 1e3:.3f}" if s < 0.1 else f"{s * 1e3:.1f}"


def fmt_ratio(a, b, limit=None):
    r = a / b
    return f"{r:.2f}" + (" ✗" if limit is not None and r > limit else "")


def parse(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--size", type=int, default=None,
                   help="elements per tensor (default 4M on CPU, 64M on GPU); rounded down to a "
                        "multiple of 1024, shape (size//1024, 1024)")
    p.add_argument("--names", default=None,
                   help="comma-separated catalogue names and/or layer class names (default: all)")
    p.add_argument("--no-layers", action="store_true", help="skip keras_acts.layers")
    p.add_argument("--repeats", type=int, default=7, help="timed repeats per function (median), >= 5")
    p.add_argument("--warmup", type=int, default=2, help="untimed calls first (the first compiles)")
    p.add_argument("--min-time", type=float, default=0.01,
                   help="seconds per repeat: fast functions are looped to last at least this")
    p.add_argument("--compile", action="store_true", help="torch: use torch.compile (default eager)")
    p.add_argument("--xla", choices=("on", "off"), default="on",
                   help="TensorFlow: tf.function(jit_compile=...); off is how Keras runs TF on a CPU")
    p.add_argument("--gradients", choices=("auto", "efficient", "autodiff"), default=None,
                   help="keras-acts gradient mode of the timed rows (default: the environment's, "
                        "auto); the f+b/autodiff column always compares with plain autodiff")
    p.add_argument("--threads", type=int, default=None,
                   help="torch on CPU: torch.set_num_threads(N); 1 avoids thread thrashing on a "
                        "loaded machine (eager torch timings there are otherwise erratic)")
    p.add_argument("--no-recheck", action="store_true",
                   help="don't re-time rows missing their target (recheck uses 2x repeats)")
    p.add_argument("--out", default=None,
                   help="write a Markdown table here ('auto' = benchmarks/results/ops-<device>-<backend>.md)")
    p.add_argument("--note", default=None, help="free text for the Markdown header")
    args = p.parse_args(argv)
    if args.repeats < 5:
        p.error("--repeats must be >= 5")
    return args


def main(argv=None):
    args = parse(argv)
    la_start = loadavg()
    import keras
    import numpy as np

    import keras_acts

    backend, kind, desc, versions = backend_info()
    size = args.size or (64 if kind == "gpu" else 4) * 2 ** 20
    rows_n = max(1, size // 1024)
    shape = (rows_n, 1024)
    adapter = Adapter(backend, kind, args.compile, xla=args.xla == "on")
    if args.gradients:
        keras_acts.set_gradients(args.gradients)
    grad_mode = keras_acts.gradients.mode()
    if args.threads and backend == "torch":
        adapter.torch.set_num_threads(args.threads)
        adapter.note += f", {args.threads} thread(s)"
    print(f"# keras-acts ops benchmark | {desc} | backend {backend} ({adapter.note}) | "
          f"gradients {grad_mode} | "
          f"shape {shape} = {rows_n * 1024:,} float32 | repeats {args.repeats} | {load_text(la_start)}",
          flush=True)
    if is_loaded(la_start):
        print("# WARNING: machine is loaded; timings are noisy", flush=True)

    selected = None if args.names is None else {s.strip() for s in args.names.split(",") if s.strip()}
    names = [n for n in keras_acts.names() if selected is None or n in selected]
    rows = catalogue_rows(names)
    skipped = []
    if not args.no_layers:
        lrows, skipped = layer_rows(adapter, shape, selected)
        rows += lrows
    if selected is not None:
        unknown = (selected - {r.name for r in rows} - {getattr(r, "cls_name", r.name) for r in rows}
                   - {s for s, _ in skipped})
        if unknown:
            raise SystemExit(f"unknown names: {sorted(unknown)}")

    x = adapter.tensor((np.random.default_rng(0).standard_normal(shape, dtype=np.float32) * 3))
    bench = Bench(adapter, x, args.repeats, args.warmup, args.min_time)

    t_all = time.perf_counter()
    cp = bench.copy()
    base = interleaved(adapter, {"fwd": cp["fwd"], "fb": cp["fb"]}, args.repeats)
    print(f"# copy x*1.0001: fwd {fmt_ms(base['fwd'])} ms, fwd+bwd {fmt_ms(base['fb'])} ms "
          f"(compile excluded; each row re-times the copy interleaved with itself)", flush=True)

    tgt = targets(kind)
    for i, row in enumerate(rows):
        try:
            bench.run(row)
            miss = misses(row, kind)
            if miss and not args.no_recheck:
                bench.run(row, repeats=2 * args.repeats)
                row.rechecked = True
            r = row.res
            print(f"[{i + 1}/{len(rows)}] {row.name:18s} fwd {fmt_ms(r['fwd']):>8} ms "
                  f"x{r['fwd'] / r['fwd_copy']:.2f} copy x{r['fwd'] / r['fwd_nearest']:.2f} "
                  f"{_spec_label(row.nearest)} | f+b {fmt_ms(r['fb']):>8} ms "
                  f"x{r['fb'] / r['fb_copy']:.2f} copy x{r['fb'] / r['fb_nearest']:.2f} nearest "
                  f"x{r['fb'] / r['fb_autodiff']:.2f} autodiff | kept {r['kept']:.2f} "
                  f"(autodiff {r['kept_autodiff']:.2f})"
                  + ("  MISS " + ",".join(misses(row, kind)) if misses(row, kind) else ""),
                  flush=True)
        except Exception as exc:  # noqa: BLE001
            row.err = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"
            print(f"[{i + 1}/{len(rows)}] {row.name}: ERROR {row.err}", flush=True)
            if os.environ.get("KERAS_ACTS_BENCH_DEBUG"):
                traceback.print_exc()
    elapsed = time.perf_counter() - t_all

    dt_report = dtype_check(adapter, rows)
    la_end = loadavg()

    headers = ["name", "kind", "nearest built-in", "fwd ms", "fwd/copy", "fwd/nearest",
               "fwd+bwd ms", "f+b/copy", "f+b/nearest", "f+b/autodiff", "kept", "kept autodiff",
               "compile s", "target"]
    table = []
    missing = []
    for row in rows:
        ref, limit = tgt[row.kind]
        if row.err:
            table.append([row.name, row.kind, _spec_label(row.nearest)] + ["—"] * 10 + [f"ERROR {row.err}"])
            continue
        r = row.res
        lim_c = limit if ref == "copy" else None
        lim_n = limit if ref == "nearest" else None
        self_n = row.kind == "keras" and row.nearest == (row.name, {})
        miss = misses(row, kind)
        if miss:
            missing.append((row, miss))
        status = ("MISS " + ",".join(miss) if miss else "ok") + (" (rechecked)" if getattr(row, "rechecked", False) else "")
        table.append([
            row.name, row.kind, "(itself)" if self_n else _spec_label(row.nearest),
            fmt_ms(r["fwd"]), fmt_ratio(r["fwd"], r["fwd_copy"], lim_c),
            "1 (self)" if self_n else fmt_ratio(r["fwd"], r["fwd_nearest"], lim_n),
            fmt_ms(r["fb"]), fmt_ratio(r["fb"], r["fb_copy"], lim_c),
            "1 (self)" if self_n else fmt_ratio(r["fb"], r["fb_nearest"], lim_n),
            "—" if row.kind == "keras" else fmt_ratio(r["fb"], r["fb_autodiff"]),
            f"{r['kept']:.2f}", f"{r['kept_autodiff']:.2f}",
            f"{r['compile']:.2f}", status,
        ])

    leaks = {n: [i for i in v if i.startswith("float32")] for n, v in dt_report.items()}
    for row in rows:
        leaks.setdefault(row.name, [])
        leaks[row.name] += row.dtype_issues
    leaks = {n: v for n, v in leaks.items() if v}
    half = {n: [i for i in v if not i.startswith("float32")] for n, v in dt_report.items()}
    half = {n: v for n, v in half.items() if v}

    print()
    print(text_table(headers, table))
    print()
    ref_txt = ("GPU: stateless <= 1.15x copy, learnable layers <= 1.3x copy" if kind == "gpu"
               else "CPU: <= 1.25x the nearest Keras built-in")
    print(f"targets ({ref_txt}): {len(missing)} of {len(rows)} rows miss: "
          + (", ".join(f"{r.name} ({'/'.join(m)})" for r, m in missing) or "none"))
    print("float32 dtype leaks: " + (", ".join(f"{n}: {'; '.join(v)}" for n, v in leaks.items()) or "none"))
    if half:
        print("half-precision dtype issues: " + ", ".join(f"{n}: {'; '.join(v)}" for n, v in half.items()))
    if skipped:
        print("layers skipped: " + ", ".join(f"{n} ({why})" for n, why in skipped))
    from keras_acts import CATALOGUE
    from keras_acts.registry import has_efficient_form

    slower = sorted(r.name for r in rows if r.kind == "ours" and not r.err
                    and has_efficient_form(CATALOGUE[r.name])
                    and r.res["fb"] > SLOWER_THAN_AUTODIFF * r.res["fb_autodiff"])
    slower_txt = (f"ours rows whose fwd+bwd in mode {grad_mode} is > {SLOWER_THAN_AUTODIFF}x plain "
                  f"autodiff ({len(slower)}): " + (", ".join(slower) or "none"))
    print(slower_txt)
    print(f"total {elapsed:.1f} s; {load_text(la_end)}")

    if args.out:
        out = (RESULTS / f"ops-{kind}-{backend}.md") if args.out == "auto" else Path(args.out)
        extra = [
            f"tensor: float32, shape {shape} ({rows_n * 1024:,} elements); gated entries (glu, "
            "geglu, swiglu, reglu) halve the last axis",
            f"compiled with {adapter.note}; compile time excluded (first call reported as "
            f"`compile s`, {args.warmup} warm-up calls), median of {args.repeats} repeats, "
            f"each repeat >= {args.min_time * 1e3:.0f} ms of back-to-back calls then a sync",
            "fwd = f(x); fwd+bwd = f(x) and d/dx sum(f(x)*c) (c fixed random cotangent; layers "
            "also return their weight gradients)",
            f"keras-acts gradient mode of the rows: `{grad_mode}`; "
            "f+b/autodiff: fwd+bwd in that mode (keras_acts.gradients) over "
            "the same with plain autodiff of the formula (`KERAS_ACTS_GRADIENTS=autodiff`), "
            "interleaved",
            "kept / kept autodiff: bytes kept between forward and backward per input byte "
            "(64x1024 float32 input), default gradients / plain autodiff; " + KEPT_HOW[backend],
            "each row's copy (x*1.0001) and nearest-built-in timings are taken interleaved with "
            "its own repeats; rows missing a target were re-timed with 2x repeats (rechecked)",
            f"copy x*1.0001 at start: fwd {fmt_ms(base['fwd'])} ms, fwd+bwd {fmt_ms(base['fb'])} ms",
            f"targets: {ref_txt} (✗ marks a ratio over its target)",
            f"command: `KERAS_BACKEND={backend} python benchmarks/ops.py "
            + shlex.join(argv if argv is not None else sys.argv[1:]) + "`",
        ]
        lines = header_lines(f"keras-acts op benchmark — {kind.upper()}, {backend}", backend, desc,
                             versions, la_start, la_end, extra, args.note)
        lines += ["", *md_table(headers, table), ""]
        lines += [f"**Slower than plain autodiff:** {slower_txt} (with `--gradients efficient` "
                  "this is keras_acts.gradients.AUTODIFF_FASTER for the backend)", ""]
        lines += [f"**Rows missing the target ({len(missing)} of {len(rows)}):** "
                  + (", ".join(f"`{r.name}` ({'/'.join(m)})" for r, m in missing) or "none"), ""]
        lines += ["**float64 / dtype leaks (float32 in must give float32 out, eager with "
                  + ("jax_enable_x64 on" if backend == "jax" else "the default config")
                  + ", and in the compiled functions):** "
                  + ("; ".join(f"`{n}`: {', '.join(v)}" for n, v in leaks.items()) or "none"), ""]
        lines += ["**bfloat16 / float16 inputs (informational):** "
                  + ("; ".join(f"`{n}`: {', '.join(v)}" for n, v in half.items())
                     or "all rows return the input dtype"), ""]
        if skipped:
            lines += ["**Layers skipped** (could not be instantiated with defaults and built on the "
                      "tensor's shape): " + "; ".join(f"`{n}`: {w}" for n, w in skipped), ""]
        write_md(out, lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
