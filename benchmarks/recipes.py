"""Wall time to accuracy on MNIST: the keras.io "simple MNIST convnet" against our CNN
recipe(s), side by side in one run -- every configuration a ``keras-acts compare`` command line,
trained by the recipes' own pipeline (tables, run plan, schedules, ``train_one``).

    python benchmarks/recipes.py --data-dir /work/shared/data                      # full
    python benchmarks/recipes.py --epochs 1 --train-subset 5000 --out /tmp/r.md
    KERAS_BACKEND=jax python benchmarks/recipes.py --ours-config recipe,recipe-fast,fast

Configurations (``--configs``, default ``keras_io,ours``; ``ours`` expands to every
``--ours-config``, default ``fast``); the page lists each one's command line:

``keras_io``     the keras.io example "Simple MNIST convnet" (fchollet) as ``--model-fn
                 benchmarks.recipes:keras_io_model``: x/255 (``--preprocess unit``),
                 Conv2D(32, 3x3, relu) -> MaxPool(2) -> Conv2D(64, 3x3, relu) -> MaxPool(2) ->
                 Flatten -> Dropout(0.5) -> Dense(10, softmax); Adam 1e-3 constant, batch 128,
                 15 epochs, Keras's own feed, one step per execution. (keras.io holds out 10 %
                 with ``validation_split``; here it trains on all of the training set, as ours.)
``recipe``       ``--model cnn``: the recipe exactly as ``keras-acts compare`` trains it
                 (``RECIPES["cnn"]``), the standard preset's 10 epochs.
``recipe-fast``  the same net with the fast levers (below).
``fast``         the candidate one-epoch net (``FAST_CNN``, given as ``--model-option``\s):
                 Conv5x5/24 (valid) -> MaxPool -> BN -> act -> Conv3x3/32 (valid) -> MaxPool
                 -> BN -> act -> Dense(256) -> BN -> act -> Dense(10), no augmentation, with the
                 fast levers.

Fast levers: ``--schedule onecycle`` peaking at ``6e-3 * sqrt(batch / 128)`` (``--lr``),
batch 128 on CPU / 512 on GPU (``--batch-size``), ``--steps-per-execution 8``, 1 epoch
(``--ours-epochs``), ``--mixed-precision`` as given (default off).

Measurement: the run records' per-epoch times. The training clock of an epoch is its training
time (``train_seconds``: compilation included, fit's validation pass on the test set
excluded and reported). "Time to 99 %" = training clock at the end of the first epoch whose
test accuracy is >= ``--target`` (0.99).

Targets: on CPU and on GPU, ``ours`` reaches an equal-or-better accuracy >= 4x faster than
keras.io (time to 99.0 %, and time to keras.io's final accuracy against keras.io's whole run),
with ours' final test accuracy >= 99.4 %.
"""

from __future__ import annotations

import argparse
import math
import os
import shlex
import statistics
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

_HERE = Path(__file__).resolve().parent
ROOT = _HERE.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import ops as H  # noqa: E402  (the shared header / Markdown helpers)

OURS_CONFIGS = ("recipe", "recipe-fast", "fast")
#: the candidate one-epoch MNIST net, as the --model-option arguments a user would give
FAST_CNN = ("filters=(24,32)", "kernel_size=(5,3)", "padding=valid", "convs_per_stage=1",
            "batchnorm=true", "dense=256", "dropout=0.0", "dense_dropout=0.0", "pool=early")


# =============================================================================
# models
# =============================================================================
def keras_io_model(activation="relu"):
    """The keras.io "Simple MNIST convnet", taking ``activation=`` as ``--model-fn`` models
    do (relu there)."""
    import keras
    from keras import layers

    return keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(32, kernel_size=(3, 3), activation=activation),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Conv2D(64, kernel_size=(3, 3), activation=activation),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Flatten(),
        layers.Dropout(0.5),
        layers.Dense(10, activation="softmax"),
    ], name="keras_io_simple_mnist_convnet")


def macs_per_image(model):
    """Multiply-adds of Conv2D/Dense layers per image (forward)."""
    import keras

    total = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            out = layer.output.shape
            k = layer.kernel.shape
            total += int(out[1] * out[2] * k[0] * k[1] * k[2] * k[3])
        elif isinstance(layer, keras.layers.Dense):
            total += int(layer.kernel.shape[0] * layer.kernel.shape[1])
    return total


# =============================================================================
# the configurations: keras-acts compare command lines
# =============================================================================
def command_lines(args, device_kind) -> dict:
    """Each configuration as the ``keras-acts compare`` arguments that train it: the recipes'
    own tables, run plan, schedules and training loop do the rest."""
    common = ["--dataset", "mnist", "--activations", args.activation, "--seeds", "1",
              "--seed-offset", str(args.seed), "--no-diagnostics", "--no-tensorboard", "--quiet"]
    if args.data_dir:
        common += ["--data-dir", str(args.data_dir)]
    for flag, n in (("--train-subset", args.train_subset), ("--test-subset", args.test_subset)):
        if n:
            common += [flag, str(n)]
    bs = args.batch_size or (512 if device_kind == "gpu" else 128)
    lr = args.lr or 6e-3 * math.sqrt(bs / 128)
    levers = ["--schedule", "onecycle", "--lr", f"{lr:g}", "--batch-size", str(bs),
              "--steps-per-execution", str(args.steps_per_execution),
              "--mixed-precision", args.mixed_precision, "--feed", args.pipeline,
              "--jit-compile", args.jit, "--epochs", str(args.epochs or args.ours_epochs)]
    recipe = [*common, "--model", "cnn", "--jit-compile", args.jit, "--feed", args.pipeline,
              "--epochs", str(args.epochs or args.recipe_epochs)]
    out = {}
    for c in (c.strip() for c in args.configs.split(",") if c.strip()):
        if c == "keras_io":
            out["keras_io"] = [*common, "--model-fn", "benchmarks.recipes:keras_io_model",
                               "--optimizer", "adam", "--lr", "0.001", "--schedule", "constant",
                               "--batch-size", "128", "--preprocess", "unit", "--feed", "numpy",
                               "--steps-per-execution", "1",
                               "--epochs", str(args.epochs or args.baseline_epochs)]
        elif c == "ours":
            for o in (o.strip() for o in args.ours_config.split(",") if o.strip()):
                if o not in OURS_CONFIGS:
                    raise SystemExit(f"--ours-config: unknown {o!r}; choose from {OURS_CONFIGS}")
                if o == "recipe":
                    out["ours:recipe"] = recipe
                elif o == "recipe-fast":
                    out["ours:recipe-fast"] = [*common, "--model", "cnn", *levers]
                else:
                    options = [*FAST_CNN, *args.fast_option]
                    out["ours:fast"] = [*common, "--model", "cnn", "--augment", "none", *levers,
                                        *(a for kv in options for a in ("--model-option", kv))]
        else:
            raise SystemExit(f"--configs: unknown {c!r}; use keras_io and/or ours")
    return out


def run_config(name, argv, out_root):
    """Train one configuration through ``recipes.compare.run_grid``; its per-epoch rows
    (training clock = the epoch's training time, the test evaluation in fit excluded)."""
    import keras_acts
    from recipes import compare
    from recipes.models import display_name, slug

    folder = out_root / name.replace(":", "-").replace(" ", "_").strip("()")
    cfg = compare.resolve_config(compare.build_parser().parse_args([*argv, "--out", str(folder)]))
    print(f"\n== {name}: keras-acts compare {shlex.join(argv)}", flush=True)
    compare.run_grid(cfg, stream=sys.stdout)
    act = cfg.activations[0]
    rec = compare.load_run(compare.run_path(folder, slug(display_name(act)), cfg.seed_list[0]))
    h = rec["history"]
    clock, rows = 0.0, []
    for i, train_s in enumerate(h["train_seconds"]):
        clock += train_s
        rows.append(dict(epoch=i + 1, train_s=train_s, clock=clock,
                         eval_s=h["epoch_seconds"][i] - train_s, test_acc=h["val_accuracy"][i],
                         test_loss=h["val_loss"][i], train_loss=h["loss"][i]))
    model = keras_acts.load_model(rec["model_path"])
    plan = {k: rec[k] for k in ("dtype_policy", "jit_compile", "steps_per_execution", "feed")}
    return dict(name=name, argv=argv, hist=rows, params=rec["metrics"]["params"],
                macs=macs_per_image(model), plan=plan, epochs=cfg.epochs)


def time_to(hist, target):
    for r in hist:
        if r["test_acc"] >= target:
            return r["clock"], r["epoch"]
    return None, None


def summarize(res, target):
    h = res["hist"]
    t_tgt, e_tgt = time_to(h, target)
    epochs_s = [r["train_s"] for r in h]
    med = statistics.median(epochs_s[1:]) if len(epochs_s) > 1 else epochs_s[0]
    return dict(t_target=t_tgt, e_target=e_tgt, final=h[-1]["test_acc"], best=max(r["test_acc"] for r in h),
                clock=h[-1]["clock"], first=epochs_s[0], median=med,
                compile=max(0.0, epochs_s[0] - med) if len(epochs_s) > 1 else None,
                eval=sum(r["eval_s"] for r in h), epochs=len(h))


def _fmt_s(v):
    return "—" if v is None else f"{v:.1f}"


def parse(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument("--configs", default="keras_io,ours", help="comma list of keras_io, ours")
    p.add_argument("--ours-config", default="fast",
                   help=f"comma list of {', '.join(OURS_CONFIGS)} (default fast)")
    p.add_argument("--fast-option", action="append", default=[], metavar="KEY=VALUE",
                   help="override a build_model option of the fast CNN, e.g. filters=(24,48,96)")
    p.add_argument("--activation", default="relu", help="activation of our CNN (any keras-acts name)")
    p.add_argument("--epochs", type=int, default=None, help="cap every configuration at N epochs")
    p.add_argument("--baseline-epochs", type=int, default=15, help="keras.io's (15)")
    p.add_argument("--ours-epochs", type=int, default=1, help="epochs of recipe-fast / fast")
    p.add_argument("--recipe-epochs", type=int, default=10,
                   help="epochs of recipe (10: the standard preset's)")
    p.add_argument("--batch-size", type=int, default=None,
                   help="fast levers: batch size (default 128 on CPU, 512 on GPU)")
    p.add_argument("--lr", type=float, default=None,
                   help="fast levers: peak learning rate (default 6e-3 * sqrt(batch / 128))")
    p.add_argument("--steps-per-execution", type=int, default=8)
    p.add_argument("--jit", choices=["auto", "on", "off"], default="auto",
                   help="ours: keras-acts compare --jit-compile (auto: the recipes' choice)")
    p.add_argument("--mixed-precision", choices=["auto", "on", "off"], default="off",
                   help="fast levers: keras-acts compare --mixed-precision (default off)")
    p.add_argument("--pipeline", choices=["auto", "numpy", "tfdata"], default="auto",
                   help="ours: keras-acts compare --feed (keras.io's config: numpy, as written)")
    p.add_argument("--target", type=float, default=0.99, help="test accuracy to time (0.99)")
    p.add_argument("--train-subset", type=int, default=None, help="use N training images")
    p.add_argument("--test-subset", type=int, default=None, help="use N test images")
    p.add_argument("--data-dir", default=None, help="MNIST folder (else $KERAS_ACTS_DATA, tfds, npm)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--interleave", action="store_true",
                   help="run our configurations before and after keras_io (A/B/A), one row each")
    p.add_argument("--runs", type=Path, default=None,
                   help="where the configurations' compare folders go (default: a temporary one)")
    p.add_argument("--out", default="auto",
                   help="Markdown output ('auto' = benchmarks/results/recipes-<device>-<backend>.md, "
                        "'none' = don't write)")
    p.add_argument("--note", default=None, help="free text for the Markdown header")
    return p.parse_args(argv)


def main(argv=None):
    args = parse(argv)
    la_start = H.loadavg()
    backend, kind, desc, versions = H.backend_info()
    print(f"# keras-acts recipes benchmark | {desc} | backend {backend} | {H.load_text(la_start)}",
          flush=True)
    if H.is_loaded(la_start):
        print("# WARNING: machine is loaded; timings are noisy", flush=True)
    specs = command_lines(args, kind)
    order = list(specs.items())
    if args.interleave and "keras_io" in specs and len(specs) > 1:
        # A/B/A: ours before and after the baseline, so that a speed flip of the machine
        # during the baseline's minutes shows as two different times of ours
        ours = [(n, s) for n, s in order if n != "keras_io"]
        order = ([(f"{n} (before)", s) for n, s in ours] + [("keras_io", specs["keras_io"])]
                 + [(f"{n} (after)", s) for n, s in ours])
    with tempfile.TemporaryDirectory() as tmp:
        root = args.runs or Path(tmp)
        results = [run_config(n, a, root) for n, a in order]
    la_end = H.loadavg()

    sums = {r["name"]: summarize(r, args.target) for r in results}
    pct = f"{args.target * 100:.1f} %"
    head = ["config", "params", "MACs/img", "epochs", f"time to {pct} s", f"epochs to {pct}",
            "final test acc", "best test acc", "train clock s", "1st epoch s", "median epoch s",
            "compile ≈ s", "test eval s (excluded)"]
    rows = []
    for r in results:
        s = sums[r["name"]]
        rows.append([r["name"], f"{r['params']:,}", f"{r['macs'] / 1e6:.2f} M", s["epochs"],
                     _fmt_s(s["t_target"]), s["e_target"] or "not reached", f"{s['final']:.4f}",
                     f"{s['best']:.4f}", _fmt_s(s["clock"]), _fmt_s(s["first"]), _fmt_s(s["median"]),
                     _fmt_s(s["compile"]), _fmt_s(s["eval"])])
    verdicts = []
    base = sums.get("keras_io")
    for r in results:
        if r["name"] == "keras_io" or base is None:
            continue
        s = sums[r["name"]]
        parts = []
        sp99 = (base["t_target"] / s["t_target"]) if base["t_target"] and s["t_target"] else None
        parts.append(f"time to {pct}: " + (f"{sp99:.2f}x faster" if sp99 else
                     "n/a (" + ("keras_io" if not base["t_target"] else r["name"]) + f" did not reach {pct})"))
        t_eq, _ = time_to(r["hist"], base["final"])
        sp_eq = base["clock"] / t_eq if t_eq else None
        parts.append(f"to keras_io's final accuracy {base['final']:.4f}: "
                     + (f"{t_eq:.1f} s vs keras_io's whole run {base['clock']:.1f} s = {sp_eq:.2f}x"
                        if t_eq else "not reached"))
        need = 10 if r["name"].startswith("ours:fast") else None
        if need:   # the one-epoch net: a speed target at the target accuracy only
            ok, goal = bool(sp99 and sp99 >= need), f"the >= {need}x to {pct} target"
        else:
            ok = bool(sp99 and sp99 >= 4 and (sp_eq or 0) >= 4 and s["final"] >= 0.994
                      and s["final"] >= base["final"])
            goal = "the >= 4x target (final >= 0.9940)"
        full = not args.train_subset and not args.test_subset and not args.epochs
        verdict = "MEETS" if ok else "MISSES"
        if not full:
            verdict += " (not a full run: subset / capped epochs — not conclusive)"
        parts.append(f"final {s['final']:.4f} -> {verdict} {goal}")
        verdicts.append(f"**{r['name']}** vs keras_io: " + "; ".join(parts))

    print()
    print(H.text_table(head, rows))
    for v in verdicts:
        print(v.replace("**", ""))

    if args.out != "none":
        out = (H.RESULTS / f"recipes-{kind}-{backend}.md") if args.out == "auto" else Path(args.out)
        cmd = "python benchmarks/recipes.py " + shlex.join(argv if argv is not None else sys.argv[1:])
        extra = ["data: MNIST" + (" (SUBSET)" if args.train_subset or args.test_subset else ""),
                 f"activation: {args.activation}; seed {args.seed}",
                 "every configuration trains through `keras-acts compare` (recipes.compare."
                 "run_grid -> train_one); training clock = each epoch's training time, "
                 "compilation included; the per-epoch test evaluation (fit's validation pass "
                 "on the test set) is excluded and reported",
                 f"command: `KERAS_BACKEND={backend} {cmd}`"]
        lines = H.header_lines(f"MNIST CNN recipes: time to accuracy — {kind.upper()}, {backend}",
                               backend, desc, versions, la_start, la_end, extra, args.note)
        lines += ["", "## Configurations", ""]
        lines += [f"- **{r['name']}**: `keras-acts compare {shlex.join(r['argv'])}` "
                  f"(plan: {', '.join(f'{k}={v}' for k, v in r['plan'].items())})"
                  for r in results]
        lines += ["", "## Summary", "", *H.md_table(head, rows), ""]
        if verdicts:
            lines += ["## Verdict", ""] + [f"- {v}" for v in verdicts] + [""]
        lines += ["## Per epoch", ""]
        for r in results:
            lines += [f"### {r['name']}", ""]
            lines += H.md_table(["epoch", "train s", "clock s", "test acc", "test loss", "train loss",
                                 "test eval s"],
                                [[x["epoch"], f"{x['train_s']:.1f}", f"{x['clock']:.1f}",
                                  f"{x['test_acc']:.4f}", f"{x['test_loss']:.4f}",
                                  f"{x['train_loss']:.4f}", f"{x['eval_s']:.1f}"]
                                 for x in r["hist"]])
            lines.append("")
        H.write_md(out, lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
