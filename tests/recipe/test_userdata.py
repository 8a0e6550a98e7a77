"""Your model and your data: --data (npz, image folder), --model-file, --model-fn, --task
regression, the checks that run before training, and --dry-run."""
import io
import json
import contextlib
from pathlib import Path

import keras
import numpy as np
import pytest

from recipes import compare, userdata
from recipes.data import DataError
from test_compare import restored_global_state


@pytest.fixture(autouse=True)
def _restore_global_state():
    with restored_global_state():
        yield


def arrays(n=60, d=6, k=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d)).astype("float32")
    w = rng.standard_normal((d, k))
    return x, (x @ w).argmax(1), (x @ w[:, 0]).astype("float32")


@pytest.fixture
def files(tmp_path):
    x, y, yr = arrays()
    np.savez(tmp_path / "cls.npz", x_train=x[:40], y_train=y[:40], x_test=x[40:], y_test=y[40:])
    np.savez(tmp_path / "reg.npz", x_train=x[:40], y_train=yr[:40], x_test=x[40:], y_test=yr[40:])
    keras.utils.set_random_seed(0)
    cls = keras.Sequential([keras.Input((6,)), keras.layers.Dense(8, activation="relu"),
                            keras.layers.Dense(8), keras.layers.Activation("tanh"),
                            keras.layers.Dense(3, activation="softmax")])
    cls.compile(optimizer=keras.optimizers.Adam(5e-3), loss="sparse_categorical_crossentropy")
    cls.save(tmp_path / "cls.keras")
    inp = keras.Input((6,))
    reg = keras.Model(inp, keras.layers.Dense(1)(keras.layers.Dense(8, activation="elu")(inp)))
    reg.save(tmp_path / "reg.keras")
    (tmp_path / "build.py").write_text(
        "import keras, keras_acts\n"
        "def build(activation):\n"
        "    i = keras.Input((6,))\n"
        "    h = keras.layers.Dense(8)(i)\n"
        "    h = keras_acts.as_layer(activation)(h)\n"
        "    return keras.Model(i, keras.layers.Dense(3)(h))  # logits\n")
    return tmp_path


def run(tmp, *args):
    out = io.StringIO()
    argv = [*args, "--seeds", "2", "--epochs", "2", "--batch-size", "16",
            "--out", str(tmp / "out"), "--models-dir", str(tmp / "models"), "--overwrite",
            "--no-diagnostics"]
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        rc = compare.main(argv)
    return rc, out.getvalue()


def results(tmp):
    return json.loads((tmp / "out" / "results.json").read_text())["rows"]


def test_model_file_classification_grid(files):
    rc, text = run(files, "--model-file", str(files / "cls.keras"), "--data",
                   str(files / "cls.npz"), "--activations", "relu,gelu")
    assert rc == 0, text
    assert "dense.activation: relu" in text and "activation.layer: tanh" in text
    rows = results(files)
    assert {r["activation"] for r in rows} == {"relu", "gelu"}
    gelu = next(r for r in rows if r["activation"] == "gelu")
    assert gelu["verdict"] in ("better", "worse", "indistinguishable") and gelu["paired_seeds"] == 2
    saved = keras.saving.load_model(files / "models" / "cls-cls" / "gelu-seed1.keras")
    import keras_acts

    assert [s.activation for s in keras_acts.activation_sites(saved)] == ["gelu", "gelu"]
    assert isinstance(saved.optimizer, keras.optimizers.Adam)  # the file's compile settings
    assert saved.optimizer.get_config()["learning_rate"] == pytest.approx(5e-3)


@pytest.mark.one_backend  # the user's model trains on every backend above; MSE/MAE/RMSE are NumPy
def test_model_file_regression_grid(files):
    rc, text = run(files, "--model-file", str(files / "reg.keras"), "--data",
                   str(files / "reg.npz"), "--task", "regression", "--activations", "relu,tanh")
    assert rc == 0, text
    rows = results(files)
    rec = json.loads((files / "out" / "runs" / "tanh-seed0.json").read_text())
    m = rec["metrics"]
    assert m["test_rmse"] == pytest.approx(np.sqrt(m["test_loss"]))
    assert "test_accuracy" not in m and m["test_mae"] <= m["test_rmse"] + 1e-9
    # the RMSE of the saved model recomputed by hand
    model = keras.saving.load_model(rec["model_path"])
    z = np.load(files / "reg.npz")
    pred = keras.ops.convert_to_numpy(model(z["x_test"]))[:, 0]
    assert m["test_rmse"] == pytest.approx(float(np.sqrt(np.mean((pred - z["y_test"]) ** 2))),
                                           rel=1e-4)
    assert all(np.isfinite(r["test_rmse_mean"]) for r in rows)
    md = (files / "out" / "results.md").read_text()
    assert "test RMSE" in md and "Δ RMSE vs baseline" in md


def test_model_fn_and_logits(files):
    rc, text = run(files, "--model-fn", f"{files / 'build.py'}:build", "--data",
                   str(files / "cls.npz"), "--activations", "relu,prelu")
    assert rc == 0, text
    rec = json.loads((files / "out" / "runs" / "prelu-seed0.json").read_text())
    model = keras.saving.load_model(rec["model_path"])
    z = np.load(files / "cls.npz")
    logits = keras.ops.convert_to_numpy(model(z["x_test"]))
    acc = float(np.mean(logits.argmax(1) == z["y_test"]))
    assert rec["metrics"]["test_accuracy"] == pytest.approx(acc)  # softmax of logits
    assert any("alpha" in w.path for w in model.weights)  # the learnable layer was built in


@pytest.mark.one_backend  # how --model-fn is imported; test_model_fn_and_logits trains per backend
def test_model_fn_by_module_name(files, monkeypatch):
    """``--model-fn package.module:function`` (the form the help names first) imports the
    module by name (it raised UnboundLocalError before 0.2: only file paths worked)."""
    pkg = files / "mypkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "nets.py").write_text((files / "build.py").read_text())
    monkeypatch.syspath_prepend(str(files))
    rc, text = run(files, "--model-fn", "mypkg.nets:build", "--data", str(files / "cls.npz"),
                   "--activations", "relu")
    assert rc == 0, text
    assert json.loads((files / "out" / "runs" / "relu-seed0.json").read_text())["status"] == "done"
    rc, text = run(files, "--model-fn", "mypkg.nope:build", "--data", str(files / "cls.npz"),
                   "--activations", "relu")
    assert rc == 2 and "cannot load build from mypkg.nope" in text and "Traceback" not in text


@pytest.mark.one_backend  # data and argument checks: nothing here depends on the backend
def test_image_folder(tmp_path):
    rng = np.random.default_rng(0)
    for c in ("cat", "dog"):
        (tmp_path / "imgs" / c).mkdir(parents=True)
        for i in range(10):
            img = rng.integers(0, 255, (12, 12, 3)).astype("uint8")
            img[..., 0] = 255 if c == "cat" else 0
            keras.utils.save_img(tmp_path / "imgs" / c / f"{i}.png", img)
    d = userdata.load_user_data(str(tmp_path / "imgs"), image_size=(8, 8), test_split=0.3)
    assert d["x_train"].shape[1:] == (8, 8, 3) and d["classes"] == ["cat", "dog"]
    assert len(d["y_test"]) == 6 and sorted(set(d["y_test"])) == [0, 1]
    rc, text = run(tmp_path, "--data", str(tmp_path / "imgs"), "--image-size", "8,8",
                   "--model", "mlp", "--model-option", "width=8", "--activations", "relu,elu",
                   "--preprocess", "unit")
    assert rc == 0, text
    assert len(results(tmp_path)) == 2


@pytest.mark.one_backend  # data and argument checks: nothing here depends on the backend
@pytest.mark.parametrize("bad,message", [
    (dict(y_train=np.zeros(5)), "x_train has 40 examples but y_train has 5"),
    (dict(x_test=np.zeros((20, 7), "float32")), "x_test examples have shape (7,)"),
    (dict(x_train=np.full((40, 6), np.nan, "float32")), "x_train holds 240 NaN or infinite"),
    (dict(y_train=np.full(40, 0.5)), "non-integer labels"),
    (dict(y_train=np.full(40, -1)), "negative labels"),
    (dict(y_train=np.ones((40, 3))), "rows are not one-hot"),
])
def test_bad_data_is_one_sentence(bad, message):
    x, y, _ = arrays()
    a = dict(x_train=x[:40], y_train=y[:40], x_test=x[40:], y_test=y[40:], **{})
    a.update(bad)
    with pytest.raises(DataError, match=message.replace("(", r"\(").replace(")", r"\)")):
        userdata.check_arrays(a, "classification", "--data d.npz")


@pytest.mark.one_backend  # data and argument checks: nothing here depends on the backend
def test_one_hot_labels_become_ids_and_model_checks(files):
    x, y, _ = arrays()
    eye = np.eye(3)
    d = userdata.check_arrays(dict(x_train=x, y_train=eye[y], x_test=x, y_test=y),
                              "classification", "w")
    np.testing.assert_array_equal(d["y_train"], y)
    assert d["num_classes"] == 3
    model = keras.saving.load_model(files / "cls.keras")
    d2 = userdata.check_arrays(dict(x_train=x[:, :5], y_train=y, x_test=x[:, :5], y_test=y),
                               "classification", "w")
    with pytest.raises(DataError, match=r"takes inputs of shape \(6,\) but the data's examples "
                                        r"have shape \(5,\)"):
        userdata.check_model_fits(model, d2, "classification")
    d3 = userdata.check_arrays(dict(x_train=x, y_train=y + 2, x_test=x, y_test=y), "classification", "w")
    with pytest.raises(DataError, match="3 outputs but the labels go up to 4"):
        userdata.check_model_fits(model, d3, "classification")


@pytest.mark.one_backend  # data and argument checks: nothing here depends on the backend
def test_bad_inputs_fail_before_training(files):
    rc, text = run(files, "--model-file", str(files / "cls.keras"), "--data",
                   str(files / "reg.npz"), "--activations", "relu")
    assert rc == 2 and "non-integer labels" in text and "--task regression" in text
    assert not (files / "out" / "runs").exists()
    with pytest.raises(SystemExit, match="missing.npz: no such file or folder"):
        run(files, "--model-file", str(files / "cls.keras"), "--data", str(files / "missing.npz"),
            "--activations", "relu")  # checked with the command line, before Keras starts
    (files / "table.csv").write_text("a,b\n1,2\n")
    with pytest.raises(SystemExit, match=r"table.csv: not an .npz archive \(a .csv file\)"):
        run(files, "--data", str(files / "table.csv"), "--model", "mlp")
    np.savez(files / "partial.npz", x_train=np.zeros((3, 6)))
    rc, text = run(files, "--data", str(files / "partial.npz"), "--model", "mlp")
    assert rc == 2 and "missing arrays" in text


@pytest.mark.one_backend  # data and argument checks: nothing here depends on the backend
def test_dry_run_lists_sites_and_trains_nothing(files):
    rc, text = run(files, "--model-file", str(files / "cls.keras"), "--data",
                   str(files / "cls.npz"), "--dry-run")
    assert rc == 0
    assert "2 activation site(s) to swap" in text and "dense.activation: relu" in text
    assert not (files / "out" / "runs").exists()
