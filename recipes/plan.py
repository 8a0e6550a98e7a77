"""The run plan: how every run of a grid trains on this machine -- backend, device placement
and replicas, dtype policy and elementwise dtype, XLA, steps per execution, feed, optimizer and
schedule -- decided once by ``plan_runs`` before any training, written into ``config.json``
and every run record, and passed to the engines (Ray included) as it is.

Each choice is made by one function here; nothing else in the recipes works one out again.
"""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path

__all__ = ["RunPlan", "plan_runs", "dtype_policy", "elementwise_dtype", "accelerator",
           "native_bf16_cpu", "jit_compile", "steps_per_execution", "feed", "processes",
           "enable_determinism"]


@dataclasses.dataclass(frozen=True)
class RunPlan:
    """What ``plan_runs`` decided; the field names are the run records' keys."""

    backend: str
    device: str | None          # the placement, in words (recipes.devices)
    replicas: int               # devices one model trains on
    processes: int              # processes training one model (JAX multi-process)
    dtype_policy: str           # Keras's global dtype policy
    elementwise_dtype: str | None  # BatchNorm and activation layers (None: the policy's)
    jit_compile: bool | str     # Model.compile's jit_compile
    steps_per_execution: int
    feed: str                   # "tfdata" (recipes.feed's pipelines) or "keras" (the arrays)
    optimizer: str              # --optimizer, or "model file" (--model-file's own)
    schedule: str | None        # --schedule, or None with the model file's optimizer
    determinism: bool           # TensorFlow op determinism (same seed -> same metrics)

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def plan_runs(cfg, placement=None, cpuinfo: str | None = None) -> RunPlan:
    """The plan for ``cfg``'s runs on ``placement`` (``recipes.devices.setup``; None: this
    process's default device)."""
    policy = dtype_policy(cfg, cpuinfo)
    from_file = bool(cfg.compile_from_file)
    return RunPlan(
        backend=cfg.backend,
        device=placement.description if placement is not None else None,
        replicas=placement.replicas if placement is not None else 1,
        processes=processes()[0],
        dtype_policy=policy,
        elementwise_dtype=elementwise_dtype(cfg, policy),
        jit_compile=jit_compile(cfg),
        steps_per_execution=steps_per_execution(cfg, placement),
        feed=feed(cfg, placement),
        optimizer="model file" if from_file else cfg.optimizer,
        schedule=None if from_file else cfg.schedule,
        determinism=cfg.backend == "tensorflow" and cfg.jit_compile != "on",
    )


def native_bf16_cpu(cpuinfo: str | None = None) -> bool:
    """Whether this CPU computes bfloat16 natively (the AVX512_BF16 or AMX-BF16 flag in
    /proc/cpuinfo). Elsewhere bfloat16 is emulated and slower than float32."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            return False
    return re.search(r"\b(avx512_bf16|amx_bf16)\b", cpuinfo) is not None


def accelerator(cfg) -> str | None:
    """"gpu" or "tpu" when the run's backend sees one (and --device is not cpu), else None."""
    if cfg.device == "cpu":
        return None
    if cfg.backend == "tensorflow":
        import tensorflow as tf

        return "gpu" if tf.config.list_physical_devices("GPU") else None
    if cfg.backend == "jax":
        import jax

        return jax.default_backend() if jax.default_backend() in ("gpu", "tpu") else None
    if cfg.backend == "torch":
        import torch

        return "gpu" if torch.cuda.is_available() else None
    return None


def dtype_policy(cfg, cpuinfo: str | None = None) -> str:
    """The Keras dtype policy. ``mixed_precision``: off -> float32; on -> mixed_float16 on a
    GPU, mixed_bfloat16 on CPUs and TPUs; auto -> the same as on for a GPU or TPU, and on a CPU
    mixed_bfloat16 only for TensorFlow on a CPU with native bfloat16, float32 otherwise
    (evidence: benchmarks/results/cifar-throughput-dtype-cpu-tensorflow.md)."""
    if cfg.mixed_precision == "off":
        return "float32"
    accel = accelerator(cfg)
    if accel == "gpu":
        return "mixed_float16"
    if cfg.mixed_precision == "on" or accel == "tpu" or (
            cfg.backend == "tensorflow" and native_bf16_cpu(cpuinfo)):
        return "mixed_bfloat16"
    return "float32"


def elementwise_dtype(cfg, policy: str) -> str | None:
    """The dtype of the built-in models' BatchNorm and activation layers: float32 under mixed
    bfloat16 on a CPU (there only convolutions and matrix products gain from bfloat16;
    evidence: benchmarks/results/cifar-quick-bf16-act-cpu-tensorflow.md), else None (the
    policy's). None for --model-file / --model-fn models: their layers are the user's."""
    if cfg.model_file or cfg.model_fn:
        return None
    return "float32" if policy == "mixed_bfloat16" and accelerator(cfg) is None else None


def jit_compile(cfg) -> bool | str:
    """``Model.compile``'s ``jit_compile``: on -> True, off -> False, auto -> Keras's own
    choice ("auto": XLA on JAX and on TensorFlow GPUs, off while TensorFlow's op determinism
    is on), except on torch (torch.compile costs more than it saves for these models)."""
    if cfg.jit_compile in ("on", "off"):
        return cfg.jit_compile == "on"
    return False if cfg.backend == "torch" else "auto"


def steps_per_execution(cfg, placement=None) -> int:
    """auto: 16 on TensorFlow, 1 elsewhere (JAX unrolls the steps at compile time); always 1
    on torch (Keras requires it) and under a TensorFlow MirroredStrategy (Keras 3.15's
    multi-step loop fails there: "You must feed a value for placeholder tensor")."""
    mirrored = (placement is not None and cfg.backend == "tensorflow"
                and placement.plan.strategy == "mirrored")
    if cfg.backend == "torch" or mirrored:
        return 1
    if cfg.steps_per_execution == "auto":
        return 16 if cfg.backend == "tensorflow" else 1
    return int(cfg.steps_per_execution)


def feed(cfg, placement=None) -> str:
    """``"tfdata"`` when the runs feed ``Model.fit`` through ``recipes.feed``'s pipelines, else
    ``"keras"`` (the arrays or PyDataset go to Keras as they are). A TPU placement always gets
    the pipelines (fixed-shape batches). ``--feed``: auto = the pipelines on TensorFlow on one
    device (over several replicas Keras's distributed input splits the batches: a
    MirroredStrategy run fed the pipelines no longer matched its one-device run to 1e-5),
    numpy = always Keras's own, tfdata = the pipelines (TensorFlow only)."""
    on_tf = cfg.backend == "tensorflow"
    if cfg.feed == "tfdata" and not on_tf:
        raise ValueError(f"--feed tfdata needs the TensorFlow backend, not {cfg.backend}")
    if placement is not None and placement.plan.strategy == "tpu":
        return "tfdata"
    single = placement is None or placement.replicas == 1
    return "tfdata" if on_tf and (cfg.feed == "tfdata" or (cfg.feed == "auto" and single)) \
        else "keras"


def processes() -> tuple[int, int]:
    """(process count, this process's index) of a multi-process JAX run, else (1, 0)."""
    import keras

    if keras.backend.backend() != "jax":
        return 1, 0
    import jax

    return jax.process_count(), jax.process_index()


def enable_determinism(plan: RunPlan) -> None:
    """TensorFlow's op determinism where the plan has it (same seed -> same metrics; Keras
    then runs TensorFlow without XLA. --jit-compile on keeps XLA and skips this: XLA on a CPU
    reproduced bit-identical losses in our runs, but TensorFlow does not guarantee it)."""
    if plan.determinism:
        import tensorflow as tf

        enable = getattr(tf.config.experimental, "enable_op_determinism", None)
        if enable is not None:
            enable()
