"""Bad input through the installed ``keras-acts`` command, from another folder: every check
prints one short sentence, exits non-zero, shows no traceback, trains nothing and writes
nothing where the input was checkable before training.

Checks of the command line itself (options, activation names, folders, that ``--data`` is
there and is an .npz archive) come before Keras starts: those cases run with
``KERAS_BACKEND`` naming a backend that cannot be imported, so a check that waited for Keras
would fail (a user's typo is reported in under a second, not after the ~10 s it takes to
start a backend). The one check made after Keras starts (the grid's baseline, compared by
its canonical name) runs under the backend of the session. None of them depends on the
backend: the module runs under the first one (marker ``one_backend``); what is in the data
(arrays, shapes, labels) is checked in test_userdata.

The cases run as concurrent processes.
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

pytestmark = pytest.mark.one_backend

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
#: the check made after Keras starts; the others must come before it
AFTER_KERAS = ("baseline",)
#: the unknown-name cases' sentence is keras_acts's own: (case, flag, spec, name)
KERAS_ACTS_WORDS = [("unknown-activation", "--activations", "swishx", "swishx"),
                    ("unknown-with-baseline", "--activations", "swishx", "swishx"),
                    ("unknown-baseline", "--baseline", "gelux", "gelux")]
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
            env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
            # (a user's shell: the command quiets TensorFlow itself)
            env["KERAS_BACKEND"] = BACKEND if case in AFTER_KERAS else "no-such-backend"
            futures[case] = (pool.submit(subprocess.run, cmd, capture_output=True, text=True,
                                         timeout=240, cwd=cwd, env=env), cwd, before)
        for case, (fut, cwd, before) in futures.items():
            results[case] = (fut.result(), {p.name for p in cwd.iterdir()} - before)
    return results


@pytest.mark.parametrize("case, args, phrase", CASES, ids=[c[0] for c in CASES])
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


@pytest.mark.parametrize("case, flag, spec, name", KERAS_ACTS_WORDS, ids=[w[0] for w in
                                                                        KERAS_ACTS_WORDS])
def test_a_typo_is_reported_in_keras_acts_words(results, case, flag, spec, name):
    """The command checks names from the catalogue index before Keras starts; its sentence is
    the one ``keras_acts`` gives for the name (close matches included)."""
    import keras_acts

    with pytest.raises(ValueError) as words:
        keras_acts.info(name)
    assert f"keras-acts: error: {flag} {spec!r}: {words.value}" in results[case][0].stderr
