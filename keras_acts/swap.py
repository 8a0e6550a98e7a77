"""Model surgery: list and replace the hidden nonlinearities of any Sequential or Functional
Keras model, so activations can be compared on the user's own network.

>>> import keras_acts
>>> keras_acts.activation_sites(model)            # what would change, before training
>>> new = keras_acts.swap_activations(model, "gelu")              # a new, fresh model
>>> new = keras_acts.swap_activations(model, keras_acts.layers.PReLU)   # one PReLU per site
>>> new = keras_acts.swap_activations(model, "mish", reinitialize=False)  # weights copied

Sites, in the model and in models nested in it (a model used as a layer):

* the ``activation=`` of any layer that has one (Dense, Conv*, SeparableConv*,
  DepthwiseConv*, SimpleRNN/LSTM/GRU, also inside ``Bidirectional``); the recurrent gates'
  ``recurrent_activation`` only with ``recurrent=True``;
* ``keras.layers.Activation`` layers;
* Keras's activation layers ``ReLU``, ``LeakyReLU``, ``PReLU``, ``ELU``, ``Softmax`` and the
  learnable layers of ``keras_acts.layers``.

A layer whose activation is ``linear`` (or None) is not a site: it has no nonlinearity. The
layers producing the model's outputs keep their activation unless ``keep_output=False``.
"""
from __future__ import annotations

import inspect
from typing import Any, Callable, NamedTuple

import keras

from .graph import output_layers, producer
from .internals import is_functional

__all__ = ["Site", "walk", "activation_sites", "swap_activations", "as_layer"]

#: Keras layers that are an activation and nothing else
_ACTIVATION_LAYERS = ("ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax", "Activation")
#: layers between a kernel and the activation it feeds (walked back over for reinitialize)
_PASSTHROUGH = ("BatchNormalization", "LayerNormalization", "GroupNormalization", "Dropout",
                "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise",
                "GaussianDropout", "AlphaDropout", "Rescaling", "Identity")


class Site(NamedTuple):
    """One nonlinearity: ``layer`` name (``outer/inner`` inside nested models), the
    ``attribute`` that holds it (``activation``, ``recurrent_activation`` or ``layer`` for an
    activation layer), its current ``activation`` name, whether it produces an ``output``
    of the model, and the ``feeds`` layer whose kernel ``reinitialize`` re-draws."""

    layer: str
    attribute: str
    activation: str
    output: bool
    feeds: str | None


def _act_name(fn) -> str:
    from .registry import name_of

    if fn is None:
        return "linear"
    if isinstance(fn, str):
        return fn
    if isinstance(fn, keras.layers.Layer):
        return type(fn).__name__
    cfg = getattr(fn, "get_config", None)
    if cfg is not None and hasattr(fn, "params"):  # keras_acts.ActivationFunction
        return fn.get_config()["name"]
    return name_of(fn) or getattr(fn, "__name__", type(fn).__name__)


def _is_activation_layer(layer) -> bool:
    from . import layers as ka_layers

    if type(layer).__name__ in _ACTIVATION_LAYERS and type(layer).__module__.startswith("keras"):
        return True
    return isinstance(layer, keras.layers.Layer) and type(layer).__module__ == ka_layers.__name__


def _inner(layer):
    """The wrapped layers of a ``Bidirectional`` (forward, backward), else ``[layer]``."""
    if isinstance(layer, keras.layers.Bidirectional):
        return [layer.forward_layer, layer.backward_layer]
    return [layer]


def _rnn_cell(layer):
    return getattr(layer, "cell", None)


def _attr_value(layer, attribute):
    cell = _rnn_cell(layer)
    return getattr(cell if cell is not None else layer, attribute, None)


def _feeding_kernel(layer):
    """Walk back from an activation layer to the layer with a kernel that feeds it."""
    seen = 0
    while seen < 50:
        nodes = getattr(layer, "_inbound_nodes", None) or []
        if len(nodes) != 1 or len(nodes[0].input_tensors) != 1:
            return None
        prev = producer(nodes[0].input_tensors[0])
        if prev is None or isinstance(prev, keras.layers.InputLayer):
            return None
        if getattr(prev, "kernel", None) is not None or hasattr(prev, "kernel_initializer"):
            return prev
        if type(prev).__name__ not in _PASSTHROUGH:
            return None
        layer, seen = prev, seen + 1
    return None


def _check_model(model):
    if not isinstance(model, keras.Model):
        raise TypeError(f"swap_activations needs a keras.Model, got {type(model).__name__}")
    if not isinstance(model, (keras.Sequential,)) and not is_functional(model):
        raise TypeError(
            f"{type(model).__name__} is a subclassed keras.Model: its layers are wired in "
            "Python code, so its activations cannot be swapped from outside. Write a "
            "function that takes activation= and builds the model, and pass it to "
            "`keras-acts compare --model-fn package.module:function`.")
    if not model.built or not getattr(model, "inputs", None):
        raise ValueError("the model is not built: call it on data or give it an Input first")


def walk(model, *, include=None, exclude=None, keep_output: bool = True,
         recurrent: bool = False, nested: bool = True, _prefix="", _outputs=None):
    """Yield ``(layer object, Site)`` for every activation site of ``model``, in layer order:
    the one walker behind ``activation_sites``, ``swap_activations`` and
    ``keras_acts.diagnostics.activation_sites``. ``nested``: also the sites inside nested
    Functional / Sequential models (named ``outer/inner``); the other arguments as
    ``swap_activations`` takes them."""
    outputs = output_layers(model) if _outputs is None else _outputs
    for layer in getattr(model, "layers", None) or ():
        name = _prefix + layer.name
        if isinstance(layer, keras.Model):
            if nested and (is_functional(layer) or isinstance(layer, keras.Sequential)):
                inner_out = output_layers(layer) if id(layer) in outputs else set()
                yield from walk(layer, include=include, exclude=exclude,
                                keep_output=keep_output, recurrent=recurrent,
                                _prefix=name + "/", _outputs=inner_out)
            continue
        if not _selected(layer, name, include, exclude):
            continue
        is_out = id(layer) in outputs
        if keep_output and is_out:
            continue
        if _is_activation_layer(layer):
            current = (_act_name(layer.activation) if type(layer).__name__ == "Activation"
                       else type(layer).__name__)
            if current in ("linear", None):
                continue
            feeds = _feeding_kernel(layer)
            yield layer, Site(name, "layer", current, is_out, feeds.name if feeds else None)
            continue
        for attribute in ("activation", "recurrent_activation"):
            if attribute == "recurrent_activation" and not recurrent:
                continue
            values = [_attr_value(x, attribute) for x in _inner(layer)]
            if values[0] is None or _act_name(values[0]) == "linear":
                continue
            feeds = name if attribute == "activation" and _has_kernel(layer) else None
            yield layer, Site(name, attribute, _act_name(values[0]), is_out, feeds)


def _has_kernel(layer) -> bool:
    return any(hasattr(x, "kernel_initializer") or hasattr(_rnn_cell(x), "kernel_initializer")
               for x in _inner(layer))


def _selected(layer, name, include, exclude) -> bool:
    def match(sel):
        if callable(sel):
            return bool(sel(layer))
        names = [sel] if isinstance(sel, str) else list(sel)
        return layer.name in names or name in names

    if include is not None and not match(include):
        return False
    return not (exclude is not None and match(exclude))


def activation_sites(model, *, include=None, exclude=None, keep_output: bool = True,
                     recurrent: bool = False) -> list[Site]:
    """The nonlinearities ``swap_activations`` would replace (same arguments), in layer order."""
    _check_model(model)
    return [site for _, site in walk(model, include=include, exclude=exclude,
                                     keep_output=keep_output, recurrent=recurrent)]


def _factory(activation) -> tuple[Callable[[], Any], bool]:
    """(zero-argument maker of a fresh activation per site, whether it makes layers)."""
    if isinstance(activation, keras.layers.Layer):
        cls, config = type(activation), activation.get_config()
        config.pop("name", None)
        return (lambda: cls.from_config(dict(config))), True
    if isinstance(activation, type) and issubclass(activation, keras.layers.Layer):
        return activation, True
    if isinstance(activation, str):
        from .registry import get

        get(activation)  # unknown names fail here, with close matches
        return (lambda: activation), False
    if callable(activation):
        if not hasattr(activation, "get_config"):
            try:
                inspect.signature(activation).bind()
                made = activation()
            except TypeError:
                made = None
            else:
                if not isinstance(made, keras.layers.Layer):
                    raise TypeError("a zero-argument activation factory must return a "
                                    f"keras Layer, got {type(made).__name__}")
                return activation, True
        return (lambda: activation), False
    raise TypeError(f"cannot use {activation!r} as an activation: give a name, a function, "
                    "a layer class, a layer, or a zero-argument function returning a layer")


def swap_activations(model, activation, *, include=None, exclude=None,
                     keep_output: bool = True, reinitialize: bool = True,
                     recurrent: bool = False) -> keras.Model:
    """A **new** model in which every site of ``activation_sites(model, ...)`` uses
    ``activation``; ``model`` is not modified.

    ``activation``: a catalogue name, a function (``keras_acts.get(...)``), a learnable
    layer class, instance (cloned per site) or zero-argument factory -- every site gets its
    own instance. ``include`` / ``exclude``: layer names (a name or a list; ``outer/inner``
    for nested models) or a predicate on the layer. ``keep_output``: leave the output
    layers' activations alone. ``reinitialize=True``: the model starts from fresh weights,
    and the kernels that feed a swapped site are drawn with
    ``keras_acts.initializer_for(activation)``; ``False``: every weight is copied (a new
    learnable activation starts at its own initial values). ``recurrent``: also replace
    recurrent cells' ``recurrent_activation`` (their gates).
    """
    from .init import initializer_for

    _check_model(model)
    make, is_layer = _factory(activation)
    sites = list(walk(model, include=include, exclude=exclude, keep_output=keep_output,
                      recurrent=recurrent))
    by_layer: dict[int, list[Site]] = {}
    for layer, site in sites:
        by_layer.setdefault(id(layer), []).append(site)
    feeds_by_name = {s.feeds for _, s in sites if s.feeds}
    feeding_ids = set()
    for layer, site in sites:
        if site.attribute == "layer":
            f = _feeding_kernel(layer)
            if f is not None:
                feeding_ids.add(id(f))
    init_probe = make()
    new_acts: list = []

    def fresh():
        a = make()
        if is_layer:
            new_acts.append(a)
        return a

    replacements: set[int] = set()
    attached: list = []  # layers given a learnable activation= (built below)

    def clone(layer):
        here = by_layer.get(id(layer), [])
        if any(s.attribute == "layer" for s in here):
            new = fresh() if is_layer else keras.layers.Activation(fresh(), name=layer.name)
            replacements.add(id(new))
            return new
        config = layer.get_config()
        if here:
            if is_layer and (_rnn_cell(layer) is not None
                             or isinstance(layer, keras.layers.Bidirectional)):
                raise TypeError(f"{layer.name}: a learnable layer cannot replace a recurrent "
                                "cell's activation (it runs inside the cell's step); use a "
                                "stateless activation there, or exclude the layer")
            for site in here:
                _set(config, site.attribute, None if is_layer else fresh())
        reinit = reinitialize and (id(layer) in feeding_ids or (layer.name in feeds_by_name
                                                                and here))
        if reinit:
            _set(config, "kernel_initializer", keras.initializers.serialize(
                initializer_for(init_probe)))
        new = type(layer).from_config(config)
        if here and is_layer:
            new.activation = fresh()  # tracked as the layer's attribute, trained with it
            attached.append(new)
        return new

    def call(layer, *args, **kwargs):
        # a replaced activation layer is called as the old one was (Softmax gets mask=...):
        # pass on only the keyword arguments the new layer's call takes
        if kwargs and id(layer) in replacements:
            params = inspect.signature(layer.call).parameters
            if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
                kwargs = {k: v for k, v in kwargs.items() if k in params}
        return layer(*args, **kwargs)

    # (a Sequential lists its layers: nothing is called with keyword arguments there)
    new_model = keras.models.clone_model(
        model, clone_function=clone, recursive=True,
        call_function=None if isinstance(model, keras.Sequential) else call)
    for layer in attached:
        # a symbolic call does not run activation=: build it now, so its weights exist
        # (and are in trainable_weights) before compile / fit
        if not layer.activation.built:
            layer.activation.build(tuple(layer.output.shape))
    if not reinitialize:
        _copy_weights(model, new_model, {id(v) for a in new_acts for v in a.weights})
    return new_model


def _set(config, key, value):
    """Set ``key`` in a layer config and in the configs of the layers it wraps."""
    if key in config:
        config[key] = value
    for sub in ("layer", "backward_layer", "cell"):
        inner = config.get(sub)
        if isinstance(inner, dict) and isinstance(inner.get("config"), dict):
            _set(inner["config"], key, value)


def _copy_weights(src, dst, skip: set[int]):
    src_layers = {layer.name: layer for layer in src.layers}
    for layer in dst.layers:
        old = src_layers.get(layer.name)
        if old is None:
            continue
        if isinstance(layer, keras.Model):
            _copy_weights(old, layer, skip)
            continue
        mine = [v for v in layer.weights if id(v) not in skip]
        theirs = old.weights
        if len(mine) != len(theirs):
            continue
        for v, w in zip(mine, theirs):
            if tuple(v.shape) == tuple(w.shape):
                v.assign(w)


def as_layer(activation) -> keras.layers.Layer:
    """A fresh layer applying ``activation`` (any form ``swap_activations`` takes): the
    learnable layer itself, else ``keras.layers.Activation(activation)``. For model builders
    handed ``activation=`` by ``keras-acts compare --model-fn``."""
    make, is_layer = _factory(activation)
    made = make()
    return made if is_layer else keras.layers.Activation(made)
