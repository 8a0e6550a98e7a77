"""``python -m recipes [compare|plot|table] ...``: the ``keras-acts`` commands.

With no command (or options only), runs ``compare``: ``python -m recipes --preset quick``.
"""
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from keras_acts.cli import COMMANDS, main  # noqa: E402

if __name__ == "__main__":
    argv = sys.argv[1:]
    if not argv or argv[0] not in (*COMMANDS, "help"):
        argv = ["compare", *argv]
    sys.exit(main(argv))
