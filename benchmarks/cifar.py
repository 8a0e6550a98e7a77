"""Where the CPU time of the CIFAR-10 recipe goes, per Keras backend: training throughput
(img/s) with the settings ``recipes.train`` picks for that backend, whole-batch NumPy
augmentation against Keras's per-image augmentation layers, one evaluation pass, and the
flip+translate test-time augmentation.

    python benchmarks/cifar.py --data-dir ../shared/data                 # TF, JAX, torch
    python benchmarks/cifar.py --backends tensorflow --variant 94 --steps 8
    python benchmarks/cifar.py --backends tensorflow --mixed-precision off,on   # float32 vs bf16
    python benchmarks/cifar.py --backends tensorflow --elementwise auto,policy  # BN + act dtype

Each backend runs in its own process (KERAS_BACKEND is fixed at import), one after the
other, never beside another benchmark. Writes ``benchmarks/results/cifar-throughput-cpu.md``.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def _median_time(fn, reps):
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    times.sort()
    return times[len(times) // 2]


def worker(args) -> dict:
    """Runs inside one backend's process; returns the measurements."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    import numpy as np

    from recipes import compare, data, metrics, train
    from recipes.augment import BatchAugment, tta_views
    from recipes.airbench import init_whitening
    from recipes.models import build_model
    from recipes.plan import enable_determinism, plan_runs

    cfg = compare.resolve_config(compare.build_parser().parse_args(
        ["--dataset", "cifar10", "--model", "cnn", "--variant", args.variant,
         "--activations", args.activation, "--mixed-precision", args.mixed_precision]))
    ds = data.load("cifar10", args.data_dir, verbose=False)
    n = args.batch * (args.steps + 2)
    x = data.preprocess(ds.x_train[:n], "standardize")
    y = np.eye(10, dtype="float32")[ds.y_train[:n]]
    plan = plan_runs(cfg)  # as the recipe's runs would train here
    enable_determinism(plan)
    policy = plan.dtype_policy
    keras.mixed_precision.set_dtype_policy(policy)
    elementwise = plan.elementwise_dtype if args.elementwise == "auto" else None
    keras.utils.set_random_seed(0)
    model = build_model("cnn", x.shape[1:], 10, args.activation, elementwise_dtype=elementwise,
                        **cfg.model_options)
    init_whitening(model, x)
    spe, jit = plan.steps_per_execution, plan.jit_compile
    model.compile(optimizer=train.make_optimizer(cfg, 100), jit_compile=jit, steps_per_execution=spe,
                  loss=keras.losses.CategoricalCrossentropy(label_smoothing=0.2))
    feed = BatchAugment(x, y, args.batch, seed=0)
    t = time.perf_counter()
    model.fit(feed, epochs=1, steps_per_epoch=2, verbose=0)  # compile + warm-up
    warm = time.perf_counter() - t
    t = time.perf_counter()
    model.fit(feed, epochs=1, steps_per_epoch=args.steps, verbose=0)
    step_s = (time.perf_counter() - t) / args.steps
    aug_np = _median_time(lambda: feed[3], 5)
    layers = keras.Sequential([keras.layers.RandomFlip("horizontal"),
                               keras.layers.RandomTranslation(2 / 32, 2 / 32, fill_mode="reflect")])
    xb = x[:args.batch]
    layers(xb, training=True)
    aug_layers = _median_time(lambda: layers(xb, training=True), 3)
    xt = data.preprocess(ds.x_test[:args.eval_images], "standardize")
    model.predict_on_batch(xt[:500])
    eval_s = _median_time(lambda: metrics.predict(model, xt, 500), 1)
    tta_s = _median_time(lambda: [metrics.predict(model, v, 500) for _, v in
                                  tta_views(xt, "flip_translate")], 1)
    return dict(backend=keras.backend.backend(), variant=args.variant, batch=args.batch,
                steps=args.steps, activation=args.activation, jit_compile=str(jit),
                steps_per_execution=spe, dtype_policy=policy,
                elementwise_dtype=elementwise or policy, img_per_s=args.batch / step_s, step_s=step_s,
                epoch_s_50k=50000 / (args.batch / step_s), warmup_s=warm,
                augment_numpy_ms=1000 * aug_np, augment_keras_layers_ms=1000 * aug_layers,
                eval_s_per_10k=eval_s * 10000 / len(xt), tta_s_per_10k=tta_s * 10000 / len(xt),
                keras=keras.__version__)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--backends", default="tensorflow,jax,torch")
    p.add_argument("--variant", default="93", choices=["93", "94", "small"])
    p.add_argument("--activation", default="gelu")
    p.add_argument("--mixed-precision", default="auto",
                   help="comma list of auto, on, off (recipes.plan.dtype_policy); one row each")
    p.add_argument("--elementwise", default="auto",
                   help="comma list of auto (recipes.plan.elementwise_dtype: float32 BatchNorm "
                        "and activations under mixed bfloat16 on a CPU) and policy (the dtype "
                        "policy's own); one row each")
    p.add_argument("--batch", type=int, default=1024)
    p.add_argument("--steps", type=int, default=6, help="timed training steps (after 2 warm-up)")
    p.add_argument("--eval-images", type=int, default=2000, help="test images for eval / TTA")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "cifar-throughput-cpu.md"))
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        print("RESULT " + json.dumps(worker(args)), flush=True)
        return 0
    rows = []
    load = os.getloadavg()
    runs = [(b.strip(), m.strip(), e.strip()) for b in args.backends.split(",") if b.strip()
            for m in args.mixed_precision.split(",") if m.strip()
            for e in args.elementwise.split(",") if e.strip()]
    for backend, mixed, elementwise in runs:
        cmd = [sys.executable, __file__, "--worker", "--variant", args.variant, "--activation",
               args.activation, "--batch", str(args.batch), "--steps", str(args.steps),
               "--eval-images", str(args.eval_images), "--mixed-precision", mixed,
               "--elementwise", elementwise]
        if args.data_dir:
            cmd += ["--data-dir", args.data_dir]
        env = dict(os.environ, KERAS_BACKEND=backend, CUDA_VISIBLE_DEVICES="")
        t = time.perf_counter()
        r = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
        line = next((ln for ln in r.stdout.splitlines() if ln.startswith("RESULT ")), None)
        if line is None:
            print(f"{backend}: failed\n{r.stderr[-3000:]}", file=sys.stderr)
            continue
        res = json.loads(line[7:])
        res["wall_s"] = time.perf_counter() - t
        rows.append(res)
        print(f"{backend}: {res['img_per_s']:.0f} img/s (jit_compile={res['jit_compile']}, "
              f"steps_per_execution={res['steps_per_execution']}, {res['dtype_policy']}, "
              f"BN + act {res['elementwise_dtype']})", flush=True)
    from keras_acts.docs import markdown_table

    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo")
                   if ln.startswith("model name"))
    except (OSError, StopIteration):
        pass
    head = ["backend", "img/s (train)", "s per 50k epoch", "dtype policy", "BN + act dtype", "jit_compile",
            "steps/exec",
            "compile + 2 steps (s)", "NumPy batch aug. (ms/batch)", "Keras aug. layers (ms/batch)",
            "eval (s/10k)", "flip+translate TTA (s/10k)"]
    table = markdown_table(head, [[r["backend"], f"{r['img_per_s']:.0f}", f"{r['epoch_s_50k']:.0f}",
                                   r.get("dtype_policy", "float32"), r["elementwise_dtype"], r["jit_compile"], r["steps_per_execution"],
                                   f"{r['warmup_s']:.1f}", f"{r['augment_numpy_ms']:.1f}",
                                   f"{r['augment_keras_layers_ms']:.0f}", f"{r['eval_s_per_10k']:.1f}",
                                   f"{r['tta_s_per_10k']:.1f}"] for r in rows])
    text = (f"# CIFAR-10 cnn recipe (--variant {args.variant}, {args.activation}): CPU throughput "
            f"per backend\n\n{time.strftime('%Y-%m-%d %H:%M')}, {cpu}, {os.cpu_count()} cores, "
            f"load average before {load[0]:.2f}; Keras {rows[0]['keras'] if rows else '?'}; batch "
            f"{args.batch}, {args.steps} timed steps after 2 warm-up steps, real CIFAR-10 images "
            "through `recipes.augment.BatchAugment`; the settings are those `recipes.train` picks "
            "per backend (dtype policy, XLA, steps per execution).\n\n" + table)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
