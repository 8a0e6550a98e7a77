"""Grid configuration: presets, per-model and per-dataset training recipes (the evidence
for them in ``benchmarks/results/``), the settings' ``Config``, the parser and ``resolve_config``,
which merges them -- built-in defaults < model recipe < (dataset, model) recipe < variant <
preset < command line -- and validates the result once, into a frozen ``Config``.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import types
from collections.abc import Mapping

from .specs import check_names, parse_value, split_activation_list

__all__ = ["Config", "CLASSIC12", "QUICK", "PRESETS", "RECIPES", "AIRBENCH", "VARIANTS",
           "DATASET_RECIPES", "DEFAULTS", "MODEL_DEFAULTS", "MODEL_KINDS", "build_parser",
           "recipe", "resolve_config"]

#: The classic dozen. ``binary_step`` is replaced by ``binary_step_ste`` (same forward pass,
#: straight-through gradient): the plain step has zero gradient, so nothing before the output
#: layer would train. ``softmax`` as a hidden activation is unusual (it normalises across the
#: units of a layer) but legitimate, and kept for completeness.
CLASSIC12 = ("binary_step_ste", "linear", "sigmoid", "tanh", "relu", "leaky_relu", "prelu",
             "elu", "softmax", "swish", "gelu", "selu")
#: The quick preset's eight: the common choices, minus the three that are known not to
#: compete on an MLP (step, linear, softmax) and the one (selu) that needs the SNN set-up.
QUICK = ("sigmoid", "tanh", "relu", "leaky_relu", "prelu", "elu", "swish", "gelu")

#: The built-in model kinds (``recipes.models.build_model``).
MODEL_KINDS = ("mlp", "cnn", "resnet", "snn")

#: Per-kind default options of ``build_model`` (the recipes override some per dataset).
MODEL_DEFAULTS: dict[str, dict] = {
    "mlp": dict(depth=2, width=256, batchnorm=False, dropout=0.0, bn_momentum=0.99),
    "cnn": dict(filters=(32, 64), convs_per_stage=1, batchnorm=False, dense=128,
                dropout=0.25, dense_dropout=0.5, pool="last", global_pool=None,
                head_scale=1.0, bn_momentum=0.99, bn_scale=True, bn_epsilon=1e-3,
                stem=None, dirac=False, head_bias=True, kernel_size=3, padding="same"),
    "resnet": dict(blocks=3, base_filters=16, bn_momentum=0.99),
    "snn": dict(depth=4, width=256, dropout=0.05),
}

#: Presets fill in whatever is not given on the command line.
PRESETS = {
    "quick": dict(dataset="mnist", model="mlp", activations=QUICK, seeds=3, epochs=3,
                  train_subset=20000, test_subset=None, batch_size=125),
    "standard": dict(activations=CLASSIC12, seeds=3, epochs=10),
    "full": dict(activations=CLASSIC12, seeds=5, epochs=30),
    "cifar-quick": dict(dataset="cifar10", model="cnn", variant="small", seeds=2,
                        activations=("relu", "leaky_relu", "elu", "gelu", "swish", "mish",
                                     "tanh", "sigmoid")),
    "cifar": dict(dataset="cifar10", model="cnn", variant="93", activations=CLASSIC12, seeds=3),
}

#: Per-model training recipe, then per (dataset, model) overrides. One model code path
#: (recipes.models.build_model); only options differ.
RECIPES = {
    "mlp": {},  # MODEL_DEFAULTS and Config's defaults (Adam 1e-3, cosine, batch 128)
    "snn": dict(lr=5e-4),
    # MNIST / Fashion-MNIST: three BatchNorm conv stages + random shifts; bfloat16 where the
    # CPU has it natively. 99.51 % MNIST in 10 epochs: benchmarks/results/recipe-decisions.md
    "cnn": dict(model_options=dict(filters=(32, 64, 128), convs_per_stage=1, batchnorm=True,
                                   dense=128, dropout=0.1, dense_dropout=0.3),
                augment="shift", mixed_precision="auto"),
    "resnet": dict(lr=2e-3, augment="flip_shift"),
    # the user's own model (--model-file / --model-fn): Config's defaults (Adam 1e-3, cosine,
    # batch 128) unless the saved model's compile settings or the command line say otherwise
    "file": {},
    "fn": {},
}
#: airbench-style CIFAR-10 recipe (Keller Jordan, github.com/KellerJordan/cifar10-airbench,
#: lib_airbench93.py: 93.0 % in 11 epochs, widths 64/128/128, ~54 M multiply-adds per
#: image), rebuilt from ``build_model("cnn")`` options with the activation as the variable:
#: frozen 2x2 whitening stem (24 channels from the training patches' eigenvectors) ->
#: activation; per stage conv -> max-pool -> BN -> act -> conv -> BN -> act, BatchNorm
#: without a learnable scale (momentum 0.6: Keras's convention, = torch's 0.4; eps 1e-12),
#: convs with an identity (Dirac) part; global max pool, bias-free linear head on features
#: scaled by 1/9. SGD-Nesterov 0.85 in airbench's decoupled units (lr 11.5 and weight decay
#: 0.0153 per 1024 examples; BatchNorm shifts at 64x the rate), triangular schedule (0.2 ->
#: 1 at 23 % -> 0.07), batch 1024, label smoothing 0.2, lookahead (every 5 steps the
#: weights move to an average of momentum 0.95^5 (t/T)^3: keras_acts.optim.FastSGD),
#: alternating flips + 2-px reflect
#: translations on whole batches, flip + translate test-time augmentation.
AIRBENCH = dict(model_options=dict(filters=(64, 128, 128), convs_per_stage=2, batchnorm=True,
                                   pool="early", global_pool="max", dense=0, dropout=0.0,
                                   dense_dropout=0.0, head_scale=1 / 9, head_bias=False,
                                   bn_momentum=0.6, bn_scale=False, bn_epsilon=1e-12,
                                   stem="whiten", dirac=True),
                optimizer="sgd_per1024", lr=11.5, weight_decay=0.0153, momentum=0.85,
                bias_lr_scale=64.0, whiten_bias_epochs=3, schedule="triangle", batch_size=1024,
                epochs=11,
                label_smoothing=0.2, augment="flip_translate", tta="flip_translate",
                ema=0.95 ** 5, preprocess="standardize", mixed_precision="auto")
# mixed_precision="auto": bfloat16 where the CPU computes it natively (recipes.plan.dtype_policy);
# evidence and what was tried: benchmarks/results/recipe-decisions.md
#: ``--variant 93`` (the default) widens the last two stages to 192 (~1.9x airbench93's
#: multiply-adds); ``--variant 94``: airbench94's widths 64/256/256 (~118 M), 10 epochs.
VARIANTS = {"93": dict(model_options=dict(filters=(64, 192, 192))),
            "94": dict(model_options=dict(filters=(64, 256, 256)), epochs=10),
            "small": dict(model_options=dict(filters=(32, 64, 64)), epochs=10)}
DATASET_RECIPES = {("cifar10", "cnn"): AIRBENCH}
@dataclasses.dataclass(frozen=True)
class Config(Mapping):
    """One grid's settings, resolved and validated once by ``resolve_config``; read-only.

    Each field's default is *the* default of that setting (``DEFAULTS`` is read from them);
    the recipe tables above override some per model and dataset. Read as attributes
    (``cfg.epochs``); ``dict(cfg)`` (a read-only mapping) is what ``config.json`` and the run
    records store. Change a copy with ``cfg.replace(epochs=5)``. How the runs train on this
    machine (dtype policy, XLA, feed, ...) is the run plan (``recipes.plan``), never here.
    """

    # what to compare
    preset: str = "standard"
    activations: tuple = CLASSIC12
    seeds: int = 3                          # --seeds auto: the first round's seeds
    seed_list: tuple = (0, 1, 2)            # resolved: seeds from --seed-offset (auto: up to max)
    seeds_auto: bool = False                # rounds by recipes.sequential until settled
    max_seeds: int = 14                     # --seeds auto: the last round's seeds
    budget: float | None = None             # seconds: start no run that would end after it
    baseline: str | None = None
    # data
    dataset: str = "mnist"
    data: str | None = None
    task: str = "classification"
    image_size: tuple = (64, 64)
    test_split: float = 0.2
    preprocess: str = "standardize"        # --data: "none" unless given
    val_split: float = 0.0
    train_subset: int | None = None
    test_subset: int | None = None
    data_dir: str | None = None
    cache_dir: str | None = None
    # model
    model: str = "mlp"
    model_options: Mapping = dataclasses.field(default_factory=dict)  # resolved per model
    model_file: str | None = None
    model_fn: str | None = None
    model_name: str | None = None          # resolved: the user model's file or function name
    compile_from_file: bool = False        # resolved: --model-file's own optimizer is used
    kernel_initializer: str | None = None
    variant: str | None = None
    # training
    epochs: int = 10
    batch_size: int = 128
    optimizer: str = "adam"
    lr: float = 1e-3
    schedule: str = "cosine"
    weight_decay: float = 0.0
    momentum: float = 0.9
    bias_lr_scale: float = 1.0
    whiten_bias_epochs: int | None = None
    ema: float | None = None
    ema_every: int = 5
    label_smoothing: float = 0.0
    augment: str | None = None
    tta: str | None = None
    # runtime (recipes.plan turns these into the run plan)
    backend: str = "tensorflow"            # resolved: keras.backend.backend()
    device: str = "auto"
    cpu_devices: int = 1
    mixed_precision: str = "off"
    jit_compile: str = "auto"
    feed: str = "auto"
    steps_per_execution: object = "auto"
    diagnostics: bool = True
    probe_size: int = 256                  # GradientFlow's probe batch (diagnostics)
    # where the grid's runs execute (recipes.engine)
    engine: str = "local"
    ray_address: str | None = None
    cpus_per_run: float = 1.0
    gpus_per_run: float = 0.0
    max_retries: int = 3
    # several processes (hosts) training one model: JAX keras.distribution.initialize
    coordinator: str | None = None
    num_processes: int = 1
    process_id: int = 0
    # output and grid control
    out: str = "runs"                      # resolved: runs/<dataset>-<model>
    models_dir: str | None = None          # resolved: <out>/saved_models
    tensorboard: str | None = None         # resolved: the event files' folder, or None
    save_models: bool = True
    dry_run: bool = False
    resume: bool = False
    overwrite: bool = False
    verbose: bool = False
    quiet: bool = False

    def __post_init__(self):
        # freeze the containers too: a run cannot change the grid's settings
        object.__setattr__(self, "model_options", types.MappingProxyType(dict(self.model_options)))
        for k in ("activations", "seed_list", "image_size"):
            object.__setattr__(self, k, tuple(getattr(self, k)))
        mixed = self.mixed_precision  # a bool from configs written before "auto" existed
        mixed = {True: "on", False: "off", None: "off"}.get(mixed, mixed)
        if mixed not in ("auto", "on", "off"):
            raise ValueError(f"mixed_precision must be 'auto', 'on' or 'off', not {mixed!r}")
        object.__setattr__(self, "mixed_precision", mixed)

    @classmethod
    def from_mapping(cls, values: Mapping) -> "Config":
        """A Config from a mapping of its fields (``dict(cfg)``, a Ray task's copy, a test's
        settings); missing fields take their defaults, unknown ones raise."""
        unknown = set(values) - set(cls.__dataclass_fields__)
        if unknown:
            raise TypeError(f"Config has no setting(s) {sorted(unknown)}")
        return cls(**values)

    def replace(self, **changes) -> "Config":
        return dataclasses.replace(self, **changes)

    def __reduce__(self):  # pickles (Ray tasks) though model_options is a read-only view
        return Config.from_mapping, ({**self, "model_options": dict(self.model_options)},)

    def __getitem__(self, key):
        if key not in self.__dataclass_fields__:
            raise KeyError(key)
        return getattr(self, key)

    def __iter__(self):
        return iter(self.__dataclass_fields__)

    def __len__(self):
        return len(self.__dataclass_fields__)


#: Every setting's default, read from ``Config``'s fields (their one statement).
DEFAULTS = {f.name: (f.default if f.default is not dataclasses.MISSING else f.default_factory())
            for f in dataclasses.fields(Config)}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="keras-acts compare",
        description="Train one model per (activation, seed) and compare the activations.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="presets (explicit options override them):\n" + "\n".join(
            f"  {k:9s} " + ", ".join(f"{a}={','.join(v) if isinstance(v, tuple) else v}"
                                     for a, v in d.items()) for k, d in PRESETS.items())
        + "\n\nactivation specs: relu | swish_x:beta=1.5 | prelu (learnable keras_acts.layers."
          "PReLU) | layer:ClassName[:k=v]\nbinary_step has zero gradient; the default list uses "
          "binary_step_ste (straight-through) instead.")
    a = p.add_argument
    a("--preset", choices=sorted(PRESETS), default=None,
      help="quick (about 1 min on 2 CPU cores: 8 activations x 3 seeds, MLP, 20k MNIST "
           "images, 3 epochs) | standard (default) | full")
    a("--dataset", choices=["mnist", "fashion_mnist", "cifar10"], default=None)
    a("--data", default=None, metavar="SPEC",
      help="your own data instead of --dataset: data.npz (x_train, y_train, x_test, y_test; "
           "optional x_val, y_val), a folder with one subfolder per class of images, or "
           "tfds:NAME (recipes.userdata)")
    a("--task", choices=["classification", "regression"], default=None,
      help="classification (default: sparse or one-hot labels; accuracy, macro-F1) or "
           "regression (MSE loss; MAE and RMSE instead of accuracy and F1)")
    a("--image-size", default=None, metavar="H,W",
      help="--data FOLDER: resize images to H,W (default 64,64)")
    a("--test-split", type=float, default=None,
      help="--data FOLDER without train/ and test/: fraction of each class held out (0.2)")
    a("--model-file", default=None, metavar="PATH.keras",
      help="your saved Sequential/Functional model: every hidden activation is swapped "
           "(keras_acts.swap_activations) and the weights re-initialised; its compile "
           "settings are used unless --optimizer/--lr/--loss-style say otherwise")
    a("--model-fn", default=None, metavar="MODULE:FUNCTION",
      help="a function taking activation= (a name, a function, or for learnable layers a "
           "zero-argument factory of fresh layers) and returning an uncompiled model; for "
           "subclassed models or full control")
    a("--dry-run", action="store_true", default=None,
      help="load and check the data and the model, print the activation sites that would be "
           "swapped, and stop before training")
    a("--model", choices=["mlp", "cnn", "snn", "resnet"], default=None,
      help="a built-in model (see --model-file / --model-fn for your own)")
    a("--activations", default=None,
      help="comma list of activation specs (default: the classic dozen, see above)")
    a("--seeds", type=_seeds_arg, default=None,
      help="number of seeds per activation (0..N-1), or auto: rounds of seeds (5, then 3 "
           "more at a time) until each activation's verdict against the baseline is settled "
           "(group-sequential, Holm; recipes.sequential), --max-seeds or --budget is reached")
    a("--max-seeds", type=int, default=None, metavar="N",
      help="--seeds auto: at most N seeds per activation (default 14; at least 5)")
    a("--budget", type=_duration_arg, default=None, metavar="DURATION",
      help="e.g. 45m, 2h, 90s: start no run that would end after this much time spent "
           "training in this invocation (projected from the runs' median time); "
           "--resume continues")
    a("--seed-offset", type=int, default=0, help="first seed (default 0)")
    a("--epochs", type=int, default=None)
    a("--batch-size", type=int, default=None, help="global batch size")
    a("--lr", type=float, default=None, help="peak learning rate")
    a("--optimizer", choices=["adam", "adamw", "sgd", "sgd_per1024"], default=None,
      help="sgd: SGD-Nesterov; sgd_per1024: the same with --lr and --weight-decay in "
           "airbench's decoupled units (per 1024 examples; keras_acts.optim.per_1024) and "
           "--bias-lr-scale for BatchNorm shifts (the CIFAR-10 cnn recipe)")
    a("--momentum", type=float, default=None, help="SGD momentum (default 0.9)")
    a("--bias-lr-scale", type=float, default=None,
      help="sgd/sgd_per1024: step of BatchNorm shifts relative to --lr (default 1)")
    a("--whiten-bias-epochs", type=int, default=None, metavar="N",
      help="sgd/sgd_per1024 with a whitening stem: train its bias for the first N epochs only, "
           "then freeze it (airbench: 3, the CIFAR-10 cnn recipe's default; default: always)")
    a("--ema", type=float, default=None,
      help="average the weights (EMA with this momentum, folded into the weights every "
           "--ema-every steps: a lookahead); 0 = off")
    a("--ema-every", type=int, default=None, help="steps between EMA write-backs (default 5)")
    a("--schedule", choices=["cosine", "onecycle", "triangle", "constant"], default=None,
      help="cosine decay to 1 %% | onecycle: linear warm-up over 20 %% of the steps from "
           "lr/25, then cosine to 0 | triangle: 0.2 lr -> lr at 23 %% -> 0.07 lr, linear "
           "(airbench) | constant")
    a("--variant", choices=sorted(VARIANTS), default=None,
      help="CIFAR-10 cnn recipe size: 93 (default; airbench93's net widened to 64/192/192, "
           "11 epochs), 94 (widths 64/256/256, 10 epochs, airbench94-sized), small "
           "(32/64/64, 10 epochs: the cifar-quick preset)")
    a("--label-smoothing", type=float, default=None, help="label smoothing of the loss (0-1)")
    a("--tta", choices=["none", "flip", "flip_translate"], default=None,
      help="test-time augmentation: flip = average the predictions on the test images and "
           "their mirror images; flip_translate = also on 1-px shifted copies (airbench; "
           "recipes.augment.tta_views). For CIFAR-10; off for MNIST")
    a("--weight-decay", type=float, default=None, help="for adamw / sgd")
    a("--model-option", action="append", default=[], metavar="KEY=VALUE",
      help="override a build_model option, e.g. width=512, batchnorm=true (repeatable)")
    a("--kernel-initializer", default=None,
      help="Keras initializer name for all kernels (default: keras_acts.initializer_for)")
    a("--augment", choices=["none", "shift", "flip_shift", "flip_translate"], default=None,
      help="shift / flip_shift: Keras layers in the model; flip_translate: whole-batch NumPy "
           "alternating flips + 2-px reflect translations (recipes.augment.BatchAugment)")
    a("--preprocess", choices=["unit", "standardize", "none"], default=None,
      help="built-in datasets: unit = x/255, standardize (default) = per-channel mean/std; "
           "none = the values as given (the default for --data)")
    a("--train-subset", type=int, default=None, help="use N training images (stratified)")
    a("--test-subset", type=int, default=None, help="use N test images (stratified)")
    a("--val-split", type=float, default=None,
      help="hold out this fraction of training data for the curves (default 0: test set)")
    a("--device", choices=["auto", "cpu", "gpu", "tpu"], default=None,
      help="auto: all GPUs (TensorFlow MirroredStrategy, JAX DataParallel) or TPU cores if "
           "present, else the CPU")
    a("--engine", choices=["local", "ray"], default=None,
      help="local (default): one run after another in this process; ray: each (activation, "
           "seed) run is a Ray task (pip install -e '.[distributed]'), retried if its worker "
           "dies; the output folder (on a filesystem every worker sees) is the contract")
    a("--ray-address", default=None, metavar="HOST:PORT",
      help="--engine ray: the cluster to join (default: start a local Ray instance)")
    a("--cpus-per-run", type=float, default=None, help="--engine ray: CPUs per run (1)")
    a("--gpus-per-run", type=float, default=None, help="--engine ray: GPUs per run (0)")
    a("--max-retries", type=int, default=None,
      help="--engine ray: times a run is retried when its worker dies (3)")
    a("--coordinator", default=None, metavar="HOST:PORT",
      help="JAX, several processes or hosts training one data-parallel model: the address of "
           "process 0, with --num-processes and --process-id (keras.distribution.initialize; "
           "each process trains on its share of every batch). Process 0 writes --out, "
           "process i an identical copy under <out>/process-i")
    a("--num-processes", type=int, default=None, help="with --coordinator (default 1)")
    a("--process-id", type=int, default=None, help="with --coordinator: 0 .. N-1")
    a("--cpu-devices", type=int, default=None, metavar="N",
      help="split the host CPU into N devices and train data-parallel over them (JAX "
           "DataParallel / TensorFlow MirroredStrategy): rehearses the multi-GPU path on a "
           "CPU (recipes.devices.split_host_cpu); not a speed-up")
    a("--mixed-precision", nargs="?", const="on", choices=["auto", "on", "off"], default=None,
      help="on (the bare flag): mixed_float16 on a GPU, mixed_bfloat16 on CPUs and TPUs; "
           "auto: the same on a GPU or TPU, and on a CPU mixed_bfloat16 only with TensorFlow "
           "on a CPU that computes bfloat16 natively (AVX512_BF16 / AMX), float32 otherwise "
           "(the CIFAR-10 cnn recipe's default); off: float32 (default)")
    a("--jit-compile", choices=["auto", "on", "off"], default=None,
      help="XLA: auto = Keras's choice (JAX: on; TensorFlow: off while op determinism is "
           "on; torch: off); on = XLA also on TensorFlow (no op determinism then)")
    a("--feed", choices=["auto", "numpy", "tfdata"], default=None,
      help="how Model.fit gets the data: auto (default) = on TensorFlow tf.data pipelines "
           "with autotuning off (recipes.feed: Keras's own AUTOTUNE pipelines stall 0-10 s at "
           "every epoch's end), elsewhere the arrays; numpy = the arrays / PyDataset to Keras "
           "as they are; tfdata = recipes.feed's pipelines (TensorFlow only)")
    a("--steps-per-execution", type=_spe_arg, default=None, metavar="N|auto",
      help="training steps per compiled call; auto = 16 on TensorFlow (measured 1.5-2x "
           "faster epochs for the MLP on a 2-core CPU), 1 on JAX (it unrolls the steps at "
           "compile time) and torch (Keras requires 1)")
    a("--data-dir", default=None, help="local dataset folder (else $KERAS_ACTS_DATA, tfds, npm)")
    a("--cache-dir", default=None, help="download cache (else $KERAS_ACTS_CACHE)")
    a("--out", default=None, help="output folder (default runs/<dataset>-<model>)")
    a("--models-dir", default=None, help="saved models root (default: <out>/saved_models)")
    a("--no-save-models", dest="save_models", action="store_false", default=None,
      help="do not write the .keras files")
    a("--baseline", default=None,
      help="activation every other one is compared with, paired by seed (default: relu "
           "when in the grid, else the first); analysis only, may change on --resume")
    a("--resume", action="store_true", help="skip (activation, seed) runs already finished")
    a("--overwrite", action="store_true", help="delete earlier results in --out first")
    a("--no-diagnostics", dest="diagnostics", action="store_false", default=None,
      help="do not record gradient-flow diagnostics")
    a("--verbose", action="store_true", help="per-epoch Keras progress and data-source logs")
    a("--quiet", action="store_true", help="no progress bars (they show only on a terminal)")
    a("--tensorboard", nargs="?", const="on", default=None, metavar="DIR",
      help="TensorBoard event files: curves, learning rate, gradient flow and one HParams "
      "session per run (default: under <out>/tensorboard when tensorboard is installed)")
    a("--no-tensorboard", dest="tensorboard", action="store_const", const="off",
      help="write no TensorBoard event files")
    return p


def _seeds_arg(text: str):
    if text == "auto":
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("expected a number of seeds or 'auto'") from None


def _duration_arg(text: str) -> float:
    """'90s', '45m', '2h', '1.5h' or plain seconds -> seconds."""
    t = text.strip().lower()
    scale = {"s": 1, "m": 60, "h": 3600}.get(t[-1:], None)
    try:
        value = float(t[:-1] if scale else t) * (scale or 1)
    except ValueError:
        value = -1.0
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(
            f"expected a duration such as 90s, 45m or 2h, got {text!r}")
    return value


def _spe_arg(text: str):
    if text == "auto":
        return text
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("expected a positive integer or 'auto'") from None
    if n < 1:
        raise argparse.ArgumentTypeError("expected a positive integer or 'auto'")
    return n


def _parse_option(text: str):
    if "=" not in text:
        raise SystemExit(f"--model-option expects KEY=VALUE, got {text!r}")
    k, v = text.split("=", 1)
    v = parse_value(v)
    return k.strip(), tuple(v) if isinstance(v, list) else v


def _image_size(text) -> tuple[int, int]:
    try:
        h, w = (int(v) for v in str(text).replace("x", ",").split(","))
    except ValueError:
        raise SystemExit(f"--image-size expects H,W (e.g. 64,64), got {text!r}") from None
    if h < 1 or w < 1:
        raise SystemExit("--image-size needs positive sizes")
    return h, w


def _check_writable(path: str, flag: str) -> None:
    """Fail before any training when ``path`` cannot be created or written to (a folder this
    check creates is removed again)."""
    import shutil
    import tempfile

    p = os.path.abspath(path)
    first_new = None
    while not os.path.exists(p):
        first_new, p = p, os.path.dirname(p)
    if not os.path.isdir(p):
        raise SystemExit(f"{flag} {path}: {p} is a file, not a folder")
    try:
        os.makedirs(path, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as e:
        raise SystemExit(f"{flag} {path}: cannot write there ({e.strerror or e}); "
                         "choose another folder") from None
    finally:
        if first_new and os.path.isdir(first_new):
            shutil.rmtree(first_new, ignore_errors=True)


def _tensorboard_dir(setting, out) -> str | None:
    """``auto``: <out>/tensorboard if TensorBoard is installed, else none; ``on`` (the flag
    alone) or a folder: that, and TensorBoard must be installed; ``off``: none."""
    import importlib.util

    if setting == "off":
        return None
    installed = importlib.util.find_spec("tensorboard") is not None
    if setting == "auto":
        return os.path.join(out, "tensorboard") if installed else None
    if not installed:
        raise SystemExit("--tensorboard needs TensorBoard: pip install tensorboard (or "
                         "pip install 'keras-acts[tensorboard]')")
    return os.path.join(out, "tensorboard") if setting == "on" else setting


def recipe(dataset: str, model: str, variant: str | None = None) -> dict:
    """The settings ``(dataset, model[, variant])`` trains with before any preset or option:
    Config's defaults < ``RECIPES[model]`` < ``DATASET_RECIPES`` < ``VARIANTS`` (each layer's
    ``model_options`` over ``MODEL_DEFAULTS``). A plain dict, as the benchmarks read it."""
    layers = [RECIPES[model], DATASET_RECIPES.get((dataset, model), {}),
              VARIANTS[variant] if variant else {}]
    cfg = dict(DEFAULTS, dataset=dataset, model=model, variant=variant)
    cfg["model_options"] = dict(MODEL_DEFAULTS.get(model, {}))
    for layer in layers:
        cfg["model_options"].update(layer.get("model_options", {}))
        cfg.update({k: v for k, v in layer.items() if k != "model_options"})
    return cfg


def resolve_config(args) -> Config:
    """Merge: built-in defaults < model recipe < (dataset, model) recipe < preset < CLI."""
    given = {k: v for k, v in vars(args).items() if v is not None}
    preset_name = given.get("preset") or Config.preset
    preset = PRESETS[preset_name]
    if given.get("model_file") and given.get("model_fn"):
        raise SystemExit("give --model-file or --model-fn, not both")
    user_model = "file" if given.get("model_file") else "fn" if given.get("model_fn") else None
    if user_model and given.get("model"):
        raise SystemExit(f"--model {given['model']} and --model-{user_model}: choose one model")
    dataset = given.get("dataset") or preset.get("dataset") or Config.dataset
    if given.get("data"):
        if given.get("dataset"):
            raise SystemExit("--data replaces --dataset: give one of them")
        spec = given["data"]
        dataset = spec[5:] if spec.startswith("tfds:") else (
            os.path.splitext(os.path.basename(os.path.normpath(spec)))[0] or "data")
    model = user_model or given.get("model") or preset.get("model") or Config.model
    variant = (given.get("variant") or preset.get("variant")
               or ("93" if (dataset, model) == ("cifar10", "cnn") else None))
    if variant and (dataset, model) != ("cifar10", "cnn"):
        raise SystemExit("--variant applies to --dataset cifar10 --model cnn only")
    cfg = recipe(dataset, model, variant)
    rec = DATASET_RECIPES.get((dataset, model), {})
    # an explicit --preset wins over the recipes; the implicit default one only fills in
    # what the (dataset, model) recipe and variant leave open (CIFAR-10 keeps its 11 epochs)
    fixed = set() if given.get("preset") else set(rec) | set(VARIANTS.get(variant) or {})
    cfg.update({k: v for k, v in preset.items() if k != "variant" and k not in fixed})
    cfg.update(preset=preset_name, dataset=dataset, model=model)
    for k in ("seeds", "epochs", "batch_size", "lr", "optimizer", "schedule", "weight_decay",
              "label_smoothing", "tta", "momentum", "bias_lr_scale", "whiten_bias_epochs", "ema",
              "ema_every", "kernel_initializer", "augment", "preprocess", "train_subset", "test_subset",
              "val_split", "device", "cpu_devices", "engine", "ray_address",
              "cpus_per_run", "gpus_per_run", "max_retries", "coordinator", "num_processes",
              "process_id", "mixed_precision", "jit_compile", "data_dir", "cache_dir",
              "models_dir", "save_models", "diagnostics", "feed", "steps_per_execution",
              "baseline", "data", "task", "model_file", "model_fn", "test_split", "dry_run"):
        if k in given:
            cfg[k] = given[k]
    if given.get("data"):
        from .data import DataError
        from .userdata import check_data_path

        try:
            check_data_path(given["data"])  # before Keras starts; the arrays are checked later
        except DataError as e:
            raise SystemExit(str(e)) from None
        cfg["preprocess"] = given.get("preprocess", "none")
    cfg["compile_from_file"] = bool(user_model == "file" and not
                                    {"optimizer", "lr", "schedule"} & set(given))
    if cfg["task"] == "regression" and not user_model:
        raise SystemExit("--task regression needs your model (--model-file or --model-fn): "
                         "the built-in models are classifiers")
    if cfg["task"] == "regression" and (cfg["label_smoothing"] or cfg["tta"]):
        raise SystemExit("--label-smoothing and --tta are for classification")
    if "image_size" in given:
        cfg["image_size"] = _image_size(given["image_size"])
    if not 0.0 < cfg["test_split"] < 1.0:
        raise SystemExit("--test-split must be in (0, 1)")
    for opt in given.get("model_option", []):
        k, v = _parse_option(opt)
        if k not in MODEL_DEFAULTS.get(model, {}):
            raise SystemExit(f"--model-option {k}: unknown for --model {model}; "
                             f"known: {', '.join(sorted(MODEL_DEFAULTS.get(model, {}))) or 'none'}")
        cfg["model_options"][k] = v
    for k in ("augment", "tta"):
        if cfg[k] == "none":
            cfg[k] = None
    if not 0.0 <= cfg["label_smoothing"] < 1.0:
        raise SystemExit("--label-smoothing must be in [0, 1)")
    if not 0.0 <= cfg["momentum"] < 1.0:
        raise SystemExit("--momentum must be in [0, 1)")
    if cfg["ema"] == 0:
        cfg["ema"] = None
    if cfg["ema"] is not None and not 0.0 < cfg["ema"] < 1.0:
        raise SystemExit("--ema must be in (0, 1) (or 0 for off)")
    if cfg["ema_every"] < 1 or cfg["bias_lr_scale"] <= 0:
        raise SystemExit("--ema-every must be >= 1 and --bias-lr-scale > 0")
    if cfg["cpus_per_run"] <= 0 or cfg["gpus_per_run"] < 0 or cfg["max_retries"] < 0:
        raise SystemExit("--cpus-per-run must be > 0, --gpus-per-run and --max-retries >= 0")
    if cfg["num_processes"] < 1 or not 0 <= cfg["process_id"] < cfg["num_processes"]:
        raise SystemExit("--num-processes must be >= 1 and 0 <= --process-id < --num-processes")
    if (cfg["num_processes"] > 1) != bool(cfg["coordinator"]):
        raise SystemExit("--coordinator and --num-processes > 1 go together")
    if cfg["num_processes"] > 1 and cfg["engine"] != "local":
        raise SystemExit("--coordinator: one model over several processes runs with --engine local")
    if cfg["ray_address"] and cfg["engine"] != "ray":
        raise SystemExit("--ray-address is for --engine ray")
    if cfg["whiten_bias_epochs"] is not None and cfg["whiten_bias_epochs"] < 0:
        raise SystemExit("--whiten-bias-epochs must be >= 0")
    acts = given.get("activations")
    cfg["activations"] = split_activation_list(acts) if acts else list(cfg["activations"])
    if len(set(cfg["activations"])) != len(cfg["activations"]):
        raise SystemExit("--activations lists an activation twice")
    try:
        check_names(cfg["activations"], cfg["baseline"])  # before Keras starts
    except ValueError as e:
        raise SystemExit(str(e)) from None
    if cfg["seeds"] == "auto":
        from .sequential import FIRST_LOOK

        cfg.update(seeds_auto=True, seeds=FIRST_LOOK,
                   max_seeds=given.get("max_seeds", cfg["max_seeds"]))
        if cfg["max_seeds"] < FIRST_LOOK:
            raise SystemExit(f"--max-seeds must be at least {FIRST_LOOK} (the first round of "
                             "--seeds auto)")
    elif "max_seeds" in given:
        raise SystemExit("--max-seeds goes with --seeds auto")
    if given.get("budget") is not None:
        if cfg["engine"] != "local":
            raise SystemExit("--budget is for --engine local (Ray starts a round's runs "
                             "together)")
        cfg["budget"] = given["budget"]
    if cfg["seeds"] < 1 or cfg["epochs"] < 1 or cfg["batch_size"] < 1:
        raise SystemExit("--seeds, --epochs and --batch-size must be >= 1")
    if not 0.0 <= cfg["val_split"] < 1.0:
        raise SystemExit("--val-split must be in [0, 1)")
    n_seeds = cfg["max_seeds"] if cfg["seeds_auto"] else cfg["seeds"]
    cfg["seed_list"] = list(range(args.seed_offset, args.seed_offset + n_seeds))
    stem = model
    if user_model:
        src = cfg["model_file"] or cfg["model_fn"]
        stem = cfg["model_name"] = os.path.splitext(os.path.basename(src.replace(":", "-")))[0]
    cfg["out"] = given.get("out") or os.path.join("runs", f"{dataset}-{stem}")
    if cfg["process_id"]:  # not the chief: an identical copy beside it, no write races
        cfg["out"] = os.path.join(cfg["out"], f"process-{cfg['process_id']}")
        cfg["models_dir"] = os.path.join(cfg["out"], "saved_models")
    cfg["models_dir"] = cfg["models_dir"] or os.path.join(cfg["out"], "saved_models")
    cfg["tensorboard"] = _tensorboard_dir(given.get("tensorboard", "auto"), cfg["out"])
    _check_writable(cfg["out"], "--out")
    if cfg["tensorboard"]:
        _check_writable(cfg["tensorboard"], "--tensorboard")
    if cfg["save_models"]:
        _check_writable(cfg["models_dir"], "--models-dir")
    cfg["resume"], cfg["overwrite"], cfg["verbose"] = args.resume, args.overwrite, args.verbose
    cfg["quiet"] = args.quiet
    import keras

    cfg["backend"] = keras.backend.backend()
    return Config.from_mapping(cfg)
