"""The catalogue rendered for people: the Markdown table (README, ``python -m keras_acts``) and
the index that ``keras-acts list`` prints without importing Keras (``keras_acts/catalogue.json``)."""

from __future__ import annotations

import math

from .catalogue import CATALOGUE

INIT_RULE = {
    "he": "He (gain 2/(1+a²))",
    "lecun": "LeCun normal",
    "glorot": "Glorot",
    "gain": "variance-scaling, gain from E[f(z)²]",
}


def number_text(v: float) -> str:
    if math.isinf(v):
        return "∞" if v > 0 else "−∞"
    return f"{v:g}"


def check_mark(b: bool) -> str:
    return "✓" if b else "·"


def markdown_table(headers, rows, align=None) -> str:
    """The one Markdown table builder of keras-acts and its recipes.

    ``align``: one character per column, ``l`` (left, ``---``), ``r`` (right, ``--:``) or
    ``c`` (centre, ``:-:``); default: the first column left, the others right. Cells are
    ``str()``-ed as given (escape ``|`` inside cells with ``cell``)."""
    align = align or "l" + "r" * (len(headers) - 1)
    if len(align) != len(headers):
        raise ValueError("markdown_table: one align character per column")
    rule = {"l": "---", "r": "--:", "c": ":-:"}
    out = ["| " + " | ".join(map(str, headers)) + " |",
           "|" + "|".join(rule[a] for a in align) + "|"]
    for r in rows:
        if len(r) != len(headers):
            raise ValueError(f"markdown_table: a row has {len(r)} cells, the header {len(headers)}")
        out.append("| " + " | ".join(map(str, r)) + " |")
    return "\n".join(out) + "\n"


def cell(text) -> str:
    """A table cell: ``|`` escaped."""
    return str(text).replace("|", "\\|")


def catalogue_table() -> str:
    """One Markdown row per catalogue entry, generated from the catalogue."""
    headers = ["name", "f(x)", "parameters (default)", "range", "mono", "smooth", "zero-c.",
               "init", "source"]
    rows = []
    for name in sorted(CATALOGUE):
        e = CATALOGUE[name]
        params = ", ".join(f"{k}={p.default!r}" for k, p in e.params.items()) or ""
        lo, hi = e.range
        source = "Keras built-in" if e.keras_builtin else "keras-acts"
        if e.alias_of:
            source += f" (alias of {e.alias_of})"
        rows.append([f"`{name}`", cell(e.formula), params, f"[{number_text(lo)}, {number_text(hi)}]",
                     check_mark(e.monotonic), check_mark(e.smooth), check_mark(e.zero_centred), INIT_RULE[e.init],
                     f"{source}; [{e.reference}]({e.link})"])
    return markdown_table(headers, rows, "llllcccll")


def catalogue_index() -> dict:
    """What ``keras-acts list`` and ``keras-acts table`` print, as JSON-ready data.

    Written to ``keras_acts/catalogue.json`` by ``python tools/sync_catalogue.py`` (with a digest
    of the sources it came from), so that the command reads names without importing Keras."""
    return {
        "names": {name: {"string_usable": e.string_usable,
                         "params": {k: p.default for k, p in e.params.items()}}
                  for name, e in sorted(CATALOGUE.items())},
        "table": catalogue_table(),
    }
