"""Regenerate what is derived from the catalogue for readers: README.md's table and
``keras_acts/catalogue.json`` (what ``keras-acts list`` reads without importing Keras).

    python tools/sync_catalogue.py           rewrite both where stale
    python tools/sync_catalogue.py --check   exit 1 naming the stale ones (the tests do this)
"""
from __future__ import annotations

import json
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from keras_acts.docs import catalogue_index, catalogue_table  # noqa: E402
from recipes.specs import catalogue_digest  # noqa: E402

MARKERS = re.compile(r"(<!-- catalogue:start -->\n).*?(<!-- catalogue:end -->)", re.S)


def wanted() -> dict[pathlib.Path, str]:
    """Each generated file's path and the text it should have."""
    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    if not MARKERS.search(text):
        raise SystemExit("README.md lacks the <!-- catalogue:start/end --> markers")
    index = {"digest": catalogue_digest(ROOT / "keras_acts"), **catalogue_index()}
    return {
        readme: MARKERS.sub(lambda m: m.group(1) + catalogue_table() + m.group(2), text),
        ROOT / "keras_acts" / "catalogue.json": json.dumps(index, indent=1) + "\n",
    }


def stale() -> list[str]:
    return [p.name for p, text in wanted().items()
            if not p.exists() or p.read_text(encoding="utf-8") != text]


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if "--check" in argv:
        names = stale()
        if names:
            print(f"stale: {', '.join(names)}; run `python tools/sync_catalogue.py`")
        return 1 if names else 0
    for path, text in wanted().items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            print(f"{path.relative_to(ROOT)} updated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
