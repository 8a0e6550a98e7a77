"""Pictures of the catalogue: f and f' per activation, an overlay chart, a properties table.

>>> from keras_acts import plot
>>> plot.gallery(["relu", "gelu", "softmax"], "acts.png")   # writes acts.png and acts.svg
>>> plot.overlay(["relu", "gelu"], "overlay.png")
>>> print(plot.properties_table(["relu", "gelu"]))

CLI: ``keras-acts plot [NAMES...] [--all] [--out DIR]`` (also ``python -m keras_acts.plot``).

What is drawn
    Elementwise activations: f(x) (solid) and its analytic derivative f'(x) from the
    catalogue (``keras_acts.derivative``, dashed) at the default parameters, on one common
    x- and y-range for every panel (curves leaving the range are clipped).
    Non-elementwise activations are drawn along a 1-D slice, named in the panel title:
    normalisers (softmax, log_softmax, softmin, sparsemax) get the two-element input
    ``[x, 0]`` and show the first output (softmax over [x, 0] is sigmoid(x)); gated units
    (glu, geglu, swiglu, reglu: ``a * gate(b)``) get ``a = b = x``. Their f' is the derivative
    along that slice, from backend autodiff (``keras_acts.autodiff``).

matplotlib is imported only when a picture is drawn, and only its Agg canvas is used (no
pyplot, the global backend is left alone); without it a clear ImportError says what to install.
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from .catalogue import CATALOGUE, CLASSIC
from .docs import INIT_RULE, number_text, check_mark
from .registry import derivative, entry, get
from .registry import to_float64 as _to_numpy

__all__ = ["Curve", "curve", "gallery", "overlay", "properties_table", "main", "XLIM", "YLIM"]

#: Default common axes of every panel.
XLIM = (-4.0, 4.0)
YLIM = (-2.0, 4.0)
_POINTS = 401  # odd: x = 0 is on the grid


@dataclass
class Curve:
    """The data of one panel: f and f' sampled on ``x``."""

    name: str
    x: np.ndarray
    f: np.ndarray
    df: np.ndarray
    note: str = ""  # what is drawn, for non-elementwise activations
    derivative_source: str = "analytic"  # or "autodiff"

    @property
    def title(self) -> str:
        return f"{self.name}\n{self.note}" if self.note else self.name


def figure_classes():
    """(Figure, FigureCanvasAgg), imported on first use."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ImportError(
            "keras_acts.plot needs matplotlib, which is not installed: "
            "pip install 'keras-acts[plot]' (or pip install matplotlib)"
        ) from exc
    return Figure, FigureCanvasAgg



def _grid(xlim=XLIM, points=_POINTS) -> np.ndarray:
    return np.linspace(xlim[0], xlim[1], points).astype(np.float32)


def _slice(name: str, params: dict):
    """How a non-elementwise activation is drawn: (build input from x, pick output, note)."""
    from keras import ops

    fn = get(name, **params)
    probe = fn(ops.convert_to_tensor(np.zeros((1, 2), np.float32)))
    gated = tuple(probe.shape)[-1] == 1

    if gated:
        def build(t):
            return ops.stack([t, t], axis=-1)

        note = "slice: a = b = x"
    else:
        def build(t):
            return ops.stack([t, ops.zeros_like(t)], axis=-1)

        note = "slice: 1st output for input [x, 0]"

    def along(t):
        return fn(build(t))[..., 0]

    return along, note


def curve(name: str, x=None, **params) -> Curve:
    """f and f' of ``name`` on ``x`` (default: the common grid) as NumPy arrays."""
    from keras import ops

    e = entry(name)
    x = _grid() if x is None else np.asarray(x, np.float32)
    if e.elementwise:
        fn = get(name, **params)
        t = ops.convert_to_tensor(x)
        return Curve(name, x.astype(np.float64), _to_numpy(fn(t)),
                     _to_numpy(derivative(name, **params)(t)))
    from . import autodiff

    along, note = _slice(name, params)
    f = _to_numpy(along(ops.convert_to_tensor(x)))
    df = np.asarray(autodiff.grad_sum(along, x), np.float64)
    return Curve(name, x.astype(np.float64), f, df, note, "autodiff")


def _names(names: Iterable[str] | None) -> list[str]:
    names = list(CLASSIC if names is None else names)
    for n in names:
        entry(n)  # ValueError with suggestions for unknown names
    return names


def _broken(y: np.ndarray, jump: float = 0.3) -> np.ndarray:
    """y with NaN inserted at jumps (|dy| > jump between grid points), so a discontinuity
    (binary_step, the derivative at a kink) is drawn as a gap, not as a vertical line."""
    y = np.array(y, dtype=np.float64, copy=True)
    idx = np.flatnonzero(np.abs(np.diff(y)) > jump)
    if len(idx):
        y[idx] = np.nan  # drop the last point before the jump
    return y


def _style_axes(ax, xlim, ylim, small=False):
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.axhline(0, color="0.6", lw=0.7, zorder=0)
    ax.axvline(0, color="0.6", lw=0.7, zorder=0)
    ax.grid(True, color="0.92", lw=0.6, zorder=0)
    ax.tick_params(labelsize=7 if small else 9)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _ticks(lim) -> np.ndarray:
    """Integer ticks, every 1 or 2 units, inside ``lim``."""
    lo, hi = math.ceil(lim[0]), math.floor(lim[1])
    step = 1 if hi - lo <= 6 else 2
    return np.arange(lo, hi + 1, step) if lo <= hi else np.array(lim)


def _save(fig, path: Path, formats: Sequence[str], tight: bool = False) -> list[Path]:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    out = []
    for fmt in formats:
        p = path.with_suffix("." + fmt.lstrip("."))
        fig.savefig(p, dpi=110 if fmt == "png" else None, bbox_inches="tight" if tight else None)
        out.append(p)
    return out


def _formats(path, formats):
    if formats is not None:
        return tuple(formats)
    suffix = Path(path).suffix.lstrip(".").lower()
    return ("png", "svg") if suffix in ("", "png") else (suffix,)


def gallery(names: Iterable[str] | None = None, path="activations.png", *, cols: int = 4,
            xlim=XLIM, ylim=YLIM, formats: Sequence[str] | None = None,
            curves: dict | None = None) -> list[Path]:
    """One panel per activation (f solid, f' dashed), all on the same axes.

    ``names`` defaults to ``keras_acts.CLASSIC``. Writes ``path`` as PNG and SVG (or only the
    given ``formats``); returns the written paths. ``curves`` (name -> Curve) is filled with
    the plotted data when given.
    """
    Figure, FigureCanvasAgg = figure_classes()
    names = _names(names)
    if not names:
        raise ValueError("gallery: no activation names given")
    cols = max(1, min(cols, len(names)))
    rows = math.ceil(len(names) / cols)
    # fixed layout (inches) instead of tight_layout / bbox "tight": both re-draw every panel,
    # which dominates the time for the full catalogue
    pw, ph, left, right, top, bottom, hgap, wgap = 2.3, 1.75, 0.45, 0.15, 0.75, 0.35, 0.62, 0.42
    width = left + right + cols * pw + (cols - 1) * wgap
    height = top + bottom + rows * ph + (rows - 1) * hgap
    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    fig.subplots_adjust(left=left / width, right=1 - right / width, bottom=bottom / height,
                        top=1 - top / height, wspace=wgap / pw, hspace=hgap / ph)
    axes = fig.subplots(rows, cols, squeeze=False)  # same limits set on each (sharing is slow)
    x = _grid(xlim)
    xt, yt = _ticks(xlim), _ticks(ylim)
    for i, name in enumerate(names):
        ax = axes[i // cols][i % cols]
        c = curve(name, x)
        if curves is not None:
            curves[name] = c
        ax.plot(c.x, _broken(c.f), color="C0", lw=1.8, label="f(x)")
        ax.plot(c.x, _broken(c.df), color="C3", lw=1.3, ls="--", label="f′(x)")
        _style_axes(ax, xlim, ylim, small=True)
        ax.set_xticks(xt)
        ax.set_yticks(yt)
        ax.set_title(name, fontsize=10, fontweight="bold", pad=14 if c.note else 4)
        if c.note:
            ax.text(0.5, 1.015, c.note, transform=ax.transAxes, ha="center", va="bottom",
                    fontsize=7, color="0.35")
    for j in range(len(names), rows * cols):
        axes[j // cols][j % cols].set_visible(False)
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", ncol=2, frameon=False, fontsize=10,
               bbox_to_anchor=(0.5, 1 - 0.05 / height))
    return _save(fig, path, _formats(path, formats))


def overlay(names: Iterable[str] | None = None, path="overlay.png", *, xlim=XLIM, ylim=YLIM,
            dylim=(-0.5, 2.0), formats: Sequence[str] | None = None) -> list[Path]:
    """All activations on one chart: f(x) on the left (y in ``ylim``), f'(x) on the right
    (y in ``dylim``)."""
    Figure, FigureCanvasAgg = figure_classes()
    names = _names(names)
    fig = Figure(figsize=(12, 5.2))
    FigureCanvasAgg(fig)
    ax_f, ax_d = fig.subplots(1, 2)
    x = _grid(xlim)
    from matplotlib import colormaps

    cmap = colormaps["tab10"]
    styles = ("-", "--", "-.", ":")
    for i, name in enumerate(names):
        c = curve(name, x)
        kw = dict(color=cmap(i % 10), lw=1.6, ls=styles[(i // 10) % len(styles)])
        if c.note:  # a slice may coincide with another curve (softmax over [x, 0] = sigmoid)
            kw.update(ls=":", lw=2.6)
        label = name + ("*" if c.note else "")
        ax_f.plot(c.x, _broken(c.f), label=label, **kw)
        ax_d.plot(c.x, _broken(c.df), label=label, **kw)
    for ax, title, lim in ((ax_f, "f(x)", ylim), (ax_d, "f′(x)", dylim)):
        _style_axes(ax, xlim, lim)
        ax.set_title(title, fontsize=12)
        ax.set_xlabel("x")
    ncol = 1 if len(names) <= 14 else 2
    ax_d.legend(loc="center left", bbox_to_anchor=(1.02, 0.5), frameon=False, fontsize=9,
                ncol=ncol)
    if any(not CATALOGUE[n].elementwise for n in names):
        fig.text(0.01, 0.005, "* not elementwise: drawn along a 1-D slice "
                 "(normalisers: input [x, 0], first output; gated: a = b = x)",
                 fontsize=8, color="0.35")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    return _save(fig, path, _formats(path, formats), tight=True)


def _init_text(name: str) -> str:
    rule = INIT_RULE[CATALOGUE[name].init]
    try:  # keras_acts.initializer_for, when present, names the concrete initializer
        from . import initializer_for  # type: ignore[attr-defined]
    except ImportError:
        return rule
    try:
        init = initializer_for(name)
    except Exception:  # noqa: BLE001 - fall back to the rule text
        return rule
    if isinstance(init, str):
        return f"{rule}: `{init}`"
    try:
        cfg = init.get_config()
        detail = ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                           for k, v in cfg.items() if k != "seed" and v is not None)
        return f"{rule}: `{type(init).__name__}({detail})`"
    except Exception:  # noqa: BLE001
        return rule


def properties_table(names: Iterable[str] | None = None) -> str:
    """Markdown table of range, monotonic, smooth, zero-centred and recommended init."""
    from .docs import cell, markdown_table

    rows = []
    for name in _names(names):
        e = CATALOGUE[name]
        lo, hi = e.range
        rows.append([f"`{name}`", cell(e.formula), f"[{number_text(lo)}, {number_text(hi)}]", check_mark(e.monotonic),
                     check_mark(e.smooth), check_mark(e.zero_centred), _init_text(name)])
    return markdown_table(["name", "f(x)", "range", "monotonic", "smooth", "zero-centred",
                           "recommended init"], rows, "lllcccl")


def main(argv: Sequence[str] | None = None) -> int:
    """``keras-acts plot``: gallery + overlay (PNG and SVG) + properties table."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["plot"]:  # called with the sub-command still in argv
        argv = argv[1:]
    p = argparse.ArgumentParser(
        prog="keras-acts plot",
        description="Plot activations and their derivatives (gallery, overlay, properties).")
    p.add_argument("names", nargs="*", help="catalogue names (default: the classic dozen)")
    p.add_argument("--all", action="store_true", help="every catalogue name")
    p.add_argument("--out", default="activation_plots", help="output directory")
    p.add_argument("--cols", type=int, default=4, help="gallery panels per row")
    p.add_argument("--xlim", type=float, nargs=2, default=XLIM, metavar=("LO", "HI"))
    p.add_argument("--ylim", type=float, nargs=2, default=YLIM, metavar=("LO", "HI"))
    p.add_argument("--formats", default="png,svg", help="comma-separated, e.g. png,svg,pdf")
    p.add_argument("--no-overlay", action="store_true", help="skip the overlay chart")
    args = p.parse_args(argv)
    if args.all and args.names:
        p.error("give names or --all, not both")
    names = sorted(CATALOGUE) if args.all else (args.names or list(CLASSIC))
    try:
        names = _names(names)
        formats = [f.strip() for f in args.formats.split(",") if f.strip()]
        out = Path(args.out)
        written = gallery(names, out / "gallery.png", cols=args.cols, xlim=tuple(args.xlim),
                          ylim=tuple(args.ylim), formats=formats)
        if not args.no_overlay:
            written += overlay(names, out / "overlay.png", xlim=tuple(args.xlim),
                               ylim=tuple(args.ylim), formats=formats)
        table = out / "properties.md"
        table.write_text(properties_table(names), encoding="utf-8")
        written.append(table)
    except (ValueError, ImportError) as exc:
        print(f"keras-acts plot: error: {exc}", file=sys.stderr)
        return 2
    for w in written:
        print(w)
    return 0


if __name__ == "__main__":
    sys.exit(main())
