"""Model builders for the activation-comparison recipes: one entry, ``build_model``.

>>> from recipes.models import build_model, parse_activation
>>> build_model("mlp", (28, 28, 1), 10, "swish_x:beta=1.5", depth=3, width=256)
>>> build_model("cnn", (32, 32, 3), 10, "prelu", batchnorm=True)       # learnable layer
>>> build_model("resnet", (32, 32, 3), 10, keras_acts.get("gelu"))

Kinds (``KINDS``):

``mlp``     Flatten -> ``depth`` x [Dense(width) -> (BatchNorm) -> act -> (Dropout)] -> Dense.
``cnn``     stages of ``convs_per_stage`` x [Conv -> (BatchNorm) -> act], max-pool and
            dropout after each stage, then Dense(dense) -> act -> Dropout -> Dense. The
            defaults (32 and 64 filters, one conv per stage, no BatchNorm) are the classic
            Keras MNIST convnet; ``filters=(32, 64, 128), convs_per_stage=2, batchnorm=True``
            is a classic CIFAR-10 BatchNorm CNN. ``pool="first"`` max-pools right after each
            stage's first conv, so the stage's other convs run at a quarter of the pixels
            (the layout of Keller Jordan's fast CIFAR-10 nets); ``global_pool="max"|"avg"``
            replaces the Flatten; ``head_scale`` multiplies the classifier's input (logits
            scaled alike); ``kernel_size`` (3, or one per stage) and ``padding`` ("same" or
            "valid") shape the convs. ``pool="early"``, ``stem="whiten"``, ``bn_scale``,
            ``bn_epsilon``, ``dirac`` and ``head_bias`` are airbench's levers: the recipes'
            CIFAR-10 CNN is ``recipes.config.AIRBENCH``.
``resnet``  ResNet v1 for 32x32 images (He et al. 2016, sec. 4.2): 3 stages of
            ``blocks`` basic blocks (6*blocks + 2 layers; blocks=3 is ResNet-20).
``snn``     self-normalising MLP (Klambauer et al. 2017): Dense with LeCun-normal kernels
            (what ``keras_acts.initializer_for("selu")`` returns), no BatchNorm, AlphaDropout,
            standardised inputs (the recipes standardise). With ``selu`` the model is
            ``keras_acts.snn.snn_mlp``; other activations get the same architecture built here
            (Dense -> activation -> AlphaDropout) with their own ``initializer_for`` kernels.

The activation can be

* a name or spec string (see ``parse_activation``): ``"relu"``, ``"swish_x:beta=1.5"``,
  ``"prelu"``, ``"layer:PReLU"``;
* a callable usable as ``activation=`` (e.g. ``keras_acts.get("elu", alpha=0.5)``);
* a learnable layer: an instance (cloned per use with ``from_config(get_config())``), a layer
  class, or an ``ActivationSpec(name, factory)`` whose zero-argument ``factory`` returns a
  fresh layer. Layers are always inserted as a separate layer after the Dense/Conv, never as
  ``activation=``, and every use gets its own instance (own weights).

``bn_momentum`` (``mlp``, ``cnn``, ``resnet``; default Keras's 0.99) sets every BatchNorm
layer's moving-average momentum: short, high-learning-rate runs want a lower one (0.9) so
the inference-mode statistics keep up with the weights.

Kernels are initialised with ``keras_acts.initializer_for(activation)`` unless
``kernel_initializer=`` is given (a Keras initializer name/config, used as given).

``elementwise_dtype`` (e.g. ``"float32"``; default ``None``: the global dtype policy) is the
dtype policy of the BatchNorm and activation layers, which then compute in it while the
convolutions and Dense layers keep the global (mixed) policy. ``recipes.train`` sets it to
float32 under mixed bfloat16 on a CPU, where TensorFlow's bfloat16 elementwise kernels are
slower than float32 ones (``recipes.train.elementwise_dtype``).
"""
from __future__ import annotations

import warnings

import keras
import numpy as np

from .airbench import WHITEN_LAYER, dirac_init
from .config import MODEL_DEFAULTS as DEFAULTS, MODEL_KINDS as KINDS
from .specs import (ActivationSpec, display_name, parse_activation, resolve_activation, slug,
                    split_activation_list)

__all__ = ["ActivationSpec", "KINDS", "DEFAULTS", "build_model", "parse_activation",
           "split_activation_list", "resolve_activation", "slug", "display_name"]

# --------------------------------------------------------------------------- building blocks
class _Ctx:
    """Per-model state: the activation spec, the kernel-initializer rule, BatchNorm settings."""

    def __init__(self, act: ActivationSpec, kernel_initializer=None, bn_momentum=0.99,
                 bn_scale=True, bn_epsilon=1e-3, elementwise_dtype=None):
        self.act = act
        self.elementwise_dtype = (None if elementwise_dtype is None
                                  else keras.DTypePolicy(elementwise_dtype))
        self.kernel_initializer = kernel_initializer
        if not 0.0 <= float(bn_momentum) < 1.0:
            raise ValueError(f"bn_momentum must be in [0, 1), not {bn_momentum!r}")
        if not float(bn_epsilon) > 0.0:
            raise ValueError(f"bn_epsilon must be > 0, not {bn_epsilon!r}")
        self.bn_momentum, self.bn_scale = float(bn_momentum), bool(bn_scale)
        self.bn_epsilon = float(bn_epsilon)
        self.dirac_layers = []  # convs that get dirac_init once the model is built
        probe = act.make()
        self.is_layer = isinstance(probe, keras.layers.Layer)
        self._init_key = probe

    def init(self):
        """A fresh kernel initializer (initializer_for the activation, unless overridden)."""
        if self.kernel_initializer is not None:
            return keras.initializers.get(self.kernel_initializer)
        import keras_acts

        try:
            return keras_acts.initializer_for(self._init_key)
        except (ValueError, TypeError) as e:
            warnings.warn(f"initializer_for({self.act.name}) failed ({e}); using glorot_uniform",
                          stacklevel=3)
            return keras.initializers.GlorotUniform()

    def activate(self, x, name=None):
        a = self.act.make()
        if not isinstance(a, keras.layers.Layer):
            a = keras.layers.Activation(a, name=name)
        if self.elementwise_dtype is not None:
            a.dtype_policy = self.elementwise_dtype
        return a(x)

    def dense(self, x, units, batchnorm=False):
        if batchnorm:
            x = keras.layers.Dense(units, use_bias=False, kernel_initializer=self.init())(x)
            x = self.bn(x)
            return self.activate(x)
        if self.is_layer:
            return self.activate(keras.layers.Dense(units, kernel_initializer=self.init())(x))
        return keras.layers.Dense(units, activation=self.act.make(),
                                  kernel_initializer=self.init())(x)

    def conv(self, x, filters, kernel=3, strides=1, batchnorm=False, activate=True, bn=True,
             dirac=False, padding="same"):
        """Conv -> (BatchNorm) -> (activation). ``batchnorm`` drops the conv's bias; ``bn=False``
        leaves the BatchNorm to the caller. ``dirac``: see ``dirac_init``."""
        if batchnorm or self.is_layer or not activate:
            layer = keras.layers.Conv2D(filters, kernel, strides=strides, padding=padding,
                                        use_bias=not batchnorm, kernel_initializer=self.init())
            x = layer(x)
            if dirac:
                self.dirac_layers.append(layer)
            if batchnorm and bn:
                x = self.bn(x)
            return self.activate(x) if activate else x
        layer = keras.layers.Conv2D(filters, kernel, strides=strides, padding=padding,
                                    activation=self.act.make(), kernel_initializer=self.init())
        if dirac:
            self.dirac_layers.append(layer)
        return layer(x)

    def bn(self, x):
        # Keras semantics: moving = momentum * moving + (1 - momentum) * batch statistic
        return keras.layers.BatchNormalization(momentum=self.bn_momentum, scale=self.bn_scale,
                                               epsilon=self.bn_epsilon,
                                               dtype=self.elementwise_dtype)(x)

    def head(self, x, num_classes, use_bias=True):
        # float32 softmax output also under mixed precision
        return keras.layers.Dense(num_classes, activation="softmax", dtype="float32",
                                  use_bias=use_bias, kernel_initializer=self.init(),
                                  name="predictions")(x)


def _mlp(c: _Ctx, x, num_classes, depth, width, batchnorm, dropout):
    x = keras.layers.Flatten()(x)
    for _ in range(int(depth)):
        x = c.dense(x, int(width), batchnorm)
        if dropout:
            x = keras.layers.Dropout(dropout)(x)
    return c.head(x, num_classes)


def _snn(c: _Ctx, x, num_classes, depth, width, dropout):
    x = keras.layers.Flatten()(x)
    for _ in range(int(depth)):
        x = c.dense(x, int(width))
        if dropout:
            x = keras.layers.AlphaDropout(dropout)(x)
    return c.head(x, num_classes)


def _cnn(c: _Ctx, x, num_classes, filters, convs_per_stage, batchnorm, dense, dropout,
         dense_dropout, pool, global_pool, head_scale, stem, dirac, head_bias, kernel_size,
         padding):
    kernels = ((int(kernel_size),) * len(filters) if np.ndim(kernel_size) == 0
               else tuple(int(k) for k in kernel_size))
    if len(kernels) != len(filters) or min(kernels) < 1:
        raise ValueError(f"cnn option kernel_size must be an int >= 1 or one per stage "
                         f"({len(filters)}), not {kernel_size!r}")
    if padding not in ("same", "valid"):
        raise ValueError(f"cnn option padding must be 'same' or 'valid', not {padding!r}")
    if pool not in ("first", "early", "last"):
        raise ValueError(f"cnn option pool must be 'first', 'early' or 'last', not {pool!r}")
    if global_pool not in (None, "max", "avg"):
        raise ValueError(f"cnn option global_pool must be None, 'max' or 'avg', not {global_pool!r}")
    if stem not in (None, "whiten"):
        raise ValueError(f"cnn option stem must be None or 'whiten', not {stem!r}")
    if stem == "whiten":
        # 2x2 conv, 2 * 12 channels, kernel frozen: set from the training patches' covariance by
        # init_whitening(model, x) before training (filters +v and -v per eigenvector). Its
        # bias is trainable (airbench trains it for the first 3 epochs: FastSGD train_steps)
        channels = 2 * 2 * 2 * int(x.shape[-1])
        whiten = keras.layers.Conv2D(channels, 2, padding="valid", name=WHITEN_LAYER)
        x = whiten(x)
        whiten.kernel.trainable = False
        x = c.activate(x)
    for f, k in zip(filters, kernels):
        conv = dict(kernel=k, padding=padding, dirac=dirac, batchnorm=batchnorm)
        for i in range(int(convs_per_stage)):
            if pool == "early" and i == 0:
                # conv -> pool -> BN -> act: BN and the activation run on a quarter of the pixels
                x = c.conv(x, int(f), activate=False, bn=False, **conv)
                x = keras.layers.MaxPooling2D()(x)
                x = c.activate(c.bn(x) if batchnorm else x)
                continue
            x = c.conv(x, int(f), **conv)
            if pool == "first" and i == 0:
                x = keras.layers.MaxPooling2D()(x)
        if pool == "last":
            x = keras.layers.MaxPooling2D()(x)
        if dropout:
            x = keras.layers.Dropout(dropout)(x)
    x = {None: keras.layers.Flatten, "max": keras.layers.GlobalMaxPooling2D,
         "avg": keras.layers.GlobalAveragePooling2D}[global_pool]()(x)
    if dense:
        x = c.dense(x, int(dense), batchnorm)
        if dense_dropout:
            x = keras.layers.Dropout(dense_dropout)(x)
    if float(head_scale) != 1.0:
        # scaling the head's input by s scales the logits by s and their sensitivity to a
        # step of the head's kernel by s**2 (what fast SGD recipes need at high rates)
        x = keras.layers.Rescaling(float(head_scale), name="head_scale")(x)
    return c.head(x, num_classes, use_bias=bool(head_bias))


def _resnet(c: _Ctx, x, num_classes, blocks, base_filters):
    x = c.conv(x, base_filters, batchnorm=True)
    for stage in range(3):
        filters = base_filters * 2 ** stage
        for b in range(int(blocks)):
            strides = 2 if stage > 0 and b == 0 else 1
            y = c.conv(x, filters, strides=strides, batchnorm=True)
            y = c.conv(y, filters, batchnorm=True, activate=False)
            if strides != 1 or x.shape[-1] != filters:
                x = keras.layers.Conv2D(filters, 1, strides=strides, padding="same",
                                        use_bias=False, kernel_initializer=c.init())(x)
                x = c.bn(x)
            x = c.activate(keras.layers.Add()([x, y]))
    x = keras.layers.GlobalAveragePooling2D()(x)
    return c.head(x, num_classes)


_BUILDERS = {"mlp": _mlp, "cnn": _cnn, "resnet": _resnet, "snn": _snn}


def _native_snn(act: ActivationSpec, kernel_initializer, augment) -> bool:
    """SELU with the SNN defaults: the model comes from ``keras_acts.snn.snn_mlp``."""
    if act.name != "selu" or kernel_initializer is not None or augment:
        return False
    if keras.config.dtype_policy().name != "float32":
        return False  # our head keeps a float32 softmax under mixed precision
    try:
        from keras_acts import snn  # noqa: F401
    except ImportError:
        return False
    return True


def build_model(kind: str, input_shape, num_classes: int, activation="relu", *,
                kernel_initializer=None, augment: str | None = None, name: str | None = None,
                elementwise_dtype: str | None = None, **options) -> keras.Model:
    """Build an (uncompiled) classifier; see the module docstring.

    ``kind``: one of ``KINDS``. ``options`` override ``DEFAULTS[kind]`` (unknown ones raise).
    ``augment``: ``None``, ``"shift"`` (random translation by 10 %) or ``"flip_shift"`` (also
    horizontal flips, for CIFAR-10); the augmentation layers only act in training.
    """
    if kind not in _BUILDERS:
        raise ValueError(f"unknown model kind {kind!r}; choose from {list(KINDS)}")
    unknown = set(options) - set(DEFAULTS[kind])
    if unknown:
        raise TypeError(f"build_model({kind!r}): unknown options {sorted(unknown)}; "
                        f"known: {sorted(DEFAULTS[kind])}")
    opts = {**DEFAULTS[kind], **options}
    act = resolve_activation(activation)
    if kind == "snn" and _native_snn(act, kernel_initializer, augment):
        from keras_acts import snn

        return snn.snn_mlp(tuple(input_shape), int(opts["depth"]), int(opts["width"]),
                           num_classes, dropout=float(opts["dropout"]), name=name or "snn_selu")
    ctx = _Ctx(act, kernel_initializer, opts.pop("bn_momentum", 0.99),
               opts.pop("bn_scale", True), opts.pop("bn_epsilon", 1e-3), elementwise_dtype)
    inputs = keras.Input(tuple(input_shape))
    x = inputs
    if augment:
        if augment not in ("shift", "flip_shift"):
            raise ValueError(f"augment must be None, 'shift' or 'flip_shift', not {augment!r}")
        if augment == "flip_shift":
            x = keras.layers.RandomFlip("horizontal")(x)
        x = keras.layers.RandomTranslation(0.1, 0.1, fill_mode="constant")(x)
    outputs = _BUILDERS[kind](ctx, x, num_classes, **opts)
    model = keras.Model(inputs, outputs, name=name or f"{kind}_{slug(act.name)}"[:100])
    for layer in ctx.dirac_layers:
        dirac_init(layer)
    return model


def load_model_fn(spec: str):
    """``package.module:function`` (or ``path/to/file.py:function``) -> the function."""
    if ":" not in spec:
        raise ValueError(f"--model-fn expects MODULE:FUNCTION, got {spec!r}")
    import importlib
    import importlib.util

    mod, _, name = spec.rpartition(":")
    try:
        if mod.endswith(".py"):
            loader = importlib.util.spec_from_file_location(f"_keras_acts_user_{abs(hash(mod))}", mod)
            module = importlib.util.module_from_spec(loader)
            loader.loader.exec_module(module)
        else:
            module = importlib.import_module(mod)
        fn = getattr(module, name)
    except (ImportError, AttributeError, FileNotFoundError) as e:
        raise ValueError(f"--model-fn {spec}: cannot load {name} from {mod} ({e})") from e
    if not callable(fn):
        raise ValueError(f"--model-fn {spec}: {name} is not callable")
    return fn
