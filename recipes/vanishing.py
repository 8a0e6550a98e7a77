"""The vanishing-gradient experiment: a deep plain MLP on MNIST, one run per activation.

    python -m recipes.vanishing --data-dir /work/shared/data          # ~3 min on a 2-core CPU
    python -m recipes.vanishing --init naive --depth 30 --epochs 2

A plain MLP (``--depth`` hidden Dense layers of ``--width`` units, no BatchNorm, no skip
connections, softmax output) is trained for each activation, twice, through the recipes' own
pipeline (``recipes.train.train_one``: SGD-Nesterov, momentum 0.9, constant rate):

``naive``        every kernel ``glorot_uniform`` (Keras's default), the classic setting in
                 which sigmoid / tanh networks stop learning as they get deep;
``recommended``  each activation's initializer from ``keras_acts.initializer_for`` (He for
                 ReLU-like, LeCun for SELU, Glorot for sigmoid / tanh) and SELU with its
                 self-normalising kit (``keras_acts.snn.snn_mlp``: lecun_normal, AlphaDropout).

``keras_acts.diagnostics.GradientFlow`` records the kernel-gradient norm of every layer on a
fixed probe batch before training and after the last epoch. The table gives the ratio
first-layer / last-layer gradient norm (<< 1: the gradient vanishes before it reaches the
input), the dead / saturated units and the test accuracy.

Inputs are standardised per channel (the recipes' ``standardize``; the SELU kit needs it) for every activation, so
that only the activation and the initializer change between rows.

Writes ``vanishing.md`` (table), ``vanishing.json`` (everything, including the per-layer
norms) and ``vanishing_grad_norms.png`` (gradient norm per layer per activation) to ``--out``.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "selu", "gelu", "swish_x")
INITS = ("naive", "recommended")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="keras-acts vanishing",
        description="Vanishing gradients in a deep plain MLP on MNIST, per activation.")
    p.add_argument("--data-dir", default=None, help="where MNIST is (see recipes.data.load)")
    p.add_argument("--dataset", default="mnist", choices=("mnist", "fashion_mnist"))
    p.add_argument("--activations", default=",".join(ACTIVATIONS),
                   help="comma-separated catalogue names (default: %(default)s)")
    p.add_argument("--init", default="both", choices=INITS + ("both",),
                   help="naive = glorot_uniform everywhere; recommended = "
                        "keras_acts.initializer_for + SELU kit; both (default)")
    p.add_argument("--depth", type=int, default=20, help="hidden layers (default 20)")
    p.add_argument("--width", type=int, default=64, help="units per hidden layer (default 64)")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=0.01, help="SGD learning rate (momentum 0.9)")
    p.add_argument("--train", type=int, default=12000, help="training subset size (0 = all)")
    p.add_argument("--test", type=int, default=5000, help="test subset size (0 = all)")
    p.add_argument("--probe-size", type=int, default=256, help="GradientFlow probe batch")
    p.add_argument("--selu-dropout", type=float, default=0.05,
                   help="AlphaDropout rate of the SELU kit (recommended init only)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="runs/vanishing", help="output directory")
    return p


# ----------------------------------------------------------------------------- running
def row_config(args, activation: str, init: str, backend: str):
    """The recipes' ``Config`` of one row: it trains through ``recipes.train.train_one``, the
    pipeline every ``keras-acts compare`` run uses. ``naive``: the plain MLP with
    ``glorot_uniform`` kernels; ``recommended``: the same MLP with ``initializer_for``'s
    kernels (``build_model``'s default), and for selu the SELU kit (``build_model("snn")``:
    ``keras_acts.snn.snn_mlp``, lecun_normal + AlphaDropout)."""
    from .config import Config

    kit = activation == "selu" and init == "recommended"
    return Config(
        dataset=args.dataset, data_dir=args.data_dir, preprocess="standardize",
        train_subset=args.train or None, test_subset=args.test or None,
        model="snn" if kit else "mlp",
        model_options=(dict(depth=args.depth, width=args.width, dropout=args.selu_dropout) if kit
                       else dict(depth=args.depth, width=args.width, batchnorm=False,
                                 dropout=0.0)),
        kernel_initializer="glorot_uniform" if init == "naive" else None,
        activations=(activation,), seeds=1, seed_list=(args.seed,), epochs=args.epochs,
        batch_size=args.batch_size, optimizer="sgd", lr=args.lr, momentum=0.9,
        schedule="constant", diagnostics=True, probe_size=args.probe_size,
        save_models=False, out=args.out, backend=backend, quiet=True, device="cpu")


def load_data(args, backend: str) -> dict:
    """The arrays every row trains on (``recipes.inputs.prepare_data``: the subsets,
    per-channel standardisation)."""
    from .inputs import prepare_data

    return prepare_data(row_config(args, "relu", "naive", backend))


def run_one(activation, init, data, args) -> dict:
    import keras

    from keras_acts.diagnostics import cost, summarize

    from .plan import enable_determinism, plan_runs
    from .train import train_one

    cfg = row_config(args, activation, init, keras.backend.backend())
    plan = plan_runs(cfg)
    enable_determinism(plan)
    rec = train_one(cfg, activation, args.seed, data, plan=plan)
    h = rec["diagnostics"]
    start, end = summarize(h, 0), summarize(h, -1)
    names = h["layers"]["kernel"]
    return {
        "activation": activation, "init": init,
        "kernel_initializer": ("glorot_uniform" if init == "naive" else
                               "snn kit (lecun_normal + AlphaDropout)" if cfg.model == "snn"
                               else type(_recommended(activation)).__name__),
        "test_accuracy": rec["metrics"]["test_accuracy"],
        "train_seconds": rec["phase_seconds"]["fit"],
        "diverged": rec["metrics"]["diverged"],
        "ratio_start": start["grad_norm_ratio"], "ratio_end": end["grad_norm_ratio"],
        "first_start": start["grad_norm_first"], "last_start": start["grad_norm_last"],
        "dead_start": start["dead_fraction"], "dead_end": end["dead_fraction"],
        "saturated_start": start["saturated_fraction"], "saturated_end": end["saturated_fraction"],
        "grad_norm_start": [h["grad_norm"][n][0] for n in names],
        "grad_norm_end": [h["grad_norm"][n][-1] for n in names],
        "diagnostics_cost": cost(h),
        "diagnostics": h,
        "plan": {k: rec[k] for k in ("dtype_policy", "jit_compile", "steps_per_execution",
                                     "feed")},
    }


def _recommended(activation):
    from keras_acts import initializer_for

    return initializer_for(activation, seed=0)


# ----------------------------------------------------------------------------- output
def _sci(v):
    return "–" if v is None or not math.isfinite(v) else f"{v:.2g}"


def _pct(v):
    return "–" if v is None else f"{100 * v:.0f}"


def markdown(rows, args, source) -> str:
    import keras

    source = source.split(":")[0] + (" subset" if "subset" in source else "")  # no local paths

    lines = [
        f"# Vanishing gradients: {args.depth}-layer plain MLP on {args.dataset}\n",
        f"{args.depth} hidden Dense layers × {args.width} units, softmax output, no "
        f"BatchNorm / skips; SGD-Nesterov lr {args.lr} momentum 0.9, batch {args.batch_size}, "
        f"{args.epochs} epoch(s) on {args.train or 'all'} training images, test accuracy on "
        f"{args.test or 'all'} test images ({source}); standardised inputs; seed {args.seed}; "
        f"Keras {keras.__version__}, {keras.backend.backend()} backend. "
        f"Gradient norms: `keras_acts.diagnostics.GradientFlow` on a {args.probe_size}-sample "
        "probe batch. *ratio* = ‖∂L/∂W‖ of the first hidden layer / that of the output layer: "
        "≪ 1 means the gradient vanishes on its way to the input.\n",
    ]
    from keras_acts.docs import markdown_table

    lines.append(markdown_table(
        ["init", "activation", "ratio first/last, init", "ratio, trained", "‖∂L/∂W₁‖, init",
         "dead %, init → trained", "saturated %, init → trained", "test acc. %"],
        [[r["init"], f"`{r['activation']}`", _sci(r["ratio_start"]), _sci(r["ratio_end"]),
          _sci(r["first_start"]), f"{_pct(r['dead_start'])} → {_pct(r['dead_end'])}",
          f"{_pct(r['saturated_start'])} → {_pct(r['saturated_end'])}",
          f"{100 * r['test_accuracy']:.1f}{' (diverged)' if r['diverged'] else ''}"]
         for r in rows], "ll" + "r" * 6).rstrip("\n"))
    inits = sorted({r["init"] for r in rows})
    lines.append("")
    if "recommended" in inits:
        lines.append("recommended = `keras_acts.initializer_for(activation)` per layer: "
                     + ", ".join(sorted({f"`{r['activation']}`: {r['kernel_initializer']}"
                                         for r in rows if r["init"] == "recommended"})) + ".")
    if "naive" in inits:
        lines.append("naive = `glorot_uniform` for every layer and activation (Keras's default).")
    lines.append("\n![gradient norm per layer](vanishing_grad_norms.png)\n")
    return "\n".join(lines) + "\n"


def plot(rows, path: Path):
    from keras_acts.plot import figure_classes

    Figure, FigureCanvasAgg = figure_classes()
    inits = [i for i in INITS if any(r["init"] == i for r in rows)]
    fig = Figure(figsize=(12.5, 3.9 * len(inits)))
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(inits), 2, squeeze=False)
    acts = list(dict.fromkeys(r["activation"] for r in rows))
    vals = [v for r in rows for k in ("grad_norm_start", "grad_norm_end") for v in r[k]
            if v is not None and v > 0]
    lo, hi = (min(vals), max(vals)) if vals else (1e-12, 1.0)
    for row, init in zip(axes, inits):
        for ax, key, when in ((row[0], "grad_norm_start", "at initialisation"),
                              (row[1], "grad_norm_end", "after training")):
            for r in rows:
                if r["init"] != init:
                    continue
                v = np.array([np.nan if x is None or x <= 0 else x for x in r[key]], float)
                i = acts.index(r["activation"])
                ax.plot(np.arange(1, len(v) + 1), v, marker="o", ms=3, lw=1.6,
                        color=f"C{i % 10}", label=r["activation"])
            ax.set_yscale("log")
            ax.set_ylim(lo / 3, hi * 3)
            ax.set_title(f"{init} init, {when}", fontsize=11)
            ax.set_xlabel("layer (1 = first hidden layer, last = softmax output)")
            ax.grid(alpha=0.3, which="major")
            ax.xaxis.get_major_locator().set_params(integer=True)
        row[0].set_ylabel("‖∂loss/∂kernel‖ (probe batch)")
        row[1].legend(fontsize=9, loc="center left", bbox_to_anchor=(1.02, 0.5), frameon=False)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    return path


def main(argv=None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    args = build_parser().parse_args(argv)
    if args.depth < 1 or args.width < 1 or args.epochs < 1:
        print("error: --depth, --width and --epochs must be >= 1", file=sys.stderr)
        return 2
    import keras

    import keras_acts

    acts = [a.strip() for a in args.activations.split(",") if a.strip()]
    for a in acts:
        try:
            keras_acts.info(a)
        except ValueError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
    inits = INITS if args.init == "both" else (args.init,)
    from .data import DataError

    try:
        data = load_data(args, keras.backend.backend())
    except DataError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    source = data["source"]
    print(f"{args.dataset}: {len(data['x_train'])} train / {len(data['x_test'])} test "
          f"({source}), backend {keras.backend.backend()}, depth {args.depth} x {args.width}",
          flush=True)
    rows, t0 = [], time.perf_counter()
    for init in inits:
        for a in acts:
            r = run_one(a, init, data, args)
            rows.append(r)
            print(f"{init:11s} {a:10s} ratio init {_sci(r['ratio_start']):>7s} trained "
                  f"{_sci(r['ratio_end']):>7s}  acc {100 * r['test_accuracy']:5.1f} %  "
                  f"({r['train_seconds']:.1f} s, diagnostics {100 * (r['diagnostics_cost'] or 0):.1f} %"
                  " of training)", flush=True)
    md = markdown(rows, args, source)
    try:
        plot(rows, out / "vanishing_grad_norms.png")
    except ImportError as e:
        print(f"note: no plot ({e})", file=sys.stderr)
        md = md.replace("\n![gradient norm per layer](vanishing_grad_norms.png)\n", "")
    (out / "vanishing.md").write_text(md, encoding="utf-8")
    from keras_acts.diagnostics import jsonable

    (out / "vanishing.json").write_text(json.dumps(jsonable(
        {"args": vars(args), "backend": keras.backend.backend(), "source": source, "rows": rows}),
        indent=1, allow_nan=False), encoding="utf-8")
    print("\n" + md)
    print(f"wrote {out / 'vanishing.md'}, vanishing.json, vanishing_grad_norms.png "
          f"in {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
