"""``report.md`` for an activation-comparison output directory (``recipes.compare --out``).

``write_report(out_dir)`` reads what ``recipes.compare`` wrote there (``results.json``,
``config.json``, ``runs/<activation>-seed<k>.json`` with per-epoch ``history`` and the
``keras_acts.diagnostics.GradientFlow`` history under ``diagnostics``)
and writes ``report.md`` next to them with

* a verdict per activation against the baseline (paired by seed, Holm-corrected:
  ``recipes.stats``) and a forest plot of the differences,
* the results table (mean ± 95 % CI over seeds) -- ``results_table`` is the one Markdown
  table builder of the recipes (``recipes.compare`` writes ``results.md`` with it),
* learning curves drawn from the run histories: mean over seeds with a min-max band,
* gradient flow: kernel-gradient norm per layer per activation, before and after training,
  and the first/last-layer ratio,
* dead and saturated units per activation (definitions in ``keras_acts.diagnostics``),
* the activation gallery (f and f') and properties of the activations compared
  (``keras_acts.plot``).

Figures go to ``report_files/`` and are embedded by relative path; every link in the report
points to a file that exists; an activation has the same colour in every figure. Without
matplotlib the report has the tables only.

    python -m recipes.report runs/mnist-mlp          # (re)write the report of a finished grid
"""
from __future__ import annotations

import json
import math
import os
import sys
from pathlib import Path

import numpy as np

__all__ = ["write_report", "load_runs", "diagnostics_summary", "results_table",
           "verdict_lines", "FIGURES"]

FIGURES = "report_files"


# ----------------------------------------------------------------------------- reading
def _read_json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def load_runs(out_dir) -> dict[str, list[dict]]:
    """activation display name -> its finished run records (seed order); the same test of
    "finished" as ``--resume`` (``recipes.runs.load_run``)."""
    from .runs import load_run

    runs: dict[str, list[dict]] = {}
    folder = Path(out_dir) / "runs"
    for p in sorted(folder.glob("*.json")) if folder.is_dir() else ():
        rec = load_run(p)
        if rec is None:
            continue
        name = rec.get("activation") or p.stem.rsplit("-seed", 1)[0]
        runs.setdefault(name, []).append(rec)
    for recs in runs.values():
        recs.sort(key=lambda r: r.get("seed", 0))
    return runs


def _order(results, runs) -> list[str]:
    names = [r["activation"] for r in (results or {}).get("rows", []) if r.get("activation") in runs]
    return names + [n for n in runs if n not in names]


def _mean(values):
    v = [float(x) for x in values if x is not None and math.isfinite(float(x))]
    return float(np.mean(v)) if v else None


def diagnostics_summary(recs: list[dict]) -> dict | None:
    """Mean over seeds of the GradientFlow summary before (first record) and after training
    (last record): grad-norm ratio first/last layer, dead and saturated fractions, and the
    per-layer kernel-gradient norms."""
    from keras_acts.diagnostics import summarize

    hists = [r.get("diagnostics") for r in recs]
    hists = [h for h in hists if isinstance(h, dict) and h.get("epoch")]
    if not hists:
        return None
    out = {"seeds": len(hists), "epochs": [h["epoch"][-1] for h in hists]}
    for tag, idx in (("start", 0), ("end", -1)):
        ss = [summarize(h, idx) for h in hists]
        for key in ("grad_norm_ratio", "dead_fraction", "saturated_fraction", "loss"):
            out[f"{key}_{tag}"] = _mean(s[key] for s in ss)
        out[f"epoch_{tag}"] = ss[0]["epoch"]
        layers = []
        for h in hists:
            names = h["layers"]["kernel"]
            layers.append([h["grad_norm"][n][idx] for n in names])
        depth = min(len(x) for x in layers)
        out[f"grad_norm_{tag}"] = [_mean(x[i] for x in layers) for i in range(depth)]
    out["time_s"] = _mean(t for h in hists for e, t in zip(h["epoch"], h["time_s"]) if e > 0)
    return out


# ----------------------------------------------------------------------------- figures
def _figure(width, height):
    from keras_acts.plot import figure_classes

    Figure, FigureCanvasAgg = figure_classes()
    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path: Path) -> Path:
    from .runs import atomic_path

    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, bbox_inches="tight")
    return path


def _plain_log_labels(ax):
    """Tick labels like 0.5, 2 instead of 5×10⁻¹ on a log axis (minor ones only when the
    axis spans less than a decade, where there would be no major label at all)."""
    from matplotlib.ticker import FuncFormatter, NullFormatter

    fmt = FuncFormatter(lambda v, _: f"{v:g}")
    ax.yaxis.set_major_formatter(fmt)
    lo, hi = ax.get_ylim()
    ax.yaxis.set_minor_formatter(fmt if lo > 0 and hi / lo < 10 else NullFormatter())


def colors(order) -> dict[str, tuple]:
    """One colour per activation, the same in every figure of a report (tab10, then tab20)."""
    from matplotlib import colormaps

    cmap = colormaps["tab10" if len(order) <= 10 else "tab20"]
    return {name: cmap(i % cmap.N) for i, name in enumerate(order)}


def _learning_curves(order, runs, path: Path) -> Path | None:
    fig = _figure(11, 4.2)
    ax_acc, ax_loss = fig.subplots(1, 2)
    drawn = False
    col = colors(order)
    for name in order:
        hs = [r.get("history") or {} for r in runs[name]]
        for ax, key, style in ((ax_acc, "val_accuracy", "-"), (ax_loss, "loss", "-"),
                               (ax_loss, "val_loss", "--")):
            series = [h.get(key) or [] for h in hs]
            n = min((len(s) for s in series), default=0)
            if n == 0:
                continue
            arr = np.array([s[:n] for s in series], np.float64)
            x = np.arange(1, n + 1)
            ax.plot(x, np.nanmean(arr, axis=0), style, color=col[name], marker="o", ms=3,
                    label=name if style == "-" else None)
            if len(arr) > 1:  # band: min-max over seeds
                ax.fill_between(x, np.nanmin(arr, axis=0), np.nanmax(arr, axis=0),
                                color=col[name], alpha=0.15, lw=0)
            drawn = True
    if not drawn:
        return None
    ax_acc.set(xlabel="epoch", ylabel="validation accuracy",
               title="accuracy (mean over seeds, band: min-max)")
    ax_loss.set(xlabel="epoch", ylabel="loss", title="loss (solid: train, dashed: validation)")
    ax_loss.set_yscale("log")
    _plain_log_labels(ax_loss)
    for ax in (ax_acc, ax_loss):
        ax.grid(alpha=0.3)
        ax.xaxis.get_major_locator().set_params(integer=True)
    fig.subplots_adjust(wspace=0.3)
    ax_loss.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.02, 0.5), frameon=False)
    return _save(fig, path)


def _gradient_flow(order, diag, path: Path) -> Path | None:
    names = [n for n in order if diag.get(n)]
    if not names:
        return None
    phases = [("start", "before training"), ("end", "after training")]
    if all(diag[n]["epoch_start"] == diag[n]["epoch_end"] for n in names):
        phases = [("end", "")]
    fig = _figure(5.2 * len(phases) + 1.6, 4.2)
    axes = fig.subplots(1, len(phases), squeeze=False)[0]
    lo, hi = np.inf, 0.0
    col = colors(names)
    for ax, (tag, label) in zip(axes, phases):
        for i, name in enumerate(names):
            norms = np.array([np.nan if v is None else v for v in diag[name][f"grad_norm_{tag}"]])
            norms[norms <= 0] = np.nan
            if np.all(np.isnan(norms)):
                continue
            lo, hi = min(lo, np.nanmin(norms)), max(hi, np.nanmax(norms))
            ax.plot(np.arange(1, len(norms) + 1), norms, marker="o", ms=3, color=col[name],
                    label=name)
        epoch = diag[names[0]][f"epoch_{tag}"]
        ax.set_title(f"{label} (epoch {epoch})" if label else f"epoch {epoch}")
        ax.set_yscale("log")
        ax.set_xlabel("layer with a kernel (1 = input side)")
        ax.grid(alpha=0.3, which="both")
    if not np.isfinite(lo):
        return None
    axes[0].set_ylabel("‖∂loss/∂kernel‖ on the probe batch")
    for ax in axes:
        ax.set_ylim(lo / 2, hi * 2)
        ax.xaxis.get_major_locator().set_params(integer=True)
    axes[-1].legend(fontsize=8, loc="center left", bbox_to_anchor=(1.02, 0.5), frameon=False)
    return _save(fig, path)


def _dead_saturated(order, diag, path: Path) -> Path | None:
    names = [n for n in order if diag.get(n)]
    keys = [f"{k}_fraction_{t}" for k in ("dead", "saturated") for t in ("start", "end")]
    if not names or all(diag[n][k] is None for n in names for k in keys):
        return None
    fig = _figure(max(8.0, 1.1 * len(names) + 2.5), 3.8)
    axes = fig.subplots(1, 2)
    x = np.arange(len(names))
    w = 0.38
    top = max([100 * (diag[n][k] or 0.0) for n in names for k in keys] + [0.0])
    for ax, kind, color, title in (
            (axes[0], "dead", "C3", "dead units"),
            (axes[1], "saturated", "C0", "saturated units (mean |f′| < 0.01)")):
        for j, (tag, label, alpha) in enumerate((("start", "before training", 0.4),
                                                  ("end", "after training", 1.0))):
            vals = [diag[n][f"{kind}_fraction_{tag}"] for n in names]
            ys = [100 * (v or 0.0) for v in vals]
            bars = ax.bar(x + (j - 0.5) * w, ys, w, color=color, alpha=alpha, label=label)
            for b, v, y in zip(bars, vals, ys):
                text = "n/a" if v is None else f"{y:.1f}" if 0 < y < 10 else f"{y:.0f}"
                ax.annotate(text, (b.get_x() + w / 2, y),
                            ha="center", va="bottom", fontsize=7, xytext=(0, 1),
                            textcoords="offset points")
        ax.set_xticks(x, names, rotation=30, ha="right")
        ax.set_title(title, fontsize=10)
        ax.set_ylim(0, min(105.0, max(10.0, 1.25 * top)))
        ax.grid(axis="y", alpha=0.3)
        ax.legend(fontsize=8, frameon=False, loc="upper right")
    axes[0].set_ylabel("% of hidden units")
    return _save(fig, path)


# ----------------------------------------------------------------------------- markdown
def _pct(v):
    return "–" if v is None else f"{100 * v:.1f}"


def _sci(v):
    return "–" if v is None else f"{v:.3g}"


def _pm(mean, ci, scale=100.0, digits=2):
    if mean is None or not isinstance(mean, (int, float)) or not math.isfinite(mean):
        return "–"
    s = f"{mean * scale:.{digits}f}"
    if isinstance(ci, (int, float)) and math.isfinite(ci):
        s += f" ± {ci * scale:.{digits}f}"
    return s


def _pp(v, digits=2, sign=True):
    return "–" if not _finite(v) else f"{100 * v:+.{digits}f}" if sign else f"{100 * v:.{digits}f}"


def _p(v):
    return "–" if not _finite(v) else "< 0.001" if v < 0.001 else f"{v:.3f}"


def _num(v, digits=2):
    return "–" if not _finite(v) else f"{v:.{digits}f}"


def _is_regression(rows) -> bool:
    return any(_finite(r.get("test_rmse_mean")) for r in rows)


def _delta(v, regression, sign=True):
    """A difference to the baseline: percentage points of accuracy, or RMSE units."""
    if regression:
        return "–" if not _finite(v) else f"{v:+.4g}" if sign else f"{v:.4g}"
    return _pp(v, sign=sign)


def results_table(rows) -> str:
    """The Markdown results table: one row per activation (``recipes.results.RESULT_COLUMNS``),
    with the paired comparison against the baseline where there is one."""
    paired = any(r.get("verdict") for r in rows)
    reg = _is_regression(rows)
    head = ["#", "activation", "test RMSE" if reg else "test acc. (%)"]
    if paired:
        head += ["Δ RMSE vs baseline [95 % CI]" if reg else "Δ vs baseline (pp) [95 % CI]",
                 "p (Holm)", "verdict"]
    head += (["test MAE", "test MSE"] if reg else ["macro-F1 (%)", "test loss"]) + [
        "epochs to 99 %", "s/epoch", "ms/batch 256", "ms/sample", "params", "seeds"]
    table = []
    for i, r in enumerate(rows, 1):
        div = f" ({r['diverged_runs']} diverged)" if r.get("diverged_runs") else ""
        cells = [str(i), f"`{r.get('activation')}`{div}",
                 _pm(r.get("test_rmse_mean"), r.get("test_rmse_ci95"), 1.0, 4) if reg else
                 _pm(r.get("test_accuracy_mean"), r.get("test_accuracy_ci95"))]
        if paired:
            if r.get("verdict") == "baseline":
                cells += ["baseline", "–", "**baseline**"]
            else:
                d, h = r.get("delta_vs_baseline_mean"), r.get("delta_vs_baseline_ci95")
                ci = (f" [{_delta(d - h, reg)}, {_delta(h + d, reg)}]"
                      if _finite(d) and _finite(h) else "")
                v = r.get("verdict") or "–"
                if v == "indistinguishable" and r.get("seeds_needed"):
                    v += f" (~{r['seeds_needed']} seeds)"
                if r.get("stop") and r["stop"] != "settled":  # --seeds auto: why it stopped
                    v += f" ({r['stop']})"
                cells += [_delta(d, reg) + ci, _p(r.get("p_value_holm")), v]
        params = r.get("params")
        cells += [_pm(r.get("test_mae_mean"), r.get("test_mae_ci95"), 1.0, 4) if reg else
                  _pm(r.get("macro_f1_mean"), r.get("macro_f1_ci95")),
                  _pm(r.get("test_loss_mean"), r.get("test_loss_ci95"), 1.0, 4),
                  _num(r.get("epochs_to_99pct"), 1), _num(r.get("train_seconds_per_epoch")),
                  _num(r.get("latency_ms_per_batch256")), _num(r.get("latency_ms_per_sample"), 3),
                  f"{params:,}" if isinstance(params, int) else "–", str(r.get("seeds", "–"))]
        table.append(cells)
    from keras_acts.docs import markdown_table

    lines = [markdown_table(head, table, "".join("l" if h in ("activation", "verdict") else "r"
                                                 for h in head)).rstrip("\n")]
    notes = [r["verdict_note"] for r in rows if r.get("verdict_note")]
    if paired or notes:
        lines.append("")
    if paired:
        lines.append(f"Δ: test {'RMSE' if reg else 'accuracy'} minus the baseline's, paired by "
                     "seed (mean, 95 % t-interval of the per-seed differences); " + (
                         SEQUENTIAL_NOTE if any(r.get("stop") for r in rows) else
                         "p: two-sided paired t-test, Holm-adjusted over the grid; verdict at "
                         "α = 0.05; ~N seeds: paired seeds for 80 % power at the observed "
                         "difference."))
    lines += [f"No verdict: {n}." for n in notes]
    return "\n".join(lines) + "\n"


#: what the p-values and stops of a ``--seeds auto`` grid mean (table note and report)
SEQUENTIAL_NOTE = (
    "--seeds auto: seeds were added in rounds while verdicts were open, so p is the "
    "group-sequential repeated p-value (recipes.sequential: the smallest look's paired-t "
    "p-value, calibrated over all the design's looks), Holm-adjusted over the grid; verdict "
    "at α = 0.05 over all rounds together. Stop: settled (significant), futile (under 10 % "
    "chance of a verdict by the last round), max seeds, budget.")


def verdict_lines(rows) -> list[str]:
    """One sentence per non-baseline activation, e.g. ``gelu: +0.08 pp vs relu [-0.21, +0.37],
    indistinguishable (p = 0.52, Holm); ~40 seeds would be needed``."""
    out = []
    reg = _is_regression(rows)
    unit = " RMSE" if reg else " pp"
    for r in rows:
        v, base = r.get("verdict"), r.get("baseline")
        if v in (None, "baseline") or base is None:
            if v is None and r.get("verdict_note"):
                out.append(f"{r['activation']}: no verdict ({r['verdict_note']}).")
            continue
        d, h = r.get("delta_vs_baseline_mean"), r.get("delta_vs_baseline_ci95")
        ci = f" [{_delta(d - h, reg)}, {_delta(d + h, reg)}]" if _finite(h) else ""
        p = r.get("p_value_holm")
        text = (f"{r['activation']}: {_delta(d, reg)}{unit} vs {base}{ci}, {v} "
                f"(p {'< 0.001' if _finite(p) and p < 0.001 else f'= {p:.2g}'}, Holm)")
        if r.get("stop"):  # --seeds auto
            text += f"; {r.get('paired_seeds')} seeds, stopped: {r['stop']}"
        elif v == "indistinguishable":
            n = r.get("seeds_needed")
            text += (f"; ~{n} seeds would be needed" if n else
                     "; no seed count would resolve it (no difference or no spread)")
        loss_v = r.get("loss_verdict")
        if loss_v and loss_v != v:
            text += f"; on test loss: {loss_v}"
        out.append(text + ".")
    return out


def rounds_table(rounds) -> str:
    """The verdicts of a ``--seeds auto`` grid round by round (results.json's ``rounds``)."""
    from keras_acts.docs import markdown_table

    names = [a for a, d in rounds[0]["decisions"].items() if d["verdict"] != "baseline"]
    head = ["round", "seeds"] + [f"`{a}`" for a in names]
    table = []
    for i, r in enumerate(rounds, 1):
        cells = [str(i), str(r["seeds"])]
        for a in names:
            d = r["decisions"][a]
            cells.append(f"{d['verdict'] or '–'} ({d['n']}, p {_p(d['p_holm'])})"
                         + (f" → {d['stop']}" if d["stop"] != "open" else ""))
        table.append(cells)
    return ("Round by round (verdict (seeds, Holm-adjusted repeated p) → why its seeds "
            "stopped):\n\n" + markdown_table(head, table, "rr" + "l" * len(names)))


def _rounds_figure(seq, path: Path) -> Path | None:
    """Holm-adjusted repeated p-value of each activation against the seeds of the rounds,
    with α: a line ends where its seeds stopped."""
    rounds = seq["rounds"]
    names = [a for a, d in rounds[0]["decisions"].items() if d["verdict"] != "baseline"]
    fig = _figure(5.5, 3.2)
    ax = fig.subplots()
    col = colors(names)
    for a in names:
        xs, ys, last = [], [], None
        for r in rounds:
            d = r["decisions"][a]
            if last is not None and d["n"] == last:
                continue  # stopped: no new seeds in this round
            xs.append(d["n"])
            ys.append(max(d["p_holm"], 1e-6) if _finite(d["p_holm"]) else 1.0)
            last = d["n"]
        ax.plot(xs, ys, "o-", color=col[a], label=a, lw=1.5, ms=4)
    ax.axhline(seq["alpha"], color="0.3", ls="--", lw=1)
    ax.text(rounds[-1]["seeds"], seq["alpha"] * 1.15, f"α = {seq['alpha']}", fontsize=8,
            color="0.3", ha="right")
    ax.set_yscale("log")
    ax.set_xticks([r["seeds"] for r in rounds])
    ax.set_xlabel("seeds (rounds)")
    ax.set_ylabel("repeated p (Holm)")
    ax.legend(fontsize=7, ncol=2, frameon=False)
    return _save(fig, path)


def _forest(rows, path: Path) -> Path | None:
    """Difference to the baseline with its 95 % interval, one row per activation, sorted."""
    pts = [r for r in rows if r.get("verdict") not in (None, "baseline")
           and _finite(r.get("delta_vs_baseline_mean"))]
    if not pts:
        return None
    pts.sort(key=lambda r: r["delta_vs_baseline_mean"])
    col = colors([r["activation"] for r in rows])
    scale = 1.0 if _is_regression(rows) else 100.0
    fig = _figure(7.5, 0.45 * len(pts) + 1.4)
    ax = fig.subplots()
    for y, r in enumerate(pts):
        d = scale * r["delta_vs_baseline_mean"]
        h = scale * r["delta_vs_baseline_ci95"] if _finite(r.get("delta_vs_baseline_ci95")) else 0.0
        ax.errorbar(d, y, xerr=h, fmt="o", color=col[r["activation"]], capsize=3, ms=6)
        ax.annotate(r["verdict"], (d + h, y), xytext=(6, 0), textcoords="offset points",
                    va="center", fontsize=8, color="0.3")
    ax.axvline(0.0, color="0.4", lw=1, ls="--")
    ax.set_yticks(range(len(pts)), [r["activation"] for r in pts])
    ax.set_ylim(-0.7, len(pts) - 0.3)
    what = "RMSE" if scale == 1.0 else "accuracy"
    unit = "" if scale == 1.0 else " (percentage points)"
    ax.set_xlabel(f"test {what} minus {pts[0].get('baseline')}'s{unit}, paired by seed, 95 % CI")
    ax.grid(axis="x", alpha=0.3)
    lo, hi = ax.get_xlim()
    ax.set_xlim(lo, hi + 0.25 * (hi - lo))  # room for the labels
    return _save(fig, path)


def _finite(v):
    return isinstance(v, (int, float)) and math.isfinite(v)


def _diag_table(order, diag) -> str:
    from keras_acts.docs import markdown_table

    head = ["activation", "grad ratio first/last, start", "grad ratio, end", "dead % start",
            "dead % end", "saturated % start", "saturated % end", "probe cost (s)"]
    rows = []
    for n in order:
        d = diag.get(n)
        if not d:
            rows.append([f"`{n}`"] + ["–"] * 7)
            continue
        rows.append([f"`{n}`", _sci(d["grad_norm_ratio_start"]), _sci(d["grad_norm_ratio_end"]),
                     _pct(d["dead_fraction_start"]), _pct(d["dead_fraction_end"]),
                     _pct(d["saturated_fraction_start"]), _pct(d["saturated_fraction_end"]),
                     "–" if d["time_s"] is None else f"{d['time_s']:.3f}"])
    return markdown_table(head, rows)


def _catalogue_names(order) -> tuple[list[str], list[str]]:
    from keras_acts import CATALOGUE

    names, other = [], []
    for display in order:
        base = display.split(":")[0]
        if base in CATALOGUE:
            if base not in names:
                names.append(base)
        else:
            other.append(display)
    return names, other


def _link(out: Path, target: str, text: str | None = None, image: bool = False) -> str:
    """A Markdown link / image to ``target`` (relative to ``out``), only if it exists."""
    if not (out / target).exists():
        return ""
    rel = target.replace(os.sep, "/").replace(" ", "%20")
    return f"![{text or target}]({rel})" if image else f"[{text or target}]({rel})"


def write_report(out_dir, *, gallery: bool = True) -> Path:
    """Write ``report.md`` into ``out_dir`` (see the module docstring); returns its path."""
    out = Path(out_dir)
    if not out.is_dir():
        raise FileNotFoundError(f"no such output directory: {out}")
    results = _read_json(out / "results.json") or {}
    config = _read_json(out / "config.json") or results.get("config") or {}
    runs = load_runs(out)
    order = _order(results, runs)
    figs = out / FIGURES
    try:
        import matplotlib  # noqa: F401

        plotting = True
    except ImportError:
        plotting = False

    diag = {}
    for name in order:
        try:
            diag[name] = diagnostics_summary(runs[name])
        except (KeyError, IndexError, TypeError, ValueError):
            diag[name] = None

    ds, model = config.get("dataset", "?"), config.get("model", "?")
    md = [f"# Activation comparison report: {ds} / {model}\n"]
    bits = [f"{k} {config[k]}" for k in ("epochs", "batch_size", "optimizer", "lr", "backend")
            if config.get(k) is not None]
    if config.get("n_train"):
        bits.insert(0, f"{config['n_train']} training / {config.get('n_test', '?')} test images")
    if bits:
        md.append(", ".join(bits) + ".\n")
    files = [_link(out, f) for f in ("results.md", "results.csv", "results.json", "config.json")]
    files = [f for f in files if f]
    if (out / "runs").is_dir():
        files.append(_link(out, "runs", "runs/ (one JSON per run)"))
    if files:
        md.append("Files: " + " · ".join(files) + "\n")

    rows = results.get("rows") or []
    md.append("## Verdict\n")
    lines = verdict_lines(rows)
    base = next((r["activation"] for r in rows if r.get("verdict") == "baseline"), None)
    seq = results.get("sequential")
    if lines:
        md.append(f"Each activation against `{base}`, paired by seed (same seeds, same data "
                  "order), " + (SEQUENTIAL_NOTE + "\n" if seq else
                                "two-sided paired t-test, Holm-adjusted over the grid, α = "
                                "0.05 (`recipes.stats`).\n"))
        md += [f"- {line}" for line in lines]
        md.append("")
        if plotting:
            p = _forest(rows, figs / "forest.png")
            if p:
                md.append(_link(out, p.relative_to(out).as_posix(), "difference to the baseline",
                                True) + "\n")
        if seq and seq.get("rounds"):
            md.append(rounds_table(seq["rounds"]))
            p = _rounds_figure(seq, figs / "rounds.png") if plotting else None
            if p:
                md.append(_link(out, p.relative_to(out).as_posix(), "verdicts over the rounds",
                                True) + "\n")
    else:
        md.append("No verdicts: one activation only, or fewer than 2 seeds finished for an "
                  "activation and the baseline.\n")

    md.append("## Results\n")
    if rows:
        md.append("Mean ± 95 % confidence interval over seeds (no interval with one seed); "
                  "sorted by test accuracy.\n")
        md.append(results_table(rows))
    else:
        md.append("No `results.json` yet (no finished runs).\n")

    md.append("## Learning curves\n")
    curves = []
    if plotting and runs:
        p = _learning_curves(order, runs, figs / "learning_curves.png")
        curves = [p.relative_to(out).as_posix()] if p else []
    md += [_link(out, c, c.rsplit("/", 1)[-1][:-4].replace("_", " "), image=True) + "\n"
           for c in curves] or ["No learning curves (no per-epoch history or no matplotlib).\n"]

    md.append("## Gradient flow\n")
    if any(diag.values()):
        md.append(
            "Kernel-gradient norm ‖∂loss/∂W‖ of every Dense/Conv layer on a fixed probe batch "
            "(`keras_acts.diagnostics.GradientFlow`), mean over seeds. A ratio first/last "
            "layer ≪ 1 means the gradient vanishes on its way back to the input.\n")
        if plotting:
            p = _gradient_flow(order, diag, figs / "gradient_flow.png")
            if p:
                md.append(_link(out, p.relative_to(out).as_posix(), "gradient flow", True) + "\n")
        md.append("## Dead and saturated units\n")
        md.append(
            "Hidden units only, unit-weighted over layers, mean over seeds. *Dead*: output "
            "≤ 0 for every probe sample (activations whose range starts at 0) or constant "
            "over the probe batch. *Saturated*: mean |f′(pre-activation)| over the probe batch "
            "< 0.01 (dead ReLU units count as saturated too); – for non-elementwise "
            "activations. *start* = before training, *end* = after the last epoch; probe cost "
            "= seconds per measurement.\n")
        if plotting:
            p = _dead_saturated(order, diag, figs / "dead_saturated.png")
            if p:
                md.append(_link(out, p.relative_to(out).as_posix(), "dead and saturated units",
                                True) + "\n")
        md.append(_diag_table(order, diag))
    else:
        md.append("No diagnostics recorded (runs made with `--no-diagnostics`, or "
                  "`keras_acts.diagnostics` unavailable).\n")

    md.append("## The activations\n")
    names, other = _catalogue_names(order)
    if names:
        if gallery and plotting:
            from keras_acts import plot

            [p] = plot.gallery(names, figs / "activations.png", cols=min(4, len(names)),
                               formats=("png",))
            md.append("f (solid) and its derivative f′ (dashed) at the default parameters "
                      "(`keras_acts.plot`).\n")
            md.append(_link(out, p.relative_to(out).as_posix(), "activation gallery", True) + "\n")
        from keras_acts.plot import properties_table

        md.append(properties_table(names))
    if other:
        md.append("\nNot in the catalogue (learnable layers or custom): "
                  + ", ".join(f"`{o}`" for o in other) + ".\n")

    from .runs import write_atomic

    write_atomic(out / "report.md", "\n".join(md))
    return out / "report.md"


def main(argv=None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    argv = list(sys.argv[1:] if argv is None else argv)
    if len(argv) != 1 or argv[0] in ("-h", "--help"):
        print("usage: python -m recipes.report OUT_DIR\n\nWrite OUT_DIR/report.md from the "
              "results of `python -m recipes.compare --out OUT_DIR`.")
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    try:
        print(write_report(argv[0]))
    except FileNotFoundError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
