"""Bad input through the installed ``keras-acts`` command, from another folder: every check
prints one short sentence, exits non-zero, shows no traceback, trains nothing and writes
nothing where the input was checkable before training.

The cases run as concurrent processes (each imports Keras: ~4 s alone). All of them run under
the first backend; under the others only those whose check goes through Keras (activation
names resolved by ``keras.activations.get``, a model option checked against the model builder,
an archive read before training): the other checks are argparse and file-system checks that
do not depend on the backend (marker ``one_backend``).
"""

from __future__ import annotations

import concurrent.futures
import os
import shutil
import subprocess

import keras
import numpy as np
import pytest

BACKEND = keras.backend.backend()

#: (case id, arguments after ``keras-acts compare``, a phrase the message must hold)
CASES = [
    ("seeds-0", ["--seeds", "0"], "--seeds, --epochs and --batch-size must be >= 1"),
    ("epochs-0", ["--epochs", "0"], "--seeds, --epochs and --batch-size must be >= 1"),
    ("duplicate", ["--activations", "relu,relu"], "lists an activation twice"),
    ("val-split", ["--val-split", "1.5"], "--val-split must be in [0, 1)"),
    ("model-option", ["--model-option", "nope=1"], "--model-option nope: unknown for --model mlp"),
    ("baseline", ["--baseline", "gelu", "--activations", "relu,tanh"], "is not in the grid"),
    ("unknown-activation", ["--activations", "relu,swishx"], "Did you mean: swish_x"),
    ("unknown-with-baseline", ["--baseline", "relu", "--activations", "relu,swishx"],
     "Did you mean: swish_x"),
    ("unknown-baseline", ["--baseline", "gelux", "--activations", "relu,tanh"],
     "--baseline 'gelux': Unknown activation 'gelux'"),
    ("out-is-a-file", ["--out", "afile/runs"], "is a file, not a folder"),
    ("models-dir-unwritable", ["--models-dir", "/proc/nope"], "cannot write there"),
    ("tensorboard-unwritable", ["--tensorboard", "/proc/nope"], "cannot write there"),
    ("truncated-npz", ["--data", "cut.npz"], "truncated or corrupt .npz"),
    ("csv", ["--data", "table.csv"], "not an .npz archive (a .csv file)"),
    ("missing-data", ["--data", "nothere.npz"], "no such file or folder"),
    ("bad-option-value", ["--epochs", "ten"], "invalid int value"),
    ("max-seeds-below-first-round", ["--seeds", "auto", "--max-seeds", "3"],
     "--max-seeds must be at least 5"),
    ("bad-budget", ["--seeds", "auto", "--budget", "5q"],
     "expected a duration such as 90s, 45m or 2h"),
]
#: cases checked through Keras: they run under every backend
EVERY_BACKEND = ("model-option", "unknown-activation", "unknown-with-baseline",
                 "unknown-baseline", "truncated-npz")
#: cases whose own arguments must not get ``--epochs 1 --seeds 1`` appended
AS_GIVEN = ("seeds-0", "epochs-0", "bad-option-value", "max-seeds-below-first-round",
            "bad-budget")


@pytest.fixture(scope="module")
def results(request, tmp_path_factory):
    # only the cases selected in this session start a process (-k, and one_backend)
    wanted = {item.callspec.params["case"] for item in request.session.items
              if item.module is request.module and hasattr(item, "callspec")}
    exe = shutil.which("keras-acts")
    assert exe, "the keras-acts command is not on PATH: install the package (README)"
    results = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        futures = {}
        for case, args, _ in CASES:
            if case not in wanted:
                continue
            cwd = tmp_path_factory.mktemp(case)
            (cwd / "afile").write_text("not a folder")
            np.savez(cwd / "good.npz", x_train=np.zeros((8, 4)), y_train=np.zeros(8))
            data = (cwd / "good.npz").read_bytes()
            (cwd / "cut.npz").write_bytes(data[: len(data) // 2])
            (cwd / "table.csv").write_text("a,b\n1,2\n")
            before = {p.name for p in cwd.iterdir()}
            cmd = ([exe, "compare", *args] if case in AS_GIVEN
                   else [exe, "compare", *args, "--epochs", "1", "--seeds", "1"])
            env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}  # as a
            env["KERAS_BACKEND"] = BACKEND  # user's shell: the command quiets TensorFlow itself
            futures[case] = (pool.submit(subprocess.run, cmd, capture_output=True, text=True,
                                         timeout=240, cwd=cwd, env=env), cwd, before)
        for case, (fut, cwd, before) in futures.items():
            results[case] = (fut.result(), {p.name for p in cwd.iterdir()} - before)
    return results


@pytest.mark.parametrize("case, args, phrase", [
    pytest.param(*c, id=c[0], marks=() if c[0] in EVERY_BACKEND else pytest.mark.one_backend)
    for c in CASES])
def test_bad_input_gets_one_sentence(results, case, args, phrase):
    r, new_files = results[case]
    assert r.returncode == 2, (case, r.returncode, r.stderr[-1500:])
    err = "\n".join(line for line in r.stderr.splitlines()
                    if "error" in line.lower() or "usage" in line.lower())
    assert phrase in err, (case, r.stderr[-1500:])
    assert "Traceback" not in r.stderr, (case, r.stderr[-3000:])
    msg = [line for line in r.stderr.splitlines() if "error:" in line]
    assert len(msg) == 1 and len(msg[0]) < 400, (case, msg)
    assert not new_files, f"{case}: wrote {sorted(new_files)} although nothing was trained"
    assert "epoch" not in r.stdout.lower(), (case, r.stdout[-1000:])
