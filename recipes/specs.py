"""The activation-spec grammar of the recipes, shared by ``config`` (checking a command
line) and ``models`` (building): ``relu``, ``swish_x:beta=1.5``, ``aria2:alpha=1,beta=0.5``,
``prelu`` (the learnable layer), ``layer:SwishX:beta=2`` or ``layer:pkg.mod.Class``, and comma
lists of them. Keras and keras_acts are imported only when a spec is resolved, so that a
command line is checked without starting a backend.
"""
from __future__ import annotations

import ast
import difflib
import hashlib
import importlib
import importlib.util
import json
import pathlib
import re
import warnings
from typing import Any, Callable, NamedTuple

__all__ = ["ActivationSpec", "parse_activation", "resolve_activation", "display_name",
           "split_activation_list", "slug", "parse_value", "check_names", "catalogue_index",
           "catalogue_digest"]

_ZERO_GRADIENT = {"binary_step": "binary_step_ste"}


# --------------------------------------------------------------------------- activations
class ActivationSpec(NamedTuple):
    """A display name and a zero-argument factory.

    ``factory()`` returns either something usable as ``activation=`` (a name or callable) or
    a fresh ``keras.layers.Layer`` (a learnable activation, inserted as its own layer).
    """

    name: str
    factory: Callable[[], Any]

    def make(self):
        return self.factory()

    @property
    def is_layer(self) -> bool:
        import keras

        return isinstance(self.factory(), keras.layers.Layer)


def slug(name: str) -> str:
    """A file-name-safe version of an activation display name."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_.") or "activation"


def parse_value(text: str):
    """``'1.5'`` -> 1.5, ``'(8,8)'`` -> (8, 8), ``'true'`` -> True, ``'none'`` -> None, else the text."""
    text = text.strip()
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    if low in ("none", "null"):
        return None
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def _params(parts: list[str], spec: str) -> dict:
    out = {}
    for p in parts:
        if not p.strip():
            continue
        if "=" not in p:
            raise ValueError(f"activation spec {spec!r}: expected key=value, got {p!r}")
        k, v = p.split("=", 1)
        out[k.strip()] = parse_value(v)
    return out


def _layer_class(name: str):
    """``SwishX`` -> keras_acts.layers.SwishX; ``pkg.mod.Class`` -> that class."""
    import keras

    if "." in name:
        mod, _, cls = name.rpartition(".")
        try:
            obj = getattr(importlib.import_module(mod), cls)
        except (ImportError, AttributeError) as e:
            raise ValueError(f"layer:{name}: cannot import {cls} from {mod} ({e})") from e
    else:
        from keras_acts import layers as ka_layers

        obj = getattr(ka_layers, name, None)
        if obj is None:
            avail = sorted(n for n, v in vars(ka_layers).items()
                           if isinstance(v, type) and issubclass(v, keras.layers.Layer)
                           and v.__module__ == ka_layers.__name__ and not n.startswith("_"))
            raise ValueError(f"layer:{name}: keras_acts.layers has no {name!r}; it has {avail}")
    if not (isinstance(obj, type) and issubclass(obj, keras.layers.Layer)):
        raise ValueError(f"layer:{name} is not a keras Layer class")
    return obj


def parse_activation(spec: str) -> ActivationSpec:
    """Parse a CLI activation spec into ``ActivationSpec(display_name, factory)``.

    * ``relu``, ``swish_x`` -- a catalogue name (``keras_acts.names()``);
    * ``swish_x:beta=1.5`` / ``aria2:alpha=1,beta=0.5`` -- parameters (``keras_acts.get``);
    * ``prelu`` -- the learnable ``keras_acts.layers.PReLU`` (alpha = 0.25, channel-wise);
    * ``layer:SwishX`` / ``layer:SwishX:beta=2`` -- a class of ``keras_acts.layers`` (or a
      dotted ``module.Class``) with constructor arguments, used as a separate layer.

    ``binary_step`` has zero gradient almost everywhere, so nothing before the output layer
    trains; a warning points to ``binary_step_ste`` (straight-through gradient).
    """
    if isinstance(spec, ActivationSpec):
        return spec
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(f"activation spec must be a non-empty string, got {spec!r}")
    spec = spec.strip()
    parts = re.split(r"[:,]", spec)
    head = parts[0].strip()
    if head.lower() == "layer":
        if len(parts) < 2 or not parts[1].strip():
            raise ValueError(f"activation spec {spec!r}: expected layer:ClassName[:key=value,...]")
        cls = _layer_class(parts[1].strip())
        kwargs = _params(parts[2:], spec)
        name = _with_params(cls.__name__, kwargs)
        return ActivationSpec(name, _class_factory(cls, kwargs, spec))
    if head.lower() == "prelu":
        from keras_acts import layers as ka_layers

        kwargs = _params(parts[1:], spec)
        name = _with_params("prelu", kwargs)
        return ActivationSpec(name, _class_factory(ka_layers.PReLU, kwargs, spec))
    import keras_acts

    info = keras_acts.info(head)  # ValueError with close matches if unknown
    params = _params(parts[1:], spec)
    if info["name"] in _ZERO_GRADIENT:
        warnings.warn(
            f"{head} has zero gradient almost everywhere: layers before the output do not "
            f"train. Use {_ZERO_GRADIENT[head]} (straight-through estimator) for a trainable "
            "binary step.", stacklevel=2)
    if params:
        keras_acts.get(head, **params)  # validate now, not at build time
        name = _with_params(head, params)
        return ActivationSpec(name, lambda: keras_acts.get(head, **params))
    return ActivationSpec(head, lambda: head)


def _with_params(name, params):
    return name + (":" + ",".join(f"{k}={v}" for k, v in params.items()) if params else "")


def _class_factory(cls, kwargs, spec):
    try:
        cls(**kwargs)
    except TypeError as e:
        raise ValueError(f"activation spec {spec!r}: {e}") from e
    return lambda: cls(**kwargs)


def display_name(spec) -> str:
    """The name a spec's runs and results go by (``parse_activation(spec).name``), without
    the spec's advisory warnings (``run_grid`` shows those once)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return parse_activation(spec).name


def split_activation_list(text: str) -> list[str]:
    """Split a comma list of specs, keeping ``key=value`` items with the spec before them.

    ``"relu,aria2:alpha=1,beta=0.5,prelu"`` -> ``["relu", "aria2:alpha=1,beta=0.5", "prelu"]``.
    """
    out: list[str] = []
    for tok in (t.strip() for t in text.split(",")):
        if not tok:
            continue
        if "=" in tok and ":" not in tok and out:
            out[-1] += "," + tok
        else:
            out.append(tok)
    return out


def resolve_activation(activation) -> ActivationSpec:
    """Normalise any accepted activation form into an ``ActivationSpec``."""
    import keras

    if isinstance(activation, ActivationSpec):
        return activation
    if isinstance(activation, tuple) and len(activation) == 2 and callable(activation[1]):
        return ActivationSpec(str(activation[0]), activation[1])
    if activation is None:
        return ActivationSpec("linear", lambda: "linear")
    if isinstance(activation, str):
        return parse_activation(activation)
    if isinstance(activation, keras.layers.Layer):
        cls, config = type(activation), activation.get_config()
        config.pop("name", None)  # each clone gets a fresh unique name
        return ActivationSpec(_layer_display_name(activation),
                              lambda: cls.from_config(dict(config)))
    if isinstance(activation, type) and issubclass(activation, keras.layers.Layer):
        return ActivationSpec(activation.__name__, activation)
    if callable(activation):
        return ActivationSpec(_callable_name(activation), lambda: activation)
    raise TypeError(f"cannot use {activation!r} as an activation")


def _layer_display_name(layer):
    from keras_acts import layers as ka_layers

    return "prelu" if type(layer) is ka_layers.PReLU else type(layer).__name__


def _callable_name(fn) -> str:
    cfg = getattr(fn, "get_config", None)
    if cfg is not None and hasattr(fn, "params"):  # keras_acts.ActivationFunction
        c = fn.get_config()
        return _with_params(c["name"], c.get("params", {}))
    return getattr(fn, "__name__", type(fn).__name__)


# --------------------------------------------------------------------------- names without Keras
# the files the index is generated from: an index whose digest differs is not used
INDEX_SOURCES = ("catalogue.py", "docs.py")


def catalogue_digest(folder) -> str:
    """SHA-256 over the index's sources in the ``keras_acts`` folder ``folder``."""
    folder = pathlib.Path(folder)
    return hashlib.sha256(b"".join((folder / f).read_bytes() for f in INDEX_SOURCES)).hexdigest()


def catalogue_index() -> dict:
    """``keras_acts.docs.catalogue_index()``, read from the installed package's
    ``catalogue.json`` without importing ``keras_acts`` (hence Keras and its backend) when that
    file is current; otherwise (a checkout whose catalogue was edited) computed by importing it."""
    spec = importlib.util.find_spec("keras_acts")  # locates the package, runs none of it
    if spec is not None and spec.origin:
        folder = pathlib.Path(spec.origin).parent
        try:
            index = json.loads((folder / "catalogue.json").read_text(encoding="utf-8"))
            if index.pop("digest") == catalogue_digest(folder):
                return index
        except (OSError, ValueError, KeyError):
            pass
    from keras_acts.docs import catalogue_index as compute

    return compute()


def check_names(specs, baseline=None) -> None:
    """ValueError, the sentence ``parse_activation`` would give, for the first spec in
    ``specs`` (or ``baseline``) that names no catalogue activation -- read from the catalogue
    index, so a typo on a command line is reported in a second, before Keras starts. Specs
    of layers (``layer:...``, ``prelu``) and parameters are left to ``parse_activation``."""
    known = catalogue_index()["names"]
    for flag, spec in [*(("--activations", s) for s in specs), ("--baseline", baseline)]:
        head = re.split(r"[:,]", spec)[0].strip() if isinstance(spec, str) else None
        if not head or head.lower() in ("layer", "prelu") or head in known:
            continue
        close = difflib.get_close_matches(head, list(known), n=5, cutoff=0.5)
        hint = f" Did you mean: {', '.join(close)}?" if close else ""
        # the sentence of keras_acts.registry.entry (test_cli_errors holds them equal)
        raise ValueError(f"{flag} {spec!r}: Unknown activation {head!r}.{hint} "
                         f"keras_acts.names() lists all {len(known)} names.")
