"""recipes.compare on tiny synthetic data: statistics, config/presets, resume, results schema,
saved-model loading in a fresh process, determinism, and the keras-acts CLI."""
import contextlib
import csv
import io
import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from recipes import compare
from recipes.data import make_synthetic
from recipes.plan import plan_runs

ROOT = Path(__file__).resolve().parents[2]


@contextlib.contextmanager
def restored_global_state():
    """run_grid turns TensorFlow op determinism on (and may set a mixed policy); undo that so
    other test files see the process as they expect."""
    tfc = None
    if keras.backend.backend() == "tensorflow":
        from tensorflow.python.framework import config as tfc
    was = tfc.is_op_determinism_enabled() if tfc else None
    try:
        yield
    finally:
        keras.mixed_precision.set_dtype_policy("float32")
        if tfc is not None and not was and tfc.is_op_determinism_enabled():
            tfc.disable_op_determinism()


@pytest.fixture(autouse=True)
def _restore_global_state():
    with restored_global_state():
        yield


def tiny_cfg(tmp, **over):
    args = compare.build_parser().parse_args([
        "--activations", "relu,prelu", "--seeds", "2", "--epochs", "1", "--batch-size", "32",
        "--model", "mlp", "--model-option", "width=8", "--model-option", "depth=1",
        "--out", str(tmp / "out"), "--models-dir", str(tmp / "models"), "--no-diagnostics",
        "--device", "cpu"])
    return compare.resolve_config(args).replace(**over)


def tiny_data(cfg):
    return compare.prepare_arrays(cfg, make_synthetic("mnist", 64, 32, seed=0))


# --------------------------------------------------------------------------- statistics
def test_ci_half_widths_use_table_t_quantiles():
    # values 0, 2 (n = 2) ... n = 31: sd chosen so the half-width is t * 1 exactly
    for df, t in [(1, 12.706205), (2, 4.302653), (4, 2.776445), (9, 2.262157), (30, 2.042272)]:
        n = df + 1
        v = np.zeros(n)
        v[0], v[1] = 1.0, -1.0  # sum 0, sum of squares 2: sd = sqrt(2 / df)
        _, h = compare.mean_ci95(v)
        assert h == pytest.approx(t * math.sqrt(2 / df) / math.sqrt(n), abs=1e-5)


def test_mean_ci95_by_hand():
    m, ci = compare.mean_ci95([0.90, 0.92, 0.94])  # sd 0.02, t(0.975, 2) = 4.302653
    assert m == pytest.approx(0.92)
    assert ci == pytest.approx(4.302653 * 0.02 / math.sqrt(3), rel=1e-6)
    m, ci = compare.mean_ci95([0.5])
    assert m == 0.5 and math.isnan(ci)


def test_macro_f1_and_epochs_to_99pct():
    y = np.array([0, 0, 1, 1, 2, 2])
    p = np.array([0, 1, 1, 1, 2, 0])
    # per class F1: 0: 2*1/(2+2)=0.5; 1: 2*2/(3+2)=0.8; 2: 2*1/(1+2)=2/3
    assert compare.macro_f1(y, p, 3) == pytest.approx((0.5 + 0.8 + 2 / 3) / 3)
    assert compare.epochs_to_fraction([0.5, 0.95, 0.985, 0.99]) == 3  # 0.99*0.99 = 0.9801
    assert compare.epochs_to_fraction([]) is None


# --------------------------------------------------------------------------- config / presets
def test_presets_and_overrides():
    p = compare.build_parser()
    quick = compare.resolve_config(p.parse_args(["--preset", "quick"]))
    assert (quick["dataset"], quick["model"], quick["seeds"]) == ("mnist", "mlp", 3)
    assert len(quick["activations"]) >= 6 and quick["epochs"] <= 3
    assert quick["out"] == os.path.join("runs", "mnist-mlp")
    std = compare.resolve_config(p.parse_args([]))
    assert std["preset"] == "standard" and len(std["activations"]) == 12
    assert "binary_step_ste" in std["activations"] and "prelu" in std["activations"]
    over = compare.resolve_config(p.parse_args(
        ["--preset", "quick", "--epochs", "7", "--activations", "relu,aria2:alpha=1,beta=0.5",
         "--model-option", "width=32", "--seeds", "1"]))
    assert over["epochs"] == 7 and over["seeds"] == 1 and over["seed_list"] == (0,)
    assert over["activations"] == ("relu", "aria2:alpha=1,beta=0.5")
    assert over["model_options"]["width"] == 32
    cifar = compare.resolve_config(p.parse_args(["--dataset", "cifar10", "--model", "cnn"]))
    assert cifar["model_options"]["batchnorm"] and cifar["augment"] == "flip_translate"
    assert cifar["model_options"]["stem"] == "whiten" and cifar["model_options"]["filters"] == (64, 192, 192)
    c94 = compare.resolve_config(p.parse_args(["--dataset", "cifar10", "--model", "cnn", "--variant", "94"]))
    assert c94["model_options"]["filters"] == (64, 256, 256) and c94["epochs"] == 10
    cq = compare.resolve_config(p.parse_args(["--preset", "cifar-quick"]))
    assert cq["model_options"]["filters"] == (32, 64, 64) and len(cq["activations"]) == 8
    with pytest.raises(SystemExit, match="cifar10"):
        compare.resolve_config(p.parse_args(["--variant", "94"]))
    assert cifar["out"] == os.path.join("runs", "cifar10-cnn")
    with pytest.raises(SystemExit):
        compare.resolve_config(p.parse_args(["--model-option", "nope=1"]))
    with pytest.raises(SystemExit):
        p.parse_args(["--preset", "huge"])


def test_models_go_under_out_unless_models_dir_says_otherwise(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    parse = compare.build_parser().parse_args
    cfg = compare.resolve_config(parse(["--out", "o"]))
    assert cfg["models_dir"] == os.path.join("o", "saved_models")
    cfg = compare.resolve_config(parse(["--out", "o", "--models-dir", "m"]))
    assert cfg["models_dir"] == "m"
    assert compare.resolve_config(parse([]))["models_dir"] == os.path.join(
        "runs", "mnist-mlp", "saved_models")
    # TensorBoard files: under <out> by default (tensorboard is installed here), or where told
    assert cfg["tensorboard"] == os.path.join("o", "tensorboard")
    assert compare.resolve_config(parse(["--out", "o", "--tensorboard", "tb"]))["tensorboard"] == "tb"
    assert compare.resolve_config(parse(["--out", "o", "--no-tensorboard"]))["tensorboard"] is None


def test_cli_dispatch(capsys):
    from recipes import cli

    assert cli.main(["table"]) == 0
    assert "| `relu` |" in capsys.readouterr().out
    assert cli.main([]) == 2 and "compare" in capsys.readouterr().out
    assert cli.main(["nope"]) == 2
    assert cli.main(["compare", "--help"]) == 0  # argparse's exit becomes a return code
    assert "--preset" in capsys.readouterr().out


# --------------------------------------------------------------------------- the grid
@pytest.fixture(scope="module")
def grid(tmp_path_factory):
    """A 2-activation x 2-seed grid interrupted after 2 runs, then resumed."""
    tmp = tmp_path_factory.mktemp("grid")
    cfg = tiny_cfg(tmp)
    data = tiny_data(cfg)
    real, calls = compare.train_one, []

    def interrupted(*a, **k):
        if len(calls) == 2:
            raise KeyboardInterrupt
        calls.append(a[1:3])
        return real(*a, **k)

    guard = restored_global_state()
    guard.__enter__()
    compare.train_one = interrupted
    try:
        with pytest.raises(KeyboardInterrupt):
            compare.run_grid(cfg, data, stream=io.StringIO())
    finally:
        compare.train_one = real
    first = sorted((Path(cfg["out"]) / "runs").glob("*.json"))
    mtimes = {p.name: p.stat().st_mtime_ns for p in first}
    with pytest.raises(compare.GridError, match="--resume"):
        compare.run_grid(dict(cfg), data, stream=io.StringIO())
    resumed_calls = []

    def counting(*a, **k):
        resumed_calls.append(a[1:3])
        return real(*a, **k)

    compare.train_one = counting
    try:
        summary = compare.run_grid(dict(cfg, resume=True), data, stream=io.StringIO())
    finally:
        compare.train_one = real
        guard.__exit__(None, None, None)
    return dict(cfg=cfg, data=data, first_calls=calls, first_files=[p.name for p in first],
                mtimes=mtimes, resumed_calls=resumed_calls, summary=summary)


def test_interrupted_grid_resumes_only_missing_runs(grid):
    assert grid["first_calls"] == [("relu", 0), ("prelu", 0)]  # seed-major order
    assert grid["first_files"] == ["prelu-seed0.json", "relu-seed0.json"]
    assert grid["resumed_calls"] == [("relu", 1), ("prelu", 1)]
    out = Path(grid["cfg"]["out"])
    for name, mtime in grid["mtimes"].items():  # finished runs untouched
        assert (out / "runs" / name).stat().st_mtime_ns == mtime
    assert sorted(p.name for p in (out / "runs").glob("*")) == [
        "prelu-seed0.json", "prelu-seed1.json", "relu-seed0.json", "relu-seed1.json"]
    assert grid["summary"]["skipped"] and len(grid["summary"]["ran"]) == 2


def test_resume_after_deleting_a_run(grid, tmp_path):
    cfg = dict(grid["cfg"], out=str(tmp_path / "out"), models_dir=str(tmp_path / "models"),
               resume=True)
    shutil.copytree(grid["cfg"]["out"], cfg["out"])
    (Path(cfg["out"]) / "runs" / "prelu-seed1.json").unlink()
    real, calls = compare.train_one, []

    def counting(*a, **k):
        calls.append(a[1:3])
        return real(*a, **k)

    compare.train_one = counting
    try:
        compare.run_grid(cfg, grid["data"], stream=io.StringIO())
    finally:
        compare.train_one = real
    assert calls == [("prelu", 1)]
    assert (Path(cfg["models_dir"]) / "mnist-mlp" / "prelu-seed1.keras").is_file()


def test_resume_refuses_other_settings(grid, tmp_path):
    cfg = dict(grid["cfg"], out=str(tmp_path / "out"), resume=True, epochs=5)
    shutil.copytree(grid["cfg"]["out"], cfg["out"])
    with pytest.raises(compare.GridError, match="epochs"):
        compare.run_grid(cfg, grid["data"], stream=io.StringIO())
    assert compare.main(["--out", cfg["out"], "--activations", "relu"]) == 2  # no --resume


def test_results_schema_and_ci(grid):
    out = Path(grid["cfg"]["out"])
    with open(out / "results.csv") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == compare.RESULT_COLUMNS
    for col in ("activation", "test_accuracy_mean", "test_accuracy_ci95", "macro_f1_mean",
                "macro_f1_ci95", "test_loss_mean", "test_loss_ci95", "epochs_to_99pct",
                "train_seconds_per_epoch", "latency_ms_per_batch256", "latency_ms_per_sample",
                "params", "seeds"):
        assert col in rows[0]
    assert sorted(r["activation"] for r in rows) == ["prelu", "relu"]
    res = json.loads((out / "results.json").read_text())
    for row in res["rows"]:
        runs = [json.loads((out / "runs" / f"{row['activation']}-seed{s}.json").read_text())
                for s in (0, 1)]
        for metric, key in (("test_accuracy", "test_accuracy"), ("macro_f1", "macro_f1"),
                            ("test_loss", "test_loss")):
            v = np.array([r["metrics"][key] for r in runs])
            t = 12.706205  # t(0.975, df=1)
            assert row[f"{metric}_mean"] == pytest.approx(v.mean())
            assert row[f"{metric}_ci95"] == pytest.approx(t * v.std(ddof=1) / math.sqrt(2), rel=1e-6)
        assert row["seeds"] == 2 and row["params"] > 0
        assert row["latency_ms_per_batch256"] > 0 and row["latency_ms_per_sample"] > 0
    rec = runs[0]
    assert rec["status"] == "done" and len(rec["history"]["loss"]) == 1
    assert {"val_accuracy", "epoch_seconds", "train_seconds"} <= set(rec["history"])
    assert "diagnostics" in rec
    md = (out / "results.md").read_text()
    assert "| # | activation |" in md and "`relu`" in md
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["activations"] == ["relu", "prelu"] and cfg["epochs"] == 1


def test_one_seed_has_blank_ci(grid, tmp_path):
    cfg = grid["cfg"].replace(out=str(tmp_path / "out"), seed_list=[0], seeds=1)
    shutil.copytree(grid["cfg"]["out"], cfg["out"])
    rows = compare.finalize(cfg, stream=io.StringIO())
    assert all(r["seeds"] == 1 and math.isnan(r["test_accuracy_ci95"]) for r in rows)
    row = next(csv.DictReader(open(Path(cfg["out"]) / "results.csv")))
    assert row["test_accuracy_ci95"] == "" and row["test_accuracy_mean"] != ""
    assert json.loads((Path(cfg["out"]) / "results.json").read_text())["rows"][0][
        "test_accuracy_ci95"] is None


def test_saved_model_loads_in_fresh_process(grid, tmp_path):
    cfg = grid["cfg"]
    rec = json.loads((Path(cfg["out"]) / "runs" / "prelu-seed1.json").read_text())
    path = Path(rec["model_path"])  # absolute: found from any folder (the subprocess's cwd)
    assert path.is_absolute() and path.is_file()
    assert path == (Path(cfg["models_dir"]) / "mnist-mlp" / "prelu-seed1.keras").resolve()
    x = grid["data"]["x_test"]
    np.save(tmp_path / "x.npy", x)
    code = ("import sys, numpy as np, keras, keras_acts\n"
            "m = keras.saving.load_model(sys.argv[1])\n"
            "np.save(sys.argv[3], np.asarray(m.predict_on_batch(np.load(sys.argv[2]))))\n")
    env = dict(os.environ, KERAS_BACKEND=keras.backend.backend(), TF_CPP_MIN_LOG_LEVEL="3",
               PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, "-c", code, rec["model_path"], str(tmp_path / "x.npy"),
                           str(tmp_path / "p.npy")], capture_output=True, text=True,
                          timeout=300, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    probs = np.load(tmp_path / "p.npy")
    acc = float(np.mean(np.argmax(probs, 1) == grid["data"]["y_test"]))
    assert acc == pytest.approx(rec["metrics"]["test_accuracy"])
    here = keras.saving.load_model(path).predict_on_batch(x)
    np.testing.assert_allclose(probs, np.asarray(here), rtol=1e-5, atol=1e-6)


def test_same_seed_same_metrics(tmp_path):
    cfg = tiny_cfg(tmp_path, save_models=False)
    data = tiny_data(cfg)
    a = compare.train_one(cfg, "prelu", 3, data)
    b = compare.train_one(cfg, "prelu", 3, data)
    keys = ("test_accuracy", "macro_f1", "test_loss", "final_train_loss")
    assert [a["metrics"][k] for k in keys] == [b["metrics"][k] for k in keys]
    assert a["history"]["loss"] == b["history"]["loss"]
    c = compare.train_one(cfg, "prelu", 4, data)
    assert c["history"]["loss"] != a["history"]["loss"]


def test_one_cycle_schedule_matches_its_formula():
    peak, steps = 0.1, 100
    sched = compare.one_cycle(peak, steps)  # warm-up 20 steps from peak/25, cosine over 80
    for step in (0, 5, 10, 20, 40, 60, 90, 100):
        if step <= 20:
            want = peak / 25 + (peak - peak / 25) * step / 20
        else:
            want = peak * 0.5 * (1 + math.cos(math.pi * (step - 20) / 80))
        got = float(keras.ops.convert_to_numpy(sched(step)))
        assert got == pytest.approx(want, rel=1e-5, abs=1e-9), step


def test_label_smoothing_loss_and_flip_tta(tmp_path):
    cfg = tiny_cfg(tmp_path, label_smoothing=0.2, tta="flip", diagnostics=True, seeds=1)
    data = tiny_data(cfg)
    rec = compare.train_one(cfg, "relu", 0, data)
    model = keras.saving.load_model(rec["model_path"])
    loss = model.loss
    assert isinstance(loss, keras.losses.CategoricalCrossentropy)
    assert loss.get_config()["label_smoothing"] == pytest.approx(0.2)
    x, y = data["x_test"], data["y_test"]
    p = (keras.ops.convert_to_numpy(model(x)) + keras.ops.convert_to_numpy(model(x[:, :, ::-1]))) / 2
    assert rec["metrics"]["test_accuracy"] == pytest.approx(float(np.mean(p.argmax(1) == y)))
    nll = -np.log(np.clip(p[np.arange(len(y)), y], 1e-7, 1))
    assert rec["metrics"]["test_loss"] == pytest.approx(float(nll.mean()), rel=1e-5)
    assert rec["diagnostics"]  # the gradient probe took the one-hot labels
    with pytest.raises(ValueError, match="tta"):
        compare.predict_proba(model, x, tta="rotate")
    p_ = compare.build_parser()
    assert compare.resolve_config(p_.parse_args(["--tta", "none"]))["tta"] is None
    with pytest.raises(SystemExit):
        compare.resolve_config(p_.parse_args(["--label-smoothing", "1.5"]))


def test_diagnostics_recorded_when_available(tmp_path):
    pytest.importorskip("keras_acts.diagnostics")
    cfg = tiny_cfg(tmp_path, save_models=False, diagnostics=True)
    rec = compare.train_one(cfg, "relu", 0, tiny_data(cfg))
    assert rec["diagnostics"]
    json.dumps(rec["diagnostics"])


def test_native_bf16_cpu_reads_the_cpu_flags():
    from recipes.plan import native_bf16_cpu

    assert native_bf16_cpu("flags\t: fpu avx2 avx512f avx512_bf16 avx512_vnni\n")
    assert native_bf16_cpu("flags\t: fpu avx2 amx_bf16 amx_tile\n")
    assert not native_bf16_cpu("flags\t: fpu avx2 avx512f avx512_vnni\n")
    assert not native_bf16_cpu("flags\t: avx512_bf16x\n")  # whole flags only


@pytest.mark.parametrize("mode, backend, flags, expected", [
    ("off", "tensorflow", "avx512_bf16", "float32"),
    ("on", "tensorflow", "avx2", "mixed_bfloat16"),    # forced: emulated bfloat16 too
    ("auto", "tensorflow", "avx512f avx512_bf16", "mixed_bfloat16"),
    ("auto", "tensorflow", "avx512f", "float32"),      # no native bfloat16: float32
])
def test_mixed_precision_auto_follows_the_cpu(tmp_path, mode, backend, flags, expected):
    from recipes.plan import dtype_policy

    cfg = tiny_cfg(tmp_path, mixed_precision=mode, device="cpu", backend=backend)
    assert dtype_policy(cfg, cpuinfo=f"flags\t: fpu {flags}\n") == expected


def test_mixed_precision_setting_is_validated(tmp_path):
    assert tiny_cfg(tmp_path, mixed_precision=True).mixed_precision == "on"   # old configs
    assert tiny_cfg(tmp_path, mixed_precision=False).mixed_precision == "off"
    with pytest.raises(ValueError, match="mixed_precision must be"):
        tiny_cfg(tmp_path, mixed_precision="yes")
    parse = compare.build_parser().parse_args
    assert compare.resolve_config(parse(["--mixed-precision"])).mixed_precision == "on"
    assert compare.resolve_config(parse([])).mixed_precision == "off"
    cifar = compare.resolve_config(parse(["--dataset", "cifar10", "--model", "cnn"]))
    assert (cifar.mixed_precision, cifar.variant) == ("auto", "93")
    assert compare.resolve_config(parse(["--dataset", "cifar10", "--model", "cnn",
                                         "--mixed-precision", "off"])).mixed_precision == "off"


def test_mixed_precision_policy_is_applied(tmp_path):
    cfg = tiny_cfg(tmp_path, mixed_precision=True, device="cpu")
    before = dict(cfg)
    plan = plan_runs(cfg)
    assert (plan.dtype_policy, plan.elementwise_dtype) == ("mixed_bfloat16", "float32")  # CPU
    assert dict(cfg) == before  # run state is not written into the config: it cannot be
    with pytest.raises(AttributeError):   # dataclasses.FrozenInstanceError
        cfg.epochs = 2
    with pytest.raises(TypeError):
        cfg["model_options"]["width"] = 4
    assert cfg.replace(epochs=2).epochs == 2 and cfg.epochs == 1
    with pytest.raises(TypeError, match="no setting"):
        compare.Config.from_mapping({**cfg, "epoch": 3})
    rec = compare.train_one(cfg, "prelu", 0, tiny_data(cfg))
    assert rec["dtype_policy"] == "mixed_bfloat16"
    assert math.isfinite(rec["metrics"]["test_loss"])
    model = keras.saving.load_model(rec["model_path"])
    policies = {l.dtype_policy.name for l in model.layers}
    assert "mixed_bfloat16" in policies
    assert model.layers[-1].dtype_policy.name == "float32"  # float32 softmax output
    # on a CPU the activation layers compute in float32 (recipes.plan.elementwise_dtype),
    # and the saved model keeps that
    assert rec["elementwise_dtype"] == "float32"
    assert {l.dtype_policy.name for l in model.layers if type(l).__name__ == "PReLU"} == {"float32"}
