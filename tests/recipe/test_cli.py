"""The ``keras-acts`` command itself (``recipes.cli``): help, list and table without Keras,
the index they read kept current, and ``python -m recipes`` dispatching to it."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import keras_acts
from keras_acts.catalogue import CATALOGUE

ROOT = Path(__file__).resolve().parents[2]


def _cli(*commands):
    """Runs ``recipes.cli.main`` (the console script's entry point) on each argument list in
    one fresh process; returns [(exit code, stdout, stderr)]. Asserts in the process that
    ``--help``, ``list`` and ``table`` imported no Keras (hence no TensorFlow)."""
    code = (
        "import contextlib, io, json, sys\n"
        "from recipes import cli\n"
        "out = []\n"
        "for argv in json.loads(sys.argv[1]):\n"
        "    o, e = io.StringIO(), io.StringIO()\n"
        "    with contextlib.redirect_stdout(o), contextlib.redirect_stderr(e):\n"
        "        rc = cli.main(argv)\n"
        "    assert argv[0] not in ('--help', 'list', 'table') or 'keras' not in sys.modules, argv\n"
        "    out.append((rc, o.getvalue(), e.getvalue()))\n"
        "print(json.dumps(out))\n")
    r = subprocess.run([sys.executable, "-c", code, json.dumps(commands)], capture_output=True,
                       text=True, timeout=300, cwd=ROOT)
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout.splitlines()[-1])


def test_cli_help_and_list_import_no_keras_and_print_the_catalogue():
    help_, list_, params, markdown, table = _cli(
        ["--help"], ["list"], ["list", "--params", "--all"], ["list", "--markdown"], ["table"])
    assert help_[0] == 0 and "compare" in help_[1] and "list" in help_[1] and help_[2] == ""
    assert list_[0] == 0 and list_[1].split() == keras_acts.names()  # sorted, string names only
    assert "threshold" not in list_[1].split()
    assert params[0] == 0 and params[1].splitlines() == [
        name + (f"({', '.join(f'{k}={v}' for k, v in CATALOGUE[name].defaults.items())})"
                if CATALOGUE[name].params else "")
        for name in keras_acts.names(all=True)]
    assert "swish_x(beta=1.0)" in params[1]
    assert "threshold(threshold=0.0, default_value=0.0)" in params[1]
    assert markdown[1] == table[1] == keras_acts.catalogue_table()
    assert all(rc == 0 and err == "" for rc, _, err in (list_, params, markdown, table))


@pytest.mark.slow  # a fresh Python process that imports Keras: outside the quick tier
def test_cli_list_of_an_edited_catalogue_is_not_stale(tmp_path):
    """A checkout whose catalogue changed after ``catalogue.json`` was written: ``list`` sees
    the digest differ and reads the catalogue itself (Keras imported), never the old names."""
    shutil.copytree(ROOT / "keras_acts", tmp_path / "keras_acts",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "recipes", tmp_path / "recipes",
                    ignore=shutil.ignore_patterns("__pycache__"))
    cat = tmp_path / "keras_acts" / "catalogue.py"
    cat.write_text(cat.read_text().replace('_add(\n    "swish_x",', '_add(\n    "swish_y",', 1))
    r = subprocess.run([sys.executable, "-c", "import sys; from recipes import cli; "
                        "sys.exit(cli.main(['list']))"], capture_output=True, text=True,
                       timeout=300, cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(tmp_path)})
    assert r.returncode == 0, r.stderr[-2000:]
    assert "swish_y" in r.stdout.split() and "swish_x" not in r.stdout.split()



def test_python_m_recipes_dispatches():
    r = subprocess.run([sys.executable, "-m", "recipes", "list"], capture_output=True, text=True,
                       timeout=300, cwd=ROOT)
    assert r.returncode == 0 and "relu" in r.stdout.split(), r.stderr[-2000:]


def test_compare_checks_activation_names_from_the_index(tmp_path):
    """``keras-acts compare``'s command-line check of activation names (before Keras starts;
    test_cli_errors runs it through the installed command): the first unknown name or
    baseline in keras_acts's words; layer specs, prelu and parameters are left to the grid."""
    from recipes import compare

    def check(*argv):
        return compare.resolve_config(compare.build_parser().parse_args(
            [*argv, "--out", str(tmp_path / "out"), "--no-save-models"]))

    cfg = check("--activations", "relu,prelu,layer:SwishX,swish_x:beta=2", "--baseline", "relu")
    assert list(cfg.activations) == ["relu", "prelu", "layer:SwishX", "swish_x:beta=2"]
    for argv, flag, name in ((["--activations", "relu,swishx"], "--activations", "swishx"),
                             (["--activations", "relu,tanh", "--baseline", "gelux"],
                              "--baseline", "gelux")):
        with pytest.raises(ValueError) as words:
            keras_acts.info(name)
        with pytest.raises(SystemExit) as e:
            check(*argv)
        assert str(e.value) == f"{flag} {name!r}: {words.value}"
    assert not (tmp_path / "out").exists()  # nothing written
