"""recipes.report.write_report: report.md links only to files that exist; and the grid's
TensorBoard event files, read back with TensorBoard's own reader."""

import functools
import io
import json
import re
import sys
from pathlib import Path
from urllib.parse import unquote

import keras
import numpy as np
import pytest

from keras_acts.diagnostics import GradientFlow
from recipes import report

# The report reads run records and event files (pure Python); what it reads is trained on
# every backend by test_compare's grid and GradientFlow by tests/library/test_diagnostics, so
# tests/run.sh runs this module under its first backend only
pytestmark = pytest.mark.one_backend

LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")


def link_targets(md: str) -> list[str]:
    """Targets of every Markdown link and image, minus web links and in-page anchors."""
    return [unquote(t) for t in LINK.findall(md)
            if not re.match(r"^[a-z]+://", t) and not t.startswith("#")]


def assert_links_exist(out: Path) -> list[str]:
    md = (out / "report.md").read_text(encoding="utf-8")
    targets = link_targets(md)
    missing = [t for t in targets if not (out / t).exists()]
    assert not missing, f"report.md links to missing files: {missing}"
    return targets


def test_link_parser():
    md = "![a](x/y.png) [b](c.md) [w](https://e.org/z) [h](#top) ![s](a%20b.png \"t\")"
    assert link_targets(md) == ["x/y.png", "c.md", "a b.png"]


@functools.lru_cache(maxsize=None)
def _diagnostics_json(activation, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(64, 6)).astype("float32")
    y = rng.integers(0, 3, 64)
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(8, activation=activation),
                              keras.layers.Dense(8, activation=activation),
                              keras.layers.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    flow = GradientFlow(x, y, probe_size=32)
    model.fit(x, y, epochs=2, batch_size=32, verbose=0, callbacks=[flow])
    return flow.to_json()


def _diagnostics(activation, seed):
    return json.loads(_diagnostics_json(activation, seed))


def _fake_out_dir(out: Path, with_diagnostics=True, with_curves=False):
    """The files recipes.compare documents, with made-up numbers."""
    (out / "runs").mkdir(parents=True)
    acts = ["relu", "tanh", "swish_x:beta=1.5", "prelu"]
    rows = []
    for i, a in enumerate(acts):
        for seed in (0, 1):
            rec = {"status": "done", "activation": a, "seed": seed,
                   "history": {"loss": [1.0, 0.5], "accuracy": [0.6, 0.8],
                               "val_loss": [0.9, 0.6], "val_accuracy": [0.7, 0.8]},
                   "metrics": {"test_accuracy": 0.8 - 0.01 * i},
                   "diagnostics": (_diagnostics(a.split(":")[0] if a != "prelu" else "relu", seed)
                                   if with_diagnostics and a != "tanh" else None)}
            slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", a)
            (out / "runs" / f"{slug}-seed{seed}.json").write_text(json.dumps(rec))
        rows.append({"activation": a, "test_accuracy_mean": 0.8 - 0.01 * i,
                     "test_accuracy_ci95": 0.01, "test_loss_mean": 0.5, "test_loss_ci95": None,
                     "epochs_to_99pct": 2.0, "train_seconds_per_epoch": 1.5, "seeds": 2,
                     "diverged_runs": 0})
    config = {"dataset": "mnist", "model": "mlp", "epochs": 2, "batch_size": 32, "n_train": 64,
              "n_test": 32}
    (out / "results.json").write_text(json.dumps({"rows": rows, "config": config}))
    (out / "config.json").write_text(json.dumps(config))
    (out / "results.md").write_text("| table |\n")
    (out / "results.csv").write_text("activation\n")
    return out


def test_report_from_documented_files(tmp_path):
    pytest.importorskip("matplotlib")
    out = _fake_out_dir(tmp_path / "out")
    path = report.write_report(out)
    assert path == out / "report.md"
    targets = assert_links_exist(out)
    for expected in ("results.md", "results.csv", "results.json", "config.json", "runs",
                     "report_files/learning_curves.png", "report_files/gradient_flow.png",
                     "report_files/dead_saturated.png", "report_files/activations.png"):
        assert expected in targets
    md = path.read_text(encoding="utf-8")
    assert "learning_curves_accuracy.png" not in md  # compare's PNGs are absent here
    for section in ("## Results", "## Learning curves", "## Gradient flow",
                    "## Dead and saturated units", "## The activations"):
        assert section in md
    assert "| `tanh` | – |" in md  # a run without diagnostics
    assert "`swish_x`" in md and "Not in the catalogue" in md and "`prelu`" in md
    assert md.index("`relu`") < md.index("`tanh`")  # results order (by accuracy)


def test_report_verdicts_forest_and_bands(tmp_path):
    pytest.importorskip("matplotlib")
    out = _fake_out_dir(tmp_path / "out", with_diagnostics=False)
    res = json.loads((out / "results.json").read_text())
    for r in res["rows"]:
        if r["activation"] == "relu":
            r.update(verdict="baseline", baseline="relu", delta_vs_baseline_mean=0.0)
        else:
            r.update(verdict="indistinguishable" if r["activation"] == "tanh" else "worse",
                     baseline="relu", delta_vs_baseline_mean=-0.01, delta_vs_baseline_ci95=0.004,
                     p_value_holm=0.5 if r["activation"] == "tanh" else 0.01,
                     seeds_needed=12 if r["activation"] == "tanh" else None)
    (out / "results.json").write_text(json.dumps(res))
    report.write_report(out)
    md = (out / "report.md").read_text(encoding="utf-8")
    targets = assert_links_exist(out)
    assert "report_files/forest.png" in targets and "report_files/learning_curves.png" in targets
    assert md.index("## Verdict") < md.index("## Results")
    assert "- tanh: -1.00 pp vs relu [-1.40, -0.60], indistinguishable (p = 0.5, Holm); " \
           "~12 seeds would be needed." in md
    assert "- prelu: -1.00 pp vs relu [-1.40, -0.60], worse (p = 0.01, Holm)." in md
    assert "| **baseline** |" in md and "indistinguishable (~12 seeds)" in md


def test_colors_are_one_per_activation():
    pytest.importorskip("matplotlib")
    c = report.colors(["a", "b", "c"])
    assert len(set(c.values())) == 3 and c == report.colors(["a", "b", "c"])


def test_report_without_matplotlib_has_tables_only(tmp_path, monkeypatch):
    out = _fake_out_dir(tmp_path / "out")
    for mod in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, mod)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    report.write_report(out)
    targets = assert_links_exist(out)
    assert not any(t.endswith(".png") for t in targets)
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "| `relu` |" in md and "grad ratio" in md


def test_report_of_an_empty_directory(tmp_path):
    report.write_report(tmp_path)
    assert assert_links_exist(tmp_path) == []
    assert "No `results.json` yet" in (tmp_path / "report.md").read_text(encoding="utf-8")
    with pytest.raises(FileNotFoundError):
        report.write_report(tmp_path / "missing")


def test_real_tiny_compare_writes_a_report(tmp_path):
    pytest.importorskip("matplotlib")
    compare = pytest.importorskip("recipes.compare")
    from recipes.data import make_synthetic

    args = compare.build_parser().parse_args([
        "--activations", "relu,sigmoid", "--seeds", "1", "--epochs", "2", "--batch-size", "32",
        "--model", "mlp", "--model-option", "width=8", "--model-option", "depth=2",
        "--out", str(tmp_path / "out"), "--models-dir", str(tmp_path / "models"),
        "--device", "cpu"])
    cfg = compare.resolve_config(args).replace(save_models=False, diagnostics=True)
    data = compare.prepare_arrays(cfg, make_synthetic("mnist", 64, 32, seed=0))
    compare.run_grid(cfg, data, stream=io.StringIO())
    out = tmp_path / "out"
    assert (out / "report.md").is_file()  # compare called write_report
    targets = assert_links_exist(out)
    assert "report_files/gradient_flow.png" in targets
    assert "report_files/activations.png" in targets
    run = json.loads((out / "runs" / "relu-seed0.json").read_text())
    assert run["diagnostics"]["epoch"] == [0, 1, 2]
    assert len(run["history"]["learning_rate"]) == 2
    # on by default (tensorboard is in the dev extra), under <out>/tensorboard
    assert_tensorboard_files(out / "tensorboard", {"relu": [0], "sigmoid": [0]}, epochs=2)


def assert_tensorboard_files(logdir: Path, runs: dict, epochs: int):
    """What TensorBoard shows, through its own reader: one HParams session per (activation,
    seed) with its hyperparameters and final metrics, the experiment's columns, the train
    and validation curves, the learning rate and the gradient-flow diagnostics."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.plugins.hparams import metadata

    def load(path):
        acc = EventAccumulator(str(path))
        acc.Reload()
        return acc

    root = load(logdir)
    exp = metadata.parse_experiment_plugin_data(
        root.PluginTagToContent(metadata.PLUGIN_NAME)[metadata.EXPERIMENT_TAG])
    assert [h.name for h in exp.hparam_infos] == ["activation", "seed", "dataset", "model"]
    assert sorted(v.string_value for v in exp.hparam_infos[0].domain_discrete.values) == sorted(runs)
    assert "test_accuracy" in [m.name.tag for m in exp.metric_infos]
    sessions = sorted(p.name for p in logdir.iterdir() if p.is_dir())
    assert sessions == sorted(f"{a}-seed{s}" for a, seeds in runs.items() for s in seeds)
    for name in sessions:
        run = load(logdir / name)
        content = run.PluginTagToContent(metadata.PLUGIN_NAME)
        start = metadata.parse_session_start_info_plugin_data(
            content[metadata.SESSION_START_INFO_TAG])
        act, seed = name.rsplit("-seed", 1)
        assert start.hparams["activation"].string_value == act
        assert start.hparams["seed"].number_value == int(seed)
        assert metadata.SESSION_END_INFO_TAG in content
        record = json.loads((logdir.parent / "runs" / f"{name}.json").read_text())
        tags = run.Tags()["scalars"]
        (acc,) = run.Scalars("test_accuracy")
        assert acc.value == pytest.approx(record["metrics"]["test_accuracy"], rel=1e-6)
        assert [e.value for e in run.Scalars("learning_rate")] == pytest.approx(
            record["history"]["learning_rate"], rel=1e-6)
        assert any(t.startswith("gradient_flow/grad_norm/") for t in tags)
        for split, key in (("train", "loss"), ("validation", "val_loss")):
            curve = load(logdir / name / split).Scalars("epoch_loss")
            assert [e.step for e in curve] == list(range(epochs))
            assert [e.value for e in curve] == pytest.approx(record["history"][key], rel=1e-6)


def test_vanishing_recipe_smoke(tmp_path):
    pytest.importorskip("matplotlib")
    from recipes import vanishing
    from recipes.data import make_synthetic

    ds = make_synthetic("mnist", 96, 32, seed=0)  # a real mnist.npz in a --data-dir
    np.savez(tmp_path / "mnist.npz", x_train=ds.x_train, y_train=ds.y_train,
             x_test=ds.x_test, y_test=ds.y_test)
    out = tmp_path / "van"
    assert vanishing.main(["--depth", "3", "--width", "8", "--activations", "sigmoid,selu",
                           "--data-dir", str(tmp_path), "--train", "0", "--test", "0",
                           "--probe-size", "32", "--out", str(out)]) == 0
    md = (out / "vanishing.md").read_text(encoding="utf-8")
    assert md.count("| naive |") == 2 and md.count("| recommended |") == 2
    rows = json.loads((out / "vanishing.json").read_text())["rows"]
    assert [len(r["grad_norm_start"]) for r in rows] == [4] * 4  # 3 hidden + output
    assert "snn kit" in rows[3]["kernel_initializer"]  # selu, recommended: the SELU kit
    assert [t for t in link_targets(md) if not (out / t).exists()] == []
    assert vanishing.main(["--activations", "nope", "--out", str(out)]) == 2
