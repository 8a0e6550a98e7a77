"""The package as a user installs it: the wheel and sdist built from this checkout hold what
the ``keras-acts`` command needs and none of the tests, benchmarks or reference models; the
wheel, installed into a folder of its own (``pip install --no-deps --target``, reusing this
environment's dependencies), runs from another folder -- ``--version``, ``list``, a one-epoch
``compare``, ``vanishing`` -- and ``keras_acts.load_model`` opens the model it saved. Each step
checks that the wheel's copy is the one imported, not this checkout.

What is checked is the packaging -- the archives' contents and the installed layout -- which
does not depend on the backend, so tests/run.sh runs this module under its first backend only
(marker one_backend); from the checkout, ``keras-acts`` commands and compare grids run under
every backend (test_cli, test_cli_errors, test_compare)."""
from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import keras
import numpy as np
import pytest

import keras_acts

ROOT = Path(__file__).resolve().parents[2]
BACKEND = keras.backend.backend()

pytestmark = pytest.mark.one_backend


def _run(cmd, cwd, env, timeout=300):
    r = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True,
                       text=True, timeout=timeout)
    assert r.returncode == 0, f"{cmd}\n{r.stdout[-2000:]}\n{r.stderr[-3000:]}"
    return r


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    dist = tmp_path_factory.mktemp("dist")
    env = {**os.environ, "PIP_NO_INDEX": "1"}  # nothing fetched: the build uses what is here
    _run([sys.executable, "-m", "pip", "wheel", ROOT, "--no-deps", "--no-build-isolation",
          "-q", "-w", dist], cwd=dist, env=env)
    _run([sys.executable, "-c", "import sys; from setuptools import build_meta as b; "
          "b.build_sdist(sys.argv[1])", dist], cwd=ROOT, env=env)
    (wheel,) = dist.glob("*.whl")
    (sdist,) = dist.glob("*.tar.gz")
    return wheel, sdist


@pytest.fixture(scope="module")
def installed(built, tmp_path_factory):
    site = tmp_path_factory.mktemp("site")
    _run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q", "--target",
          site, built[0]], cwd=site, env=dict(os.environ))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(PYTHONPATH=str(site), KERAS_BACKEND=BACKEND, CUDA_VISIBLE_DEVICES="",
               TF_CPP_MIN_LOG_LEVEL="3")
    return site, env


def test_archives_hold_the_package_and_nothing_of_the_checkout(built):
    wheel, sdist = built
    names = zipfile.ZipFile(wheel).namelist()
    assert "keras_acts/catalogue.py" in names and "keras_acts_recipes/cli.py" in names
    assert "keras_acts/catalogue.json" in names  # what `list` reads without importing Keras
    assert all(n.startswith(("keras_acts/", "keras_acts_recipes/", "keras_acts-")) for n in names)
    entry = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("entry_points.txt")))
    assert b"keras-acts = keras_acts_recipes.cli:main" in entry
    with tarfile.open(sdist) as tar:
        members = [m.split("/", 1)[1] for m in tar.getnames() if "/" in m]
    assert "keras_acts/catalogue.py" in members and "recipes/cli.py" in members
    for folder in ("tests/", "benchmarks/", "saved_models/", ".ci/"):
        assert not [m for m in members if m.startswith(folder)], folder
    assert f"keras_acts-{keras_acts.__version__}" in wheel.name


def test_installed_wheel_works_from_another_folder(installed, tmp_path):
    site, env = installed
    exe = site / "bin" / "keras-acts"
    assert exe.is_file(), "the wheel installs no keras-acts command"
    cmd = [sys.executable, exe]
    work = tmp_path / "elsewhere"
    work.mkdir()
    r = _run([*cmd, "--version"], work, env, timeout=60)
    assert r.stdout.strip() == f"keras-acts {keras_acts.__version__}"
    r = _run([*cmd, "list"], work, env)
    assert r.stdout.split() == keras_acts.names()
    r = _run([sys.executable, "-c", "import sys; from keras_acts_recipes import cli; "
              "cli.main(['list']); assert 'keras' not in sys.modules, 'list imported Keras'"],
             work, env, timeout=60)  # the installed index is current: no Keras to print names

    rng = np.random.default_rng(0)
    x = rng.standard_normal((120, 6)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    np.savez(work / "d.npz", x_train=x[:80], y_train=y[:80], x_test=x[80:], y_test=y[80:])
    r = _run([*cmd, "compare", "--data", "d.npz", "--activations", "relu,prelu", "--seeds",
              "1", "--epochs", "1", "--model", "mlp", "--model-option", "width=8",
              "--no-diagnostics", "--out", "out"], work, env)
    # output to a pipe: the results table, no progress bar (test_progress: a terminal's bar)
    assert "| 1 | `" in r.stdout and "epoch/s" not in r.stdout + r.stderr
    saved = work / "out" / "saved_models" / "d-mlp" / "prelu-seed0.keras"
    assert saved.is_file()  # under --out, not in the current folder's saved_models
    assert not (work / "saved_models").exists()

    mnist = work / "data"
    mnist.mkdir()
    images = rng.integers(0, 256, (96, 28, 28), dtype=np.uint8)
    labels = np.arange(96, dtype=np.uint8) % 10
    np.savez(mnist / "mnist.npz", x_train=images[:64], y_train=labels[:64],
             x_test=images[64:], y_test=labels[64:])
    _run([*cmd, "vanishing", "--data-dir", mnist, "--depth", "3", "--width", "8",
          "--activations", "relu", "--init", "naive", "--train", "64", "--test", "32",
          "--probe-size", "16", "--out", "van"], work, env)
    assert (work / "van" / "vanishing.md").is_file()

    code = ("import sys, numpy as np, keras_acts, keras_acts_recipes\n"
            "for m in (keras_acts, keras_acts_recipes):\n"
            "    assert m.__file__.startswith(sys.argv[2]), m.__file__\n"
            "model = keras_acts.load_model(sys.argv[1])\n"
            "print(model.predict_on_batch(np.zeros((2, 6), 'float32')).shape)\n")
    r = _run([sys.executable, "-c", code, saved, str(site)], work, env)
    assert r.stdout.strip().endswith("(2, 2)")
