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


def _strings(obj):
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k == "activation" and isinstance(v, str):
                yield v
            yield from _strings(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _strings(v)
    elif isinstance(obj, str) and obj.startswith("keras_acts>"):
        yield obj


def _unknown_activations(config: dict) -> list[str]:
    from .catalogue import CATALOGUE

    known = set(CATALOGUE) | set(keras.src.activations.ALL_OBJECTS_DICT)
    out = []
    for s in _strings(config):
        name = s.split(">", 1)[1] if s.startswith("keras_acts>") else s
        if name not in known and name not in out:
            out.append(name)
    return out


def load_model(path, **kwargs):
    """Load a ``.keras`` model (any keyword argument goes to ``keras.saving.load_model``).

    Raises ``FileNotFoundError`` for a missing file and ``ValueError`` with one sentence for
    a truncated / corrupt file or an unknown activation (naming the closest matches)."""
    from .catalogue import CATALOGUE

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
        unknown = _unknown_activations(config)
        if unknown:
            choices = sorted(set(CATALOGUE) | set(keras.src.activations.ALL_OBJECTS_DICT))
            hints = "; ".join(
                f"{u!r} (closest: {', '.join(difflib.get_close_matches(u, choices, 3, 0.5)) or 'none'})"
                for u in unknown)
            raise ValueError(f"{path} uses activations that neither Keras nor keras-acts "
                             f"{_version()} knows: {hints}. Was it saved by a newer keras-acts, "
                             "or with a custom function (pass custom_objects=...)?")
    return keras.saving.load_model(path, **kwargs)


def _version():
    from . import __version__

    return __version__
