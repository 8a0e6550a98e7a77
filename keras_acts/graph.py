"""Reading a built model's graph: which layer produced a tensor, which layers produce the
model's outputs (looking into nested models). The one output-layer detector that
``swap``, ``diagnostics`` and the recipes use."""
from __future__ import annotations

import keras

__all__ = ["producer", "output_layers", "final_layer"]


def producer(tensor):
    """The layer (operation) that produced a symbolic ``tensor``, or None."""
    hist = getattr(tensor, "_keras_history", None)
    return hist.operation if hist is not None else None


def output_layers(model) -> set[int]:
    """``id``s of the layers that produce ``model``'s outputs: the top-level producers and,
    where one is a nested model, the layers producing its outputs in turn."""
    out: set[int] = set()
    for t in getattr(model, "outputs", None) or ():
        layer = producer(t)
        while isinstance(layer, keras.Model) and layer.outputs:
            inner = [producer(u) for u in layer.outputs]
            out.add(id(layer))
            if len(inner) != 1:
                out.update(id(x) for x in inner if x is not None)
                break
            layer = inner[0]
        if layer is not None:
            out.add(id(layer))
    return out


def final_layer(model):
    """The innermost layer producing ``model``'s first output (descending into nested
    models), or None for a model without symbolic outputs."""
    layer = producer(model.outputs[0]) if getattr(model, "outputs", None) else None
    while isinstance(layer, keras.Model) and layer.outputs:
        layer = producer(layer.outputs[0])
    return layer
