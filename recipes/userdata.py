"""The user's own data for ``--data``, checked before any training starts.

``--data SPEC``:

``path/to/data.npz``   arrays ``x_train, y_train, x_test, y_test`` (optional ``x_val, y_val``)
``path/to/folder``     one subfolder per class of images (``keras.utils.
                       image_dataset_from_directory``, resized to ``--image-size``); with
                       ``train/`` and ``test/`` subfolders those are the splits, else
                       ``--test-split`` of each class (stratified, seeded) is the test set
``tfds:NAME``          ``tensorflow_datasets.load(NAME)`` (needs the package and a network)

Labels: integer class ids (or one-hot rows) for ``--task classification``; real values,
one column or several, for ``--task regression``. Every problem is one sentence naming the
split and the fix: mismatched lengths, inconsistent feature shapes, NaN or infinite inputs,
labels out of range or not whole numbers, and a model whose input or output does not fit.
"""
from __future__ import annotations

import time
import zipfile
from pathlib import Path

import numpy as np

from .data import DataError

__all__ = ["load_user_data", "check_data_path", "check_arrays", "check_model_fits"]

_SPLITS = ("train", "val", "test")


_NPZ_HELP = ("--data takes an .npz of arrays (x_train, y_train, x_test, y_test), a folder of "
             "images (one subfolder per class) or tfds:NAME")


def check_data_path(spec: str) -> Path | None:
    """The path ``--data SPEC`` names (None for ``tfds:NAME``), checked without reading its
    arrays -- it exists, and a file is an .npz archive -- so the command line's check can
    run before Keras starts. ``load_user_data`` checks the contents."""
    if spec.startswith("tfds:"):
        return None
    path = Path(spec).expanduser()
    if not path.exists():
        raise DataError(f"--data {spec}: no such file or folder")
    if path.is_file() and not zipfile.is_zipfile(path):
        kind = "truncated or corrupt .npz" if path.suffix == ".npz" else f"{path.suffix or 'file'} file"
        raise DataError(f"--data {path}: not an .npz archive (a {kind}); {_NPZ_HELP}")
    return path


def _from_npz(path: Path) -> dict:
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: np.asarray(z[k]) for k in z.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
        raise DataError(f"--data {path}: a damaged .npz archive ({type(e).__name__}: "
                        f"{str(e).splitlines()[0][:120]}); save it again") from None
    missing = [k for k in ("x_train", "y_train", "x_test", "y_test") if k not in arrays]
    if missing:
        raise DataError(f"--data {path}: missing arrays {missing}; an .npz needs x_train, "
                        f"y_train, x_test, y_test (optional x_val, y_val); it has "
                        f"{sorted(arrays)}")
    if ("x_val" in arrays) != ("y_val" in arrays):
        raise DataError(f"--data {path}: x_val and y_val come together; it has only one")
    return arrays


def _images(folder: Path, image_size, shuffle_seed=None):
    import keras

    ds = keras.utils.image_dataset_from_directory(
        str(folder), labels="inferred", label_mode="int", image_size=tuple(image_size),
        batch_size=None, shuffle=False, verbose=False)
    classes = list(ds.class_names)
    xs, ys = [], []
    for x, y in ds.as_numpy_iterator():
        xs.append(x)
        ys.append(y)
    if not xs:
        raise DataError(f"--data {folder}: no images found (one subfolder per class expected)")
    return np.stack(xs).astype(np.float32), np.asarray(ys, np.int64), classes


def _from_folder(folder: Path, image_size, test_split: float, seed: int) -> dict:
    if (folder / "train").is_dir() and (folder / "test").is_dir():
        x_tr, y_tr, classes = _images(folder / "train", image_size)
        x_te, y_te, classes_te = _images(folder / "test", image_size)
        if classes_te != classes:
            raise DataError(f"--data {folder}: train/ has classes {classes}, test/ has "
                            f"{classes_te}; they must be the same folders")
        return dict(x_train=x_tr, y_train=y_tr, x_test=x_te, y_test=y_te, classes=classes)
    x, y, classes = _images(folder, image_size)
    if not 0.0 < test_split < 1.0:
        raise DataError("--test-split must be in (0, 1)")
    rng = np.random.default_rng(seed)
    test = np.zeros(len(y), bool)
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        test[idx[:max(1, int(round(test_split * len(idx))))]] = True
    if test.all():
        raise DataError(f"--data {folder}: too few images to hold out a test set")
    return dict(x_train=x[~test], y_train=y[~test], x_test=x[test], y_test=y[test],
                classes=classes)


def _from_tfds(name: str) -> dict:
    try:
        import tensorflow_datasets as tfds
    except ImportError:
        raise DataError(f"--data tfds:{name} needs tensorflow_datasets: pip install "
                        "tensorflow-datasets (and a network to download it)") from None
    try:
        train, test = tfds.load(name, split=["train", "test"], as_supervised=True, batch_size=-1)
    except Exception as e:  # tfds raises many kinds (not found, no network, ...)
        raise DataError(f"--data tfds:{name}: tensorflow_datasets could not load it "
                        f"({type(e).__name__}: {e})") from None
    (x_tr, y_tr), (x_te, y_te) = tfds.as_numpy(train), tfds.as_numpy(test)
    return dict(x_train=x_tr, y_train=y_tr, x_test=x_te, y_test=y_te)


def check_arrays(arrays: dict, task: str, where: str) -> dict:
    """Validate and normalise the splits of ``arrays``; returns float32 inputs, int labels
    (classification) or float32 targets (regression), and ``num_classes``."""
    if task not in ("classification", "regression"):
        raise DataError(f"task must be 'classification' or 'regression', not {task!r}")
    out = {}
    feature_shape = None
    for split in _SPLITS:
        if f"x_{split}" not in arrays:
            continue
        x, y = np.asarray(arrays[f"x_{split}"]), np.asarray(arrays[f"y_{split}"])
        if x.ndim < 2 or len(x) == 0:
            raise DataError(f"{where}: x_{split} has shape {x.shape}; it needs one row per "
                            "example and at least one feature")
        if len(x) != len(y):
            raise DataError(f"{where}: x_{split} has {len(x)} examples but y_{split} has "
                            f"{len(y)}; they must match")
        if feature_shape is None:
            feature_shape = x.shape[1:]
        elif x.shape[1:] != feature_shape:
            raise DataError(f"{where}: x_{split} examples have shape {x.shape[1:]}, x_train's "
                            f"have {feature_shape}; every split needs the same shape")
        if not np.issubdtype(x.dtype, np.number):
            raise DataError(f"{where}: x_{split} has dtype {x.dtype}; inputs must be numbers")
        x = x.astype(np.float32)
        bad = int(np.count_nonzero(~np.isfinite(x)))
        if bad:
            raise DataError(f"{where}: x_{split} holds {bad} NaN or infinite values; clean or "
                            "impute them before training")
        out[f"x_{split}"], out[f"y_{split}"] = x, _labels(y, task, split, where)
    if task == "classification":
        k = 1 + max(int(out[f"y_{s}"].max()) for s in _SPLITS if f"y_{s}" in out)
        out["num_classes"] = max(2, k)
    else:
        out["num_classes"] = None
    return out


def _labels(y, task, split, where):
    if task == "regression":
        if not np.issubdtype(y.dtype, np.number):
            raise DataError(f"{where}: y_{split} has dtype {y.dtype}; regression targets must "
                            "be numbers")
        y = y.astype(np.float32)
        if not np.all(np.isfinite(y)):
            raise DataError(f"{where}: y_{split} holds NaN or infinite targets")
        return y
    if y.ndim == 2 and y.shape[1] > 1:  # one-hot rows
        if not (np.all((y == 0) | (y == 1)) and np.all(y.sum(1) == 1)):
            raise DataError(f"{where}: y_{split} is 2-D but its rows are not one-hot; give "
                            "integer class ids (or one-hot rows) for classification, or use "
                            "--task regression")
        return y.argmax(1).astype(np.int32)
    y = y.reshape(len(y), -1)
    if y.shape[1] != 1:
        raise DataError(f"{where}: y_{split} has shape {y.shape}; classification labels are "
                        "one class id per example")
    y = y[:, 0]
    if not np.issubdtype(y.dtype, np.number) or not np.all(np.isfinite(y)):
        raise DataError(f"{where}: y_{split} holds non-numeric, NaN or infinite labels")
    if not np.all(np.floor(y) == y):
        raise DataError(f"{where}: y_{split} holds non-integer labels (e.g. "
                        f"{y[np.floor(y) != y][0]}); class ids are 0, 1, 2, ... -- for real "
                        "targets use --task regression")
    if y.min() < 0:
        raise DataError(f"{where}: y_{split} holds negative labels ({int(y.min())}); class ids "
                        "are 0, 1, 2, ...")
    return y.astype(np.int32)


def check_model_fits(model, d: dict, task: str, where: str = "--model") -> None:
    """One clear sentence if ``model`` cannot take ``d``'s inputs or produce its labels."""
    ins = getattr(model, "inputs", None) or []
    if len(ins) != 1:
        raise DataError(f"{where}: the model has {len(ins)} inputs; --data gives one array "
                        "(x) per example")
    want, have = tuple(ins[0].shape[1:]), tuple(d["x_train"].shape[1:])
    if len(want) != len(have) or any(w is not None and w != h for w, h in zip(want, have)):
        raise DataError(f"{where}: the model takes inputs of shape {want} but the data's "
                        f"examples have shape {have}")
    units = model.outputs[0].shape[-1]
    if task == "classification" and units is not None:
        if units < d["num_classes"]:
            raise DataError(f"{where}: the model has {units} outputs but the labels go up to "
                            f"{d['num_classes'] - 1} ({d['num_classes']} classes)")
    if task == "regression" and units is not None:
        cols = 1 if d["y_train"].ndim == 1 else d["y_train"].shape[1]
        if units != cols:
            raise DataError(f"{where}: the model has {units} outputs but the targets have "
                            f"{cols} column{'s' if cols != 1 else ''}")


def load_user_data(spec: str, task: str = "classification", *, image_size=(64, 64),
                   test_split: float = 0.2, seed: int = 0) -> dict:
    """Arrays for the grid from ``--data SPEC`` (see the module docstring), validated."""
    t0 = time.perf_counter()
    path = check_data_path(spec)
    if path is None:
        arrays, source = _from_tfds(spec[5:]), spec
    elif path.is_dir():
        arrays, source = _from_folder(path, image_size, test_split, seed), f"folder:{path}"
    else:
        arrays, source = _from_npz(path), f"npz:{path}"
    d = check_arrays(arrays, task, f"--data {spec}")
    if "x_val" not in d:
        d["x_val"], d["y_val"] = d["x_test"], d["y_test"]
    d.update(input_shape=tuple(d["x_train"].shape[1:]), source=source,
             load_seconds=time.perf_counter() - t0, classes=arrays.get("classes"))
    if task == "classification" and d["num_classes"] > 1000:
        raise DataError(f"--data {spec}: labels go up to {d['num_classes'] - 1}: are these "
                        "regression targets? use --task regression")
    return d
