"""TensorBoard event files without TensorFlow: scalars and summaries written with the
``tensorboard`` package's own pure-Python writer, on every Keras backend. Used by
``diagnostics.GradientFlow(tensorboard_dir=...)`` and by the recipes' TensorBoard files."""
from __future__ import annotations

import sys
import types
from pathlib import Path

__all__ = ["EventWriter", "without_tensorflow"]


def without_tensorflow():
    """TensorBoard's compat layer imports TensorFlow when it is installed (seconds, and a
    second framework in a JAX or torch process) though the writer and protos need none; the
    module ``tensorboard.compat.notf`` is TensorBoard's own switch to its stub. Set only
    where TensorFlow is not loaded already."""
    if "tensorflow" not in sys.modules:
        sys.modules.setdefault("tensorboard.compat.notf", types.ModuleType("tensorboard.compat.notf"))


class EventWriter:
    """One event file in the folder ``path`` (created); ImportError without ``tensorboard``."""

    def __init__(self, path):
        without_tensorflow()
        from tensorboard.summary.writer.event_file_writer import EventFileWriter

        self._w = EventFileWriter(str(Path(path)))

    def summary(self, summary, step: int = 0):
        from tensorboard.compat.proto import event_pb2

        self._w.add_event(event_pb2.Event(step=step, summary=summary))

    def scalar(self, tag: str, value, step: int):
        """A scalar (``None`` is skipped)."""
        from tensorboard.compat.proto import summary_pb2

        if value is None:
            return
        self.summary(summary_pb2.Summary(value=[summary_pb2.Summary.Value(
            tag=tag, simple_value=float(value))]), step)

    def flush(self):
        self._w.flush()

    def close(self):
        self._w.close()
