"""Gradient-flow diagnostics: a Keras callback that watches activations train.

>>> flow = keras_acts.diagnostics.GradientFlow(x_train, y_train)      # probe: 256 samples
>>> model.fit(x_train, y_train, epochs=5, callbacks=[flow])
>>> flow.history["grad_norm_ratio"], flow.summary()
>>> flow.to_json("diagnostics.json")

Before training (``epoch`` 0) and after every epoch (``epoch`` k), on one fixed probe batch
(``probe_size`` samples drawn once, with a fixed seed, from the ``x``/``y`` given), it records

``loss``                     the model's loss on the probe batch (inference mode).
``grad_norm[layer]``         L2 (Frobenius) norm of d loss / d kernel of every Dense / Conv
                             layer (every layer with a trainable ``kernel``, nested ones
                             included), from backend autodiff (``keras_acts.autodiff``);
                             ``grad_rms`` is the same divided by sqrt(kernel size).
``grad_norm_ratio``          grad_norm of the first kernel layer / that of the last one:
                             << 1 means gradients vanish on their way back to the input,
                             >> 1 that they explode.
``dead_fraction[site]``      fraction of dead units of an activation site. A unit (a feature of
                             a Dense output, a channel of a Conv output) is *dead* if its output
                             is <= 0 for every probe sample (and every position), for
                             activations whose range starts at 0 (relu, relu6, sigmoid,
                             softplus, ... from the catalogue), or if its output is constant
                             (max - min <= ``constant_tol``) over the probe batch, for any
                             activation.
``saturated_fraction[site]`` fraction of saturated units: a unit is *saturated* if the mean of
                             |f'(z)| over the probe batch (and positions) is below
                             ``saturation_threshold`` (0.01), z being its pre-activation. f' is
                             the catalogue's analytic derivative (``keras_acts.derivative``)
                             when the activation is known, else backend autodiff of the
                             activation (learnable layers, PReLU, custom callables). Dead ReLU
                             units have f' = 0 and so count as saturated too. Not defined
                             (null) for non-elementwise activations (softmax, glu, ...).
                             ``saturated_entries_fraction``: fraction of (sample, unit) entries
                             with |f'(z)| < threshold.
``activation_mean[site]``,   mean and variance of the site's output over all its entries on
``activation_var[site]``     the probe batch.
``time_s``                   seconds each measurement took; ``epoch_time_s`` the duration of
                             each training epoch (on_epoch_begin to on_epoch_end), so
                             ``cost()`` = measurement time / training time.

An *activation site* is a layer with a non-linear ``activation=`` (Dense, Conv, ...), a
``keras.layers.Activation`` layer, a Keras activation layer (ReLU, LeakyReLU, ELU, PReLU,
Softmax) or a ``keras_acts.layers`` learnable layer. Activation statistics need a Functional
or Sequential model (intermediate outputs come from a probe ``keras.Model(model.inputs,
[layer.output ...])``; the pre-activation of a Dense(activation=...) layer is obtained by
calling the layer on its input with its activation switched to linear for that call). On a
subclassed model only the gradient norms are recorded; layers inside nested models are
covered by the gradient norms but not by the activation statistics.

``history`` is a JSON-serialisable dict (non-finite numbers become null): keys above, each a
list over the recorded epochs (per-layer ones a dict layer -> list), plus ``layers`` (what was
found) and ``config`` (the settings and these definitions).

``tensorboard_dir=``: also write every number as a TensorBoard scalar (``keras_acts.events``,
any backend; needs the ``tensorboard`` package, skipped with a warning without it).

Why one long module: one callback (``GradientFlow``) and the per-backend gradient probes,
dead/saturated-unit measures and summaries it needs; nothing here is used without it.
"""

from __future__ import annotations

import json
import math
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import keras
import numpy as np
from keras import ops

from .catalogue import CATALOGUE
from .registry import ActivationFunction, derivative, name_of

__all__ = ["GradientFlow", "DEFINITIONS", "summarize", "cost", "activation_sites",
           "kernel_layers"]

DEFINITIONS = {
    "grad_norm": "L2 norm of d loss/d kernel on the probe batch (inference mode)",
    "grad_rms": "grad_norm / sqrt(kernel size)",
    "grad_norm_ratio": "grad_norm(first kernel layer) / grad_norm(last kernel layer)",
    "dead": "unit output <= 0 for every probe sample and position (activations whose range "
            "starts at 0), or constant output (max - min <= constant_tol) for any activation",
    "saturated": "mean over probe samples and positions of |f'(pre-activation)| < "
                 "saturation_threshold (analytic f' where known, autodiff otherwise); "
                 "null for non-elementwise activations",
    "saturated_entries": "fraction of (sample, unit) entries with |f'| < saturation_threshold",
    "activation_mean/var": "mean / variance of all entries of the site's output on the probe batch",
}

_PER_LAYER = ("grad_norm", "grad_rms")
_PER_SITE = ("dead_fraction", "saturated_fraction", "saturated_entries_fraction",
             "activation_mean", "activation_var")


# ----------------------------------------------------------------------------- what to watch
@dataclass
class Site:
    """An activation site of a model."""

    layer: keras.layers.Layer
    kind: str  # "fused" (Dense(activation=...)), "layer" (activation layer)
    fn: Callable  # f(pre-activation tensor)
    name: str | None = None  # catalogue name, when known
    params: dict = field(default_factory=dict)
    elementwise: bool = True
    lower_bound: float | None = None
    output: bool = False  # produces a model output
    units: int | None = None  # features / channels of its output

    @property
    def derivative_source(self) -> str:
        if not self.elementwise:
            return "none"
        return "analytic" if self.name is not None else "autodiff"

    def describe(self) -> dict:
        return {"layer": self.layer.name, "class": type(self.layer).__name__,
                "activation": self.name or _callable_name(self.fn), "params": jsonable(self.params),
                "elementwise": self.elementwise, "derivative": self.derivative_source,
                "range_lower_bound": self.lower_bound, "output": self.output, "units": self.units}


def _callable_name(fn) -> str:
    return getattr(fn, "__name__", None) or type(fn).__name__


def identify(fn) -> tuple[str | None, dict]:
    """(catalogue name, params) of an activation callable, or (None, {}) if unknown."""
    if isinstance(fn, ActivationFunction):
        return fn.name, dict(fn.params)
    if isinstance(fn, str):
        return (fn, {}) if fn in CATALOGUE else (None, {})
    name = name_of(fn)
    return (name, {}) if name is not None else (None, {})


def _keras_layer_activation(layer) -> tuple[str | None, dict]:
    L = keras.layers
    if isinstance(layer, L.ReLU):
        mv = layer.max_value
        return "relu", {"negative_slope": float(layer.negative_slope),
                        "max_value": None if mv is None else float(mv),
                        "threshold": float(layer.threshold)}
    if isinstance(layer, L.LeakyReLU):
        return "leaky_relu", {"negative_slope": float(layer.negative_slope)}
    if isinstance(layer, L.ELU):
        return "elu", {"alpha": float(layer.alpha)}
    if isinstance(layer, L.Softmax):
        return "softmax", {}
    return None, {}


def _learnable_layer_types() -> tuple:
    try:
        from .layers import ActivationLayer
    except ImportError:  # pragma: no cover
        return ()
    return (ActivationLayer,)


def _site(layer, out: bool) -> Site | None:
    """The diagnostics' view of one site that ``keras_acts.swap.walk`` found."""
    L = keras.layers
    if isinstance(layer, L.Activation):
        name, params = identify(layer.activation)
        if name == "linear":
            return None
        site = Site(layer, "layer", layer.activation, name, params, output=out)
    elif isinstance(layer, (L.ReLU, L.LeakyReLU, L.ELU, L.PReLU, L.Softmax)
                    + _learnable_layer_types()):
        name, params = _keras_layer_activation(layer)
        entry = getattr(layer, "entry", None)  # a learnable layer built from a catalogue entry
        site = Site(layer, "layer", layer, name, params, output=out)
        if name is None and entry is not None and getattr(entry, "name", None) in CATALOGUE:
            # learned parameters: f' by autodiff, but the range / elementwise flags are known
            site.lower_bound = CATALOGUE[entry.name].range[0]
            site.elementwise = CATALOGUE[entry.name].elementwise
            return site
        if isinstance(layer, L.Softmax):
            site.elementwise = False
    else:
        act = getattr(layer, "activation", None)
        if not callable(act) or isinstance(layer, keras.Model):
            return None
        name, params = identify(act)
        if name == "linear":
            return None
        site = Site(layer, "fused", act, name, params, output=out)
    if site.name is not None:
        e = CATALOGUE[site.name]
        site.elementwise = e.elementwise
        site.lower_bound = float(e.range[0])
        if site.params.get("negative_slope") or site.params.get("default_value"):
            site.lower_bound = None  # a leaky / shifted variant: the range no longer starts at 0
    return site


def _all_layers(layer):
    for sub in getattr(layer, "layers", None) or ():
        yield sub
        yield from _all_layers(sub)


def kernel_layers(model) -> list:
    """Layers with a trainable ``kernel`` (Dense, Conv, EinsumDense, ...), in model order."""
    found = []
    for layer in _all_layers(model):
        try:
            k = getattr(layer, "kernel", None)
        except Exception:  # noqa: BLE001 - unbuilt / quantized layers
            continue
        if isinstance(k, keras.Variable) and k.trainable and all(k is not f[1] for f in found):
            found.append((layer, k))
    return found


def activation_sites(model) -> list[Site]:
    """The activation sites among the model's top-level layers, in model order (found by
    ``keras_acts.swap.walk``, the one site walker)."""
    from .swap import walk

    sites = [_site(layer, site.output) for layer, site in walk(model, keep_output=False,
                                                                   nested=False)]
    return [s for s in sites if s is not None]


# ----------------------------------------------------------------------------- numerics
def _np(t) -> np.ndarray:
    return np.asarray(ops.convert_to_numpy(t))


def _finite(v):
    if v is None:
        return None
    v = float(v)
    return v if math.isfinite(v) else None


def jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, (bool, str)) or obj is None:
        return obj
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return _finite(obj)
    return str(obj)


def _units(a: np.ndarray, channel_axis: int) -> np.ndarray:
    """(entries, units): channels on the last axis, batch and positions flattened."""
    a = np.asarray(a, dtype=np.float64)
    if a.ndim == 1:
        return a.reshape(-1, 1)
    return np.moveaxis(a, channel_axis, -1).reshape(-1, a.shape[channel_axis])


def _channel_axis(layer, ndim: int) -> int:
    if ndim <= 2:
        return -1
    fmt = getattr(layer, "data_format", None) or keras.config.image_data_format()
    return 1 if fmt == "channels_first" else -1


def dead_units(out: np.ndarray, lower_bound: float | None, constant_tol: float = 1e-6) -> np.ndarray:
    """Boolean per unit (``out`` is (entries, units)); see the module docstring."""
    dead = np.zeros(out.shape[1], bool)
    if lower_bound is not None and lower_bound >= 0:
        dead |= np.all(out <= 0, axis=0)
    if out.shape[0] > 1:
        dead |= (out.max(axis=0) - out.min(axis=0)) <= constant_tol
    return dead


# ----------------------------------------------------------------------------- the callback
class GradientFlow(keras.callbacks.Callback):
    """Per-epoch gradient norms, dead / saturated units and activation statistics.

    Args:
        x, y: data to draw the fixed probe batch from (arrays, or lists / dicts of arrays for
            multi-input models).
        probe_size: samples in the probe batch (default 256; all of ``x`` if smaller).
        loss: loss for the gradients (a Keras loss name, function or ``Loss``); default: the
            compiled ``model.loss``. Reduced with a mean over the probe batch.
        every: measure every ``every`` epochs (and after the last one).
        at_start: also measure before training (recorded as epoch 0).
        saturation_threshold: |f'| below this is saturated (0.01).
        constant_tol: a unit whose output varies by at most this is dead (1e-6).
        tensorboard_dir: write the numbers as TensorBoard scalars (any backend).
        seed: seed of the probe-batch draw.
        verbose: print one line per measurement.
    """

    def __init__(self, x=None, y=None, *, probe_size: int = 256, loss=None, every: int = 1,
                 at_start: bool = True, saturation_threshold: float = 0.01,
                 constant_tol: float = 1e-6, tensorboard_dir=None, seed: int = 0,
                 verbose: int = 0):
        super().__init__()
        if x is None or y is None:
            raise ValueError("GradientFlow needs probe data: GradientFlow(x, y, probe_size=256)")
        if probe_size < 1 or every < 1:
            raise ValueError("probe_size and every must be >= 1")
        self.x_probe, self.y_probe = _draw(x, y, probe_size, seed)
        self.probe_size = int(_length(self.x_probe))
        self.loss = loss
        self.every = int(every)
        self.at_start = bool(at_start)
        self.saturation_threshold = float(saturation_threshold)
        self.constant_tol = float(constant_tol)
        self.tensorboard_dir = None if tensorboard_dir is None else str(tensorboard_dir)
        self.seed = seed
        self.verbose = verbose
        self._prepared_for = None
        self._writer = None
        self._tb_warned = False
        self._epoch_t0 = None
        self.history: dict = {}
        self._reset_history()

    # -- set-up ----------------------------------------------------------------------------
    def _reset_history(self):
        self.history = {
            "epoch": [], "loss": [], "grad_norm": {}, "grad_rms": {}, "grad_norm_ratio": [],
            "dead_fraction": {}, "saturated_fraction": {}, "saturated_entries_fraction": {},
            "activation_mean": {}, "activation_var": {}, "time_s": [], "epoch_time_s": [],
            "layers": {"kernel": [], "activation": []},
            "config": {"probe_size": self.probe_size, "every": self.every,
                       "saturation_threshold": self.saturation_threshold,
                       "constant_tol": self.constant_tol, "seed": self.seed,
                       "backend": keras.backend.backend(), "definitions": DEFINITIONS},
        }

    def _loss_fn(self):
        loss = self.loss if self.loss is not None else getattr(self.model, "loss", None)
        if loss is None:
            raise ValueError("GradientFlow: compile the model with a loss or pass loss=...")
        if isinstance(loss, (list, tuple, dict)):
            raise ValueError("GradientFlow: give a single loss with loss=... for multi-output models")
        fn = keras.losses.get(loss) if isinstance(loss, (str, dict)) else loss
        return lambda y_true, y_pred: ops.mean(fn(y_true, y_pred))

    def _prepare(self):
        model = self.model
        if self._prepared_for is model:
            return
        if not model.built:
            model(_head(self.x_probe, 2))
        self._loss = self._loss_fn()
        self._kernels = kernel_layers(model)
        self._sites, self._probe = [], None
        try:
            inputs = model.inputs
        except (AttributeError, ValueError):
            inputs = None
        if inputs:
            sites = activation_sites(model)
            tensors, self._slots = [], []
            for s in sites:
                try:
                    src, dst = s.layer.input, s.layer.output
                except (AttributeError, ValueError):  # shared layers: no unique input/output
                    continue
                if isinstance(src, (list, tuple, dict)) or isinstance(dst, (list, tuple, dict)):
                    continue
                shape = tuple(dst.shape)
                s.units = shape[_channel_axis(s.layer, len(shape))] if len(shape) > 1 else 1
                if s.kind == "layer" and tuple(src.shape) != shape:
                    s.elementwise = False  # e.g. Maxout: not a per-unit function
                outs = [src, dst]
                self._slots.append(len(tensors))
                tensors += outs
                self._sites.append(s)
            if tensors:
                self._probe = keras.Model(inputs[0] if len(inputs) == 1 else inputs, tensors,
                                          name="gradient_flow_probe")
        else:
            warnings.warn("GradientFlow: activation statistics need a Functional or Sequential "
                          "model; recording gradient norms only.", stacklevel=3)
        h = self.history
        h["layers"]["kernel"] = [layer.name for layer, _ in self._kernels]
        h["layers"]["activation"] = [s.describe() for s in self._sites]
        for layer, _ in self._kernels:
            for key in _PER_LAYER:
                h[key].setdefault(layer.name, [])
        for s in self._sites:
            for key in _PER_SITE:
                h[key].setdefault(s.layer.name, [])
        self._prepared_for = model

    # -- measuring -------------------------------------------------------------------------
    def _pre_activation(self, site: Site, layer_input):
        if site.kind == "layer":
            return layer_input
        layer, saved = site.layer, site.layer.activation
        try:  # the layer's own computation minus its activation
            layer.activation = keras.activations.linear
            return layer(layer_input)
        finally:
            layer.activation = saved

    def _derivative(self, site: Site, pre):
        if site.name is not None:
            return _np(derivative(site.name, **site.params)(pre))
        from . import autodiff

        fn = site.fn
        return autodiff.grad_sum(lambda t: fn(t), _np(pre).astype("float32"))

    def measure(self) -> dict:
        """Measure once now; returns the record (also used by the epoch hooks)."""
        self._prepare()
        t0 = time.perf_counter()
        loss, grads = _loss_and_grads(self.model, self._loss, self.x_probe, self.y_probe,
                                      [k for _, k in self._kernels])
        rec = {"loss": _finite(loss), "grad_norm": {}, "grad_rms": {}}
        for (layer, _), g in zip(self._kernels, grads):
            g = np.asarray(g, np.float64)
            norm = float(np.sqrt(np.sum(g * g)))
            rec["grad_norm"][layer.name] = norm
            rec["grad_rms"][layer.name] = norm / math.sqrt(max(g.size, 1))
        norms = list(rec["grad_norm"].values())
        rec["grad_norm_ratio"] = (norms[0] / norms[-1] if len(norms) >= 2 and norms[-1] > 0
                                  else None)
        for key in _PER_SITE:
            rec[key] = {}
        if self._probe is not None:
            values = self._probe(self.x_probe, training=False)
            values = values if isinstance(values, (list, tuple)) else [values]
            for s, slot in zip(self._sites, self._slots):
                self._measure_site(rec, s, values[slot], values[slot + 1])
        rec["time_s"] = time.perf_counter() - t0
        return rec

    def _measure_site(self, rec, s: Site, layer_input, out):
        name = s.layer.name
        out_np = _np(out)
        axis = _channel_axis(s.layer, out_np.ndim)
        units = _units(out_np, axis)
        rec["activation_mean"][name] = float(np.mean(out_np))
        rec["activation_var"][name] = float(np.var(out_np))
        rec["dead_fraction"][name] = float(np.mean(dead_units(units, s.lower_bound,
                                                               self.constant_tol)))
        if not s.elementwise:
            rec["saturated_fraction"][name] = rec["saturated_entries_fraction"][name] = None
            return
        pre = self._pre_activation(s, layer_input)
        d = np.abs(_units(self._derivative(s, pre), axis))
        thr = self.saturation_threshold
        rec["saturated_fraction"][name] = float(np.mean(d.mean(axis=0) < thr))
        rec["saturated_entries_fraction"][name] = float(np.mean(d < thr))

    def _record(self, epoch: int):
        rec = self.measure()
        h = self.history
        h["epoch"].append(int(epoch))
        h["loss"].append(rec["loss"])
        h["grad_norm_ratio"].append(_finite(rec["grad_norm_ratio"]))
        h["time_s"].append(round(rec["time_s"], 6))
        for key in _PER_LAYER + _PER_SITE:
            for layer, values in h[key].items():
                values.append(_finite(rec[key].get(layer)))
        if self.tensorboard_dir:
            self._tensorboard(rec, epoch)
        if self.verbose:
            s = summarize(h)
            ratio = s["grad_norm_ratio"]
            print(f"GradientFlow epoch {epoch}: loss {_fmt(s['loss'])}, grad ratio first/last "
                  f"{_fmt(ratio)}, dead {_pct(s['dead_fraction'])}, saturated "
                  f"{_pct(s['saturated_fraction'])} ({rec['time_s']:.3f} s)")
        return rec

    # -- Keras hooks -----------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        self._prepared_for = None
        self._prepare()
        if self.at_start and not self.history["epoch"]:
            self._record(0)

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_t0 = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        if self._epoch_t0 is not None:
            self.history["epoch_time_s"].append(round(time.perf_counter() - self._epoch_t0, 6))
        last = (self.params or {}).get("epochs")
        if (epoch + 1) % self.every == 0 or (last is not None and epoch + 1 == last):
            self._record(epoch + 1)

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.flush()

    # -- output ----------------------------------------------------------------------------
    def cost(self) -> float | None:
        """Measurement time after epochs / training time of those epochs (0.05 = 5 %)."""
        return cost(self.history)

    def summary(self, index: int = -1) -> dict:
        return summarize(self.history, index)

    def to_json(self, path=None, indent: int | None = 1) -> str:
        """The history as JSON (written to ``path`` too when given)."""
        text = json.dumps(jsonable(self.history), indent=indent, allow_nan=False)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def get_config(self):
        return {"probe_size": self.probe_size, "every": self.every,
                "saturation_threshold": self.saturation_threshold}

    # -- TensorBoard -----------------------------------------------------------------------
    def _tensorboard(self, rec, step):
        if self._writer is None:
            try:
                from .events import EventWriter

                self._writer = EventWriter(self.tensorboard_dir)
            except ImportError:
                if not self._tb_warned:
                    warnings.warn("GradientFlow: tensorboard_dir needs the tensorboard package "
                                  "(pip install tensorboard); TensorBoard logging skipped.",
                                  stacklevel=2)
                    self._tb_warned = True
                return
        scalars = {f"gradient_flow/{k}": rec[k] for k in ("loss", "grad_norm_ratio")}
        for key in _PER_LAYER + _PER_SITE:
            scalars.update({f"{key}/{layer}": v for layer, v in rec[key].items()})
        for tag, v in scalars.items():
            self._writer.scalar(tag, _finite(v), int(step))
        self._writer.flush()


# ----------------------------------------------------------------------------- helpers
def _loss_and_grads(model, loss_fn, x, y, variables):
    from .autodiff import loss_and_grads

    if not variables:
        return float(_np(loss_fn(y, model(x, training=False)))), []
    return loss_and_grads(model, loss_fn, x, y, variables)


def _length(x) -> int:
    if isinstance(x, dict):
        return _length(next(iter(x.values())))
    if isinstance(x, (list, tuple)):
        return _length(x[0])
    return len(x)


def _take(x, idx):
    if isinstance(x, dict):
        return {k: _take(v, idx) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_take(v, idx) for v in x]
    return np.asarray(x)[idx]


def _head(x, n):
    return _take(x, np.arange(min(n, _length(x))))


def _draw(x, y, n, seed):
    total = _length(x)
    if _length(y) != total:
        raise ValueError(f"GradientFlow: x has {total} samples but y has {_length(y)}")
    if n >= total:
        idx = np.arange(total)
    else:
        idx = np.sort(np.random.default_rng(seed).choice(total, n, replace=False))
    return _take(x, idx), _take(y, idx)


def _fmt(v):
    return "n/a" if v is None else f"{v:.3g}"


def _pct(v):
    return "n/a" if v is None else f"{100 * v:.1f}%"


def cost(history: dict) -> float | None:
    """What the measurements of a GradientFlow ``history`` cost: their time after the
    epochs / the training time of those epochs (0.05 = 5 %)."""
    measured = sum(t for e, t in zip(history["epoch"], history["time_s"]) if e > 0)
    trained = sum(history["epoch_time_s"])
    return measured / trained if trained > 0 else None


def summarize(history: dict, index: int = -1, hidden_only: bool = True) -> dict:
    """Scalar summary of one recorded epoch (default: the last) of a GradientFlow history.

    ``dead_fraction`` / ``saturated_fraction``: over the units of all activation sites
    (unit-weighted; output layers excluded when ``hidden_only``).
    """
    out = {"epoch": None, "loss": None, "grad_norm_ratio": None, "dead_fraction": None,
           "saturated_fraction": None, "grad_norm_first": None, "grad_norm_last": None}
    if not history.get("epoch"):
        return out
    out["epoch"] = history["epoch"][index]
    out["loss"] = history["loss"][index]
    out["grad_norm_ratio"] = history["grad_norm_ratio"][index]
    kernels = history["layers"]["kernel"]
    if kernels:
        out["grad_norm_first"] = history["grad_norm"][kernels[0]][index]
        out["grad_norm_last"] = history["grad_norm"][kernels[-1]][index]
    sites = [s for s in history["layers"]["activation"] if not (hidden_only and s["output"])]
    for key in ("dead_fraction", "saturated_fraction"):
        pairs = [(history[key][s["layer"]][index], s.get("units") or 1) for s in sites]
        pairs = [(v, w) for v, w in pairs if v is not None]
        if pairs:
            out[key] = float(sum(v * w for v, w in pairs) / sum(w for _, w in pairs))
    return out
