"""The ``keras-acts`` console script (argparse sub-commands).

    keras-acts compare [OPTIONS]      train and compare activations (= python -m recipes.compare)
    keras-acts vanishing [OPTIONS]    gradient norms per layer of a deep MLP, per activation
    keras-acts list [--params|--markdown]   the activation names, one per line
    keras-acts plot [NAMES...]        plot activations and derivatives (keras_acts.plot)
    keras-acts table                  print the catalogue as a Markdown table

It lives with the recipes it runs (installed as ``keras_acts_recipes``), so ``keras_acts``
never imports the scripts; ``keras-acts --help``, ``list`` and ``table`` import neither Keras nor
TensorFlow (they read ``keras_acts/catalogue.json``).
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import Sequence

from .specs import catalogue_index

__all__ = ["main", "build_parser", "COMMANDS"]

COMMANDS = ("compare", "vanishing", "list", "plot", "table")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="keras-acts", description="Every activation function by name in Keras 3, and "
        "recipes that compare them.", epilog="`keras-acts COMMAND --help` lists a command's "
        "options.")
    p.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = p.add_subparsers(dest="command", metavar="{" + ",".join(COMMANDS) + "}")
    c = sub.add_parser("compare", add_help=False,
                       help="train one model per (activation, seed) and compare them")
    c.add_argument("args", nargs=argparse.REMAINDER)
    v = sub.add_parser("vanishing", add_help=False,
                       help="gradient norm per layer of a deep plain MLP, per activation")
    v.add_argument("args", nargs=argparse.REMAINDER)
    lst = sub.add_parser("list", help="the activation names that work by plain string")
    how = lst.add_mutually_exclusive_group()
    how.add_argument("--params", action="store_true",
                     help="with each name's parameters and defaults")
    how.add_argument("--markdown", action="store_true",
                     help="the catalogue as a Markdown table (= keras-acts table)")
    lst.add_argument("--all", action="store_true",
                     help="also the names that need parameters (keras_acts.get(name, ...))")
    pl = sub.add_parser("plot", add_help=False, help="plot activations and their derivatives")
    pl.add_argument("args", nargs=argparse.REMAINDER)
    sub.add_parser("table", help="print the catalogue as a Markdown table")
    return p


def _version() -> str:
    """The installed distribution's version (no import of keras_acts, hence of Keras)."""
    from importlib import metadata

    try:
        return metadata.version("keras-acts")
    except metadata.PackageNotFoundError:  # a checkout that was never installed
        return "unknown (not installed)"


def _exit_code(e: SystemExit) -> int:
    """A SystemExit as a return code; a message (``SystemExit("...")``) is printed first, as
    the interpreter would print it: the check's one sentence must reach the user."""
    if isinstance(e.code, str):
        print(f"keras-acts: error: {e.code}", file=sys.stderr)
        return 2
    return int(e.code or 0)


def _quiet():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if not argv:
        parser.print_help()
        return 2
    if argv[0] in ("compare", "vanishing", "plot"):  # their own parsers take every remaining argument
        # (argparse's REMAINDER would not pass a leading --help on)
        argv = [argv[0], "--", *argv[1:]] if len(argv) > 1 else argv
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # argparse's own errors (unknown command) and --help
        return int(e.code or 0)
    _quiet()
    rest = [a for i, a in enumerate(getattr(args, "args", None) or []) if i or a != "--"]
    if args.command == "compare":
        from .compare import main as compare_main

        try:
            return compare_main(rest)
        except SystemExit as e:  # compare's argparse (--help, bad options) and its checks
            return _exit_code(e)
    if args.command == "vanishing":
        from .vanishing import main as vanishing_main

        try:
            return vanishing_main(rest)
        except SystemExit as e:
            return _exit_code(e)
    if args.command == "plot":
        from keras_acts.plot import main as plot_main  # matplotlib only when plotting

        return plot_main(rest)
    index = catalogue_index()
    if args.command == "table" or (args.command == "list" and args.markdown):
        return _emit(index["table"])
    lines = []
    for name, about in index["names"].items():
        if args.all or about["string_usable"]:
            text = ", ".join(f"{k}={v}" for k, v in about["params"].items())
            lines.append(f"{name}({text})" if args.params and text else name)
    return _emit("".join(line + "\n" for line in lines))


def _emit(text: str) -> int:
    """Print ``text``; a reader that stops early (``keras-acts list | head``) is not an error."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
