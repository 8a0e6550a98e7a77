"""Run records on disk: atomic JSON writes, where each run and model lives, which finished
runs an output folder holds, and the key that says whether two configs' runs are comparable.

A run record is ``<out>/runs/<activation slug>-seed<k>.json`` with ``status: "done"``; it is
written atomically (temporary file, fsync, ``os.replace``), so a killed grid never leaves a
half-written record and ``--resume`` can trust every file it finds.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np

__all__ = ["GridError", "RESULT_KEYS", "atomic_path", "write_atomic", "write_json", "run_path",
           "model_path", "load_run", "config_key", "json_default"]

#: config keys whose change makes finished runs incomparable (checked on --resume)
RESULT_KEYS = ("dataset", "data", "task", "model_file", "model_fn", "image_size", "model", "model_options", "epochs", "batch_size", "lr", "optimizer",
                "momentum", "bias_lr_scale", "whiten_bias_epochs", "ema", "ema_every",
                "schedule", "weight_decay", "label_smoothing", "tta", "preprocess", "val_split",
                "train_subset", "test_subset", "mixed_precision", "augment", "kernel_initializer",
                "backend")


class GridError(RuntimeError):
    """The output directory is not usable as asked (finished runs, other config)."""


def json_default(o):
    """``json.dumps``'s ``default``: NumPy scalars and arrays, tuples, sets, mappings (a
    Config), paths; anything else as its repr."""
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, (tuple, set)):
        return list(o)
    if isinstance(o, Mapping):   # a Config, or its read-only model_options
        return dict(o)
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


@contextlib.contextmanager
def atomic_path(path: Path):
    """A temporary path next to ``path`` to write to; on success it replaces ``path`` in one
    step (``os.replace``), on an error it is removed. The one atomic-write helper: text,
    figures, arrays and models all go through it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_atomic(path: Path, text: str):
    """Write ``text`` (UTF-8) atomically, fsync'ed before the rename."""
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())


def write_json(path: Path, obj):
    write_atomic(path, json.dumps(_nan_to_none(obj), indent=1, default=json_default,
                                  allow_nan=False) + "\n")


def run_path(out: Path, act_slug: str, seed: int) -> Path:
    return Path(out) / "runs" / f"{act_slug}-seed{seed}.json"


def model_path(cfg, act_slug: str, seed: int) -> Path:
    """Where the run's model is saved: ``<models_dir>/<dataset>-<model>/<act>-seed<k>.keras``."""
    return (Path(cfg.models_dir) / f"{cfg.dataset}-{cfg.model_name or cfg.model}"
            / f"{act_slug}-seed{seed}.keras")


def load_run(path: Path):
    """The record at ``path`` if it is a finished run, else None (missing, unreadable,
    half-written or not ``status: "done"``)."""
    try:
        rec = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    return rec if rec.get("status") == "done" else None


def config_key(cfg) -> str:
    """A digest of ``cfg``'s settings that decide a run's result (``RESULT_KEYS``)."""
    sub = {k: cfg[k] for k in RESULT_KEYS}
    return hashlib.sha256(json.dumps(sub, sort_keys=True, default=json_default).encode()).hexdigest()[:16]
