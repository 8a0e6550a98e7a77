"""One training step of two models, plain autodiff against keras-acts's efficient gradients:
the memory kept for the backward pass and the step time, side by side in one run.

    KERAS_BACKEND=jax   python benchmarks/model_memory.py --out auto
    KERAS_BACKEND=torch python benchmarks/model_memory.py --out auto

Models (built by ``recipes.models.build_model``, so they are the recipes' own):
(a) ``mlp``: 16 Dense layers of 1024 units on 1024 inputs, batch 256 (``--mlp-batch``);
(b) ``cnn``: the CIFAR-10 recipe (the airbench ``cifar-quick`` widths 32/64/64 by default,
    ``--cnn-variant``), 32x32x3 inputs, batch 256.
Per activation (swish_x, gelu_tanh, serf, smish and the PReLU layer; relu and silu as
Keras's own) and gradient mode (``autodiff``: plain autodiff of the formula; ``auto``: the
default; ``efficient``: ``keras_acts.set_gradients("efficient")``, where the layer also
recomputes its forward pass):

- memory: JAX -- ``jax.jit(value_and_grad).lower(...).compile().memory_analysis()``'s
  ``temp_size_in_bytes`` (peak temporary memory of the compiled step); torch -- the bytes
  autograd saves for backward during the step's forward (``saved_tensors_hooks``, distinct
  storages, the model's weights left out: they exist anyway); TensorFlow -- not measured (no CPU allocator statistics), step time only;
- step time: forward + backward of a mean-squared loss on the logits (no optimizer update,
  the same for every row), median of ``--repeats`` runs after a warm-up, modes interleaved.
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from benchmarks import ops as bench  # noqa: E402  (environment and Markdown helpers)

ACTIVATIONS = ("relu", "silu", "swish_x", "gelu_tanh", "serf", "smish", "prelu")
MODES = ("autodiff", "auto", "efficient")


def build(kind, activation, args):
    from recipes.config import recipe
    from recipes.models import build_model

    if kind == "mlp":
        return build_model("mlp", (1024,), 10, activation, depth=16, width=1024)
    opts = {**recipe("cifar10", "cnn", args.cnn_variant)["model_options"],
            "stem": None}  # the whitening stem needs training patches; it is linear
    return build_model("cnn", (32, 32, 3), 10, activation, **opts)


class Step:
    """A compiled (JAX, TF) or eager (torch) training step of ``model`` in one mode."""

    def __init__(self, model, x, y, mode):
        import keras
        import keras_acts

        self.backend = keras.backend.backend()
        self.model, self.x, self.y, self.mode = model, x, y, mode
        with keras_acts.set_gradients(mode):
            self.memory = getattr(self, f"_build_{self.backend}")()

    def _loss(self, out):
        from keras import ops

        return ops.mean(ops.square(ops.cast(out, "float32") - self.y))

    def _build_jax(self):
        import jax

        m = self.model
        tv = [v.value for v in m.trainable_variables]
        ntv = [v.value for v in m.non_trainable_variables]

        def loss(tv, ntv, x):
            out, new = m.stateless_call(tv, ntv, x, training=True)
            return self._loss(out), new

        compiled = jax.jit(jax.value_and_grad(loss, has_aux=True)).lower(tv, ntv, self.x).compile()
        self.fn = lambda: jax.block_until_ready(compiled(tv, ntv, self.x))
        return compiled.memory_analysis().temp_size_in_bytes

    def _build_tensorflow(self):
        import tensorflow as tf

        m = self.model

        @tf.function(jit_compile=False)
        def step(x):
            with tf.GradientTape() as tape:
                loss = self._loss(m(x, training=True))
            return loss, tape.gradient(loss, m.trainable_variables)

        self.fn = lambda: [t.numpy() for t in tf.nest.flatten(step(self.x))[:1]]
        return None

    def _build_torch(self):
        import keras_acts
        import torch

        m = self.model

        def step():
            with keras_acts.set_gradients(self.mode):  # torch is eager: the mode is read per call
                loss = self._loss(m(self.x, training=True))
            grads = torch.autograd.grad(loss, [v.value for v in m.trainable_variables])
            return float(loss.detach()), grads

        weights = frozenset(v.value.untyped_storage().data_ptr() for v in m.weights)
        with keras_acts.set_gradients(self.mode):  # the weights exist anyway: not counted
            kept = bench.torch_saved_bytes(lambda: self._loss(m(self.x, training=True)), weights)
        self.fn = step
        return kept


def timed(steps, repeats):
    """{key: median seconds}: each repeat runs every step once, rotating the order."""
    for s in steps.values():
        s.fn()
        s.fn()
    keys, times = list(steps), {k: [] for k in steps}
    for r in range(repeats):
        k = r % len(keys)
        for key in keys[k:] + keys[:k]:
            t = time.perf_counter()
            steps[key].fn()
            times[key].append(time.perf_counter() - t)
    return {k: statistics.median(v) for k, v in times.items()}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models", default="mlp,cnn")
    p.add_argument("--activations", default=",".join(ACTIVATIONS))
    p.add_argument("--mlp-batch", type=int, default=256)
    p.add_argument("--cnn-batch", type=int, default=256)
    p.add_argument("--cnn-variant", default="small", choices=("small", "93", "94"))
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--out", default=None, help="Markdown page ('auto': benchmarks/results/"
                   "model-memory-<device>-<backend>.md)")
    p.add_argument("--note", default=None)
    args = p.parse_args(argv)
    la_start = bench.loadavg()
    import keras
    import numpy as np

    backend, kind, desc, versions = bench.backend_info()
    rows = []
    for model_kind in args.models.split(","):
        batch = args.mlp_batch if model_kind == "mlp" else args.cnn_batch
        shape = (batch, 1024) if model_kind == "mlp" else (batch, 32, 32, 3)
        rng = np.random.default_rng(0)
        x = keras.ops.convert_to_tensor(rng.standard_normal(shape).astype("float32"))
        y = keras.ops.convert_to_tensor(rng.standard_normal((batch, 10)).astype("float32"))
        unit = batch * 1024 * 4  # one (batch, 1024) float32 tensor
        for act in args.activations.split(","):
            keras.utils.set_random_seed(0)
            model = build(model_kind, act, args)
            steps = {mode: Step(model, x, y, mode) for mode in MODES}
            t = timed(steps, args.repeats)
            mem = {m: steps[m].memory for m in MODES}
            row = [model_kind, act]
            for m in MODES:
                row += ["—" if mem[m] is None else f"{mem[m] / unit:.1f}", f"{t[m] * 1e3:.1f}"]
            for m in MODES[1:]:
                row += ["—" if mem["autodiff"] in (None, 0)
                        else f"{100 * (1 - mem[m] / mem['autodiff']):.0f} %",
                        f"{t[m] / t['autodiff']:.2f}"]
            rows.append(row)
            print(" | ".join(row), flush=True)
            keras.backend.clear_session()
    what = {"jax": "peak temp.", "torch": "saved", "tensorflow": "memory"}[backend]
    headers = ["model", "activation"]
    for m in MODES:
        headers += [f"{m}: {what} (units)", f"{m}: step ms"]
    for m in MODES[1:]:
        headers += [f"{m}: memory saved", f"{m}: time vs autodiff"]
    print(bench.text_table(headers, rows))
    if args.out:
        out = (bench.RESULTS / f"model-memory-{kind}-{backend}.md" if args.out == "auto"
               else Path(args.out))
        extra = [f"models: (a) mlp 16x1024 on 1024 inputs, batch {args.mlp_batch}; (b) cnn "
                 f"(CIFAR-10 airbench recipe, variant {args.cnn_variant}, no whitening stem), "
                 f"batch {args.cnn_batch}; memory in units of one ({args.mlp_batch}x1024 / "
                 f"{args.cnn_batch}x1024) float32 tensor",
                 "memory: " + {"jax": "compiled step's memory_analysis().temp_size_in_bytes",
                               "torch": "bytes autograd saves during the step's forward "
                                        "(saved_tensors_hooks, distinct storages, weights "
                                        "left out)",
                               "tensorflow": "not measured"}[backend],
                 f"step: forward + backward (no optimizer update), median of {args.repeats}, "
                 "modes interleaved",
                 "command: `KERAS_BACKEND=" + backend + " python benchmarks/model_memory.py "
                 + shlex.join(argv if argv is not None else sys.argv[1:]) + "`"]
        lines = bench.header_lines(f"keras-acts model-level memory and step time — {kind.upper()}, "
                                   f"{backend}", backend, desc, versions, la_start,
                                   bench.loadavg(), extra, args.note)
        bench.write_md(out, lines + ["", *bench.md_table(headers, rows), ""])
    return 0


if __name__ == "__main__":
    sys.exit(main())
