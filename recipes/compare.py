"""Compare activation functions: ``python -m recipes.compare`` (or ``keras-acts compare``).

Trains one model per (activation, seed) on the same data and reports, per activation, the
mean and 95 % confidence interval over seeds of test accuracy, macro-F1 and test loss, plus
convergence speed, training time, inference latency and parameter count.

    python -m recipes.compare --preset quick                 # 2-3 min on a 2-core CPU
    python -m recipes.compare --dataset cifar10 --model resnet --activations relu,gelu,prelu
    python -m recipes.compare --preset standard --resume     # continue a killed grid

Outputs (``--out``, default ``runs/<dataset>-<model>``):

``config.json``               the resolved configuration of the grid
``runs/<act>-seed<k>.json``   one per finished run (written atomically): ``history`` (per
                              epoch: loss, accuracy, val_loss, val_accuracy, epoch_seconds,
                              train_seconds), ``metrics``, ``diagnostics`` (the
                              ``keras_acts.diagnostics.GradientFlow`` history, or null),
                              ``model_path`` and run metadata
``results.csv|json|md``       one row per activation (``RESULT_COLUMNS``); CIs are blank /
                              null with one seed
``report.md``                 ``recipes.report.write_report``: verdicts, forest plot, tables,
                              learning curves with bands, diagnostics (figures in
                              ``report_files/``; needs matplotlib for the figures)

Saved models: ``<models-dir>/<dataset>-<model>/<act>-seed<k>.keras`` (default
``saved_models/`` under the current directory); ``keras.saving.load_model`` opens them
after ``import keras_acts``.

Validation: the per-epoch curves (and ``epochs_to_99pct``) use the test set unless
``--val-split`` holds out part of the training set; nothing is selected on them (the
reported metrics are those of the last epoch), so the test set is not tuned on.
"""
from __future__ import annotations

import argparse
import csv
import datetime as _dt
import hashlib
import io
import json
import math
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

__all__ = ["PRESETS", "CLASSIC12", "QUICK", "RESULT_COLUMNS", "build_parser", "resolve_config",
           "run_grid", "aggregate", "main", "mean_ci95"]

#: The classic dozen. ``binary_step`` is replaced by ``binary_step_ste`` (same forward pass,
#: straight-through gradient): the plain step has zero gradient, so nothing before the output
#: layer would train. ``softmax`` as a hidden activation is unusual (it normalises across the
#: units of a layer) but legitimate, and kept for completeness.
CLASSIC12 = ("binary_step_ste", "linear", "sigmoid", "tanh", "relu", "leaky_relu", "prelu",
             "elu", "softmax", "swish", "gelu", "selu")
#: The quick preset's eight: the common choices, minus the three that are known not to
#: compete on an MLP (step, linear, softmax) and the one (selu) that needs the SNN set-up.
QUICK = ("sigmoid", "tanh", "relu", "leaky_relu", "prelu", "elu", "swish", "gelu")

#: Presets fill in whatever is not given on the command line.
PRESETS = {
    "quick": dict(dataset="mnist", model="mlp", activations=QUICK, seeds=2, epochs=3,
                  train_subset=20000, test_subset=None, batch_size=125),
    "standard": dict(activations=CLASSIC12, seeds=3, epochs=10),
    "full": dict(activations=CLASSIC12, seeds=5, epochs=30),
    "cifar-quick": dict(dataset="cifar10", model="cnn", variant="small", seeds=2,
                        activations=("relu", "leaky_relu", "elu", "gelu", "swish", "mish")),
    "cifar": dict(dataset="cifar10", model="cnn", variant="93", activations=CLASSIC12, seeds=3),
}

#: Per-model training recipe, then per (dataset, model) overrides. One model code path
#: (recipes.models.build_model); only options differ.
RECIPES = {
    "mlp": dict(model_options=dict(depth=2, width=256, dropout=0.0), lr=1e-3, batch_size=128),
    "snn": dict(model_options=dict(depth=4, width=256, dropout=0.05), lr=5e-4, batch_size=128),
    # MNIST / Fashion-MNIST: three BatchNorm conv stages + random shifts. Measured (relu,
    # seed 0, TensorFlow, 2-core CPU): 99.51 % MNIST test accuracy after 10 epochs, 99.37 %
    # after 5 (the classic Keras convnet, filters (32, 64) without BatchNorm: ~99.1 %).
    "cnn": dict(model_options=dict(filters=(32, 64, 128), convs_per_stage=1, batchnorm=True,
                                   dense=128, dropout=0.1, dense_dropout=0.3),
                lr=1e-3, batch_size=128, augment="shift"),
    "resnet": dict(model_options=dict(blocks=3, base_filters=16), lr=2e-3, batch_size=128,
                   augment="flip_shift"),
}
#: airbench-style CIFAR-10 recipe (Keller Jordan, github.com/KellerJordan/cifar10-airbench,
#: lib_airbench93.py: 93.0 % in 11 epochs, widths 64/128/128, ~54 M multiply-adds per
#: image), rebuilt from ``build_model("cnn")`` options with the activation as the variable:
#: frozen 2x2 whitening stem (24 channels from the training patches' eigenvectors) ->
#: activation; per stage conv -> max-pool -> BN -> act -> conv -> BN -> act, BatchNorm
#: without a learnable scale (momentum 0.6: Keras's convention, = torch's 0.4; eps 1e-12),
#: convs with an identity (Dirac) part; global max pool, bias-free linear head on features
#: scaled by 1/9. SGD-Nesterov 0.85 in airbench's decoupled units (lr 11.5 and weight decay
#: 0.0153 per 1024 examples; BatchNorm shifts at 64x the rate), triangular schedule (0.2 ->
#: 1 at 23 % -> 0.07), batch 1024, label smoothing 0.2, lookahead (every 5 steps the
#: weights move to an average of momentum 0.95^5 (t/T)^3: keras_acts.optim.FastSGD),
#: alternating flips + 2-px reflect
#: translations on whole batches, flip + translate test-time augmentation.
AIRBENCH = dict(model_options=dict(filters=(64, 128, 128), convs_per_stage=2, batchnorm=True,
                                   pool="early", global_pool="max", dense=0, dropout=0.0,
                                   dense_dropout=0.0, head_scale=1 / 9, head_bias=False,
                                   bn_momentum=0.6, bn_scale=False, bn_epsilon=1e-12,
                                   stem="whiten", dirac=True),
                optimizer="sgd_per1024", lr=11.5, weight_decay=0.0153, momentum=0.85,
                bias_lr_scale=64.0, schedule="triangle", batch_size=1024, epochs=11,
                label_smoothing=0.2, augment="flip_translate", tta="flip_translate",
                ema=0.95 ** 5, preprocess="standardize")
#: ``--variant 94``: airbench94's widths 64/256/256 (~118 M multiply-adds), 10 epochs.
VARIANTS = {"93": {}, "94": dict(model_options=dict(filters=(64, 256, 256)), epochs=10),
            "small": dict(model_options=dict(filters=(32, 64, 64)), epochs=8)}
DATASET_RECIPES = {("cifar10", "cnn"): AIRBENCH}
DEFAULTS = dict(preset="standard", baseline=None, dataset="mnist", model="mlp", seeds=3, epochs=10,
                optimizer="adam", schedule="cosine", weight_decay=0.0, label_smoothing=0.0,
                momentum=0.9, bias_lr_scale=1.0, ema=None, ema_every=5, variant=None,
                tta=None, preprocess="standardize",
                val_split=0.0, train_subset=None, test_subset=None, device="auto",
                mixed_precision=False, jit_compile="auto", augment=None, diagnostics=True,
                save_models=True, models_dir="saved_models", kernel_initializer=None,
                feed="numpy", steps_per_execution="auto")

RESULT_COLUMNS = [
    "activation", "test_accuracy_mean", "test_accuracy_ci95", "test_accuracy_std",
    "macro_f1_mean", "macro_f1_ci95", "test_loss_mean", "test_loss_ci95",
    "epochs_to_99pct", "train_seconds_per_epoch", "latency_ms_per_batch256",
    "latency_ms_per_sample", "params", "seeds", "diverged_runs",
    # paired by seed against the baseline activation (recipes.stats; Holm over the grid)
    "baseline", "paired_seeds", "delta_vs_baseline_mean", "delta_vs_baseline_ci95", "p_value",
    "p_value_holm", "verdict", "seeds_needed",
    "loss_delta_vs_baseline_mean", "loss_delta_vs_baseline_ci95", "loss_p_value",
    "loss_p_value_holm", "loss_verdict",
]

#: config keys whose change makes finished runs incomparable (checked on --resume)
_RESULT_KEYS = ("dataset", "model", "model_options", "epochs", "batch_size", "lr", "optimizer",
                "momentum", "bias_lr_scale", "ema", "ema_every",
                "schedule", "weight_decay", "label_smoothing", "tta", "preprocess", "val_split",
                "train_subset", "test_subset", "mixed_precision", "augment", "kernel_initializer",
                "backend")


class GridError(RuntimeError):
    """The output directory is not usable as asked (finished runs, other config)."""


# --------------------------------------------------------------------------- statistics
from .stats import compare_to_baseline, mean_ci95  # noqa: E402  (SciPy; recipes.stats)


def macro_f1(y_true, y_pred, num_classes: int) -> float:
    cm = np.bincount(num_classes * np.asarray(y_true) + np.asarray(y_pred),
                     minlength=num_classes * num_classes).reshape(num_classes, num_classes)
    tp = np.diag(cm).astype(np.float64)
    denom = cm.sum(0) + cm.sum(1)  # 2tp + fp + fn
    f1 = np.where(denom > 0, 2 * tp / np.maximum(denom, 1), 0.0)
    return float(f1.mean())


def epochs_to_fraction(curve, fraction=0.99):
    """1-based first epoch whose value reaches ``fraction`` of the final value."""
    vals = [v for v in curve if v is not None]
    if not vals or not np.isfinite(vals[-1]):
        return None
    target = fraction * vals[-1]
    return next(i + 1 for i, v in enumerate(vals) if np.isfinite(v) and v >= target)


# --------------------------------------------------------------------------- files
def _json_default(o):
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, (tuple, set)):
        return list(o)
    if isinstance(o, Path):
        return str(o)
    return repr(o)


def _nan_to_none(o):
    if isinstance(o, float) and not math.isfinite(o):
        return None
    if isinstance(o, dict):
        return {k: _nan_to_none(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_nan_to_none(v) for v in o]
    if isinstance(o, (np.floating,)):
        return _nan_to_none(float(o))
    return o


def write_atomic(path: Path, text: str):
    """Write to a temporary file next to ``path``, fsync, then ``os.replace``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def write_json(path: Path, obj):
    write_atomic(path, json.dumps(_nan_to_none(obj), indent=1, default=_json_default,
                                  allow_nan=False) + "\n")


def run_path(out: Path, act_slug: str, seed: int) -> Path:
    return Path(out) / "runs" / f"{act_slug}-seed{seed}.json"


def model_path(config: dict, act_slug: str, seed: int) -> Path:
    return (Path(config["models_dir"]) / f"{config['dataset']}-{config['model']}"
            / f"{act_slug}-seed{seed}.keras")


def _load_run(path: Path):
    try:
        rec = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    return rec if rec.get("status") == "done" else None


def config_key(config: dict) -> str:
    sub = {k: config.get(k) for k in _RESULT_KEYS}
    return hashlib.sha256(json.dumps(sub, sort_keys=True, default=_json_default).encode()).hexdigest()[:16]


# --------------------------------------------------------------------------- CLI / config
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m recipes.compare",
        description="Train one model per (activation, seed) and compare the activations.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="presets (explicit options override them):\n" + "\n".join(
            f"  {k:9s} " + ", ".join(f"{a}={','.join(v) if isinstance(v, tuple) else v}"
                                     for a, v in d.items()) for k, d in PRESETS.items())
        + "\n\nactivation specs: relu | swish_x:beta=1.5 | prelu (learnable keras_acts.layers."
          "PReLU) | layer:ClassName[:k=v]\nbinary_step has zero gradient; the default list uses "
          "binary_step_ste (straight-through) instead.")
    a = p.add_argument
    a("--preset", choices=sorted(PRESETS), default=None,
      help="quick (2-3 min on 2 CPU cores: 8 activations x 2 seeds, MLP, 20k MNIST "
           "images, 3 epochs) | standard (default) | full")
    a("--dataset", choices=["mnist", "fashion_mnist", "cifar10"], default=None)
    a("--model", choices=["mlp", "cnn", "snn", "resnet"], default=None)
    a("--activations", default=None,
      help="comma list of activation specs (default: the classic dozen, see above)")
    a("--seeds", type=int, default=None, help="number of seeds per activation (0..N-1)")
    a("--seed-offset", type=int, default=0, help="first seed (default 0)")
    a("--epochs", type=int, default=None)
    a("--batch-size", type=int, default=None, help="global batch size")
    a("--lr", type=float, default=None, help="peak learning rate")
    a("--optimizer", choices=["adam", "adamw", "sgd", "sgd_per1024"], default=None,
      help="sgd: SGD-Nesterov; sgd_per1024: the same with --lr and --weight-decay in "
           "airbench's decoupled units (per 1024 examples; keras_acts.optim.per_1024) and "
           "--bias-lr-scale for BatchNorm shifts (the CIFAR-10 cnn recipe)")
    a("--momentum", type=float, default=None, help="SGD momentum (default 0.9)")
    a("--bias-lr-scale", type=float, default=None,
      help="sgd/sgd_per1024: step of BatchNorm shifts relative to --lr (default 1)")
    a("--ema", type=float, default=None,
      help="average the weights (EMA with this momentum, folded into the weights every "
           "--ema-every steps: a lookahead); 0 = off")
    a("--ema-every", type=int, default=None, help="steps between EMA write-backs (default 5)")
    a("--schedule", choices=["cosine", "onecycle", "triangle", "constant"], default=None,
      help="cosine decay to 1 %% | onecycle: linear warm-up over 20 %% of the steps from "
           "lr/25, then cosine to 0 | triangle: 0.2 lr -> lr at 23 %% -> 0.07 lr, linear "
           "(airbench) | constant")
    a("--variant", choices=sorted(VARIANTS), default=None,
      help="CIFAR-10 cnn recipe size: 93 (default; widths 64/128/128, 11 epochs, airbench93), "
           "94 (widths 64/256/256, 10 epochs, airbench94-sized: ~2.2x the compute), small "
           "(32/64/64, 8 epochs: the cifar-quick preset)")
    a("--label-smoothing", type=float, default=None, help="label smoothing of the loss (0-1)")
    a("--tta", choices=["none", "flip", "flip_translate"], default=None,
      help="test-time augmentation: flip = average the predictions on the test images and "
           "their mirror images; flip_translate = also on 1-px shifted copies (airbench; "
           "recipes.augment.tta_views). For CIFAR-10; off for MNIST")
    a("--weight-decay", type=float, default=None, help="for adamw / sgd")
    a("--model-option", action="append", default=[], metavar="KEY=VALUE",
      help="override a build_model option, e.g. width=512, batchnorm=true (repeatable)")
    a("--kernel-initializer", default=None,
      help="Keras initializer name for all kernels (default: keras_acts.initializer_for)")
    a("--augment", choices=["none", "shift", "flip_shift", "flip_translate"], default=None,
      help="shift / flip_shift: Keras layers in the model; flip_translate: whole-batch NumPy "
           "alternating flips + 2-px reflect translations (recipes.augment.BatchAugment)")
    a("--preprocess", choices=["unit", "standardize"], default=None)
    a("--train-subset", type=int, default=None, help="use N training images (stratified)")
    a("--test-subset", type=int, default=None, help="use N test images (stratified)")
    a("--val-split", type=float, default=None,
      help="hold out this fraction of training data for the curves (default 0: test set)")
    a("--device", choices=["auto", "cpu", "gpu", "tpu"], default=None)
    a("--mixed-precision", action="store_true", default=None,
      help="mixed_float16 on GPU, mixed_bfloat16 on CPU/TPU")
    a("--jit-compile", choices=["auto", "on", "off"], default=None,
      help="XLA: auto = Keras's choice (JAX: on; TensorFlow: off while op determinism is "
           "on; torch: off); on = XLA also on TensorFlow (no op determinism then)")
    a("--feed", choices=["numpy", "tfdata"], default=None,
      help="numpy arrays (any backend; default) or tf.data via recipes.data.as_tf_dataset "
           "(TensorFlow only)")
    a("--steps-per-execution", type=_spe_arg, default=None, metavar="N|auto",
      help="training steps per compiled call; auto = 16 on TensorFlow (measured 1.5-2x "
           "faster epochs for the MLP on a 2-core CPU), 1 on JAX (it unrolls the steps at "
           "compile time) and torch (Keras requires 1)")
    a("--data-dir", default=None, help="local dataset folder (else $KERAS_ACTS_DATA, tfds, npm)")
    a("--cache-dir", default=None, help="download cache (else $KERAS_ACTS_CACHE)")
    a("--out", default=None, help="output folder (default runs/<dataset>-<model>)")
    a("--models-dir", default=None, help="saved models root (default saved_models)")
    a("--no-save-models", dest="save_models", action="store_false", default=None,
      help="do not write the .keras files")
    a("--baseline", default=None,
      help="activation every other one is compared with, paired by seed (default: relu "
           "when in the grid, else the first); analysis only, may change on --resume")
    a("--resume", action="store_true", help="skip (activation, seed) runs already finished")
    a("--overwrite", action="store_true", help="delete earlier results in --out first")
    a("--no-diagnostics", dest="diagnostics", action="store_false", default=None,
      help="do not record gradient-flow diagnostics")
    a("--verbose", action="store_true", help="per-epoch Keras progress and data-source logs")
    return p


def _spe_arg(text: str):
    if text == "auto":
        return text
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("expected a positive integer or 'auto'") from None
    if n < 1:
        raise argparse.ArgumentTypeError("expected a positive integer or 'auto'")
    return n


def _steps_per_execution(cfg) -> int:
    import keras

    spe = cfg.get("steps_per_execution", "auto")
    backend = keras.backend.backend()
    if spe == "auto":
        return 16 if backend == "tensorflow" else 1
    return 1 if backend == "torch" else int(spe)


def _parse_option(text: str):
    from .models import _value

    if "=" not in text:
        raise SystemExit(f"--model-option expects KEY=VALUE, got {text!r}")
    k, v = text.split("=", 1)
    v = _value(v)
    return k.strip(), tuple(v) if isinstance(v, list) else v


def resolve_config(args) -> dict:
    """Merge: built-in defaults < model recipe < (dataset, model) recipe < preset < CLI."""
    from .models import DEFAULTS as MODEL_DEFAULTS, split_activation_list

    given = {k: v for k, v in vars(args).items() if v is not None}
    preset_name = given.get("preset") or DEFAULTS["preset"]
    preset = PRESETS[preset_name]
    dataset = given.get("dataset") or preset.get("dataset") or DEFAULTS["dataset"]
    model = given.get("model") or preset.get("model") or DEFAULTS["model"]
    cfg = dict(DEFAULTS)
    cfg.update(RECIPES[model])
    rec = DATASET_RECIPES.get((dataset, model), {})
    cfg["model_options"] = {**MODEL_DEFAULTS[model], **RECIPES[model]["model_options"],
                            **rec.get("model_options", {})}
    cfg.update({k: v for k, v in rec.items() if k != "model_options"})
    variant = given.get("variant") or preset.get("variant")
    if variant and (dataset, model) != ("cifar10", "cnn"):
        raise SystemExit("--variant applies to --dataset cifar10 --model cnn only")
    if variant:
        cfg["model_options"].update(VARIANTS[variant].get("model_options", {}))
        cfg.update({k: v for k, v in VARIANTS[variant].items() if k != "model_options"})
        cfg["variant"] = variant
    # an explicit --preset wins over the recipes; the implicit default one only fills in
    # what the (dataset, model) recipe and variant leave open (CIFAR-10 keeps its 11 epochs)
    fixed = set() if given.get("preset") else set(rec) | set(VARIANTS.get(variant) or {})
    cfg.update({k: v for k, v in preset.items() if k != "variant" and k not in fixed})
    cfg.update(preset=preset_name, dataset=dataset, model=model)
    for k in ("seeds", "epochs", "batch_size", "lr", "optimizer", "schedule", "weight_decay",
              "label_smoothing", "tta", "momentum", "bias_lr_scale", "ema", "ema_every",
              "kernel_initializer", "augment", "preprocess", "train_subset", "test_subset",
              "val_split", "device", "mixed_precision", "jit_compile", "data_dir", "cache_dir",
              "out", "models_dir", "save_models", "diagnostics", "feed", "steps_per_execution",
              "baseline"):
        if k in given:
            cfg[k] = given[k]
    for opt in given.get("model_option", []):
        k, v = _parse_option(opt)
        if k not in MODEL_DEFAULTS[model]:
            raise SystemExit(f"--model-option {k}: unknown for --model {model}; "
                             f"known: {', '.join(sorted(MODEL_DEFAULTS[model]))}")
        cfg["model_options"][k] = v
    for k in ("augment", "tta"):
        if cfg.get(k) == "none":
            cfg[k] = None
    if not 0.0 <= cfg["label_smoothing"] < 1.0:
        raise SystemExit("--label-smoothing must be in [0, 1)")
    if not 0.0 <= cfg["momentum"] < 1.0:
        raise SystemExit("--momentum must be in [0, 1)")
    if cfg.get("ema") == 0:
        cfg["ema"] = None
    if cfg.get("ema") is not None and not 0.0 < cfg["ema"] < 1.0:
        raise SystemExit("--ema must be in (0, 1) (or 0 for off)")
    if cfg["ema_every"] < 1 or cfg["bias_lr_scale"] <= 0:
        raise SystemExit("--ema-every must be >= 1 and --bias-lr-scale > 0")
    acts = given.get("activations")
    cfg["activations"] = split_activation_list(acts) if acts else list(cfg["activations"])
    if len(set(cfg["activations"])) != len(cfg["activations"]):
        raise SystemExit("--activations lists an activation twice")
    if cfg["seeds"] < 1 or cfg["epochs"] < 1 or cfg["batch_size"] < 1:
        raise SystemExit("--seeds, --epochs and --batch-size must be >= 1")
    if not 0.0 <= cfg["val_split"] < 1.0:
        raise SystemExit("--val-split must be in [0, 1)")
    cfg["seed_list"] = list(range(args.seed_offset, args.seed_offset + cfg["seeds"]))
    cfg["out"] = cfg.get("out") or os.path.join("runs", f"{dataset}-{model}")
    cfg["resume"], cfg["overwrite"], cfg["verbose"] = args.resume, args.overwrite, args.verbose
    import keras

    cfg["backend"] = keras.backend.backend()
    return cfg


# --------------------------------------------------------------------------- data
def prepare_data(cfg: dict):
    from . import data

    t0 = time.perf_counter()
    ds = data.load(cfg["dataset"], cfg.get("data_dir"), cache_dir=cfg.get("cache_dir"),
                   verbose=cfg.get("verbose", False))
    source = ds.source
    if cfg.get("train_subset") or cfg.get("test_subset"):
        ds = data.subset(ds, cfg.get("train_subset"), cfg.get("test_subset"), seed=0)
    return prepare_arrays(cfg, ds, source, time.perf_counter() - t0)


def prepare_arrays(cfg, ds, source=None, seconds=0.0):
    """Float arrays (and the validation split) from a ``recipes.data.Dataset``."""
    source = source or ds.source
    from . import data

    x_tr, y_tr = ds.x_train, ds.y_train
    x_val = y_val = None
    if cfg.get("val_split"):
        rng = np.random.default_rng(0)
        idx = rng.permutation(len(y_tr))
        n_val = max(1, int(round(cfg["val_split"] * len(y_tr))))
        vi, ti = np.sort(idx[:n_val]), np.sort(idx[n_val:])
        x_val, y_val, x_tr, y_tr = x_tr[vi], y_tr[vi], x_tr[ti], y_tr[ti]
    mean = std = None
    if cfg["preprocess"] == "standardize":
        unit = x_tr.reshape(-1, x_tr.shape[-1]).astype(np.float64) / 255.0
        mean, std = unit.mean(0).astype(np.float32), unit.std(0).astype(np.float32)
    prep = lambda x: data.preprocess(x, cfg["preprocess"], mean, std)  # noqa: E731
    out = dict(x_train=prep(x_tr), y_train=y_tr.astype(np.int32), x_test=prep(ds.x_test),
               y_test=ds.y_test.astype(np.int32), num_classes=int(ds.num_classes),
               input_shape=tuple(ds.x_train.shape[1:]), source=source, load_seconds=seconds)
    if x_val is not None:
        out.update(x_val=prep(x_val), y_val=y_val.astype(np.int32))
    else:
        out.update(x_val=out["x_test"], y_val=out["y_test"])
    return out


# --------------------------------------------------------------------------- one run
def _make_callbacks():
    import keras

    class EpochTimer(keras.callbacks.Callback):
        """Seconds per epoch, with and without the validation pass."""

        def __init__(self):
            super().__init__()
            self.epoch_seconds, self.train_seconds = [], []
            self._t0 = self._t_val = None

        def on_epoch_begin(self, epoch, logs=None):
            self._t0, self._t_val = time.perf_counter(), None

        def on_test_begin(self, logs=None):
            if self._t0 is not None and self._t_val is None:
                self._t_val = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            t = time.perf_counter()
            self.epoch_seconds.append(t - self._t0)
            self.train_seconds.append((self._t_val or t) - self._t0)
            self._t0 = None

    return EpochTimer()


def one_cycle(peak, steps, warmup_frac=0.2, start_div=25.0):
    """Linear warm-up from ``peak / start_div`` over the first ``warmup_frac`` of ``steps``,
    then cosine decay to 0 (a one-cycle schedule built from Keras's ``CosineDecay``)."""
    import keras

    warm = max(1, int(round(warmup_frac * steps)))
    return keras.optimizers.schedules.CosineDecay(
        peak / start_div, decay_steps=max(1, steps - warm), alpha=0.0,
        warmup_target=peak, warmup_steps=warm)


def _optimizer(cfg, steps_per_epoch):
    import keras

    from keras_acts import optim

    lr, wd = cfg["lr"], cfg["weight_decay"]
    if cfg["optimizer"] == "sgd_per1024":
        lr, wd = optim.per_1024(lr, wd, cfg["momentum"])
    total = max(1, steps_per_epoch * cfg["epochs"])
    if cfg["schedule"] == "cosine":
        lr = keras.optimizers.schedules.CosineDecay(lr, decay_steps=total, alpha=0.01)
    elif cfg["schedule"] == "onecycle":
        lr = one_cycle(lr, total)
    elif cfg["schedule"] == "triangle":
        lr = optim.Triangle(lr, total)
    ema = dict(use_ema=True, ema_momentum=cfg["ema"],
               ema_overwrite_frequency=cfg["ema_every"]) if cfg.get("ema") else {}
    sgd_ema = dict(ema, lookahead_steps=total) if ema else {}
    if cfg["optimizer"] == "adam":
        return keras.optimizers.Adam(lr, **ema)
    if cfg["optimizer"] == "adamw":
        return keras.optimizers.AdamW(lr, weight_decay=wd or 1e-4, **ema)
    return optim.FastSGD(lr, momentum=cfg["momentum"], nesterov=True, weight_decay=wd or None,
                         bias_lr_scale=cfg["bias_lr_scale"], **sgd_ema)


def _jit(cfg, placement=None):
    """``jit_compile`` for ``Model.compile``.

    auto: Keras's choice ("auto": XLA on JAX and on TensorFlow GPUs; on TensorFlow Keras turns
    XLA off while op determinism is on), never on torch (torch.compile costs more than it
    saves for these small models). Measured on a 2-core CPU, TF MLP on MNIST: XLA halves the
    step time but its compile time outweighs that for runs of a few epochs.
    """
    choice = cfg.get("jit_compile", "auto")
    if choice == "on":
        return True
    if choice == "off":
        return False
    import keras

    return False if keras.backend.backend() == "torch" else "auto"


def _latency_ms(model, x, min_reps=3, max_reps=20, budget_s=0.2):
    """Median wall time of ``model.predict_on_batch(x)`` in ms (after warm-up)."""
    model.predict_on_batch(x)
    model.predict_on_batch(x)
    times = []
    t_end = time.perf_counter() + budget_s
    while len(times) < max_reps and (len(times) < min_reps or time.perf_counter() < t_end):
        t = time.perf_counter()
        model.predict_on_batch(x)
        times.append(time.perf_counter() - t)
    return 1000.0 * float(np.median(times))


def _eval_batch_size(n: int, target: int = 500) -> int:
    """A batch size near ``target`` that divides ``n`` (no ragged last batch, so the
    evaluation step is traced once), else ``target``."""
    if n <= 1024:
        return max(1, n)
    for b in sorted(range(128, 1025), key=lambda b: abs(b - target)):
        if n % b == 0:
            return b
    return target


def _predict(model, x, batch_size=500):
    return np.concatenate([np.asarray(model.predict_on_batch(x[i:i + batch_size]), np.float64)
                           for i in range(0, len(x), batch_size)])


def _diagnostics_callback(cfg, d):
    if not cfg.get("diagnostics", True):
        return None
    try:
        from keras_acts.diagnostics import GradientFlow
    except ImportError:
        return None
    return GradientFlow(d["x_train"], d["y_fit"], probe_size=min(256, len(d["x_train"])))


def _loss_and_labels(cfg, d):
    """The loss, and ``d`` with the labels the loss wants as ``y_fit`` / ``y_fit_val``.

    Keras's sparse cross-entropy has no label smoothing, so with ``label_smoothing > 0`` the
    labels go one-hot (float32) into ``CategoricalCrossentropy``; test metrics always use the
    integer labels.
    """
    import keras

    ls = float(cfg.get("label_smoothing") or 0.0)
    if not ls:
        return "sparse_categorical_crossentropy", dict(d, y_fit=d["y_train"], y_fit_val=d["y_val"])
    eye = np.eye(d["num_classes"], dtype="float32")
    return (keras.losses.CategoricalCrossentropy(label_smoothing=ls),
            dict(d, y_fit=eye[d["y_train"]], y_fit_val=eye[d["y_val"]]))


def predict_proba(model, x, tta=None, batch_size=500):
    """Class probabilities (float64), averaged over the views of ``recipes.augment.tta_views``
    (``tta``: None, "flip" or "flip_translate")."""
    from .augment import tta_views

    return sum(w * _predict(model, v, batch_size) for w, v in tta_views(x, tta))


def train_one(cfg: dict, act_text: str, seed: int, d: dict, placement=None) -> dict:
    """Train, evaluate, time and save one (activation, seed); return its run record."""
    import keras

    from .augment import BATCH_AUGMENTS, BatchAugment
    from .models import build_model, init_whitening, parse_activation, slug

    warnings.filterwarnings("ignore", message="The structure of `inputs` doesn't match")
    started = _dt.datetime.now().isoformat(timespec="seconds")
    t_run = time.perf_counter()
    keras.backend.clear_session()  # also resets the global dtype policy: set it again
    policy = cfg.get("dtype_policy") or ("mixed_bfloat16" if cfg.get("mixed_precision") else "float32")
    keras.mixed_precision.set_dtype_policy(policy)
    keras.utils.set_random_seed(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        act = parse_activation(act_text)
    bs = cfg["batch_size"]
    steps = math.ceil(len(d["x_train"]) / bs)
    if cfg.get("augment") in ("flip_translate",):  # BatchAugment drops the ragged batch
        steps = max(1, len(d["x_train"]) // bs)
    loss, d = _loss_and_labels(cfg, d)
    timer = _make_callbacks()
    callbacks = [timer, keras.callbacks.TerminateOnNaN()]
    diag = _diagnostics_callback(cfg, d)
    if diag is not None:
        callbacks.append(diag)
    scope = placement.scope() if placement is not None else _nullcontext()
    phases = {}
    t = time.perf_counter()
    eval_bs = _eval_batch_size(len(d["x_val"]))
    with scope:
        batch_aug = cfg.get("augment") in BATCH_AUGMENTS
        model = build_model(cfg["model"], d["input_shape"], d["num_classes"], act,
                            kernel_initializer=cfg.get("kernel_initializer"),
                            augment=None if batch_aug else cfg.get("augment"),
                            **cfg["model_options"])
        init_whitening(model, d["x_train"])
        model.compile(optimizer=_optimizer(cfg, steps), loss=loss,
                      metrics=["accuracy"], jit_compile=_jit(cfg, placement),
                      steps_per_execution=_steps_per_execution(cfg))
        phases["build"] = time.perf_counter() - t
        t = time.perf_counter()
        fit_kw = dict(epochs=cfg["epochs"], verbose=(2 if cfg.get("verbose") else 0),
                      callbacks=callbacks)
        tpu = placement is not None and placement.plan.strategy == "tpu"
        if batch_aug:
            feed = BatchAugment(d["x_train"], d["y_fit"], bs, seed=seed)
            hist = model.fit(feed, validation_data=(d["x_val"], d["y_fit_val"]),
                             validation_batch_size=eval_bs, **fit_kw)
        elif tpu or (cfg.get("feed") == "tfdata" and keras.backend.backend() == "tensorflow"):
            from .data import as_tf_dataset

            hist = model.fit(as_tf_dataset(d["x_train"], d["y_fit"], bs, True, seed, tpu),
                             validation_data=as_tf_dataset(d["x_val"], d["y_fit_val"], eval_bs,
                                                           False, 0, tpu), **fit_kw)
        else:
            hist = model.fit(d["x_train"], d["y_fit"], batch_size=bs, shuffle=True,
                             validation_data=(d["x_val"], d["y_fit_val"]),
                             validation_batch_size=eval_bs, **fit_kw)
        phases["fit"] = time.perf_counter() - t
    history = {k: [float(v) for v in vals] for k, vals in hist.history.items()}
    history["epoch_seconds"] = timer.epoch_seconds
    history["train_seconds"] = timer.train_seconds
    t = time.perf_counter()
    probs = predict_proba(model, d["x_test"], cfg.get("tta"), _eval_batch_size(len(d["x_test"])))
    y = d["y_test"]
    finite = np.all(np.isfinite(probs), axis=1)
    pred = np.where(finite, np.argmax(np.nan_to_num(probs, nan=-1.0), axis=1), -1)
    p_true = np.clip(probs[np.arange(len(y)), y], 1e-7, 1.0)
    test_loss = float(np.mean(-np.log(p_true))) if finite.all() else math.nan
    phases["evaluate"] = time.perf_counter() - t
    t = time.perf_counter()
    latency = (_latency_ms(model, d["x_test"][:256]), _latency_ms(model, d["x_test"][:1]))
    phases["latency"] = time.perf_counter() - t
    n_ep = len(timer.train_seconds)
    secs = timer.train_seconds[1:] if n_ep > 1 else timer.train_seconds
    val_curve = history.get("val_accuracy", [])
    metrics = {
        "test_accuracy": float(np.mean(pred == y)),
        "macro_f1": macro_f1(y, np.where(pred < 0, 0, pred), d["num_classes"]),
        "test_loss": test_loss,
        "final_train_loss": history["loss"][-1] if history.get("loss") else None,
        "final_train_accuracy": history["accuracy"][-1] if history.get("accuracy") else None,
        "epochs_run": n_ep,
        "epochs_to_99pct": epochs_to_fraction(val_curve),
        "train_seconds_per_epoch": float(np.mean(secs)) if secs else None,
        "first_epoch_seconds": timer.epoch_seconds[0] if timer.epoch_seconds else None,
        "latency_ms_per_batch256": latency[0],
        "latency_ms_per_sample": latency[1],
        "params": int(model.count_params()),
        "diverged": bool(not finite.all() or n_ep < cfg["epochs"]
                         or not all(math.isfinite(v) for v in history.get("loss", [0.0]))),
    }
    act_slug = slug(act.name)
    mpath = None
    if cfg.get("save_models", True):
        mpath = model_path(cfg, act_slug, seed)
        mpath.parent.mkdir(parents=True, exist_ok=True)
        tmp = mpath.with_name(f".{mpath.stem}.{os.getpid()}.tmp.keras")
        t = time.perf_counter()
        model.save(tmp)
        os.replace(tmp, mpath)
        phases["save"] = time.perf_counter() - t
    diag_hist = None
    if diag is not None:
        diag_hist = getattr(diag, "history", None)
        try:
            json.dumps(diag_hist, default=_json_default)
        except (TypeError, ValueError):
            diag_hist = None
    return {
        "status": "done", "activation": act.name, "spec": act_text, "slug": act_slug,
        "seed": seed, "dataset": cfg["dataset"], "model": cfg["model"],
        "config_key": config_key(cfg), "history": history, "metrics": metrics,
        "diagnostics": diag_hist, "model_path": str(mpath) if mpath else None,
        "backend": keras.backend.backend(), "keras_version": keras.__version__,
        "dtype_policy": policy,
        "device": placement.description if placement is not None else None,
        "validation": "holdout" if cfg.get("val_split") else "test",
        "started": started, "finished": _dt.datetime.now().isoformat(timespec="seconds"),
        "wall_seconds": time.perf_counter() - t_run, "phase_seconds": phases,
    }


class _nullcontext:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


# --------------------------------------------------------------------------- the grid
def _fmt_time(s: float) -> str:
    s = int(round(s))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


class Progress:
    """One line per run with elapsed time and ETA (a bar redrawn in place on a TTY)."""

    def __init__(self, total: int, done: int, stream=None):
        self.total, self.done, self.ran = total, done, 0
        self.stream = stream or sys.stdout
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.t0 = time.perf_counter()

    def _bar(self, width=20):
        filled = int(width * self.done / max(1, self.total))
        return "[" + "#" * filled + "-" * (width - filled) + "]"

    def eta(self):
        if not self.ran:
            return "?"
        per = (time.perf_counter() - self.t0) / self.ran
        return _fmt_time(per * (self.total - self.done))

    def start(self, label):
        if self.tty:
            self.stream.write(f"\r{self._bar()} {self.done}/{self.total} running {label} "
                              f"| elapsed {_fmt_time(time.perf_counter() - self.t0)} "
                              f"| ETA {self.eta()}\033[K")
            self.stream.flush()

    def finish(self, label, text):
        self.done += 1
        self.ran += 1
        prefix = "\r\033[K" if self.tty else ""
        w = len(str(self.total))
        self.stream.write(f"{prefix}{self._bar() + ' ' if self.tty else ''}[{self.done:{w}d}/{self.total}] "
                          f"{label}  {text} | elapsed {_fmt_time(time.perf_counter() - self.t0)} "
                          f"| ETA {self.eta()}\n")
        self.stream.flush()


def _check_out_dir(cfg: dict, out: Path):
    runs = sorted((out / "runs").glob("*.json")) if (out / "runs").is_dir() else []
    finished = [p for p in runs if _load_run(p)]
    if cfg["overwrite"]:
        for p in runs:
            p.unlink()
        for name in ("results.csv", "results.json", "results.md", "config.json", "report.md"):
            (out / name).unlink(missing_ok=True)
        return
    if finished and not cfg["resume"]:
        raise GridError(
            f"{out} already holds {len(finished)} finished runs. Pass --resume to continue "
            "that grid (finished runs are skipped), --overwrite to start again, or another --out.")
    if cfg["resume"] and (out / "config.json").is_file():
        try:
            old = json.loads((out / "config.json").read_text())
        except ValueError:
            old = {}
        if old.get("config_key") and old["config_key"] != config_key(cfg):
            diff = [k for k in _RESULT_KEYS
                    if json.dumps(old.get(k), sort_keys=True, default=_json_default)
                    != json.dumps(cfg.get(k), sort_keys=True, default=_json_default)]
            raise GridError(
                f"--resume: {out} was made with different settings ({', '.join(diff)}); "
                "its runs are not comparable. Use --overwrite or another --out.")


def run_grid(cfg: dict, data: dict | None = None, placement=None, stream=None) -> dict:
    """Run (or resume) the grid in ``cfg``; write per-run files and the results.

    Returns ``{"ran": [(act, seed), ...], "skipped": [...], "rows": [...], "out": path}``.
    ``data`` (from ``prepare_data``) and ``placement`` are created when not given.
    """
    from .models import parse_activation, slug

    stream = stream or sys.stdout
    out = Path(cfg["out"])
    _check_out_dir(cfg, out)
    specs = []
    for a in cfg["activations"]:
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            try:
                spec = parse_activation(a)  # fail early on a typo
            except (ValueError, TypeError) as e:
                raise GridError(f"--activations {a!r}: {e}") from e
        for msg in w:
            print(f"note: {msg.message}", file=stream)
        if spec.name.split(":")[0] == "softmax":
            print("note: softmax as a hidden activation normalises across a layer's units "
                  "(legal, unusual; expect it to train poorly)", file=stream)
        specs.append((a, slug(spec.name)))
    if len({s for _, s in specs}) != len(specs):
        raise GridError("two activations map to the same file name; rename one")
    _setup_runtime(cfg)
    if placement is None:
        from .devices import setup

        placement = setup(cfg.get("device", "auto"))
    if data is None:
        data = prepare_data(cfg)
    cfg["n_train"], cfg["n_test"] = len(data["x_train"]), len(data["x_test"])
    cfg_out = {k: v for k, v in cfg.items() if k not in ("resume", "overwrite")}
    cfg_out.update(config_key=config_key(cfg), data_source=data["source"],
                   n_train=len(data["x_train"]), n_test=len(data["x_test"]),
                   device_plan=placement.description, jit_compile_used=str(_jit(cfg, placement)))
    write_json(out / "config.json", cfg_out)
    print(f"data: {cfg['dataset']} {len(data['x_train'])} train / {len(data['x_test'])} test "
          f"from {data['source']} | backend {cfg['backend']} | {placement.description}",
          file=stream)

    grid = [(a, s, seed) for seed in cfg["seed_list"] for a, s in specs]
    done = {(a, seed) for a, s, seed in grid if cfg["resume"] and _load_run(run_path(out, s, seed))}
    print(f"grid: {len(specs)} activations x {len(cfg['seed_list'])} seeds = {len(grid)} runs "
          f"({len(done)} already finished), {cfg['epochs']} epochs each", file=stream)
    prog = Progress(len(grid), len(done), stream)
    ran, skipped = [], sorted(done, key=str)
    try:
        for a, s, seed in grid:
            if (a, seed) in done:
                continue
            label = f"{a} seed {seed}"
            prog.start(label)
            rec = train_one(cfg, a, seed, data, placement)
            write_json(run_path(out, s, seed), rec)
            ran.append((a, seed))
            m = rec["metrics"]
            prog.finish(label, f"acc {m['test_accuracy']:.4f}  loss {m['test_loss']:.4f}  "
                               f"{rec['wall_seconds']:.1f} s" + ("  (diverged)" if m["diverged"] else ""))
    except KeyboardInterrupt:
        print(f"\ninterrupted: {len(done) + len(ran)} of {len(grid)} runs are saved in "
              f"{out / 'runs'}; rerun with --resume to finish.", file=stream)
        finalize(cfg, stream=stream)
        raise
    rows = finalize(cfg, stream=stream)
    return {"ran": ran, "skipped": skipped, "rows": rows, "out": str(out)}


def _setup_runtime(cfg):
    import keras

    if cfg["backend"] == "tensorflow" and cfg.get("jit_compile") != "on":
        # Same seed -> same metrics. (Keras then runs TF without XLA; --jit-compile on
        # keeps XLA and skips this: XLA on CPU reproduced bit-identical losses in our runs,
        # but TensorFlow does not guarantee it.)
        import tensorflow as tf

        enable = getattr(tf.config.experimental, "enable_op_determinism", None)
        if enable is not None:
            enable()
    cfg["dtype_policy"] = "float32"
    if cfg.get("mixed_precision"):
        gpu = False
        if cfg["backend"] == "tensorflow":
            import tensorflow as tf

            gpu = bool(tf.config.list_physical_devices("GPU"))
        elif cfg["backend"] == "jax":
            import jax

            gpu = jax.default_backend() == "gpu"
        elif cfg["backend"] == "torch":
            import torch

            gpu = torch.cuda.is_available()
        cfg["dtype_policy"] = ("mixed_float16" if gpu and cfg.get("device") != "cpu"
                               else "mixed_bfloat16")
    keras.mixed_precision.set_dtype_policy(cfg["dtype_policy"])


# --------------------------------------------------------------------------- results
def aggregate(cfg: dict) -> list[dict]:
    """One row per activation from the finished runs of the grid in ``cfg``."""
    from .models import parse_activation, slug

    out = Path(cfg["out"])
    rows = []
    per_seed = {"test_accuracy": {}, "test_loss": {}}
    for a in cfg["activations"]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            name = parse_activation(a).name
        recs = [r for seed in cfg["seed_list"] if (r := _load_run(run_path(out, slug(name), seed)))]
        if not recs:
            continue
        ms = [r["metrics"] for r in recs]

        def col(k):
            return [m.get(k) for m in ms if m.get(k) is not None]

        row = {"activation": name}
        for k, key in (("test_accuracy", "test_accuracy"), ("macro_f1", "macro_f1"),
                       ("test_loss", "test_loss")):
            row[f"{k}_mean"], row[f"{k}_ci95"] = mean_ci95(col(key))
        acc = np.asarray(col("test_accuracy"), np.float64)
        row["test_accuracy_std"] = float(acc.std(ddof=1)) if acc.size > 1 else math.nan
        for k in ("epochs_to_99pct", "train_seconds_per_epoch", "latency_ms_per_batch256",
                  "latency_ms_per_sample"):
            v = col(k)
            row[k] = float(np.mean(v)) if v else math.nan
        row["params"] = int(ms[0]["params"])
        row["seeds"] = len(recs)
        row["diverged_runs"] = int(sum(bool(m.get("diverged")) for m in ms))
        for metric in ("test_accuracy", "test_loss"):
            per_seed[metric][name] = {r["seed"]: float(r["metrics"][metric]) for r in recs
                                      if r["metrics"].get(metric) is not None
                                      and math.isfinite(r["metrics"][metric])}
        rows.append(row)
    _add_verdicts(rows, per_seed, baseline_of(cfg, [r["activation"] for r in rows]))
    rows.sort(key=lambda r: -r["test_accuracy_mean"] if math.isfinite(r["test_accuracy_mean"]) else 1)
    return rows


def baseline_of(cfg: dict, names: list[str]) -> str | None:
    """``--baseline`` (its display name), else relu when in the grid, else the first."""
    from .models import parse_activation

    if not names:
        return None
    want = cfg.get("baseline")
    if want:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            want = parse_activation(want).name
        if want not in names:
            raise GridError(f"--baseline {cfg['baseline']!r} has no finished runs in this grid "
                            f"({', '.join(names)})")
        return want
    return "relu" if "relu" in names else names[0]


def _add_verdicts(rows, per_seed, baseline):
    if baseline is None:
        return
    for metric, prefix, higher in (("test_accuracy", "", True), ("test_loss", "loss_", False)):
        vals = {a: v for a, v in per_seed[metric].items()}
        if baseline not in vals or not vals[baseline]:
            continue
        res = compare_to_baseline(vals, baseline, higher_is_better=higher)
        for row in rows:
            r = res.get(row["activation"])
            if r is None:
                continue
            row[f"{prefix}delta_vs_baseline_mean"] = r["delta_mean"]
            row[f"{prefix}delta_vs_baseline_ci95"] = r["delta_ci95"]
            row[f"{prefix}p_value"] = r["p_value"]
            row[f"{prefix}p_value_holm"] = r["p_value_holm"]
            row[f"{prefix}verdict"] = r["verdict"]
            if metric == "test_accuracy":
                row["baseline"] = baseline
                row["paired_seeds"] = r["paired_seeds"]
                row["seeds_needed"] = r["seeds_needed"]
                row["verdict_note"] = r["why"]


def _csv_value(v):
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return ""
    if isinstance(v, float):
        return f"{v:.6g}"
    return v


def finalize(cfg: dict, stream=None) -> list[dict]:
    """Write results.csv/json/md, learning curves and (if available) report.md; print the table."""
    stream = stream or sys.stdout
    out = Path(cfg["out"])
    rows = aggregate(cfg)
    if not rows:
        return rows
    with_cols = RESULT_COLUMNS
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=with_cols, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: _csv_value(r.get(k)) for k in with_cols})
    write_atomic(out / "results.csv", buf.getvalue())
    meta = {k: cfg.get(k) for k in ("dataset", "model", "model_options", "epochs", "batch_size",
                                   "lr", "optimizer", "schedule", "preset", "backend",
                                   "train_subset", "test_subset", "val_split", "variant")}
    write_json(out / "results.json", {
        "columns": with_cols, "rows": rows, "config": meta,
        "confidence": "95 % t-interval half-width over seeds",
        "paired": "delta_* = activation minus baseline, paired by seed; p_value: two-sided "
                  "paired t-test; p_value_holm: Holm over the grid's non-baseline activations; "
                  "verdict at alpha 0.05; seeds_needed: 80 % power at the observed difference"})
    opts = ", ".join(f"{k}={v}" for k, v in cfg["model_options"].items())
    sizes = (f"{cfg['n_train']} training / {cfg['n_test']} test images, " if cfg.get("n_train")
             else "")
    title = (f"# {cfg['dataset']} / {cfg['model']}: activation comparison\n\n"
             f"Model `{cfg['model']}` ({opts}); {sizes}"
             f"{cfg['epochs']} epochs, batch {cfg['batch_size']}, {cfg['optimizer']} lr {cfg['lr']} "
             f"({cfg['schedule']}), backend {cfg['backend']}; mean ± 95 % CI (t-distribution) over "
             "seeds (no CI with one seed). Sorted by test accuracy.\n\n")
    names = {r["activation"].split(":")[0] for r in rows}
    notes = "\n"
    if names & {"binary_step", "binary_step_ste"}:
        notes += ("`binary_step_ste` is the binary step with a straight-through gradient (the "
                  "plain `binary_step` has zero gradient, so only the output layer trains).\n")
    if "softmax" in names:
        notes += ("`softmax` as a hidden activation normalises across a layer's units: legal, "
                  "but unusual.\n")
    notes += ("epochs to 99 %: first epoch whose test (or --val-split holdout) accuracy reaches "
             "99 % of the final one. s/epoch: training only, first (compiling) epoch excluded. "
             "Latency: median `predict_on_batch` time.\n")
    from .report import results_table, verdict_lines, write_report

    md = results_table(rows)
    write_atomic(out / "results.md", title + md + notes)
    try:
        write_report(str(out))
    except Exception as e:  # the report is a bonus; never lose the results over it
        print(f"note: report.md not written ({type(e).__name__}: {e})", file=stream)
    print("\n" + md, file=stream)
    for line in verdict_lines(rows):
        print(line, file=stream)
    print(f"results: {out / 'results.md'} (also .csv, .json)", file=stream)
    return rows


# --------------------------------------------------------------------------- entry point
def main(argv=None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    args = build_parser().parse_args(argv)
    cfg = resolve_config(args)
    t0 = time.perf_counter()
    try:
        run_grid(cfg)
    except GridError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as e:
        from .data import DataError
        from .devices import DeviceError

        if isinstance(e, (DataError, DeviceError)):
            print(f"error: {e}", file=sys.stderr)
            return 2
        raise
    print(f"total wall time {_fmt_time(time.perf_counter() - t0)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
