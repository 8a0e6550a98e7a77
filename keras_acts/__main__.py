"""``python -m keras_acts``: print the catalogue table (``--update-readme`` rewrites README.md's)."""
import pathlib
import re
import sys

from . import catalogue_table, names


def update_readme(path="README.md"):
    p = pathlib.Path(path)
    text = p.read_text()
    new = re.sub(r"(<!-- catalogue:start -->\n).*?(<!-- catalogue:end -->)",
                 lambda m: m.group(1) + catalogue_table() + m.group(2), text, flags=re.S)
    p.write_text(new)
    return new != text


if "--update-readme" in sys.argv[1:]:
    print("README.md updated" if update_readme() else "README.md already current")
else:
    print(catalogue_table())
    print(f"{len(names())} activations.")
