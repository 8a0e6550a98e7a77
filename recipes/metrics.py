"""What a trained model scores: its predictions (in batches, with test-time augmentation),
macro-F1, regression errors, and the epoch at which a curve reaches a fraction of its end.
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["macro_f1", "epochs_to_fraction", "predict", "predict_proba", "regression_metrics"]


def macro_f1(y_true, y_pred, num_classes: int) -> float:
    cm = np.bincount(num_classes * np.asarray(y_true) + np.asarray(y_pred),
                     minlength=num_classes * num_classes).reshape(num_classes, num_classes)
    tp = np.diag(cm).astype(np.float64)
    denom = cm.sum(0) + cm.sum(1)  # 2tp + fp + fn
    f1 = np.where(denom > 0, 2 * tp / np.maximum(denom, 1), 0.0)
    return float(f1.mean())


def epochs_to_fraction(curve, fraction=0.99):
    """1-based first epoch whose value reaches ``fraction`` of the final value."""
    vals = [v for v in curve if v is not None]
    if not vals or not np.isfinite(vals[-1]):
        return None
    target = fraction * vals[-1]
    return next(i + 1 for i, v in enumerate(vals) if np.isfinite(v) and v >= target)


def predict(model, x, batch_size=500):
    """The model's outputs on ``x`` (float64), in batches of ``batch_size``."""
    strategy = getattr(model, "_distribute_strategy", None)
    if strategy is not None and strategy.num_replicas_in_sync > 1:
        # Keras 3.15's predict_on_batch under a MirroredStrategy returns the rows of every
        # replica's full batch (twice the rows on 2 replicas); predict splits correctly
        return np.asarray(model.predict(x, batch_size=batch_size, verbose=0), np.float64)
    return np.concatenate([np.asarray(model.predict_on_batch(x[i:i + batch_size]), np.float64)
                           for i in range(0, len(x), batch_size)])


def predict_proba(model, x, tta=None, batch_size=500, logits=False):
    """Class probabilities (float64), the model's outputs averaged over the views of
    ``recipes.augment.tta_views`` (``tta``: None, "flip" or "flip_translate"); ``logits``: the
    outputs are logits, averaged first and then softmaxed (as airbench averages logits)."""
    from scipy.special import softmax

    from .augment import tta_views

    mean = sum(w * predict(model, v, batch_size) for w, v in tta_views(x, tta))
    return softmax(mean, axis=-1) if logits else mean


def regression_metrics(model, x, y, batch_size=500) -> dict:
    """``test_loss`` (mean squared error), ``test_mae`` and ``test_rmse`` on ``(x, y)``."""
    pred = predict(model, x, batch_size).reshape(np.shape(y))
    err = pred - np.asarray(y, np.float64)
    mse = float(np.mean(err ** 2))
    return {"test_loss": mse, "test_mae": float(np.mean(np.abs(err))),
            "test_rmse": math.sqrt(mse) if math.isfinite(mse) else math.nan}
