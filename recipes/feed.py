"""What ``Model.fit`` is handed: on TensorFlow, tf.data pipelines with autotuning off.

Keras 3 (3.15) wraps NumPy arrays and ``PyDataset``\\ s on TensorFlow in tf.data pipelines that
prefetch with ``AUTOTUNE``. tf.data's autotuning thread sleeps between optimisation passes for
a period that doubles up to 10 s, and destroying the iterator — which Keras does at every
epoch's end, for training and validation — waits until that sleep ends: every epoch longer than
a few seconds stalls for 0-10 s at its boundary with all threads idle (measured on a 2-core
CPU: epochs of the same work taking 15.0 s and 20.4 s in turn; a CIFAR-10 run losing 2 × 10 s).
The same pipelines with autotuning off never stall, so on TensorFlow the recipes feed these:

``as_tf_dataset(x, y, batch_size, shuffle, seed)``
    arrays in batches: the indices are shuffled (seeded, afresh each pass) and each batch is
    gathered from the arrays held once as tensors — no per-example copies.
``as_tf_feed(py_dataset)``
    a ``keras.utils.PyDataset``'s batches in order, calling its ``on_epoch_end`` between
    passes: epoch k trains on the PyDataset's epoch k.

Both prefetch a fixed two batches. Which feed a run uses is the run plan's choice
(``recipes.plan.feed``).
"""
from __future__ import annotations

import itertools

import numpy as np

__all__ = ["as_tf_dataset", "as_tf_feed", "PREFETCH"]

PREFETCH = 2  # batches prepared ahead of the training step (fixed: autotuning is off)


def _tf():
    try:
        import tensorflow as tf
    except ImportError as e:
        raise ImportError("as_tf_dataset needs TensorFlow (pip install tensorflow); everything "
                          "else in recipes.data works with NumPy only") from e
    return tf


def _steady(ds, batches):
    """``ds`` with a known length, a fixed prefetch and tf.data's autotuning off."""
    tf = _tf()
    options = tf.data.Options()
    options.autotune.enabled = False
    ds = ds.apply(tf.data.experimental.assert_cardinality(batches))
    return ds.prefetch(PREFETCH).with_options(options)


def as_tf_dataset(x, y, batch_size, shuffle=True, seed=0, drop_remainder=False):
    """``(x, y)`` in batches of ``batch_size`` as a tf.data.Dataset (needs TensorFlow); see the
    module docstring. ``shuffle`` draws a new seeded order for every pass."""
    tf = _tf()
    n = len(x)
    if n != len(y) or batch_size < 1:
        raise ValueError(f"as_tf_dataset needs len(x) == len(y) and batch_size >= 1, "
                         f"not {n}, {len(y)} and {batch_size}")
    order = tf.data.Dataset.range(n)
    if shuffle:
        order = order.shuffle(n, seed=seed, reshuffle_each_iteration=True)
    order = order.batch(batch_size, drop_remainder=drop_remainder)
    arrays = tf.data.Dataset.from_tensors((x, y)).repeat()
    ds = tf.data.Dataset.zip(order, arrays).map(
        lambda idx, xy: (tf.gather(xy[0], idx), tf.gather(xy[1], idx)))
    return _steady(ds, n // batch_size if drop_remainder else -(-n // batch_size))


def as_tf_feed(py_dataset):
    """A ``keras.utils.PyDataset``'s batches as a tf.data.Dataset (needs TensorFlow): each pass
    (iterator) yields ``py_dataset[0 .. len - 1]``; every pass after the first begins by
    calling ``py_dataset.on_epoch_end()``."""
    tf = _tf()
    first = py_dataset[0]
    spec = tuple(tf.TensorSpec((None,) + np.shape(a)[1:], tf.as_dtype(np.asarray(a).dtype))
                 for a in first)

    passes = itertools.count()

    def batches():
        # a pass ends when the next one starts: Keras stops reading after len() batches, so
        # the end of a generator is never reliably reached
        if next(passes):
            py_dataset.on_epoch_end()
        for i in range(len(py_dataset)):
            yield py_dataset[i]

    return _steady(tf.data.Dataset.from_generator(batches, output_signature=spec), len(py_dataset))
