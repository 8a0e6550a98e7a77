"""Wall time of the installed ``keras-acts`` command for what needs no training: ``--help``,
``--version``, ``list``, ``list --params --all``, ``table`` -- and, for scale, ``import keras``
and ``import keras_acts`` on the machine's default backend. Medians of N fresh processes, run
from a temporary folder; writes ``benchmarks/results/cli-startup.md``.

    python benchmarks/cli_startup.py [--repeats 7]
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.grid_summary import cpu_name  # noqa: E402
from keras_acts.docs import markdown_table  # noqa: E402

COMMANDS = [["--help"], ["--version"], ["list"], ["list", "--params", "--all"], ["table"]]


def median_seconds(cmd, repeats, cwd, env) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        subprocess.run(cmd, cwd=cwd, env=env, check=True, capture_output=True)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/cli-startup.md")
    args = p.parse_args(argv)
    exe = shutil.which("keras-acts")
    if exe is None:
        raise SystemExit("keras-acts is not installed (pip install -e .)")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    backend = env.get("KERAS_BACKEND", "tensorflow")
    rows = []
    with tempfile.TemporaryDirectory() as cwd:
        for argv_ in COMMANDS:
            rows.append([f"`keras-acts {' '.join(argv_)}`",
                         f"{median_seconds([exe, *argv_], args.repeats, cwd, env):.2f}"])
        for mod in ("keras", "keras_acts"):
            secs = median_seconds([sys.executable, "-c", f"import {mod}"], 3, cwd, env)
            rows.append([f"`python -c 'import {mod}'` ({backend})", f"{secs:.2f}"])
    text = (f"# `keras-acts` start-up without training\n\n{time.strftime('%Y-%m-%d')}, {cpu_name()}, "
            f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}; medians of "
            f"{args.repeats} fresh processes (imports: 3), run from an empty folder.\n\n"
            + markdown_table(["command", "seconds"], rows))
    args.out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
