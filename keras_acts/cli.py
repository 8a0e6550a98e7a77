"""The ``keras-acts`` console script.

    keras-acts compare [OPTIONS]   train and compare activations (= python -m recipes.compare)
    keras-acts plot [NAMES...]     plot activations and derivatives (keras_acts.plot)
    keras-acts table               print the catalogue as a Markdown table

``keras-acts <command> --help`` shows each command's options.
"""
from __future__ import annotations

import os
import sys
from typing import Sequence

COMMANDS = {
    "compare": "train one model per (activation, seed) and compare (recipes.compare)",
    "plot": "plot activations and their derivatives (keras_acts.plot)",
    "table": "print the catalogue table (Markdown)",
}


def _usage() -> str:
    lines = ["usage: keras-acts {compare,plot,table} [options]", "", "commands:"]
    lines += [f"  {k:8s} {v}" for k, v in COMMANDS.items()]
    lines += ["", "`keras-acts COMMAND --help` lists a command's options."]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(_usage())
        return 0 if argv else 2
    cmd, rest = argv[0], argv[1:]
    if cmd == "compare":
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        from recipes.compare import main as compare_main

        return compare_main(rest)
    if cmd == "plot":
        from .plot import main as plot_main  # lazy: matplotlib only when plotting

        return plot_main(rest)
    if cmd == "table":
        if rest and rest[0] in ("-h", "--help"):
            print("usage: keras-acts table\n\nPrint the catalogue as a Markdown table.")
            return 0
        if rest:
            print(f"keras-acts table: unexpected arguments {rest}", file=sys.stderr)
            return 2
        from . import catalogue_table

        print(catalogue_table(), end="")
        return 0
    print(f"keras-acts: unknown command {cmd!r}\n\n{_usage()}", file=sys.stderr)
    return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
