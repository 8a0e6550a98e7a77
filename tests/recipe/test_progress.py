"""Progress inside a run, as a user at a terminal sees it: the installed ``keras-acts compare``
under a pseudo-terminal shows one bar per run advancing per epoch; ``--quiet`` shows none.
(What is drawn does not depend on the backend: this runs under the fastest to import, torch,
and is skipped on the others. Output to a pipe, which shows no bar either, is checked on the
installed wheel's ``compare`` in test_wheel.)"""
from __future__ import annotations

import fcntl
import os
import pty
import shutil
import struct
import termios

import keras
import numpy as np
import pytest

if keras.backend.backend() != "torch":
    pytest.skip("backend-independent terminal output: tested under torch",
                allow_module_level=True)


@pytest.fixture(scope="module")
def command(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("progress")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((300, 8)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    np.savez(tmp / "d.npz", x_train=x[:200], y_train=y[:200], x_test=x[200:], y_test=y[200:])
    exe = shutil.which("keras-acts")
    assert exe, "the keras-acts command is not on PATH: install the package (README)"
    return [exe, "compare", "--data", str(tmp / "d.npz"), "--activations", "relu",
            "--seeds", "1", "--epochs", "4", "--model", "mlp", "--model-option", "width=8",
            "--no-save-models", "--no-diagnostics", "--overwrite", "--out", str(tmp / "out")]


def _env():
    return {**os.environ, "KERAS_BACKEND": "torch", "CUDA_VISIBLE_DEVICES": ""}


def _in_terminal(cmd) -> str:
    """Everything ``cmd`` writes to a 120x30 pseudo-terminal (stdout and stderr)."""
    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover (the child)
        os.execvpe(cmd[0], cmd, _env())
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 120, 0, 0))
    out = b""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, out.decode(errors="replace")[-3000:]
    return out.decode(errors="replace")


def test_a_bar_per_run_at_a_terminal_none_under_quiet(command):
    shown = _in_terminal(command)
    # (the bar is redrawn at most every 0.1 s and cleared at the run's end: which counts show
    # depends on the speed, the bar itself does not)
    assert "relu seed 0:" in shown and "/4 [" in shown and "epoch/s" in shown, shown[-2000:]
    assert "| 1 | `relu` |" in shown  # the results table follows
    quiet = _in_terminal([*command, "--quiet"])
    assert "epoch/s" not in quiet and "| 1 | `relu` |" in quiet
