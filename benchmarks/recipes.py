"""Wall time to accuracy on MNIST: the keras.io "simple MNIST convnet" against our CNN
recipe(s), side by side in one run.

    KERAS_BACKEND=jax python benchmarks/recipes.py --data-dir /work/shared/data          # full
    KERAS_BACKEND=jax python benchmarks/recipes.py --epochs 1 --train-subset 5000 --out /tmp/r.md
    KERAS_BACKEND=jax python benchmarks/recipes.py --ours-config recipe,recipe-fast,fast

Configurations (``--configs``, default ``keras_io,ours``; ``ours`` expands to every
``--ours-config``, default ``fast``):

``keras_io``     the keras.io example "Simple MNIST convnet" (fchollet), reproduced from its
                 published description: x/255, one-hot labels, Conv2D(32, 3x3, relu) ->
                 MaxPool(2) -> Conv2D(64, 3x3, relu) -> MaxPool(2) -> Flatten -> Dropout(0.5)
                 -> Dense(10, softmax) (valid padding, Keras default initialisers);
                 ``compile(loss="categorical_crossentropy", optimizer="adam",
                 metrics=["accuracy"])`` (everything else default, so ``jit_compile="auto"``);
                 ``fit(batch_size=128, epochs=15, validation_split=0.1)``.
``recipe``       ``recipes.models.build_model("cnn", ...)`` trained exactly as
                 ``python -m recipes.compare --model cnn`` trains it (its ``RECIPES["cnn"]`` /
                 ``DEFAULTS``: three BatchNorm conv stages (32/64/128), random shifts,
                 standardised inputs, Adam 1e-3 with cosine decay, batch 128, 10 epochs;
                 XLA as ``--jit`` says: off for TensorFlow on a CPU, as ``recipes.compare``).
``recipe-fast``  the same architecture with the benchmark's fast training levers (below).
``fast``         the published one-epoch MNIST net, built by ``build_model`` (``FAST_CNN``):
                 Conv5x5/24 (valid) -> MaxPool -> BN -> act -> Conv3x3/32 (valid) ->
                 MaxPool -> BN -> act -> Dense(256) -> BN -> act -> Dense(10) (pooling
                 before BN and the activation, as airbench does: they run on a quarter of
                 the pixels; steady epoch 3.7 s vs ~4.5 s, same 99.1 %): 1.24 M
                 multiply-adds per image (keras.io's net: 2.4 M; the recipe CNN: 7.4 M), one
                 epoch with the fast levers. Measured (TensorFlow, seed 0, one epoch, cores
                 shared): batch 128 / peak 6e-3 99.09 %, 128 / 3e-3 99.02 %, 256 / 3e-3
                 98.50 %, without BatchNorm 98.0-98.3 %, label smoothing 0.1 98.63 %.

Fast levers (``recipe-fast`` and ``fast``): arrays in memory fed as recipes.compare feeds
them (``--pipeline auto``: on TensorFlow tf.data with autotuning off, ``recipes.feed`` --
Keras's own AUTOTUNE pipelines stall 0-10 s whenever an iterator is torn down), XLA per
``--jit`` (off for TensorFlow on a CPU), ``steps_per_execution`` (``--steps-per-execution``, default 8), batch 128 on CPU / 512
on GPU (``--batch-size``), Adam with a one-cycle schedule peaking at
``6e-3 * sqrt(batch / 128)`` (``--lr``; linear warm-up over the first 20 % of steps from
lr/25, then cosine to 0), whole batches only (one compiled shape), mixed precision
(bfloat16) on GPU only, 1 epoch (``--ours-epochs``).

Measurement: the test set is evaluated after every epoch (``model.evaluate``, batch 2048)
and that time is excluded from the training clock but reported. The training clock is the
wall time of ``fit`` per epoch minus any validation pass inside ``fit`` (keras.io's
``validation_split``), i.e. it *includes* compilation (reported separately as the first
epoch's excess over the median epoch). "Time to 99 %" = training clock at the end of the
first epoch whose test accuracy is >= ``--target`` (0.99).

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
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

_HERE = Path(__file__).resolve().parent
ROOT = _HERE.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


from benchmarks import ops as H  # noqa: E402  (the shared header / Markdown helpers)

OURS_CONFIGS = ("recipe", "recipe-fast", "fast")
KERAS_IO = dict(batch_size=128, epochs=15, validation_split=0.1)

#: the proposed fast MNIST CNN, as build_model("cnn", ...) options
FAST_CNN = dict(filters=(24, 32), kernel_size=(5, 3), padding="valid", convs_per_stage=1,
                batchnorm=True, dense=256, dropout=0.0, dense_dropout=0.0, pool="early")
#: fallback if recipes.compare is not importable: its RECIPES["cnn"] / DEFAULTS as of writing
def recipe_settings():
    """The MNIST CNN recipe exactly as ``keras-acts compare`` trains it (its own tables, read
    through ``recipes.config.recipe``; the standard preset's epochs)."""
    from recipes.config import PRESETS, recipe

    r = recipe("mnist", "cnn")
    return dict({k: r[k] for k in ("model_options", "lr", "batch_size", "schedule", "preprocess",
                                   "optimizer", "augment", "mixed_precision")},
                epochs=PRESETS["standard"]["epochs"], source="recipes.config.recipe")


# =============================================================================
# models
# =============================================================================
def keras_io_model(input_shape, num_classes):
    import keras
    from keras import layers

    return keras.Sequential([
        keras.Input(shape=input_shape),
        layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Flatten(),
        layers.Dropout(0.5),
        layers.Dense(num_classes, activation="softmax"),
    ], name="keras_io_simple_mnist_convnet")


def ours_model(options, input_shape, num_classes, activation, augment=None, elementwise=None):
    from recipes.models import build_model

    return build_model("cnn", input_shape, num_classes, activation, augment=augment,
                       elementwise_dtype=elementwise, **options)


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
# training
# =============================================================================
class _FitTimer:
    """Callback factory: seconds spent in fit's own validation pass."""

    @staticmethod
    def make():
        import keras

        class T(keras.callbacks.Callback):
            def __init__(self):
                super().__init__()
                self.val = 0.0
                self._t = None

            def on_test_begin(self, logs=None):
                self._t = time.perf_counter()

            def on_test_end(self, logs=None):
                if self._t is not None:
                    self.val += time.perf_counter() - self._t
                    self._t = None

        return T()


def run_config(name, spec, data, args, device_kind):
    """Train one configuration epoch by epoch; evaluate on the test set after each."""
    import keras
    import numpy as np

    keras.backend.clear_session()
    keras.utils.set_random_seed(args.seed)
    policy = spec["policy"]
    keras.mixed_precision.set_dtype_policy(policy)
    x_tr, y_tr, x_te, y_te = data[spec["prep"]]
    n_train = len(x_tr) - (int(len(x_tr) * spec["validation_split"]) if spec.get("validation_split") else 0)
    bs = spec["batch_size"]
    epochs = spec["epochs"]
    steps_per_epoch = math.ceil(n_train / bs)
    if spec["kind"] == "keras_io":
        model = keras_io_model(data["input_shape"], data["num_classes"])
    else:
        model = ours_model(spec["model_options"], data["input_shape"], data["num_classes"],
                           args.activation, spec.get("augment"), spec.get("elementwise"))
    if spec["schedule"] == "one_cycle":
        from recipes.compare import one_cycle

        lr = one_cycle(spec["lr"], steps_per_epoch * epochs)
    elif spec["schedule"] == "cosine":
        lr = keras.optimizers.schedules.CosineDecay(spec["lr"], decay_steps=max(1, steps_per_epoch * epochs),
                                                    alpha=0.01)
    else:
        lr = spec["lr"]
    if spec["kind"] == "keras_io":
        model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    else:
        model.compile(optimizer=keras.optimizers.Adam(lr), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"], jit_compile=spec["jit"],
                      steps_per_execution=spec["steps_per_execution"])
    fit_x, fit_kw = x_tr, dict(y=y_tr, batch_size=bs, shuffle=True)
    if spec.get("validation_split"):
        fit_kw["validation_split"] = spec["validation_split"]
    if spec.get("pipeline") == "tfdata":
        from recipes.feed import as_tf_dataset

        fit_x = as_tf_dataset(x_tr, y_tr, bs, shuffle=True, seed=args.seed,
                              drop_remainder=bool(spec.get("drop_remainder")))
        fit_kw = dict(shuffle=False)  # the dataset shuffles itself
    drop = spec.get("drop_remainder") and fit_x is x_tr and len(x_tr) % bs != 0
    rng = np.random.default_rng(args.seed)
    eval_bs = _divisor_batch(len(x_te), 2048)
    timer = _FitTimer.make()
    hist = []
    clock = 0.0
    t_budget = args.max_minutes * 60 if args.max_minutes else None
    print(f"\n== {name}: {spec['describe']}", flush=True)
    for ep in range(epochs):
        timer.val = 0.0
        t0 = time.perf_counter()
        if drop:  # whole batches only: one compiled shape, no partial-batch recompilation
            idx = rng.permutation(len(x_tr))[: len(x_tr) // bs * bs]
            fit_x, fit_kw = x_tr[idx], dict(fit_kw, y=y_tr[idx], shuffle=False)
        h = model.fit(fit_x, epochs=ep + 1, initial_epoch=ep, verbose=0, callbacks=[timer], **fit_kw)
        wall = time.perf_counter() - t0
        train_s = wall - timer.val
        clock += train_s
        t1 = time.perf_counter()
        loss, acc = model.evaluate(x_te, y_te, batch_size=eval_bs, verbose=0)[:2]
        ev = time.perf_counter() - t1
        row = dict(epoch=ep + 1, train_s=train_s, clock=clock, val_s=timer.val, eval_s=ev,
                   test_acc=float(acc), test_loss=float(loss),
                   train_loss=float(h.history["loss"][-1]))
        hist.append(row)
        print(f"  epoch {ep + 1:2d}/{epochs}: train {train_s:6.1f} s (clock {clock:6.1f} s)"
              + (f", in-fit validation {timer.val:4.1f} s" if timer.val else "")
              + f", test acc {acc:.4f} (eval {ev:.1f} s)", flush=True)
        if t_budget and clock >= t_budget and ep + 1 < epochs:
            print(f"  stopping: --max-minutes {args.max_minutes} reached", flush=True)
            break
    keras.mixed_precision.set_dtype_policy("float32")
    return dict(name=name, spec=spec, hist=hist, params=int(model.count_params()),
                macs=macs_per_image(model), stopped_early=len(hist) < epochs)


def _divisor_batch(n, cap):
    """The largest batch <= cap that divides n (no partial batch, one compiled shape)."""
    for b in range(min(cap, n), 0, -1):
        if n % b == 0 and b >= cap // 4:
            return b
    return min(cap, n)


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
                eval=sum(r["eval_s"] for r in h), val=sum(r["val_s"] for r in h), epochs=len(h))


# =============================================================================
# data & configs
# =============================================================================
def load_data(args):
    import keras
    import numpy as np

    from recipes import data as rdata

    t0 = time.perf_counter()
    ds = rdata.load("mnist", args.data_dir, verbose=False)
    source = ds.source
    if args.train_subset or args.test_subset:
        ds = rdata.subset(ds, args.train_subset, args.test_subset, seed=0)
    # keras.io: x/255, one-hot labels
    unit_tr, unit_te = rdata.preprocess(ds.x_train, "unit"), rdata.preprocess(ds.x_test, "unit")
    kio = (unit_tr, keras.utils.to_categorical(ds.y_train, ds.num_classes),
           unit_te, keras.utils.to_categorical(ds.y_test, ds.num_classes))
    mean, std = rdata.channel_stats(ds.x_train)
    std_tr = rdata.preprocess(ds.x_train, "standardize", mean, std)
    std_te = rdata.preprocess(ds.x_test, "standardize", mean, std)
    ours = (std_tr, ds.y_train.astype(np.int32), std_te, ds.y_test.astype(np.int32))
    return {"keras_io": kio, "standardize": ours, "input_shape": ds.input_shape,
            "num_classes": ds.num_classes, "source": source, "n_train": len(ds.x_train),
            "n_test": len(ds.x_test), "load_s": time.perf_counter() - t0}


def make_specs(args, device_kind, backend):
    rec = recipe_settings()
    # auto: on GPUs only. (On a native-bfloat16 CPU the fast net's 24/32 channels are too
    # narrow for it: 11.8 s vs 7.2 s for the epoch, results/mnist-fast-batch-dtype-cpu-tensorflow.md)
    mixed = {"on": True, "off": False, "auto": device_kind == "gpu"}[args.mixed_precision]
    policy = "mixed_bfloat16" if mixed else "float32"
    spe = args.steps_per_execution
    # the recipe as recipes.compare runs it: its run plan (dtype policy, steps per execution,
    # feed) on this backend
    from recipes.config import Config
    from recipes.plan import plan_runs

    recipe_plan = plan_runs(Config(mixed_precision=rec.get("mixed_precision", "off"),
                                   backend=backend))
    recipe_policy, recipe_elementwise = recipe_plan.dtype_policy, recipe_plan.elementwise_dtype
    recipe_spe = recipe_plan.steps_per_execution
    pipeline = args.pipeline
    if pipeline == "tfdata" and backend != "tensorflow":
        print("note: --pipeline tfdata is for the TensorFlow backend; using NumPy arrays", flush=True)
        pipeline = "numpy"
    if pipeline == "auto":  # as recipes.compare feeds fit (recipes.feed)
        pipeline = "tfdata" if recipe_plan.feed == "tfdata" else "numpy"
    bs = args.batch_size or (512 if device_kind == "gpu" else 128)
    lr = args.lr or 6e-3 * math.sqrt(bs / 128)
    # XLA: off on TensorFlow CPUs (3-4x slower convolutions there), on elsewhere
    jit = {"on": True, "off": False}.get(args.jit, not (backend == "tensorflow"
                                                        and device_kind == "cpu"))
    fast_common = dict(kind="ours", prep="standardize", batch_size=bs, lr=lr,
                       schedule="one_cycle", jit=jit, steps_per_execution=spe,
                       policy=policy, pipeline=pipeline, epochs=args.ours_epochs, drop_remainder=True)
    specs = {}
    configs = [c.strip() for c in args.configs.split(",") if c.strip()]
    ours = [c.strip() for c in args.ours_config.split(",") if c.strip()]
    bad = [c for c in ours if c not in OURS_CONFIGS]
    if bad:
        raise SystemExit(f"--ours-config: unknown {bad}; choose from {OURS_CONFIGS}")
    for c in configs:
        if c == "keras_io":
            specs["keras_io"] = dict(kind="keras_io", prep="keras_io", batch_size=128,
                                     epochs=args.baseline_epochs, validation_split=0.1, lr=1e-3,
                                     schedule="constant", jit="auto", steps_per_execution=1,
                                     policy="float32", pipeline="numpy",
                                     describe="keras.io simple MNIST convnet: Adam 1e-3, batch "
                                              "128, validation_split 0.1, defaults otherwise")
        elif c == "ours":
            for o in ours:
                if o == "recipe":
                    specs["ours:recipe"] = dict(
                        kind="ours", prep="standardize", model_options=rec["model_options"],
                        augment=rec.get("augment"), batch_size=rec["batch_size"], lr=rec["lr"],
                        schedule=rec["schedule"],
                        jit=jit, steps_per_execution=recipe_spe, policy=recipe_policy,
                        elementwise=recipe_elementwise, pipeline=pipeline, epochs=args.recipe_epochs or rec["epochs"],
                        describe=f"build_model('cnn', {_opts(rec['model_options'])}), trained as "
                                 f"recipes.compare does ({rec['source']}): Adam {rec['lr']:g} "
                                 f"{rec['schedule']}, batch {rec['batch_size']}, augment "
                                 f"{rec.get('augment')}, steps_per_execution={recipe_spe}, "
                                 f"{recipe_policy}")
                elif o == "recipe-fast":
                    specs["ours:recipe-fast"] = dict(
                        fast_common, model_options=rec["model_options"], augment=rec.get("augment"),
                        describe=f"build_model('cnn', {_opts(rec['model_options'])}) + fast levers")
                else:
                    from recipes.models import DEFAULTS as MODEL_OPTIONS

                    fast_opts = dict(FAST_CNN)
                    for kv in args.fast_option:
                        k, _, v = kv.partition("=")
                        if k not in MODEL_OPTIONS["cnn"]:
                            raise SystemExit(f"--fast-option {k}: unknown; known: "
                                             f"{sorted(MODEL_OPTIONS['cnn'])}")
                        fast_opts[k] = _value(v)
                    specs["ours:fast"] = dict(
                        fast_common, model_options=fast_opts, target_speedup=10,
                        describe=f"build_model('cnn', {_opts(fast_opts)}) + fast levers")
        else:
            raise SystemExit(f"--configs: unknown {c!r}; use keras_io and/or ours")
    if args.epochs:
        for s in specs.values():
            s["epochs"] = args.epochs
    for s in specs.values():
        if s["kind"] == "ours" and s["schedule"] == "one_cycle":
            s["describe"] += (f": batch {s['batch_size']}, Adam one-cycle peak {s['lr']:g}, "
                              f"jit_compile={s['jit']}, steps_per_execution={s['steps_per_execution']}, "
                              f"{s['policy']}, {s['pipeline']} input, "
                              "whole batches only (a fresh random N//batch*batch sample each epoch)")
    return specs


def _value(text):
    import ast

    try:
        v = ast.literal_eval(text.strip())
    except (ValueError, SyntaxError):
        return text.strip()
    return tuple(v) if isinstance(v, list) else v


def _opts(d):
    return ", ".join(f"{k}={v}" for k, v in d.items())


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
    p.add_argument("--baseline-epochs", type=int, default=KERAS_IO["epochs"])
    p.add_argument("--ours-epochs", type=int, default=1, help="epochs of recipe-fast / fast")
    p.add_argument("--recipe-epochs", type=int, default=None, help="epochs of recipe (default: its own)")
    p.add_argument("--max-minutes", type=float, default=None,
                   help="stop a configuration after the epoch that passes this training time")
    p.add_argument("--batch-size", type=int, default=None,
                   help="fast levers: batch size (default 256 on CPU, 512 on GPU)")
    p.add_argument("--lr", type=float, default=None,
                   help="fast levers: peak learning rate (default 3e-3 * sqrt(batch / 256))")
    p.add_argument("--steps-per-execution", type=int, default=8)
    p.add_argument("--jit", choices=["auto", "on", "off"], default="auto",
                   help="XLA for ours: auto = off for TensorFlow on a CPU (measured 3-4x "
                        "slower convolutions with it), on for JAX and on GPUs")
    p.add_argument("--mixed-precision", choices=["auto", "on", "off"], default="auto",
                   help="fast levers: mixed_bfloat16 (auto: on GPU only)")
    p.add_argument("--pipeline", choices=["auto", "numpy", "tfdata"], default="auto",
                   help="how our configs feed fit: auto (default) = as recipes.compare does "
                        "(recipes.feed: tf.data without autotuning on TensorFlow, else NumPy); "
                        "keras.io's config always gets NumPy arrays, as written")
    p.add_argument("--target", type=float, default=0.99, help="test accuracy to time (0.99)")
    p.add_argument("--train-subset", type=int, default=None, help="use N training images")
    p.add_argument("--test-subset", type=int, default=None, help="use N test images")
    p.add_argument("--data-dir", default=None, help="MNIST folder (else $KERAS_ACTS_DATA, tfds, npm)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--interleave", action="store_true",
                   help="run our configurations before and after keras_io (A/B/A), one row each")
    p.add_argument("--out", default="auto",
                   help="Markdown output ('auto' = benchmarks/results/recipes-<device>-<backend>.md, "
                        "'none' = don't write)")
    p.add_argument("--note", default=None, help="free text for the Markdown header")
    return p.parse_args(argv)


def main(argv=None):
    args = parse(argv)
    la_start = H.loadavg()
    import keras

    import keras_acts  # noqa: F401 - installs the activation names

    backend, kind, desc, versions = H.backend_info()
    print(f"# keras-acts recipes benchmark | {desc} | backend {backend} | {H.load_text(la_start)}",
          flush=True)
    if H.is_loaded(la_start):
        print("# WARNING: machine is loaded; timings are noisy", flush=True)
    specs = make_specs(args, kind, backend)
    data = load_data(args)
    print(f"# MNIST from {data['source']}: {data['n_train']} train / {data['n_test']} test "
          f"({data['load_s']:.1f} s)", flush=True)
    order = list(specs.items())
    if args.interleave and "keras_io" in specs and len(specs) > 1:
        # A/B/A: ours before and after the baseline, so that a speed flip of the machine
        # during the baseline's minutes shows as two different times of ours
        ours = [(n, s) for n, s in order if n != "keras_io"]
        order = ([(f"{n} (before)", s) for n, s in ours] + [("keras_io", specs["keras_io"])]
                 + [(f"{n} (after)", s) for n, s in ours])
    results = [run_config(n, s, data, args, kind) for n, s in order]
    la_end = H.loadavg()

    sums = {r["name"]: summarize(r, args.target) for r in results}
    pct = f"{args.target * 100:.1f} %"
    head = ["config", "params", "MACs/img", "epochs", f"time to {pct} s", f"epochs to {pct}",
            "final test acc", "best test acc", "train clock s", "1st epoch s", "median epoch s",
            "compile ≈ s", "test eval s (excluded)", "in-fit val s (excluded)"]
    rows = []
    for r in results:
        s = sums[r["name"]]
        rows.append([r["name"], f"{r['params']:,}", f"{r['macs'] / 1e6:.2f} M", s["epochs"],
                     _fmt_s(s["t_target"]), s["e_target"] or "not reached", f"{s['final']:.4f}",
                     f"{s['best']:.4f}", _fmt_s(s["clock"]), _fmt_s(s["first"]), _fmt_s(s["median"]),
                     _fmt_s(s["compile"]), _fmt_s(s["eval"]), _fmt_s(s["val"])])
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
        need = r["spec"].get("target_speedup")
        if need:   # the one-epoch net: a speed target at the target accuracy only
            ok, goal = bool(sp99 and sp99 >= need), f"the >= {need}x to {pct} target"
        else:
            ok = bool(sp99 and sp99 >= 4 and (sp_eq or 0) >= 4 and s["final"] >= 0.994
                      and s["final"] >= base["final"])
            goal = "the >= 4x target (final >= 0.9940)"
        full = not args.train_subset and not args.test_subset and not any(x["stopped_early"] for x in results)
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
        extra = [f"data: MNIST from {data['source']}, {data['n_train']} train / {data['n_test']} "
                 f"test images" + (" (SUBSET)" if args.train_subset or args.test_subset else ""),
                 f"activation of ours: {args.activation}; seed {args.seed}",
                 "training clock = fit() wall time per epoch minus fit's own validation pass, "
                 "compilation included; the per-epoch test evaluation is excluded (reported)",
                 f"command: `KERAS_BACKEND={backend} {cmd}`"]
        lines = H.header_lines(f"MNIST CNN recipes: time to accuracy — {kind.upper()}, {backend}",
                               backend, desc, versions, la_start, la_end, extra, args.note)
        lines += ["", "## Configurations", ""]
        lines += [f"- **{n}**: {s['describe']}; {s['epochs']} epoch(s)" for n, s in specs.items()]
        lines += ["", "## Summary", "", *H.md_table(head, rows), ""]
        if verdicts:
            lines += ["## Verdict", ""] + [f"- {v}" for v in verdicts] + [""]
        lines += ["## Per epoch", ""]
        for r in results:
            lines += [f"### {r['name']}", ""]
            lines += H.md_table(["epoch", "train s", "clock s", "test acc", "test loss", "train loss",
                                 "test eval s", "in-fit val s"],
                                [[x["epoch"], f"{x['train_s']:.1f}", f"{x['clock']:.1f}",
                                  f"{x['test_acc']:.4f}", f"{x['test_loss']:.4f}",
                                  f"{x['train_loss']:.4f}", f"{x['eval_s']:.1f}", f"{x['val_s']:.1f}"]
                                 for x in r["hist"]])
            lines.append("")
        H.write_md(out, lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
