"""The arrays a grid trains on: a built-in dataset prepared as the config says (subset,
standardisation, validation split), or the user's ``--data`` (``recipes.userdata``)."""
from __future__ import annotations

import time

import numpy as np

__all__ = ["prepare_data", "prepare_arrays"]

def prepare_data(cfg):
    """The arrays for the grid ``cfg`` (a ``recipes.config.Config``)."""
    from . import data

    if cfg.data:
        from .userdata import load_user_data

        d = load_user_data(cfg.data, cfg.task, image_size=cfg.image_size,
                           test_split=cfg.test_split)
        return _scale_user(d, cfg.preprocess)
    t0 = time.perf_counter()
    ds = data.load(cfg.dataset, cfg.data_dir, cache_dir=cfg.cache_dir, verbose=cfg.verbose)
    source = ds.source
    if cfg.train_subset or cfg.test_subset:
        ds = data.subset(ds, cfg.train_subset, cfg.test_subset, seed=0)
    return prepare_arrays(cfg, ds, source, time.perf_counter() - t0)


def prepare_arrays(cfg, ds, source=None, seconds=0.0):
    """Float arrays (and the validation split) from a ``recipes.data.Dataset``."""
    source = source or ds.source
    from . import data

    x_tr, y_tr = ds.x_train, ds.y_train
    x_val = y_val = None
    if cfg.val_split:
        rng = np.random.default_rng(0)
        idx = rng.permutation(len(y_tr))
        n_val = max(1, int(round(cfg.val_split * len(y_tr))))
        vi, ti = np.sort(idx[:n_val]), np.sort(idx[n_val:])
        x_val, y_val, x_tr, y_tr = x_tr[vi], y_tr[vi], x_tr[ti], y_tr[ti]
    mean = std = None
    if cfg.preprocess == "standardize":
        unit = x_tr.reshape(-1, x_tr.shape[-1]).astype(np.float64) / 255.0
        mean, std = unit.mean(0).astype(np.float32), unit.std(0).astype(np.float32)
    if cfg.preprocess == "none":
        prep = lambda x: np.asarray(x, np.float32)  # noqa: E731
    else:
        prep = lambda x: data.preprocess(x, cfg.preprocess, mean, std)  # noqa: E731
    out = dict(x_train=prep(x_tr), y_train=y_tr.astype(np.int32), x_test=prep(ds.x_test),
               y_test=ds.y_test.astype(np.int32), num_classes=int(ds.num_classes),
               input_shape=tuple(ds.x_train.shape[1:]), source=source, load_seconds=seconds)
    if x_val is not None:
        out.update(x_val=prep(x_val), y_val=y_val.astype(np.int32))
    else:
        out.update(x_val=out["x_test"], y_val=out["y_test"])
    return out


def _scale_user(d: dict, mode: str) -> dict:
    """``none``: as given; ``unit``: / 255; ``standardize``: per last-axis channel, with the
    training split's mean and standard deviation."""
    if mode == "none":
        return d
    keys = [k for k in ("x_train", "x_val", "x_test") if k in d]
    if mode == "unit":
        return dict(d, **{k: d[k] / np.float32(255.0) for k in keys})
    if mode != "standardize":
        raise ValueError(f"preprocess must be none, unit or standardize, not {mode!r}")
    flat = d["x_train"].reshape(-1, d["x_train"].shape[-1]).astype(np.float64)
    mean, std = flat.mean(0), np.maximum(flat.std(0), 1e-7)
    same_val = d.get("x_val") is d.get("x_test")
    out = dict(d, **{k: ((d[k] - mean) / std).astype(np.float32) for k in keys})
    if same_val:
        out["x_val"] = out["x_test"]
    return out
