"""The catalogue rendered as Markdown (README table, ``python -m keras_acts``)."""

from __future__ import annotations

import math

from .catalogue import CATALOGUE

INIT_RULE = {
    "he": "He (gain 2/(1+a²))",
    "lecun": "LeCun normal",
    "glorot": "Glorot",
    "gain": "variance-scaling, gain from E[f(z)²]",
}


def _num(v: float) -> str:
    if math.isinf(v):
        return "∞" if v > 0 else "−∞"
    return f"{v:g}"


def _yn(b: bool) -> str:
    return "✓" if b else "·"


def catalogue_table() -> str:
    """One Markdown row per catalogue entry, generated from the catalogue."""
    rows = [
        "| name | f(x) | parameters (default) | range | mono | smooth | zero-c. | init | source |",
        "|---|---|---|---|:-:|:-:|:-:|---|---|",
    ]
    for name in sorted(CATALOGUE):
        e = CATALOGUE[name]
        params = ", ".join(f"{k}={p.default!r}" for k, p in e.params.items()) or ""
        lo, hi = e.range
        source = "Keras built-in" if e.keras_builtin else "keras-acts"
        if e.alias_of:
            source += f" (alias of {e.alias_of})"
        formula = e.formula.replace("|", "\\|")
        rows.append(
            f"| `{name}` | {formula} | {params} | [{_num(lo)}, {_num(hi)}] | {_yn(e.monotonic)} "
            f"| {_yn(e.smooth)} | {_yn(e.zero_centred)} | {INIT_RULE[e.init]} | {source}; {e.reference} |"
        )
    return "\n".join(rows) + "\n"
