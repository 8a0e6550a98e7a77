"""TensorBoard event files for a grid, written from its run records (so they are the same
for every engine and backend, and a resumed grid fills in what is missing).

    <logdir>/                     the HParams experiment: activation, seed, dataset, model;
                                  metrics test_accuracy, macro_f1, test_loss, s/epoch
    <logdir>/<act>-seed<k>/       one HParams session per run, its final metrics, the
                                  learning rate and the gradient-flow diagnostics per epoch
    <logdir>/<act>-seed<k>/train, .../validation   the loss and accuracy curves (one tag,
                                  two runs: TensorBoard draws them on one chart, as Keras's
                                  own TensorBoard callback does)

``tensorboard --logdir <logdir>`` opens them; its HParams tab tabulates the grid and its
parallel-coordinates view compares the activations. Only TensorBoard's own writer and protos
are used (``tensorboard`` package, no TensorFlow backend needed).
"""
from __future__ import annotations

import shutil
import time
from pathlib import Path

from keras_acts.events import EventWriter, without_tensorflow

__all__ = ["METRICS", "Board", "write_experiment", "write_run", "run_dir"]

#: (metric in a run record's ``metrics``, label) shown in the HParams table
METRICS = (("test_accuracy", "test accuracy"), ("macro_f1", "macro-F1"),
           ("test_loss", "test loss"), ("train_seconds_per_epoch", "s/epoch"))
_REGRESSION_METRICS = (("test_rmse", "test RMSE"), ("test_loss", "test loss"),
                       ("train_seconds_per_epoch", "s/epoch"))
#: per-layer gradient-flow series of ``keras_acts.diagnostics.GradientFlow`` drawn per epoch
_FLOW = ("grad_norm", "dead_fraction", "saturated_fraction", "activation_mean",
         "activation_var")


def _metrics(cfg) -> tuple:
    return _REGRESSION_METRICS if cfg.task == "regression" else METRICS


def run_dir(logdir, record) -> Path:
    return Path(logdir) / f"{record['slug']}-seed{record['seed']}"


def _hparams(record) -> dict:
    return {"activation": record["activation"], "seed": int(record["seed"]),
            "dataset": record["dataset"], "model": record["model"]}


def _hparams_summary(tag, **plugin_data):
    """An HParams plugin summary (what ``tensorboard.plugins.hparams.summary`` builds, whose
    module imports TensorFlow: built here from the plugin's own protos)."""
    from tensorboard.compat.proto import summary_pb2
    from tensorboard.plugins.hparams import metadata, plugin_data_pb2

    data = plugin_data_pb2.HParamsPluginData(**plugin_data)
    return summary_pb2.Summary(value=[summary_pb2.Summary.Value(
        tag=tag, metadata=metadata.create_summary_metadata(data), tensor=metadata.NULL_TENSOR)])


def write_experiment(logdir, cfg, activations) -> None:
    """The HParams experiment at the root of ``logdir``: the columns of the HParams table
    (``activations``: the grid's display names)."""
    without_tensorflow()
    from google.protobuf import struct_pb2
    from tensorboard.plugins.hparams import api_pb2, metadata

    def discrete(name, values):
        return api_pb2.HParamInfo(name=name, type=api_pb2.DATA_TYPE_STRING,
                                  domain_discrete=struct_pb2.ListValue(values=[
                                      struct_pb2.Value(string_value=str(v)) for v in values]))

    infos = [discrete("activation", activations),
             api_pb2.HParamInfo(name="seed", type=api_pb2.DATA_TYPE_FLOAT64),
             discrete("dataset", [cfg.dataset]),
             discrete("model", [cfg.model_name or cfg.model])]
    metrics = [api_pb2.MetricInfo(name=api_pb2.MetricName(tag=tag), display_name=label)
               for tag, label in _metrics(cfg)]
    Path(logdir).mkdir(parents=True, exist_ok=True)
    for old in Path(logdir).glob("events.out.tfevents.*"):  # one experiment, the latest
        old.unlink()
    w = EventWriter(Path(logdir))
    w.summary(_hparams_summary(metadata.EXPERIMENT_TAG, experiment=api_pb2.Experiment(
        hparam_infos=infos, metric_infos=metrics, time_created_secs=time.time())))
    w.close()


def write_run(logdir, cfg, record) -> Path:
    """One run's session, curves, learning rate and diagnostics under ``run_dir``; a
    folder written before (an earlier attempt) is replaced, never appended to."""
    from google.protobuf import struct_pb2
    from tensorboard.plugins.hparams import api_pb2, metadata, plugin_data_pb2

    path = run_dir(logdir, record)
    shutil.rmtree(path, ignore_errors=True)
    h = record.get("history") or {}
    epochs = len(h.get("loss", []))
    main = EventWriter(path)
    hparams = {k: struct_pb2.Value(number_value=v) if isinstance(v, int)
               else struct_pb2.Value(string_value=v) for k, v in _hparams(record).items()}
    main.summary(_hparams_summary(metadata.SESSION_START_INFO_TAG,
                                  session_start_info=plugin_data_pb2.SessionStartInfo(
                                      hparams=hparams, start_time_secs=time.time())))
    for split, prefix in (("train", ""), ("validation", "val_")):
        w = EventWriter(path / split)
        for key in ("loss", "accuracy", "mae"):
            for epoch, v in enumerate(h.get(prefix + key, [])):
                w.scalar(f"epoch_{key}", v, epoch)
        w.close()
    for epoch, v in enumerate(h.get("learning_rate", [])):
        main.scalar("learning_rate", v, epoch)
    for epoch, v in enumerate(h.get("epoch_seconds", [])):
        main.scalar("epoch_seconds", v, epoch)
    flow = record.get("diagnostics") or {}
    for epoch, v in zip(flow.get("epoch", []), flow.get("grad_norm_ratio", [])):
        main.scalar("gradient_flow/grad_norm_ratio", v, epoch)  # first / last layer
    for key in _FLOW:
        for layer, values in (flow.get(key) or {}).items():
            for epoch, v in zip(flow.get("epoch", []), values):
                main.scalar(f"gradient_flow/{key}/{layer}", v, epoch)
    for tag, _ in _metrics(cfg):
        main.scalar(tag, record["metrics"].get(tag), max(epochs - 1, 0))
    main.summary(_hparams_summary(metadata.SESSION_END_INFO_TAG,
                                  session_end_info=plugin_data_pb2.SessionEndInfo(
                                      status=api_pb2.STATUS_SUCCESS, end_time_secs=time.time())))
    main.close()
    return path


class Board:
    """A grid's TensorBoard files in ``cfg.tensorboard`` (none when it is None): the
    experiment when made, then each run's as it finishes. A failure to write them is a note on
    ``stream``, never a lost run: the run records stay the source."""

    def __init__(self, cfg, names, stream):
        self.cfg, self.dir, self.stream = cfg, cfg.tensorboard, stream
        if self.dir:
            self._guard(lambda: write_experiment(self.dir, cfg, names))

    def run(self, rec, only_if_missing=False):
        if not self.dir or rec is None:
            return
        if only_if_missing and run_dir(self.dir, rec).is_dir():
            return
        self._guard(lambda: write_run(self.dir, self.cfg, rec))

    def _guard(self, write):
        try:
            write()
        except Exception as e:  # noqa: BLE001 (the runs are saved; the event files are extra)
            print(f"note: TensorBoard files not written ({type(e).__name__}: {e}); the run "
                  "records are saved", file=self.stream)
            self.dir = None
