"""One (activation, seed) run: build, compile, fit, evaluate (``recipes.metrics``), time, save
the model, and return the run record -- as the run plan (``recipes.plan``) says. Also the
optimizer and its schedule.
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import json
import math
import sys
import time
import warnings

import numpy as np

from .metrics import epochs_to_fraction, macro_f1, predict_proba, regression_metrics
from .plan import RunPlan, plan_runs, processes
from .runs import atomic_path, config_key, json_default, model_path

__all__ = ["train_one", "make_optimizer", "make_model", "one_cycle", "replica_batches"]


def _make_callbacks():
    import keras

    class EpochTimer(keras.callbacks.Callback):
        """Seconds per epoch, with and without the validation pass."""

        def __init__(self):
            super().__init__()
            self.epoch_seconds, self.train_seconds, self.learning_rate = [], [], []
            self._t0 = self._t_val = None

        def on_epoch_begin(self, epoch, logs=None):
            self._t0, self._t_val = time.perf_counter(), None

        def on_test_begin(self, logs=None):
            if self._t0 is not None and self._t_val is None:
                self._t_val = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            t = time.perf_counter()
            self.epoch_seconds.append(t - self._t0)
            self.train_seconds.append((self._t_val or t) - self._t0)
            self._t0 = None
            lr = getattr(self.model.optimizer, "learning_rate", None)  # after the epoch's steps
            if lr is not None:
                self.learning_rate.append(float(keras.ops.convert_to_numpy(lr)))

    return EpochTimer()


def one_cycle(peak, steps, warmup_frac=0.2, start_div=25.0):
    """Linear warm-up from ``peak / start_div`` over the first ``warmup_frac`` of ``steps``,
    then cosine decay to 0 (a one-cycle schedule built from Keras's ``CosineDecay``)."""
    import keras

    warm = max(1, int(round(warmup_frac * steps)))
    return keras.optimizers.schedules.CosineDecay(
        peak / start_div, decay_steps=max(1, steps - warm), alpha=0.0,
        warmup_target=peak, warmup_steps=warm)


def make_optimizer(cfg, steps_per_epoch, model=None):
    """The optimizer and learning-rate schedule of ``cfg`` for ``steps_per_epoch`` steps per
    epoch (``model``: to find a whitening stem whose bias trains for the first epochs only)."""
    import keras

    from keras_acts import optim

    lr, wd = cfg.lr, cfg.weight_decay
    if cfg.optimizer == "sgd_per1024":
        lr, wd = optim.per_1024(lr, wd, cfg.momentum)
    total = max(1, steps_per_epoch * cfg.epochs)
    if cfg.schedule == "cosine":
        lr = keras.optimizers.schedules.CosineDecay(lr, decay_steps=total, alpha=0.01)
    elif cfg.schedule == "onecycle":
        lr = one_cycle(lr, total)
    elif cfg.schedule == "triangle":
        lr = optim.Triangle(lr, total)
    ema = dict(use_ema=True, ema_momentum=cfg.ema,
               ema_overwrite_frequency=cfg.ema_every) if cfg.ema else {}
    sgd_ema = dict(ema, lookahead_steps=total) if ema else {}
    if cfg.optimizer == "adam":
        return keras.optimizers.Adam(lr, **ema)
    if cfg.optimizer == "adamw":
        return keras.optimizers.AdamW(lr, weight_decay=wd or 1e-4, **ema)
    from .airbench import WHITEN_LAYER

    limit = cfg.whiten_bias_epochs
    paths = {v.path for v in model.trainable_variables} if model is not None else set()
    key = f"{WHITEN_LAYER}/bias"
    train_steps = ({key: steps_per_epoch * int(limit)}
                   if limit is not None and key in paths else None)
    return optim.FastSGD(lr, momentum=cfg.momentum, nesterov=True, weight_decay=wd or None,
                         bias_lr_scale=cfg.bias_lr_scale, train_steps=train_steps, **sgd_ema)


def _latency_ms(model, x, min_reps=3, max_reps=20, budget_s=0.2):
    """Median wall time of ``model.predict_on_batch(x)`` in ms (after warm-up)."""
    model.predict_on_batch(x)
    model.predict_on_batch(x)
    times = []
    t_end = time.perf_counter() + budget_s
    while len(times) < max_reps and (len(times) < min_reps or time.perf_counter() < t_end):
        t = time.perf_counter()
        model.predict_on_batch(x)
        times.append(time.perf_counter() - t)
    return 1000.0 * float(np.median(times))


def _eval_batch_size(n: int, target: int = 500, replicas: int = 1) -> int:
    """A batch size near ``target`` that divides ``n`` (no ragged last batch, so the
    evaluation step is traced once) and is a multiple of ``replicas`` (each device gets an
    equal share), else the multiple of ``replicas`` nearest ``target``."""
    if n <= 1024 and n % replicas == 0:
        return max(1, n)
    for b in sorted(range(replicas, 1025, replicas), key=lambda b: abs(b - target)):
        if n % b == 0:
            return b
    return max(replicas, target // replicas * replicas)


def replica_batches(n_train: int, batch_size: int, replicas: int, seed: int):
    """``(batch_size, keep)`` for data-parallel training over ``replicas`` devices: the
    global batch rounded up to a multiple of ``replicas``, and (with more than one replica)
    the indices of a seeded random subset of whole batches, so that no step sees a batch
    the devices cannot split evenly (JAX raises IndivisibleError on one). ``keep`` is None
    when nothing needs dropping."""
    bs = -(-int(batch_size) // replicas) * replicas
    if replicas == 1 or n_train % bs == 0:
        return bs, None
    keep = np.sort(np.random.default_rng(seed).permutation(n_train)[: n_train // bs * bs])
    return bs, keep


def _local_copy(model):
    """The model with this process's copy of its replicated weights, outside any
    distribution (for evaluation and saving after multi-process training)."""
    import jax
    import keras

    copy = keras.models.clone_model(model)
    copy.set_weights([np.asarray(jax.device_get(v.value.addressable_data(0)))
                      for v in model.weights])
    return copy


def _diagnostics_callback(cfg, d):
    if not cfg.diagnostics:
        return None
    try:
        from keras_acts.diagnostics import GradientFlow
    except ImportError:
        return None
    return GradientFlow(d["x_train"], d["y_fit"], probe_size=cfg.probe_size)


def _loss_and_labels(cfg, d, logits=False):
    """The loss, and ``d`` with the labels the loss wants as ``y_fit`` / ``y_fit_val``.

    Keras's sparse cross-entropy has no label smoothing, so with ``label_smoothing > 0`` the
    labels go one-hot (float32) into ``CategoricalCrossentropy``; test metrics always use the
    integer labels. ``logits``: the model outputs logits (a user model without softmax).
    Regression: mean squared error on the targets as given.
    """
    import keras

    if cfg.task == "regression":
        return "mse", dict(d, y_fit=d["y_train"], y_fit_val=d["y_val"])
    ls = float(cfg.label_smoothing)
    if not ls:
        return (keras.losses.SparseCategoricalCrossentropy(from_logits=logits),
                dict(d, y_fit=d["y_train"], y_fit_val=d["y_val"]))
    eye = np.eye(d["num_classes"], dtype="float32")
    return (keras.losses.CategoricalCrossentropy(label_smoothing=ls, from_logits=logits),
            dict(d, y_fit=eye[d["y_train"]], y_fit_val=eye[d["y_val"]]))


def outputs_logits(model) -> bool:
    """Whether the model's (first) output is logits: its last layer applies no softmax."""
    import keras

    from keras_acts.graph import final_layer

    layer = final_layer(model)
    if isinstance(layer, keras.layers.Softmax):
        return False
    act = getattr(layer, "activation", None)
    return act not in (keras.activations.softmax, "softmax")


def make_model(cfg, act, d, plan: RunPlan, batch_aug=False):
    """``(model, optimizer or None)`` for one run: a built-in ``build_model`` kind (its
    BatchNorm and activations in ``plan.elementwise_dtype``), the saved
    ``--model-file`` with its activations swapped (``keras_acts.swap_activations``, weights
    re-initialised; its own optimizer unless --optimizer / --lr were given), or the model
    ``--model-fn`` builds for this activation."""
    import keras

    from .models import build_model, load_model_fn

    if cfg.model_file:
        import keras_acts

        base = keras_acts_load(cfg.model_file)
        made = act.make()
        model = keras_acts.swap_activations(base, made)
        opt = None
        if cfg.compile_from_file and getattr(base, "optimizer", None) is not None:
            opt = type(base.optimizer).from_config(base.optimizer.get_config())
        return model, opt
    if cfg.model_fn:
        fn = load_model_fn(cfg.model_fn)
        model = fn(activation=model_fn_activation(act))
        if not isinstance(model, keras.Model):
            raise TypeError(f"--model-fn {cfg.model_fn} returned {type(model).__name__}, "
                            "not a keras.Model")
        return model, None
    model = build_model(cfg.model, d["input_shape"], d["num_classes"], act,
                        kernel_initializer=cfg.kernel_initializer,
                        augment=None if batch_aug else cfg.augment,
                        elementwise_dtype=plan.elementwise_dtype, **cfg.model_options)
    return model, None


def model_fn_activation(act):
    """What ``--model-fn`` functions get as ``activation=``: the name or function, or for a
    learnable layer its zero-argument factory (``keras_acts.as_layer`` takes either)."""
    import keras

    made = act.make()
    return act.factory if isinstance(made, keras.layers.Layer) else made


def keras_acts_load(path):
    """``keras_acts.load_model`` (our names resolve; one-sentence errors), without Keras's
    harmless warning about an unbuilt saved optimizer."""
    import keras_acts

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
        return keras_acts.load_model(path)


def _progress(cfg, name: str, seed: int) -> list:
    """One bar per run, advancing per epoch with the latest metrics (tqdm's Keras callback):
    only when standard output is a terminal, never with ``--quiet`` or ``--verbose`` (Keras
    prints its own lines), gone when the run ends (the grid's bar and table stay)."""
    if cfg.quiet or cfg.verbose or not sys.stdout.isatty():
        return []
    from tqdm import tqdm
    from tqdm.keras import TqdmCallback

    return [TqdmCallback(epochs=cfg.epochs, verbose=0, tqdm_class=tqdm, leave=False,
                         position=1, dynamic_ncols=True, desc=f"{name} seed {seed}")]


def train_one(cfg, act_text: str, seed: int, d: dict, placement=None,
              plan: RunPlan | None = None) -> dict:
    """Train, evaluate, time and save one (activation, seed) of the grid ``cfg`` (a
    ``recipes.config.Config``) on the data ``d`` as ``plan`` says (default: ``plan_runs(cfg,
    placement)``); return its run record."""
    import keras

    from .augment import BATCH_AUGMENTS, BatchAugment
    from .feed import as_tf_dataset, as_tf_feed
    from .airbench import init_whitening
    from .models import parse_activation, slug

    plan = plan or plan_runs(cfg, placement)
    warnings.filterwarnings("ignore", message="The structure of `inputs` doesn't match")
    started = _dt.datetime.now().isoformat(timespec="seconds")
    t_run = time.perf_counter()
    keras.backend.clear_session()  # the one place the dtype policy is set (clear_session resets it)
    keras.mixed_precision.set_dtype_policy(plan.dtype_policy)
    keras.utils.set_random_seed(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        act = parse_activation(act_text)
    replicas = plan.replicas
    bs, keep = replica_batches(len(d["x_train"]), cfg.batch_size, replicas, seed)
    if keep is not None:
        d = dict(d, x_train=d["x_train"][keep], y_train=d["y_train"][keep])
    global_bs, n_used = bs, len(d["x_train"])
    procs, rank = processes()
    if procs > 1:  # each process feeds its share of every (global) batch
        d = dict(d, **{k: d[k][rank::procs] for k in ("x_train", "y_train", "x_val", "y_val")})
        bs = global_bs // procs
    batch_aug = cfg.augment in BATCH_AUGMENTS
    # steps per epoch for the schedule: the feed's own count (BatchAugment drops a ragged batch)
    steps = (len(BatchAugment(d["x_train"], d["y_train"], bs)) if batch_aug
             else math.ceil(len(d["x_train"]) / bs))
    timer = _make_callbacks()
    callbacks = [timer, keras.callbacks.TerminateOnNaN(), *_progress(cfg, act.name, seed)]
    scope = placement.scope() if placement is not None else contextlib.nullcontext()
    phases = {}
    t = time.perf_counter()
    eval_bs = _eval_batch_size(len(d["x_val"]), replicas=replicas // procs)
    with scope:
        model, optimizer = make_model(cfg, act, d, plan, batch_aug)
        init_whitening(model, d["x_train"])
        logits = outputs_logits(model)
        loss, d = _loss_and_labels(cfg, d, logits)
        regression = cfg.task == "regression"
        model.compile(optimizer=optimizer or make_optimizer(cfg, steps, model), loss=loss,
                      metrics=["mae"] if regression else ["accuracy"],
                      jit_compile=plan.jit_compile,
                      steps_per_execution=plan.steps_per_execution)
        diag = _diagnostics_callback(cfg, d)
        if diag is not None:
            callbacks.append(diag)
        phases["build"] = time.perf_counter() - t
        t = time.perf_counter()
        fit_kw = dict(epochs=cfg.epochs, verbose=(2 if cfg.verbose else 0),
                      callbacks=callbacks)
        tpu = placement is not None and placement.plan.strategy == "tpu"
        via_tf = plan.feed == "tfdata"
        # the feeds below order the examples themselves (BatchAugment: a seeded permutation
        # per epoch); Keras's own shuffle would reorder BatchAugment's batches once more
        fit_kw["shuffle"] = False
        if batch_aug:
            train = BatchAugment(d["x_train"], d["y_fit"], bs, seed=seed)
            train = as_tf_feed(train) if via_tf else train
        elif via_tf:
            train = as_tf_dataset(d["x_train"], d["y_fit"], bs, True, seed, tpu)
        else:
            train, fit_kw = d["x_train"], dict(fit_kw, y=d["y_fit"], batch_size=bs, shuffle=True)
        if via_tf:
            val = as_tf_dataset(d["x_val"], d["y_fit_val"], eval_bs, False, 0, tpu)
        else:
            val, fit_kw = (d["x_val"], d["y_fit_val"]), dict(fit_kw, validation_batch_size=eval_bs)
        hist = model.fit(train, validation_data=val, **fit_kw)
        phases["fit"] = time.perf_counter() - t
    eval_devices = replicas
    if procs > 1:
        # evaluate, time and save a local copy: every process holds all the (replicated)
        # weights; the distributed model's outputs span processes
        model, eval_devices = _local_copy(model), 1
    history = {k: [float(v) for v in vals] for k, vals in hist.history.items()}
    history["epoch_seconds"] = timer.epoch_seconds
    history["train_seconds"] = timer.train_seconds
    if timer.learning_rate:
        history["learning_rate"] = timer.learning_rate
    t = time.perf_counter()
    if regression:
        test = regression_metrics(model, d["x_test"], d["y_test"],
                                  _eval_batch_size(len(d["x_test"]), replicas=eval_devices))
        finite = np.array([math.isfinite(test["test_loss"])])
    else:
        probs = predict_proba(model, d["x_test"], cfg.tta,
                              _eval_batch_size(len(d["x_test"]), replicas=eval_devices),
                              logits=logits)
        y = d["y_test"]
        finite = np.all(np.isfinite(probs), axis=1)
        pred = np.where(finite, np.argmax(np.nan_to_num(probs, nan=-1.0), axis=1), -1)
        p_true = np.clip(probs[np.arange(len(y)), y], 1e-7, 1.0)
        test = {"test_accuracy": float(np.mean(pred == y)),
                "macro_f1": macro_f1(y, np.where(pred < 0, 0, pred), d["num_classes"]),
                "test_loss": float(np.mean(-np.log(p_true))) if finite.all() else math.nan}
    phases["evaluate"] = time.perf_counter() - t
    t = time.perf_counter()
    # (per sample: the smallest batch the devices can split, divided by its size)
    latency = (_latency_ms(model, d["x_test"][:256 // eval_devices * eval_devices]),
               _latency_ms(model, d["x_test"][:eval_devices]) / eval_devices)
    phases["latency"] = time.perf_counter() - t
    n_ep = len(timer.train_seconds)
    secs = timer.train_seconds[1:] if n_ep > 1 else timer.train_seconds
    val_curve = history.get("val_accuracy", [])
    metrics = {
        **test,
        "final_train_loss": history["loss"][-1] if history.get("loss") else None,
        "final_train_accuracy": history["accuracy"][-1] if history.get("accuracy") else None,
        "epochs_run": n_ep,
        "epochs_to_99pct": None if regression else epochs_to_fraction(val_curve),
        "train_seconds_per_epoch": float(np.mean(secs)) if secs else None,
        "first_epoch_seconds": timer.epoch_seconds[0] if timer.epoch_seconds else None,
        "latency_ms_per_batch256": latency[0],
        "latency_ms_per_sample": latency[1],
        "params": int(model.count_params()),
        "diverged": bool(not finite.all() or n_ep < cfg.epochs
                         or not all(math.isfinite(v) for v in history.get("loss", [0.0]))),
    }
    act_slug = slug(act.name)
    mpath = None
    if cfg.save_models:
        mpath = model_path(cfg, act_slug, seed)
        t = time.perf_counter()
        with atomic_path(mpath) as tmp:
            model.save(tmp)
        phases["save"] = time.perf_counter() - t
    diag_hist = None
    if diag is not None:
        diag_hist = getattr(diag, "history", None)
        try:
            json.dumps(diag_hist, default=json_default)
        except (TypeError, ValueError):
            diag_hist = None
    return {
        "status": "done", "activation": act.name, "spec": act_text, "slug": act_slug,
        "seed": seed, "dataset": cfg.dataset, "model": cfg.model,
        "config_key": config_key(cfg), "history": history, "metrics": metrics,
        "diagnostics": diag_hist, "model_path": str(mpath.resolve()) if mpath else None,
        "keras_version": keras.__version__, **plan.as_dict(),
        "batch_size_used": global_bs, "n_train_used": n_used,
        "validation": "holdout" if cfg.val_split else "test",
        "started": started, "finished": _dt.datetime.now().isoformat(timespec="seconds"),
        "wall_seconds": time.perf_counter() - t_run, "phase_seconds": phases,
    }
