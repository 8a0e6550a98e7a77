"""``python -m recipes [compare|list|plot|table] ...``: the ``keras-acts`` commands.

With no command (or options only), runs ``compare``: ``python -m recipes --preset quick``.
"""
import sys

from .cli import COMMANDS, main

if __name__ == "__main__":
    argv = sys.argv[1:]
    if not argv or argv[0] not in (*COMMANDS, "-h", "--help"):
        argv = ["compare", *argv]
    sys.exit(main(argv))
