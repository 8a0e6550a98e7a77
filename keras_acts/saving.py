"""``keras_acts.load_model``: ``keras.saving.load_model`` with keras-acts' names installed and
one clear sentence for each way loading a ``.keras`` file goes wrong.

Plain ``keras.saving.load_model`` on a file that uses our names, in a process that never
imported ``keras_acts``, fails with a long chain of ``TypeError``s ("Could not locate
function 'keras_acts>swish_x'" ...): the names are registered by ``import keras_acts``. A
truncated file makes Keras say "File not found". This wrapper says what is wrong instead:
a missing file, a truncated or corrupt one, or an activation neither Keras nor keras-acts
knows (with the closest names).
"""
from __future__ import annotations

import difflib
import json
import zipfile
from pathlib import Path

import keras

__all__ = ["load_model"]


def _references(obj):
    """The names a saved config asks keras-acts (or Keras's activation table) for: plain
    ``"activation": "name"`` strings, ``keras_acts>Name`` registrations (functions, layers,
    ``ActivationFunction``), and the catalogue name inside an ``ActivationFunction``'s config."""
    if isinstance(obj, dict):
        if obj.get("registered_name") == "keras_acts>ActivationFunction":
            name = (obj.get("config") or {}).get("name")
            if isinstance(name, str):
                yield "entry", name
        for k, v in obj.items():
            if k == "activation" and isinstance(v, str):
                yield "activation", v
            else:
                yield from _references(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _references(v)
    elif isinstance(obj, str) and obj.startswith("keras_acts>"):
        yield "registered", obj


def _unknown(config: dict) -> list[str]:
    """Referenced names that neither Keras nor this keras-acts defines."""
    from .catalogue import CATALOGUE
    from .internals import activation_table

    out = []
    for kind, name in _references(config):
        if kind == "registered":
            ok = keras.saving.get_registered_object(name) is not None
            name = name.split(">", 1)[1]
        elif kind == "entry":
            ok = name in CATALOGUE
        else:
            ok = name in CATALOGUE or name in activation_table()
        if not ok and name not in out:
            out.append(name)
    return out


def load_model(path, **kwargs):
    """Load a ``.keras`` model (any keyword argument goes to ``keras.saving.load_model``).

    Raises ``FileNotFoundError`` for a missing file and ``ValueError`` with one sentence for
    a truncated / corrupt file or an unknown activation (naming the closest matches)."""
    from .catalogue import CATALOGUE
    from .internals import activation_table

    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{path}: no such file")
    if p.is_file() and p.suffix == ".keras":
        if not zipfile.is_zipfile(p):
            raise ValueError(f"{path} is not a complete .keras file (it should be a zip "
                             f"archive; {p.stat().st_size} bytes, truncated or corrupt): "
                             "save or copy it again")
        try:
            with zipfile.ZipFile(p) as z:
                config = json.loads(z.read("config.json"))
                bad = z.testzip()
        except (zipfile.BadZipFile, KeyError, ValueError, OSError) as e:
            raise ValueError(f"{path} is a damaged .keras file ({e}): save or copy it again") from None
        if bad is not None:
            raise ValueError(f"{path} is a damaged .keras file ({bad} fails its checksum): "
                             "save or copy it again")
        unknown = _unknown(config)
        if unknown:
            from .layers import LAYERS

            choices = sorted(set(CATALOGUE) | set(activation_table()) | {c.__name__ for c in LAYERS})
            hints = "; ".join(
                f"{u!r} (closest: {', '.join(difflib.get_close_matches(u, choices, 3, 0.5)) or 'none'})"
                for u in unknown)
            raise ValueError(f"{path} uses activations or layers that neither Keras nor keras-acts "
                             f"{_version()} knows: {hints}. Was it saved by a newer keras-acts, "
                             "or with a custom function (pass custom_objects=...)?")
    return keras.saving.load_model(path, **kwargs)


def _version():
    from . import __version__

    return __version__
