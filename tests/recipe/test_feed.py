"""recipes.feed: the tf.data pipelines Model.fit gets on TensorFlow (autotuning off)."""
import importlib.util
import io
import json
import sys
import types

import keras
import numpy as np
import pytest

from recipes import augment, compare, feed
from recipes.data import make_synthetic

on_tf = pytest.mark.skipif(keras.backend.backend() != "tensorflow"
                           or importlib.util.find_spec("tensorflow") is None,
                           reason="tf.data feeds are for the TensorFlow backend")


def test_without_tensorflow(monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorflow", None)
    with pytest.raises(ImportError, match="as_tf_dataset needs TensorFlow"):
        feed.as_tf_dataset(np.zeros((4, 2)), np.zeros(4), 2)


def test_the_plan_feeds_each_backend_as_documented():
    from recipes.config import Config
    from recipes.plan import feed as plan_feed

    backend = keras.backend.backend()
    tf_backend = backend == "tensorflow"

    def fed(mode, placement=None):
        return plan_feed(Config(backend=backend, feed=mode), placement)

    def placed(strategy, replicas):
        return types.SimpleNamespace(plan=types.SimpleNamespace(strategy=strategy),
                                     replicas=replicas)
    assert fed("auto") == ("tfdata" if tf_backend else "keras")
    assert fed("auto", placed("mirrored", 2)) == "keras"
    assert fed("auto", placed("default", 1)) == fed("auto")
    if tf_backend:
        assert fed("numpy", placed("tpu", 8)) == "tfdata"
    assert fed("numpy") == "keras"
    if tf_backend:
        assert fed("tfdata") == "tfdata"
    else:
        with pytest.raises(ValueError, match="needs the TensorFlow backend"):
            fed("tfdata")


def _passes(ds, n=2):
    return [[tuple(np.asarray(t) for t in b) for b in ds.as_numpy_iterator()] for _ in range(n)]


@on_tf
def test_as_tf_dataset_batches_aligned_reshuffled_and_seeded():
    x = np.arange(10, dtype="float32")[:, None] * np.ones((1, 3), "float32")  # row i holds i
    y = np.arange(10) * 7
    ds = feed.as_tf_dataset(x, y, 4, shuffle=True, seed=3)
    assert ds.options().autotune.enabled is False
    assert int(ds.cardinality()) == 3
    first, second = _passes(ds)
    for batches in (first, second):
        assert [len(b[1]) for b in batches] == [4, 4, 2]
        xs, ys = np.concatenate([b[0] for b in batches]), np.concatenate([b[1] for b in batches])
        np.testing.assert_array_equal(ys, xs[:, 0].astype(int) * 7)   # labels stay with images
        np.testing.assert_array_equal(np.sort(ys), y)                 # each example once
    order = [np.concatenate([b[1] for b in p]) for p in (first, second)]
    assert not np.array_equal(order[0], order[1])                    # a new order every pass
    again = _passes(feed.as_tf_dataset(x, y, 4, shuffle=True, seed=3))
    np.testing.assert_array_equal(np.concatenate([b[1] for b in again[0]]), order[0])
    plain = _passes(feed.as_tf_dataset(x, y, 4, shuffle=False, drop_remainder=True), 1)[0]
    assert [b[1].tolist() for b in plain] == [[0, 7, 14, 21], [28, 35, 42, 49]]
    with pytest.raises(ValueError, match="len\\(x\\) == len\\(y\\)"):
        feed.as_tf_dataset(x, y[:3], 4)


@on_tf
def test_as_tf_feed_yields_the_py_datasets_batches_epoch_by_epoch():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((20, 8, 8, 3)).astype("float32")
    y = np.arange(20) % 10
    ref, src = (augment.BatchAugment(x, y, 8, seed=1) for _ in range(2))
    ds = feed.as_tf_feed(src)
    assert ds.options().autotune.enabled is False and int(ds.cardinality()) == len(ref) == 2
    for epoch in range(3):
        it = iter(ds)
        # as Keras reads an epoch: exactly len() batches, then the iterator is dropped
        batches = [tuple(np.asarray(t) for t in next(it)) for _ in range(len(ref))]
        del it
        assert src.epoch == epoch                 # on_epoch_end between passes
        want = [ref[i] for i in range(len(ref))]
        ref.on_epoch_end()
        for (gx, gy), (wx, wy) in zip(batches, want):
            np.testing.assert_array_equal(gx, wx)
            np.testing.assert_array_equal(gy, wy)
    assert len(_passes(ds, 1)[0]) == len(ref) and src.epoch == 3


@on_tf
def test_cifar_recipe_records_its_feed_and_trains_through_either(tmp_path):
    """feed auto hands BatchAugment's batches to fit through as_tf_feed (batch for batch as
    above), feed numpy hands Keras the PyDataset itself; both train, and the record says which.
    (Not bit-identical: Keras's PyDataset adapter calls on_epoch_end once before the first
    epoch too, so it trains epoch k on BatchAugment's epoch k + 1.)"""
    for mode, used in (("numpy", "keras"), ("auto", "tfdata")):
        args = compare.build_parser().parse_args([
            "--preset", "cifar-quick", "--activations", "gelu", "--seeds", "1",
            "--model-option", "filters=(8,8,8)", "--batch-size", "16", "--epochs", "2",
            "--out", str(tmp_path / mode), "--no-save-models", "--no-diagnostics",
            "--device", "cpu", "--feed", mode])
        cfg = compare.resolve_config(args)
        data = compare.prepare_arrays(cfg, make_synthetic("cifar10", 48, 20, seed=0))
        compare.run_grid(cfg, data=data, stream=io.StringIO())
        rec = compare.load_run(compare.run_path(tmp_path / mode, "gelu", 0))
        assert rec["feed"] == used and len(rec["history"]["loss"]) == 2
        assert all(np.isfinite(rec["history"]["loss"]))
        assert json.loads((tmp_path / mode / "config.json").read_text())["plan"]["feed"] == used
