"""Compare activation functions: ``python -m recipes.compare`` (or ``keras-acts compare``).

Trains one model per (activation, seed) on the same data and reports, per activation, the
mean and 95 % confidence interval over seeds of test accuracy, macro-F1 and test loss, plus
convergence speed, training time, inference latency and parameter count.

    python -m recipes.compare --preset quick                 # 2-3 min on a 2-core CPU
    python -m recipes.compare --dataset cifar10 --model resnet --activations relu,gelu,prelu
    python -m recipes.compare --preset standard --resume     # continue a killed grid

Outputs (``--out``, default ``runs/<dataset>-<model>``):

``config.json``               the resolved configuration of the grid
``runs/<act>-seed<k>.json``   one per finished run (written atomically): ``history`` (per
                              epoch: loss, accuracy, val_loss, val_accuracy, epoch_seconds,
                              train_seconds), ``metrics``, ``diagnostics`` (the
                              ``keras_acts.diagnostics.GradientFlow`` history, or null),
                              ``model_path`` and run metadata
``results.csv|json|md``       one row per activation (``RESULT_COLUMNS``); CIs are blank /
                              null with one seed
``report.md``                 ``recipes.report.write_report``: verdicts, forest plot, tables,
                              learning curves with bands, diagnostics (figures in
                              ``report_files/``; needs matplotlib for the figures)

Saved models: ``<models-dir>/<dataset>-<model>/<act>-seed<k>.keras`` (default
``<out>/saved_models``; the run record's ``model_path`` is absolute); ``keras.saving.load_model`` opens them
after ``import keras_acts``.

Validation: the per-epoch curves (and ``epochs_to_99pct``) use the test set unless
``--val-split`` holds out part of the training set; nothing is selected on them (the
reported metrics are those of the last epoch), so the test set is not tuned on.
"""
from __future__ import annotations

import json
import math
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from .config import (AIRBENCH, CLASSIC12, DATASET_RECIPES, DEFAULTS, PRESETS, QUICK,  # noqa: F401
                     RECIPES, VARIANTS, Config, build_parser, resolve_config)
from .inputs import prepare_arrays, prepare_data  # noqa: F401
from .results import RESULT_COLUMNS, aggregate, design_of, finalize, sequential_state  # noqa: F401
from .runs import RESULT_KEYS, GridError, config_key, json_default, load_run, run_path, write_json
from .stats import mean_ci95  # noqa: F401
from .metrics import epochs_to_fraction, macro_f1, predict_proba  # noqa: F401
from .train import one_cycle, train_one  # noqa: F401

__all__ = ["PRESETS", "CLASSIC12", "QUICK", "RESULT_COLUMNS", "build_parser", "resolve_config",
           "run_grid", "aggregate", "finalize", "train_one", "main", "mean_ci95"]


def _fmt_time(s: float) -> str:
    s = int(round(s))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def _check_out_dir(cfg: Config, out: Path):
    runs = sorted((out / "runs").glob("*.json")) if (out / "runs").is_dir() else []
    finished = [p for p in runs if load_run(p)]
    if cfg.overwrite:
        for p in runs:
            p.unlink()
        for name in ("results.csv", "results.json", "results.md", "config.json", "report.md"):
            (out / name).unlink(missing_ok=True)
        return
    if finished and not cfg.resume:
        raise GridError(
            f"{out} already holds {len(finished)} finished runs. Pass --resume to continue "
            "that grid (finished runs are skipped), --overwrite to start again, or another --out.")
    if cfg.resume and (out / "config.json").is_file():
        try:
            old = json.loads((out / "config.json").read_text())
        except ValueError:
            old = {}
        if old.get("config_key") and old["config_key"] != config_key(cfg):
            diff = [k for k in RESULT_KEYS
                    if json.dumps(old.get(k), sort_keys=True, default=json_default)
                    != json.dumps(cfg[k], sort_keys=True, default=json_default)]
            raise GridError(
                f"--resume: {out} was made with different settings ({', '.join(diff)}); "
                "its runs are not comparable. Use --overwrite or another --out.")


def run_grid(cfg: Config, data: dict | None = None, placement=None, stream=None) -> dict:
    """Run (or resume) the grid in ``cfg`` (a ``Config``, or a mapping of its fields); write
    per-run files and the results.

    Returns ``{"ran": [(act, seed), ...], "skipped": [...], "rows": [...], "out": path,
    "plan": RunPlan}``. ``data`` (from ``prepare_data``) and ``placement`` are created when
    not given.
    """
    from .board import Board
    from .models import display_name, parse_activation, slug
    from .plan import enable_determinism, plan_runs

    cfg = cfg if isinstance(cfg, Config) else Config.from_mapping(cfg)
    stream = stream or sys.stdout
    out = Path(cfg.out)
    _check_out_dir(cfg, out)
    specs = []
    for a in cfg.activations:
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            try:
                spec = parse_activation(a)  # fail early on a typo
            except (ValueError, TypeError) as e:
                raise GridError(f"--activations {a!r}: {e}") from e
        for msg in w:
            print(f"note: {msg.message}", file=stream)
        if spec.name.split(":")[0] == "softmax":
            print("note: softmax as a hidden activation normalises across a layer's units "
                  "(legal, unusual; expect it to train poorly)", file=stream)
        specs.append((a, slug(spec.name)))
    if len({s for _, s in specs}) != len(specs):
        raise GridError("two activations map to the same file name; rename one")
    if cfg.baseline:  # before any training, not when the results are written
        try:
            base = slug(display_name(cfg.baseline))
        except (ValueError, TypeError) as e:
            raise GridError(f"--baseline {cfg.baseline!r}: {e}") from e
        if base not in {s for _, s in specs}:
            raise GridError(f"--baseline {cfg.baseline!r} is not in the grid "
                            f"({', '.join(cfg.activations)}): add it to --activations")
    if placement is None:
        from .devices import join_processes, setup, split_host_cpu

        join_processes(cfg.coordinator, cfg.num_processes, cfg.process_id, cfg.backend)
        split_host_cpu(cfg.cpu_devices, cfg.backend)
        placement = setup(cfg.device)
    grid = [(a, s, seed) for seed in cfg.seed_list for a, s in specs]
    done = {(a, seed): rec for a, s, seed in grid
            if cfg.resume and (rec := load_run(run_path(out, s, seed)))}
    plan = plan_runs(cfg, placement)  # decided once; every run trains as it says
    _check_same_precision(cfg, done.values(), plan)
    enable_determinism(plan)
    if data is None:
        data = prepare_data(cfg)
    sites = preflight(cfg, data, stream)
    if cfg.dry_run:
        return {"ran": [], "skipped": [], "rows": [], "out": str(out), "sites": sites,
                "plan": plan}

    # the settings, and beside them what this run of the grid found and planned
    cfg_out = {k: v for k, v in cfg.items() if k not in ("resume", "overwrite")}
    cfg_out.update(config_key=config_key(cfg), data_source=data["source"],
                   n_train=len(data["x_train"]), n_test=len(data["x_test"]),
                   plan=plan.as_dict())
    write_json(out / "config.json", cfg_out)
    print(f"data: {cfg.dataset} {len(data['x_train'])} train / {len(data['x_test'])} test "
          f"from {data['source']} | backend {cfg.backend} | {plan.device} | "
          f"jit_compile={plan.jit_compile}, steps_per_execution={plan.steps_per_execution}, "
          f"feed={plan.feed}, {plan.dtype_policy}"
          + (f" (BatchNorm + activations {plan.elementwise_dtype})"
             if plan.elementwise_dtype else ""), file=stream)

    board = Board(cfg, [display_name(a) for a, _ in specs], stream)
    for rec in done.values():  # a resumed grid's finished runs: their event files if missing
        board.run(rec, only_if_missing=True)
    design = design_of(cfg)
    seeds = (f"--seeds auto: rounds at {', '.join(map(str, design.looks))} seeds until "
             "settled" if design else f"{len(cfg.seed_list)} seeds = {len(grid)} runs")
    print(f"grid: {len(specs)} activations x {seeds} ({len(done)} already finished), "
          f"{cfg.epochs} epochs each"
          + (f", budget {_fmt_time(cfg.budget)}" if cfg.budget else ""), file=stream)
    from tqdm.auto import tqdm

    from .engine import local_runs, ray_runs

    t_start = time.perf_counter()
    ran, skipped, stopped = [], sorted(done, key=str), None
    # the measured run times project whether the next run fits --budget
    times = [r["wall_seconds"] for r in done.values() if r.get("wall_seconds")]
    try:
        while pending := _next_runs(cfg, specs, grid, design):
            total = len(done) + len(ran) + len(pending)
            bar = tqdm(total=total, initial=total - len(pending), file=stream, unit="run",
                       leave=False, dynamic_ncols=True,
                       disable=cfg.quiet or not getattr(stream, "isatty", lambda: False)())
            w = len(str(total))
            if cfg.engine == "ray":
                finished = ray_runs(cfg, plan, pending, data, stream)
                bar.set_postfix_str(f"{len(pending)} runs as Ray tasks")
            else:
                # (train_one as this module sees it: tests interrupt a grid by replacing it)
                finished = local_runs(cfg, plan, pending, data, placement, train_one)
            while True:
                elapsed = time.perf_counter() - t_start  # (a disabled bar keeps no clock)
                if cfg.budget and times and elapsed + float(np.median(times)) > cfg.budget:
                    stopped = "budget"
                    break
                try:
                    a, seed, rec = next(finished)
                except StopIteration:
                    break
                ran.append((a, seed))
                times.append(rec["wall_seconds"])
                bar.update()
                board.run(rec)
                m = rec["metrics"]
                key = "test_rmse" if cfg.task == "regression" else "test_accuracy"
                elapsed = time.perf_counter() - t_start
                left = (total - len(done) - len(ran)) * float(np.median(times))
                bar.write(f"[{len(done) + len(ran):{w}d}/{total}] {a} seed {seed}  "
                          f"{key[5:]} {m[key]:.4f}  loss {m['test_loss']:.4f}  "
                          f"{rec['wall_seconds']:.1f} s" + ("  (diverged)" if m["diverged"] else "")
                          + f" | elapsed {_fmt_time(elapsed)} | ETA {_fmt_time(left)}",
                          file=stream)
            bar.close()
            if stopped:
                print(f"budget: {_fmt_time(time.perf_counter() - t_start)} spent; the next run "
                      f"(~{_fmt_time(float(np.median(times)))}) would end after "
                      f"--budget {_fmt_time(cfg.budget)}. Rerun with --resume (and a budget) "
                      "to go on.", file=stream)
                break
            if design is None:
                break
            for line in round_lines(cfg, design):
                print(line, file=stream)
    except KeyboardInterrupt:
        print(f"\ninterrupted: {len(done) + len(ran)} runs are saved in {out / 'runs'}; rerun "
              "with --resume to finish.", file=stream)
        finalize(cfg, stream=stream)
        raise
    rows = finalize(cfg, stream=stream, stopped=stopped)
    if board.dir:
        print(f"TensorBoard: tensorboard --logdir {board.dir}", file=stream)
    return {"ran": ran, "skipped": skipped, "rows": rows, "out": str(out), "plan": plan}


def _check_same_precision(cfg: Config, finished, plan) -> None:
    """--resume on another machine: ``--mixed-precision auto`` may resolve to another dtype
    policy there (bfloat16 where the CPU has it), and runs trained in two precisions are not
    comparable -- refuse before training. ``finished``: the grid's finished run records."""
    for rec in finished:
        if rec.get("dtype_policy", plan.dtype_policy) != plan.dtype_policy:
            raise GridError(
                f"--resume: {cfg.out}'s runs were trained with dtype policy "
                f"{rec['dtype_policy']}, this machine's plan is {plan.dtype_policy} "
                f"(--mixed-precision {cfg.mixed_precision}); their results are not "
                "comparable. Resume on a machine like the first, or use --overwrite or "
                "another --out.")


def _next_runs(cfg: Config, specs, grid, design) -> list:
    """The runs to train next, in seed order: every unfinished run of a fixed grid; with
    ``--seeds auto`` the next round (``sequential.plan_round``) -- all activations to the
    first look until each has it, then the open ones and the baseline to the next look."""
    from .models import display_name

    have = {(a, seed) for a, s, seed in grid if load_run(run_path(cfg.out, s, seed))}
    if design is None:
        return [(a, s, seed) for a, s, seed in grid if (a, seed) not in have]
    from .sequential import plan_round

    counts = {a: sum((a, seed) in have for seed in cfg.seed_list) for a, _ in specs}
    if min(counts.values()) < design.looks[0]:
        target = {a: design.looks[0] for a, _ in specs}
    else:
        decisions, _ = sequential_state(cfg)
        by_name = {display_name(a): a for a, _ in specs}
        target = {by_name[n]: k for n, k in plan_round(decisions, design).items()}
    first = cfg.seed_list[0]
    return [(a, s, seed) for a, s, seed in grid
            if seed - first < target.get(a, 0) and (a, seed) not in have]


def round_lines(cfg: Config, design) -> list[str]:
    """One line per activation after a ``--seeds auto`` round: its verdict so far against
    the baseline, its seeds and whether it goes on."""
    decisions, base = sequential_state(cfg)
    if not decisions:
        return []
    n = decisions[base]["n"]
    lines = [f"round {design.look_of(n)} ({n} seeds of {base}): sequential verdicts (Holm, "
             f"repeated looks):"]
    for a, r in decisions.items():
        if a == base:
            continue
        cp = (f", conditional power {r['conditional_power']:.0%}"
              if r["stop"] in ("open", "futile") and math.isfinite(r["conditional_power"]) else "")
        lines.append(f"  {a}: {r['verdict']} ({r['delta_mean'] * 100:+.2f} pp, p = "
                     f"{r['p_holm']:.2g}, {r['n']} seeds) -> {r['stop']}{cp}")
    return lines


def preflight(cfg: Config, data: dict, stream) -> list | None:
    """Before any training: the user's model must fit the data (one clear sentence if not);
    prints the activation sites a --model-file / --model-fn model has. Returns them."""
    from .models import load_model_fn, parse_activation
    from .train import keras_acts_load
    from .userdata import check_model_fits

    if not (cfg.model_file or cfg.model_fn):
        if cfg.dry_run:
            print(f"dry run: built-in model {cfg.model} ({dict(cfg.model_options)}); data "
                  f"{data['x_train'].shape[1:]} x {len(data['x_train'])} checked", file=stream)
        return None
    import keras_acts

    if cfg.model_file:
        where = f"--model-file {cfg.model_file}"
        try:
            model = keras_acts_load(cfg.model_file)
        except (OSError, ValueError, TypeError) as e:
            raise GridError(f"{where}: cannot load it ({type(e).__name__}: {e})") from None
    else:
        where = f"--model-fn {cfg.model_fn}"
        try:
            fn = load_model_fn(cfg.model_fn)
        except ValueError as e:
            raise GridError(str(e)) from None
        from .train import model_fn_activation

        model = fn(activation=model_fn_activation(parse_activation(cfg.activations[0])))
    check_model_fits(model, data, cfg.task, where)
    try:
        sites = keras_acts.activation_sites(model)
    except TypeError:
        sites = None  # a subclassed model from --model-fn: it takes activation= itself
    if sites is not None:
        print(f"{where}: {len(sites)} activation site(s) to swap:", file=stream)
        for site in sites:
            feeds = f" (re-initialises {site.feeds})" if site.feeds else ""
            print(f"  {site.layer}.{site.attribute}: {site.activation}{feeds}", file=stream)
        if not sites:
            print("  none: every hidden layer is linear, or only the output has an "
                  "activation", file=stream)
    return sites


def main(argv=None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    args = build_parser().parse_args(argv)
    cfg = resolve_config(args)
    t0 = time.perf_counter()
    try:
        run_grid(cfg)
    except GridError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as e:
        from .data import DataError
        from .devices import DeviceError

        if isinstance(e, (DataError, DeviceError)):
            print(f"error: {e}", file=sys.stderr)
            return 2
        raise
    print(f"total wall time {_fmt_time(time.perf_counter() - t0)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
