"""Training helpers for fast recipes: SGD with a larger rate for normalisation shifts, a
triangular learning-rate schedule, and airbench's decoupled hyperparameter units.

They live in the package (not in ``recipes/``) so that a ``.keras`` file trained with them
loads after ``import keras_acts`` alone, like every other object the recipes save.

>>> from keras_acts import optim
>>> lr, wd = optim.per_1024(lr=11.5, weight_decay=0.0153, momentum=0.85)
>>> sched = optim.Triangle(lr, total_steps=528)
>>> opt = optim.FastSGD(sched, momentum=0.85, nesterov=True, weight_decay=wd,
...                     bias_lr_scale=64.0, use_ema=True, ema_momentum=0.95 ** 5,
...                     ema_overwrite_frequency=5, lookahead_steps=528)
"""
from __future__ import annotations

import keras
from keras import ops

__all__ = ["FastSGD", "Triangle", "per_1024"]


def per_1024(lr: float, weight_decay: float, momentum: float) -> tuple[float, float]:
    """Keras ``SGD`` (mean loss, decoupled weight decay) values for hyperparameters given in
    the decoupled units of Keller Jordan's airbench: ``lr`` is the step per 1024 examples of
    a *summed* loss with the momentum's gain ``1 + 1/(1 - m)`` divided out, ``weight_decay``
    the decay per 1024 examples independent of ``lr``.

    Returns ``(keras_lr, keras_weight_decay)``. They do not depend on the batch size: a mean
    loss over ``B`` examples with rate ``lr / (1 + 1/(1-m))`` takes the same step per
    example as a summed loss with ``B`` times less. The weight decay is matched in steady
    state: coupled decay passes through the momentum (gain ``1/(1-m)``), Keras's decoupled
    decay does not, and Keras multiplies it by the learning rate.
    """
    if not 0.0 <= momentum < 1.0:
        raise ValueError(f"momentum must be in [0, 1), not {momentum!r}")
    if lr <= 0 or weight_decay < 0:
        raise ValueError("lr must be > 0 and weight_decay >= 0")
    keras_lr = lr / (1.0 + 1.0 / (1.0 - momentum))
    keras_wd = weight_decay / (lr * (1.0 - momentum))
    return keras_lr, keras_wd


@keras.saving.register_keras_serializable(package="keras_acts")
class Triangle(keras.optimizers.schedules.LearningRateSchedule):
    """Piecewise-linear rate: ``start * peak`` at step 0, ``peak`` at ``peak_frac`` of
    ``total_steps``, ``end * peak`` at the last step (airbench: 0.2, 0.23, 0.07)."""

    def __init__(self, peak: float, total_steps: int, start: float = 0.2, end: float = 0.07,
                 peak_frac: float = 0.23):
        if peak <= 0 or int(total_steps) < 1 or not 0.0 < peak_frac < 1.0:
            raise ValueError("Triangle needs peak > 0, total_steps >= 1, 0 < peak_frac < 1")
        if start < 0 or end < 0:
            raise ValueError("Triangle start and end are fractions of peak, >= 0")
        self.peak, self.total_steps = float(peak), int(total_steps)
        self.start, self.end, self.peak_frac = float(start), float(end), float(peak_frac)

    def __call__(self, step):
        t = ops.cast(step, "float32")
        top = max(1.0, round(self.peak_frac * self.total_steps))
        rest = max(1.0, self.total_steps - top)
        up = self.start + (1.0 - self.start) * t / top
        down = 1.0 + (self.end - 1.0) * ops.minimum((t - top) / rest, 1.0)
        return self.peak * ops.where(t < top, up, down)

    def get_config(self):
        return dict(peak=self.peak, total_steps=self.total_steps, start=self.start,
                    end=self.end, peak_frac=self.peak_frac)


@keras.saving.register_keras_serializable(package="keras_acts")
class FastSGD(keras.optimizers.SGD):
    """``keras.optimizers.SGD`` with two levers of fast CIFAR-10 training (airbench):

    * ``bias_lr_scale``: the step of BatchNorm shifts (variables named ``beta``) is this
      many times larger; their weight decay is not scaled.
    * ``lookahead_steps``: with ``use_ema=True`` and ``ema_overwrite_frequency=k``, the
      weight average is updated only every ``k`` steps, with momentum
      ``ema_momentum * min(t / lookahead_steps, 1) ** 3`` at step ``t``, and written back
      into the weights (a lookahead whose averaging grows over training: fast early, strong
      at the end). Without it, Keras's per-step EMA is unchanged.

    * ``train_steps``: ``{path: n}`` -- the variables whose path is ``path`` or ends with
      ``"/" + path`` train for the first ``n`` steps only, then stay as they are (airbench
      trains its whitening stem's bias for 3 epochs: ``{"whiten/bias": 3 * steps_per_epoch}``).
      (no update, no decay, no lookahead write-back).

    With the defaults it is exactly ``SGD``.
    """

    def __init__(self, learning_rate=0.01, bias_lr_scale: float = 1.0,
                 lookahead_steps: int | None = None, train_steps: dict | None = None, **kwargs):
        if float(bias_lr_scale) <= 0:
            raise ValueError(f"bias_lr_scale must be > 0, not {bias_lr_scale!r}")
        train_steps = {str(k): int(n) for k, n in (train_steps or {}).items()}
        if any(n < 0 for n in train_steps.values()):
            raise ValueError(f"train_steps counts must be >= 0, not {train_steps!r}")
        if lookahead_steps is not None and (int(lookahead_steps) < 1 or not kwargs.get("use_ema")
                                            or not kwargs.get("ema_overwrite_frequency")):
            raise ValueError("lookahead_steps needs lookahead_steps >= 1, use_ema=True and "
                             "ema_overwrite_frequency")
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.bias_lr_scale = float(bias_lr_scale)
        self.lookahead_steps = None if lookahead_steps is None else int(lookahead_steps)
        self.train_steps = train_steps

    def build(self, variables):
        super().build(variables)
        # by index: inside update_step TensorFlow passes its own (renamed) variables
        self._shift_indices = {self._get_variable_index(v) for v in variables
                               if v.name == "beta"}

    def _limited(self, variables):
        out = []
        for key, n in self.train_steps.items():
            hits = [v for v in variables if v.path == key or v.path.endswith("/" + key)]
            if not hits:
                raise ValueError(f"train_steps names {key!r}, which is no variable of the "
                                 f"model (paths: {', '.join(v.path for v in variables[:6])}, ...)")
            out += [(v, n) for v in hits]
        return out

    def apply(self, grads, trainable_variables=None):
        if not self.train_steps:
            return super().apply(grads, trainable_variables)
        variables = (self._trainable_variables if trainable_variables is None
                     else list(trainable_variables))
        step = ops.copy(self.iterations)
        before = [(v, ops.copy(v.value), n) for v, n in self._limited(variables)]
        result = super().apply(grads, variables)
        for v, old, n in before:
            v.assign(ops.where(ops.less(step, n), v.value, old))
        return result

    def update_step(self, gradient, variable, learning_rate):
        if self.bias_lr_scale != 1.0 and self._get_variable_index(variable) in self._shift_indices:
            learning_rate = ops.multiply(learning_rate, self.bias_lr_scale)
        return super().update_step(gradient, variable, learning_rate)

    def _update_model_variables_moving_average(self, trainable_variables):
        if self.lookahead_steps is None:
            return super()._update_model_variables_moving_average(trainable_variables)
        step = ops.cast(self.iterations + 1, "float32")
        due = ops.cast(ops.equal(ops.mod(self.iterations + 1, self.ema_overwrite_frequency), 0),
                       "float32")
        ramp = ops.minimum(step / float(self.lookahead_steps), 1.0) ** 3
        rho = self.ema_momentum * ramp
        for var, average in zip(trainable_variables, self._model_variables_moving_average):
            if average is None:
                continue
            r = ops.cast(rho, var.dtype)
            new = ops.add(ops.multiply(r, average), ops.multiply(1.0 - r, var))
            # off-steps keep the average; the write-back happens only on due steps
            d = ops.cast(due, var.dtype)
            average.assign(ops.add(ops.multiply(d, new), ops.multiply(1.0 - d, average)))

    def _overwrite_model_variables_with_average_value(self, trainable_variables):
        # write copies: on JAX, Keras's var.assign(average) leaves the weight and its
        # average on one buffer, which the next donated step (or the end of fit) deletes
        for var, average in zip(trainable_variables, self._model_variables_moving_average):
            if average is not None:
                var.assign(ops.copy(average))

    def get_config(self):
        return {**super().get_config(), "bias_lr_scale": self.bias_lr_scale,
                "lookahead_steps": self.lookahead_steps, "train_steps": dict(self.train_steps)}
