"""Summarise a finished ``recipes.compare`` output folder for ``benchmarks/results/``: the
results table with verdicts, and per run the per-epoch curves (train loss, train and test
accuracy, seconds per epoch) and phase times, with the machine, backend, versions, date,
load and the keras.io MNIST convnet's epoch time measured in the same session beside them.

    python benchmarks/grid_summary.py runs/cifar10-cnn --yardstick 5.1 \\
        --out benchmarks/results/cifar10-cnn-cpu-tensorflow.md --title "CIFAR-10 cnn recipe"
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def cpu_name():
    try:
        return next(ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo")
                    if ln.startswith("model name"))
    except (OSError, StopIteration):
        return "unknown CPU"


def summarize(out: Path, title: str, yardstick: float | None, note: str | None,
              papers: bool = False) -> str:
    from keras_acts.docs import markdown_table
    from recipes.report import load_runs, results_table, rounds_table, verdict_lines

    results = json.loads((out / "results.json").read_text())
    config = json.loads((out / "config.json").read_text())
    plan = config.get("plan", {})  # recipes.plan.RunPlan, as the grid recorded it
    runs = load_runs(out)
    first = next(iter(runs.values()))[0]
    lines = [f"# {title}", "",
             f"{time.strftime('%Y-%m-%d')}, {cpu_name()}, {os.cpu_count()} cores; backend "
             f"{first.get('backend')}, Keras {first.get('keras_version')}; "
             f"{config.get('n_train')} training / {config.get('n_test')} test images from "
             f"{config.get('data_source')}; jit_compile={plan.get('jit_compile')}, "
             f"steps_per_execution={plan.get('steps_per_execution')}, "
             f"{plan.get('dtype_policy')}"
             + (f" (BatchNorm + activations {plan['elementwise_dtype']})"
                if plan.get("elementwise_dtype") else "") + "."]
    if yardstick:
        lines.append(f"Yardstick: the keras.io \"simple MNIST convnet\" took a median "
                     f"{yardstick:.1f} s per epoch on this machine in this session (the "
                     "issue's targets assume ≈ 5.5 s).")
    if note:
        lines += ["", note]
    lines += ["", "## Results", "", results_table(results["rows"])]
    lines += [f"- {v}" for v in verdict_lines(results["rows"])]
    seq = results.get("sequential")
    if seq and seq.get("rounds"):  # --seeds auto
        lines += ["", "## Rounds (`--seeds auto`)", "",
                  f"Looks at {', '.join(map(str, seq['looks']))} seeds; {seq['method']}.", "",
                  rounds_table(seq["rounds"])]
    if papers:
        from benchmarks.published import compare

        lines += ["", "## Against the published CIFAR-10 comparisons", "",
                  compare(results["rows"])]
    lines += ["", "## Runs", ""]
    rows = []
    for name, recs in runs.items():
        for r in recs:
            m = r["metrics"]
            ph = r.get("phase_seconds", {})
            rows.append([f"`{name}`", r["seed"],
                         f"{100 * m['test_accuracy']:.2f}" if m.get("test_accuracy") is not None
                         else f"{m.get('test_rmse', float('nan')):.4f}",
                         f"{r['wall_seconds']:.0f}", f"{sum(r['history']['train_seconds']):.0f}",
                         f"{ph.get('fit', 0):.0f}", f"{ph.get('evaluate', 0):.1f}",
                         f"{r['history']['epoch_seconds'][0]:.0f}",
                         f"{sorted(r['history']['train_seconds'])[len(r['history']['train_seconds']) // 2]:.1f}",
                         "yes" if m.get("diverged") else ""])
    lines.append(markdown_table(
        ["activation", "seed", "test acc. (%)", "wall (s)", "training (s)", "fit incl. val (s)",
         "final eval + TTA (s)", "1st epoch (s)", "median epoch (s)", "diverged"], rows))
    lines += ["", "## Per-epoch curves", ""]
    for name, recs in runs.items():
        for r in recs:
            h = r["history"]
            n = len(h.get("loss", []))
            acc = h.get("accuracy") or [None] * n
            val = h.get("val_accuracy") or [None] * n
            lines.append(f"`{name}` seed {r['seed']}:\n")
            lines.append(markdown_table(
                ["epoch", "train loss", "train acc. (%)", "test acc. (%) (no TTA)", "epoch (s)"],
                [[i + 1, f"{h['loss'][i]:.4f}", "–" if acc[i] is None else f"{100 * acc[i]:.2f}",
                  "–" if val[i] is None else f"{100 * val[i]:.2f}",
                  f"{h['train_seconds'][i]:.1f}"] for i in range(n)]))
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out_dir")
    p.add_argument("--title", default="Activation grid")
    p.add_argument("--yardstick", type=float, default=None,
                   help="keras.io MNIST convnet median epoch seconds, same machine and session")
    p.add_argument("--note", default=None)
    p.add_argument("--papers", action="store_true",
                   help="add the comparison with the GELU and Mish papers (benchmarks/published.py)")
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    text = summarize(Path(args.out_dir), args.title, args.yardstick, args.note, args.papers)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
