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

__all__ = ["RESULT_COLUMNS", "METRICS", "PRIMARY", "aggregate", "baseline_of", "finalize",
           "per_seed_values", "design_of", "sequential_state"]

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
    # --seeds auto (recipes.sequential): the repeated p-value and why the seeds stopped
    "p_repeated", "stop",
]


def aggregate(cfg, stopped: str | None = None) -> list[dict]:
    """One row per activation from the finished runs of the grid in ``cfg``. ``stopped``:
    why a ``--seeds auto`` grid ended with activations still open ("budget"; None: it was
    interrupted, and they stay "open")."""
    rows = []
    primary, _ = PRIMARY[cfg.task]
    per_seed = {primary: {}, "test_loss": {}}
    for name, recs in _records(cfg).items():
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
            per_seed[metric][name] = _values(recs, metric)
        rows.append(row)
    _add_verdicts(rows, per_seed, baseline_of(cfg, [r["activation"] for r in rows]),
                  cfg.task, design_of(cfg))
    for row in rows:
        if row.get("stop") == "open" and stopped:
            row["stop"] = stopped
    sign = -1.0 if PRIMARY[cfg.task][1] else 1.0
    rows.sort(key=lambda r: sign * r[f"{primary}_mean"] if math.isfinite(r[f"{primary}_mean"])
              else math.inf)
    return rows


def _records(cfg) -> dict[str, list[dict]]:
    """Display name -> the grid's finished run records (seed order); activations without any
    are left out."""
    from .models import display_name, slug

    out = Path(cfg.out)
    found = {}
    for a in cfg.activations:
        name = display_name(a)
        recs = [r for seed in cfg.seed_list if (r := load_run(run_path(out, slug(name), seed)))]
        if recs:
            found[name] = recs
    return found


def _values(recs, metric) -> dict[int, float]:
    return {r["seed"]: float(r["metrics"][metric]) for r in recs
            if r["metrics"].get(metric) is not None and math.isfinite(r["metrics"][metric])}


def per_seed_values(cfg, metric: str | None = None) -> dict[str, dict[int, float]]:
    """Display name -> {seed: value} of ``metric`` (default: the task's primary one) over
    the grid's finished runs."""
    metric = metric or PRIMARY[cfg.task][0]
    return {name: _values(recs, metric) for name, recs in _records(cfg).items()}


def design_of(cfg):
    """The group-sequential design of a ``--seeds auto`` grid (None for fixed seeds)."""
    if not cfg.seeds_auto:
        return None
    from .sequential import Design

    return Design.rounds(max_seeds=cfg.max_seeds)


def sequential_state(cfg) -> tuple[dict, str | None]:
    """A ``--seeds auto`` grid's decisions now (``sequential.decide`` on the finished runs'
    primary metric) and its baseline; ({}, None) before any run finished."""
    from .sequential import decide

    vals = per_seed_values(cfg)
    base = baseline_of(cfg, list(vals))
    if base is None or not vals.get(base):
        return {}, base
    return decide(vals, base, design_of(cfg), higher_is_better=PRIMARY[cfg.task][1]), base


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


def _add_verdicts(rows, per_seed, baseline, task="classification", design=None):
    """Paired verdicts against ``baseline``; with a ``design`` (``--seeds auto``) the
    p-values are the group-sequential ones (``sequential.decide``): the seeds were added
    after looking, so the fixed-sample p-values would be optimistic."""
    if baseline is None:
        return
    primary, higher_better = PRIMARY[task]
    for metric, prefix, higher in ((primary, "", higher_better), ("test_loss", "loss_", False)):
        vals = {a: v for a, v in per_seed[metric].items()}
        if baseline not in vals or not vals[baseline]:
            continue
        res = compare_to_baseline(vals, baseline, higher_is_better=higher)
        if design is not None:
            from .sequential import decide

            seq = decide(vals, baseline, design, higher_is_better=higher)
            for a, r in res.items():
                if a != baseline:
                    r.update(p_value=seq[a]["p_nominal"], p_value_holm=seq[a]["p_holm"],
                             verdict=seq[a]["verdict"], seeds_needed=None,
                             p_repeated=seq[a]["p_repeated"], stop=seq[a]["stop"])
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
                if design is not None and "stop" in r:
                    row["p_repeated"], row["stop"] = r["p_repeated"], r["stop"]


def _csv_value(v):
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return ""
    if isinstance(v, float):
        return f"{v:.6g}"
    return v


def finalize(cfg, stream=None, stopped: str | None = None) -> list[dict]:
    """Write results.csv/json/md, learning curves and (if available) report.md; print the
    table. ``stopped``: see ``aggregate``."""
    stream = stream or sys.stdout
    out = Path(cfg.out)
    rows = aggregate(cfg, stopped)
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
                  "verdict at alpha 0.05; seeds_needed: 80 % power at the observed difference",
        **_rounds(cfg)})
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


def _rounds(cfg) -> dict:
    """results.json's ``--seeds auto`` part: the design and each round's decisions."""
    design = design_of(cfg)
    if design is None:
        return {}
    from .sequential import history

    vals = per_seed_values(cfg)
    base = baseline_of(cfg, list(vals))
    keep = ("n", "delta_mean", "p_repeated", "p_holm", "verdict", "stop")
    rounds = [{"seeds": h["seeds"],
               "decisions": {a: {k: d[k] for k in keep} for a, d in h["decisions"].items()}}
              for h in (history(vals, base, design, higher_is_better=PRIMARY[cfg.task][1])
                        if base and vals.get(base) else [])]
    return {"sequential": {
        "looks": list(design.looks), "alpha": design.alpha, "futility": design.futility,
        "method": "group-sequential paired t-tests: repeated p-value = G(min over looks of "
                  "the nominal p), G the simulated null distribution of that minimum over "
                  "the design's looks (Pocock-type); Holm over the activations at each look",
        "rounds": rounds}}


def _read_config(out: Path) -> dict:
    """The grid's ``config.json`` (with what the run found: data sizes, chosen settings)."""
    import json

    try:
        return json.loads((Path(out) / "config.json").read_text())
    except (OSError, ValueError):
        return {}
