"""Device / distribution-strategy selection for the recipes.

Two steps, so that the decision is unit-testable on a CPU:

1. ``select_strategy(backend, device, available_devices)`` -- a *pure* function: from the
   Keras backend, the requested ``--device`` (``auto|cpu|gpu|tpu``) and a list of visible
   devices (strings such as ``"CPU:0"``, ``"GPU:1"``, or TensorFlow ``PhysicalDevice`` /
   JAX ``Device`` objects), it returns a ``Plan`` or raises ``DeviceError`` with a clear
   message when the asked-for device is absent.
2. ``instantiate(plan)`` -- a thin function that creates the real thing and returns a
   ``Placement`` whose ``scope()`` wraps model building, compiling and training.

What gets chosen:

============  =====================================================================
backend       plan
============  =====================================================================
tensorflow    one device: the default strategy (``cpu`` when GPUs exist: a
              ``OneDeviceStrategy("/cpu:0")``); several GPUs: ``MirroredStrategy``;
              ``--device tpu``: ``TPUStrategy`` via ``TPUClusterResolver`` (see below).
jax           several devices of the chosen kind: ``keras.distribution.DataParallel``;
              one: that device as the default device.
torch         ``cpu`` or ``cuda:0`` (Keras ``fit`` does not do multi-GPU data
              parallelism on torch; more GPUs are ignored with a note).
============  =====================================================================

TPU (TensorFlow): ``TPUClusterResolver()`` finds a Cloud TPU VM's local TPU or the TPU named
by ``$TPU_NAME`` (Colab); the recipe then connects, initialises the TPU system and trains
under ``TPUStrategy`` with fixed-shape batches (``drop_remainder=True``). On JAX, TPUs are
ordinary JAX devices (``jax.devices()``), so no resolver is involved. torch/XLA is not
supported. The global batch size is split across replicas.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

__all__ = ["DeviceError", "Plan", "Placement", "select_strategy", "instantiate",
           "available_devices", "setup", "split_host_cpu"]

DEVICES = ("auto", "cpu", "gpu", "tpu")


class DeviceError(RuntimeError):
    """The requested device is not available (or not supported with this backend)."""


@dataclass(frozen=True)
class Plan:
    backend: str
    device: str                  # resolved kind: "cpu" | "gpu" | "tpu"
    strategy: str                # "default" | "one_device" | "mirrored" | "tpu" |
                                 # "data_parallel" | "single" (jax/torch one device)
    devices: tuple = ()          # device names used, e.g. ("GPU:0", "GPU:1")
    description: str = ""
    notes: tuple = field(default=())

    @property
    def replicas(self) -> int:
        return max(1, len(self.devices)) if self.strategy in ("mirrored", "data_parallel") else 1


def _kind_and_name(d) -> tuple[str, str]:
    """('gpu', 'GPU:0') from 'GPU:0', '/physical_device:GPU:0', tf PhysicalDevice, jax Device."""
    if isinstance(d, str):
        name = d.split("physical_device:")[-1].strip("/")
        kind = name.split(":")[0]
    elif hasattr(d, "device_type"):  # tf.config.PhysicalDevice
        name = str(d.name).split("physical_device:")[-1]
        kind = d.device_type
    elif hasattr(d, "platform"):  # jax Device
        kind = d.platform
        name = f"{kind}:{getattr(d, 'id', 0)}"
    else:
        raise TypeError(f"cannot interpret {d!r} as a device")
    kind = kind.lower()
    kind = "gpu" if kind in ("gpu", "cuda", "rocm") else kind
    name = name.upper() if isinstance(d, str) else name
    return kind, f"{kind.upper()}:{name.split(':')[-1]}"


def select_strategy(backend: str, device: str, available_devices) -> Plan:
    """Decide how to place training (pure: no framework calls); see the module docstring."""
    if device not in DEVICES:
        raise ValueError(f"--device must be one of {DEVICES}, not {device!r}")
    devs: dict[str, list[str]] = {}
    for d in available_devices:
        k, n = _kind_and_name(d)
        devs.setdefault(k, []).append(n)
    seen = ", ".join(n for v in devs.values() for n in v) or "none"
    gpus, tpus = devs.get("gpu", []), devs.get("tpu", [])

    def absent(kind, hint=""):
        return DeviceError(
            f"--device {kind} was requested but {backend} sees no {kind.upper()} "
            f"(visible devices: {seen}).{hint} Use --device auto to take what is there.")

    if device == "auto":
        device = "tpu" if tpus else "gpu" if gpus else "cpu"

    if backend == "tensorflow":
        if device == "tpu":
            # TPU nodes (Colab, $TPU_NAME) only show their cores after connecting, so an
            # empty list is not an error here; instantiate() reports a failing resolver.
            return Plan(backend, "tpu", "tpu", tuple(tpus),
                        f"TPUStrategy ({len(tpus) or 'resolver-discovered'} TPU cores)")
        if device == "gpu":
            if not gpus:
                raise absent("gpu", " Is a CUDA build of TensorFlow installed "
                                    "(pip install 'tensorflow[and-cuda]')?")
            if len(gpus) > 1:
                return Plan(backend, "gpu", "mirrored", tuple(gpus),
                            f"MirroredStrategy over {len(gpus)} GPUs ({', '.join(gpus)})")
            return Plan(backend, "gpu", "default", (gpus[0],), f"default strategy on {gpus[0]}")
        cpus = devs.get("cpu", [])
        if len(cpus) > 1:  # the host split into logical CPUs (--cpu-devices)
            return Plan(backend, "cpu", "mirrored", tuple(cpus),
                        f"MirroredStrategy over {len(cpus)} logical CPUs")
        if gpus or tpus:  # explicit CPU while accelerators are visible
            return Plan(backend, "cpu", "one_device", ("CPU:0",),
                        "OneDeviceStrategy on CPU:0 (accelerators visible but not used)")
        return Plan(backend, "cpu", "default", ("CPU:0",), "default strategy on CPU:0")

    if backend == "jax":
        chosen = {"cpu": devs.get("cpu", []), "gpu": gpus, "tpu": tpus}[device]
        if not chosen:
            raise absent(device, " Install a jax build for it (e.g. pip install 'jax[cuda12]' "
                                 "or 'jax[tpu]').")
        if len(chosen) > 1:
            return Plan(backend, device, "data_parallel", tuple(chosen),
                        f"keras.distribution.DataParallel over {len(chosen)} "
                        f"{device.upper()}s")
        return Plan(backend, device, "single", (chosen[0],), f"single device {chosen[0]}")

    if backend == "torch":
        if device == "tpu":
            raise DeviceError("--device tpu is not supported with the torch backend "
                              "(use KERAS_BACKEND=jax or tensorflow on a TPU).")
        if device == "gpu":
            if not gpus:
                raise absent("gpu", " Is a CUDA build of torch installed?")
            notes = ((f"{len(gpus)} GPUs visible; Keras fit on torch uses one "
                      "(run under torch DDP yourself for more)"),) if len(gpus) > 1 else ()
            return Plan(backend, "gpu", "single", ("cuda:0",), "torch on cuda:0", notes)
        return Plan(backend, "cpu", "single", ("cpu",), "torch on cpu")

    if device != "cpu":
        raise DeviceError(f"--device {device}: backend {backend!r} is not supported by the recipes")
    return Plan(backend, "cpu", "single", ("cpu",), f"{backend} on cpu")


# --------------------------------------------------------------------------- real devices
def available_devices(backend: str) -> list:
    """The devices the backend can see (imports the framework)."""
    if backend == "tensorflow":
        import tensorflow as tf

        # CPUs as logical devices: --cpu-devices splits the host into several
        return (tf.config.list_logical_devices("CPU")
                + [d for d in tf.config.list_physical_devices() if d.device_type in ("GPU", "TPU")])
    if backend == "jax":
        import jax

        out = []
        for platform in ("cpu", "gpu", "tpu"):
            try:
                out += jax.devices(platform)
            except RuntimeError:
                pass
        return out
    if backend == "torch":
        import torch

        return ["CPU:0"] + [f"GPU:{i}" for i in range(torch.cuda.device_count())]
    return ["CPU:0"]


@dataclass
class Placement:
    plan: Plan
    strategy: object = None      # tf.distribute.Strategy (TensorFlow)
    distribution: object = None  # keras.distribution.Distribution (JAX)
    device_name: str | None = None

    @property
    def description(self) -> str:
        return self.plan.description

    @property
    def replicas(self) -> int:
        if self.strategy is not None:
            return int(self.strategy.num_replicas_in_sync)
        return self.plan.replicas

    @contextlib.contextmanager
    def scope(self):
        """Build, compile and fit inside this."""
        with contextlib.ExitStack() as stack:
            if self.strategy is not None:
                stack.enter_context(self.strategy.scope())
            if self.distribution is not None:
                stack.enter_context(self.distribution.scope())
            if self.device_name is not None:
                import keras

                stack.enter_context(keras.device(self.device_name))
            yield self


def instantiate(plan: Plan) -> Placement:
    """Create the strategy / distribution / device scope a ``Plan`` describes."""
    if plan.backend == "tensorflow":
        import tensorflow as tf

        if plan.strategy == "tpu":
            try:
                resolver = tf.distribute.cluster_resolver.TPUClusterResolver()
                tf.config.experimental_connect_to_cluster(resolver)
                tf.tpu.experimental.initialize_tpu_system(resolver)
            except (ValueError, RuntimeError, tf.errors.OpError) as e:
                raise DeviceError(
                    "--device tpu: no TPU could be reached via TPUClusterResolver "
                    f"({type(e).__name__}: {e}). On Colab pick a TPU runtime; on a Cloud TPU "
                    "VM install tensorflow with TPU support; or use --device auto.") from e
            return Placement(plan, strategy=tf.distribute.TPUStrategy(resolver))
        if plan.strategy == "mirrored":
            return Placement(plan, strategy=tf.distribute.MirroredStrategy(
                [f"/{plan.device}:{n.split(':')[-1]}" for n in plan.devices]))
        if plan.strategy == "one_device":
            return Placement(plan, strategy=tf.distribute.OneDeviceStrategy("/cpu:0"))
        return Placement(plan)  # default strategy
    if plan.backend == "jax":
        import jax
        import keras

        devs = list(jax.devices(plan.device))  # every process's (several processes: all)
        if plan.strategy == "data_parallel":
            dist = keras.distribution.DataParallel(devices=devs)
            if jax.process_count() > 1:
                dist.auto_shard_dataset = False  # train_one feeds each process its share
            return Placement(plan, distribution=dist)
        jax.config.update("jax_default_device", devs[0])
        return Placement(plan)
    if plan.backend == "torch":
        return Placement(plan, device_name="cuda:0" if plan.device == "gpu" else "cpu")
    return Placement(plan)


def join_processes(coordinator: str, num_processes: int, process_id: int, backend: str) -> None:
    """Join ``num_processes`` processes (hosts) into one JAX runtime whose devices are all the
    processes' devices (``keras.distribution.initialize``); on CPUs their collectives go over
    gloo. Call before JAX starts a backend."""
    if num_processes <= 1:
        return
    if backend != "jax":
        raise DeviceError(f"--coordinator is for KERAS_BACKEND=jax (here: {backend}); with "
                          "Keras 3.15, fit under TensorFlow's MultiWorkerMirroredStrategy "
                          "fails (PerReplica values), and torch trains on one device per "
                          "process")
    import jax
    import keras

    try:
        jax.config.update("jax_cpu_collectives_implementation", "gloo")
    except (AttributeError, ValueError):  # pragma: no cover - an older or newer JAX
        pass
    keras.distribution.initialize(coordinator, num_processes, process_id)


def split_host_cpu(n: int, backend: str) -> None:
    """Make the host CPU look like ``n`` devices, to run (and test) data-parallel training
    without accelerators: JAX gets ``--xla_force_host_platform_device_count=n`` (read when
    JAX starts its CPU backend), TensorFlow ``n`` logical CPUs (before it initialises). Each
    device computes its share of every batch; on a 2-core CPU this is a rehearsal of the
    multi-GPU path, not a speed-up."""
    if n < 1:
        raise DeviceError(f"--cpu-devices must be >= 1, not {n}")
    if n == 1:
        return
    if backend == "jax":
        import os

        flag = f"--xla_force_host_platform_device_count={n}"
        flags = os.environ.get("XLA_FLAGS", "")
        if "xla_force_host_platform_device_count" not in flags:
            os.environ["XLA_FLAGS"] = f"{flags} {flag}".strip()
        import jax

        if len(jax.devices("cpu")) != n:
            raise DeviceError(f"--cpu-devices {n}: JAX had already started with "
                              f"{len(jax.devices('cpu'))} CPU device(s); set "
                              f"XLA_FLAGS={flag} before Python starts")
    elif backend == "tensorflow":
        import tensorflow as tf

        cpu = tf.config.list_physical_devices("CPU")[0]
        try:
            tf.config.set_logical_device_configuration(
                cpu, [tf.config.LogicalDeviceConfiguration()] * n)
        except RuntimeError as e:
            if len(tf.config.list_logical_devices("CPU")) != n:
                raise DeviceError(f"--cpu-devices {n}: TensorFlow was already initialised "
                                  f"({e}); pass it before anything runs") from e
    else:
        raise DeviceError(f"--cpu-devices {n}: Keras on {backend} trains on one device per "
                          "process; spread the grid instead (--engine ray, several runs at "
                          "once), or use KERAS_BACKEND=jax / tensorflow for data parallelism")


def setup(device: str = "auto", backend: str | None = None) -> Placement:
    """``select_strategy`` on the real device list, then ``instantiate``."""
    import keras

    backend = backend or keras.backend.backend()
    return instantiate(select_strategy(backend, device, available_devices(backend)))
