"""Results of a grid: one row per activation from the finished run records (mean and 95 %
interval over seeds, paired verdicts against the baseline), written as ``results.csv``,
``results.json`` and ``results.md``, then ``report.md``."""
from __future__ import annotations

import csv
import io
import math
import sys
from pathlib import Path

import numpy as np

from .runs import GridError, load_run, run_path, write_atomic, write_json
from .stats import compare_to_baseline, mean_ci95

__all__ = ["RESULT_COLUMNS", "METRICS", "PRIMARY", "aggregate", "baseline_of", "finalize"]

#: test metrics averaged per task, and the one verdicts are drawn on (higher is better?)
METRICS = {"classification": ("test_accuracy", "macro_f1", "test_loss"),
           "regression": ("test_rmse", "test_mae", "test_loss")}
PRIMARY = {"classification": ("test_accuracy", True), "regression": ("test_rmse", False)}

RESULT_COLUMNS = [
    "activation", "test_accuracy_mean", "test_accuracy_ci95", "test_accuracy_std",
    "test_rmse_mean", "test_rmse_ci95", "test_rmse_std", "test_mae_mean", "test_mae_ci95",
    "macro_f1_mean", "macro_f1_ci95", "test_loss_mean", "test_loss_ci95",
    "epochs_to_99pct", "train_seconds_per_epoch", "latency_ms_per_batch256",
    "latency_ms_per_sample", "params", "seeds", "diverged_runs", "replicas",
    # paired by seed against the baseline activation (recipes.stats; Holm over the grid) on
    # test accuracy (classification) or test RMSE (regression), and on test loss
    "baseline", "paired_seeds", "delta_vs_baseline_mean", "delta_vs_baseline_ci95", "p_value",
    "p_value_holm", "verdict", "seeds_needed",
    "loss_delta_vs_baseline_mean", "loss_delta_vs_baseline_ci95", "loss_p_value",
    "loss_p_value_holm", "loss_verdict",
]


def aggregate(cfg) -> list[dict]:
    """One row per activation from the finished runs of the grid in ``cfg``."""
    from .models import display_name, slug

    out = Path(cfg.out)
    rows = []
    primary, _ = PRIMARY[cfg.task]
    per_seed = {primary: {}, "test_loss": {}}
    for a in cfg.activations:
        name = display_name(a)
        recs = [r for seed in cfg.seed_list if (r := load_run(run_path(out, slug(name), seed)))]
        if not recs:
            continue
        ms = [r["metrics"] for r in recs]

        def col(k):
            return [m.get(k) for m in ms if m.get(k) is not None]

        row = {"activation": name}
        for k in METRICS[cfg.task]:
            row[f"{k}_mean"], row[f"{k}_ci95"] = mean_ci95(col(k))
        acc = np.asarray(col(primary), np.float64)
        row[f"{primary}_std"] = float(acc.std(ddof=1)) if acc.size > 1 else math.nan
        for k in ("epochs_to_99pct", "train_seconds_per_epoch", "latency_ms_per_batch256",
                  "latency_ms_per_sample"):
            v = col(k)
            row[k] = float(np.mean(v)) if v else math.nan
        row["params"] = int(ms[0]["params"])
        row["seeds"] = len(recs)
        row["diverged_runs"] = int(sum(bool(m.get("diverged")) for m in ms))
        row["replicas"] = max(int(r.get("replicas", 1)) for r in recs)  # devices per run
        for metric in per_seed:
            per_seed[metric][name] = {r["seed"]: float(r["metrics"][metric]) for r in recs
                                      if r["metrics"].get(metric) is not None
                                      and math.isfinite(r["metrics"][metric])}
        rows.append(row)
    _add_verdicts(rows, per_seed, baseline_of(cfg, [r["activation"] for r in rows]),
                  cfg.task)
    sign = -1.0 if PRIMARY[cfg.task][1] else 1.0
    rows.sort(key=lambda r: sign * r[f"{primary}_mean"] if math.isfinite(r[f"{primary}_mean"])
              else math.inf)
    return rows


def baseline_of(cfg, names: list[str]) -> str | None:
    """``--baseline`` (its display name), else relu when in the grid, else the first."""
    from .models import display_name

    if not names:
        return None
    want = cfg.baseline
    if want:
        want = display_name(want)
        if want not in names:
            raise GridError(f"--baseline {cfg.baseline!r} has no finished runs in this grid "
                            f"({', '.join(names)})")
        return want
    return "relu" if "relu" in names else names[0]


def _add_verdicts(rows, per_seed, baseline, task="classification"):
    if baseline is None:
        return
    primary, higher_better = PRIMARY[task]
    for metric, prefix, higher in ((primary, "", higher_better), ("test_loss", "loss_", False)):
        vals = {a: v for a, v in per_seed[metric].items()}
        if baseline not in vals or not vals[baseline]:
            continue
        res = compare_to_baseline(vals, baseline, higher_is_better=higher)
        for row in rows:
            r = res.get(row["activation"])
            if r is None:
                continue
            row[f"{prefix}delta_vs_baseline_mean"] = r["delta_mean"]
            row[f"{prefix}delta_vs_baseline_ci95"] = r["delta_ci95"]
            row[f"{prefix}p_value"] = r["p_value"]
            row[f"{prefix}p_value_holm"] = r["p_value_holm"]
            row[f"{prefix}verdict"] = r["verdict"]
            if metric == primary:
                row["baseline"] = baseline
                row["paired_seeds"] = r["paired_seeds"]
                row["seeds_needed"] = r["seeds_needed"]
                row["verdict_note"] = r["why"]


def _csv_value(v):
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return ""
    if isinstance(v, float):
        return f"{v:.6g}"
    return v


def finalize(cfg, stream=None) -> list[dict]:
    """Write results.csv/json/md, learning curves and (if available) report.md; print the table."""
    stream = stream or sys.stdout
    out = Path(cfg.out)
    rows = aggregate(cfg)
    if not rows:
        return rows
    with_cols = RESULT_COLUMNS
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=with_cols, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: _csv_value(r.get(k)) for k in with_cols})
    write_atomic(out / "results.csv", buf.getvalue())
    meta = {k: cfg[k] for k in ("dataset", "model", "model_options", "epochs", "batch_size",
                                   "lr", "optimizer", "schedule", "preset", "backend",
                                   "train_subset", "test_subset", "val_split", "variant")}
    write_json(out / "results.json", {
        "columns": with_cols, "rows": rows, "config": meta,
        "confidence": "95 % t-interval half-width over seeds",
        "paired": "delta_* = activation minus baseline, paired by seed; p_value: two-sided "
                  "paired t-test; p_value_holm: Holm over the grid's non-baseline activations; "
                  "verdict at alpha 0.05; seeds_needed: 80 % power at the observed difference"})
    opts = ", ".join(f"{k}={v}" for k, v in cfg.model_options.items())
    seen = _read_config(out)
    sizes = (f"{seen['n_train']} training / {seen['n_test']} test images, "
             if seen.get("n_train") else "")
    title = (f"# {cfg.dataset} / {cfg.model}: activation comparison\n\n"
             f"Model `{cfg.model}` ({opts}); {sizes}"
             f"{cfg.epochs} epochs, batch {cfg.batch_size}, {cfg.optimizer} lr {cfg.lr} "
             f"({cfg.schedule}), backend {cfg.backend}; mean ± 95 % CI (t-distribution) over "
             "seeds (no CI with one seed). Sorted by test accuracy.\n\n")
    names = {r["activation"].split(":")[0] for r in rows}
    notes = "\n"
    if names & {"binary_step", "binary_step_ste"}:
        notes += ("`binary_step_ste` is the binary step with a straight-through gradient (the "
                  "plain `binary_step` has zero gradient, so only the output layer trains).\n")
    if "softmax" in names:
        notes += ("`softmax` as a hidden activation normalises across a layer's units: legal, "
                  "but unusual.\n")
    notes += ("epochs to 99 %: first epoch whose test (or --val-split holdout) accuracy reaches "
             "99 % of the final one. s/epoch: training only, first (compiling) epoch excluded. "
             "Latency: median `predict_on_batch` time.\n")
    from .report import results_table, verdict_lines, write_report

    md = results_table(rows)
    write_atomic(out / "results.md", title + md + notes)
    try:
        write_report(str(out))
    except Exception as e:  # the report is a bonus; never lose the results over it
        print(f"note: report.md not written ({type(e).__name__}: {e})", file=stream)
    print("\n" + md, file=stream)
    for line in verdict_lines(rows):
        print(line, file=stream)
    print(f"results: {out / 'results.md'} (also .csv, .json)", file=stream)
    return rows


def _read_config(out: Path) -> dict:
    """The grid's ``config.json`` (with what the run found: data sizes, chosen settings)."""
    import json

    try:
        return json.loads((Path(out) / "config.json").read_text())
    except (OSError, ValueError):
        return {}
