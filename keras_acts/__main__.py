"""``python -m keras_acts``: print the catalogue table (``keras-acts table`` does the same)."""
from . import catalogue_table, names

print(catalogue_table())
print(f"{len(names())} activations.")
