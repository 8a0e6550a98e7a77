"""Scale-out, for real on one CPU: data-parallel training over 2 devices carved out of the
host (JAX DataParallel over 2 XLA host devices, TensorFlow MirroredStrategy over 2 logical
CPUs), each compared with a 1-device run at the same global batch; the batch rules that make
any batch size work on N devices; and the grid on a local Ray instance (results equal to the
local engine's, a killed worker retried, every run finished exactly once).

Every training on several devices or processes runs in a subprocess (JAX reads the device
count when it starts; TensorFlow's logical devices must be set before it initialises), bounded
by a timeout; the one-device references run in the test's process (``compare_here``)."""
import contextlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from recipes import devices, train
from test_compare import restored_global_state

ROOT = Path(__file__).resolve().parents[2]
BACKEND = keras.backend.backend()


@pytest.fixture(scope="module")
def npz(tmp_path_factory):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((600, 8, 8, 1)).astype("float32")
    y = np.argmax(x.reshape(600, -1) @ rng.standard_normal((64, 4)), 1)
    path = tmp_path_factory.mktemp("data") / "d.npz"
    np.savez(path, x_train=x[:500], y_train=y[:500], x_test=x[500:], y_test=y[500:])
    return path


#: the grid of every run here: one seed of a small MLP, two epochs, nothing saved
SMALL_GRID = ("--model", "mlp", "--model-option", "width=16", "--seeds", "1", "--epochs", "2",
              "--no-save-models", "--no-diagnostics", "--device", "cpu")


def _records(out):
    return [json.loads(f.read_text()) for f in sorted((Path(out) / "runs").glob("*.json"))]


def compare_cli(out, *args, backend=BACKEND, timeout=240, env=None):
    """``python -m recipes.compare`` in a process of its own (device flags act at start)."""
    cmd = [sys.executable, "-m", "recipes.compare", *SMALL_GRID, "--out", str(out),
           *map(str, args)]
    env = {**os.environ, "KERAS_BACKEND": backend, "CUDA_VISIBLE_DEVICES": "",
           "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})}
    env.pop("XLA_FLAGS", None)
    p = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-3000:]
    return _records(out)


def compare_here(out, *args):
    """The same command in this process (one device, as the test session has): its records
    and what it printed."""
    from recipes import compare

    with restored_global_state(), contextlib.redirect_stdout(io.StringIO()) as said:
        assert compare.main([*SMALL_GRID, "--out", str(out), *map(str, args)]) == 0
    return _records(out), said.getvalue()


@pytest.mark.skipif(BACKEND not in ("jax", "tensorflow"), reason="data parallelism: JAX, TF")
def test_data_parallel_on_two_cpu_devices_matches_one_device(npz, tmp_path):
    # both through Keras's own input handling (one device would get recipes.feed's tf.data
    # pipeline on TensorFlow, with another shuffle)
    common = ("--data", npz, "--activations", "relu", "--batch-size", "100", "--feed", "numpy")
    one = compare_here(tmp_path / "one", *common)[0][0]  # the session's one device
    two = compare_cli(tmp_path / "two", *common, "--cpu-devices", "2")[0]
    assert (one["replicas"], two["replicas"]) == (1, 2)
    assert ("DataParallel over 2 CPUs" if BACKEND == "jax"
            else "MirroredStrategy over 2 logical CPUs") in two["device"]
    assert two["batch_size_used"] == one["batch_size_used"] == 100
    # the same global batch: the same loss curve, up to float32 summation order
    np.testing.assert_allclose(two["history"]["loss"], one["history"]["loss"], rtol=1e-5)
    assert abs(two["metrics"]["test_accuracy"] - one["metrics"]["test_accuracy"]) <= 0.011
    results = json.loads((tmp_path / "two" / "results.json").read_text())
    rows = results["rows"] if isinstance(results, dict) else results
    assert rows[0]["replicas"] == 2


@pytest.mark.skipif(BACKEND != "jax", reason="the IndivisibleError is JAX's")
def test_any_batch_size_trains_on_two_devices(npz, tmp_path):
    # batch 125 on 2 devices: JAX cannot split it (IndivisibleError before the fix)
    rec = compare_cli(tmp_path / "o", "--data", npz, "--activations", "relu", "--batch-size",
                      "125", "--cpu-devices", "2")[0]
    assert rec["replicas"] == 2 and rec["batch_size_used"] == 126
    assert rec["n_train_used"] == 500 // 126 * 126
    assert np.isfinite(rec["history"]["loss"]).all()


def test_replica_batches_and_eval_batch_rules():
    assert train.replica_batches(500, 100, 2, 0) == (100, None)
    bs, keep = train.replica_batches(500, 125, 2, 0)
    assert bs == 126 and len(keep) == 378 and len(set(keep)) == 378
    assert np.array_equal(keep, np.sort(keep))
    assert np.array_equal(keep, train.replica_batches(500, 125, 2, 0)[1])  # seeded
    assert not np.array_equal(keep, train.replica_batches(500, 125, 2, 1)[1])
    assert train.replica_batches(500, 125, 1, 0) == (125, None)  # one device: as asked
    for n, r in ((10000, 1), (10000, 2), (10000, 8), (100, 2), (999, 2), (12345, 4)):
        b = train._eval_batch_size(n, replicas=r)
        assert b % r == 0 and b >= r
        if n % r == 0:
            assert n % b == 0 or n > 1024


def test_cpu_devices_errors():
    with pytest.raises(devices.DeviceError, match=">= 1"):
        devices.split_host_cpu(0, BACKEND)
    with pytest.raises(devices.DeviceError, match="one device per process"):
        devices.split_host_cpu(2, "torch")
    devices.split_host_cpu(1, BACKEND)  # one device: nothing to do


def test_select_strategy_uses_several_logical_cpus():
    plan = devices.select_strategy("tensorflow", "cpu", ["CPU:0", "CPU:1"])
    assert plan.strategy == "mirrored" and plan.replicas == 2
    assert devices.select_strategy("jax", "auto", ["CPU:0", "CPU:1"]).replicas == 2
    assert devices.select_strategy("tensorflow", "cpu", ["CPU:0"]).replicas == 1


# --------------------------------------------------------------------------- Ray
def _free_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def ray_head(tmp_path_factory):
    """A local Ray instance with 2 CPUs on 127.0.0.1, stopped afterwards. (The engine does
    not depend on the backend: its tests run once, under torch, whose import is the lightest
    of the three for the driver and each worker; TensorFlow's and JAX's own process setup is
    tested above and in test_devices.)"""
    if BACKEND != "torch":
        pytest.skip("the Ray engine is backend-independent: tested under torch")
    pytest.importorskip("ray")
    ray_bin = Path(sys.executable).with_name("ray")
    port = _free_port()
    tmp = tmp_path_factory.mktemp("ray")
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "KERAS_BACKEND": BACKEND,
           "RAY_AUTH_MODE": "disabled"}   # loopback only, a throw-away instance
    start = subprocess.run(
        [str(ray_bin), "start", "--head", "--num-cpus", "2", "--node-ip-address", "127.0.0.1",
         "--port", str(port), "--include-dashboard", "false", "--disable-usage-stats",
         "--temp-dir", str(tmp)], env=env, capture_output=True, text=True, timeout=120)
    assert start.returncode == 0, start.stdout[-2000:] + start.stderr[-2000:]
    try:
        yield f"127.0.0.1:{port}"
    finally:
        subprocess.run([str(ray_bin), "stop", "--force"], env=env, capture_output=True,
                       timeout=120)


#: long enough (40 epochs) for a worker to be seen busy and killed mid-run
RAY_GRID = ("--activations", "relu,tanh", "--seeds", "2", "--batch-size", "100",
            "--epochs", "40")


def _by_run(records):
    return {(r["activation"], r["seed"]): r for r in records}


def test_ray_grid_survives_a_killed_worker_and_equals_the_local_grid(npz, tmp_path, ray_head):
    """The grid as Ray tasks on a local instance, one busy worker killed mid-run: Ray retries
    that run, every run finishes and is reported once, and every run -- the retried one too --
    equals the local engine's (same seeds, same runs); the output folder is the local
    engine's contract (``--resume`` finds it done)."""
    import signal
    import time

    local = _by_run(compare_here(tmp_path / "local", "--data", npz, *RAY_GRID)[0])
    out = tmp_path / "ray"
    cmd = [sys.executable, "-m", "recipes.compare", *SMALL_GRID, "--out", str(out), "--data",
           str(npz), *RAY_GRID, "--engine", "ray", "--ray-address", ray_head]
    env = {**os.environ, "KERAS_BACKEND": BACKEND, "CUDA_VISIBLE_DEVICES": "",
           "TF_CPP_MIN_LOG_LEVEL": "3"}
    driver = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    killed = None
    try:
        deadline = time.time() + 180
        while killed is None and time.time() < deadline and driver.poll() is None:
            ps = subprocess.run(["ps", "-eo", "pid=,args="], capture_output=True, text=True)
            # a busy worker's title is "ray::<task name>": the run it is training
            busy = [line.split(None, 1) for line in ps.stdout.splitlines()
                    if "ray::" in line and "seed" in line and "IDLE" not in line]
            if busy:
                time.sleep(1.0)  # let it get into the training
                pid, title = busy[0]
                os.kill(int(pid), signal.SIGKILL)
                killed = title
            time.sleep(0.2)
        log, _ = driver.communicate(timeout=300)
    finally:
        if driver.poll() is None:
            driver.kill()
    assert killed is not None, "no busy Ray worker was seen to kill"
    assert driver.returncode == 0, log[-3000:]
    records = _records(out)
    ray = _by_run(records)
    assert len(records) == 4 and set(ray) == set(local) == {
        (a, s) for a in ("relu", "tanh") for s in (0, 1)}
    for k, rec in ray.items():
        assert rec["engine"] == "ray" and rec["status"] == "done"
        assert rec["metrics"]["epochs_run"] == 40
        assert rec["history"]["loss"] == local[k]["history"]["loss"], k  # same seeds: same runs
        assert rec["metrics"]["test_accuracy"] == local[k]["metrics"]["test_accuracy"]
    # each run reported once by the driver, the killed one included (retried by Ray)
    lines = [line for line in log.splitlines() if line.startswith("[")]
    assert len(lines) == 4 and len({line.split("]")[1].split("accuracy")[0] for line in lines}) == 4
    # the output folder is the same contract: --resume with the local engine finds it done
    # (in this process: nothing is left to train)
    again, said = compare_here(out, "--data", npz, *RAY_GRID, "--resume")
    assert "(4 already finished)" in said, said[-2000:]
    assert _by_run(again) == ray  # nothing trained again, nothing rewritten


# --------------------------------------------------------------------------- several processes
@pytest.mark.skipif(BACKEND != "jax", reason="several processes: JAX keras.distribution")
def test_two_processes_on_loopback_train_one_model(npz, tmp_path):
    import glob

    port = _free_port()
    out, models = tmp_path / "out", tmp_path / "models"
    env = {**os.environ, "KERAS_BACKEND": "jax", "CUDA_VISIBLE_DEVICES": "",
           "TF_CPP_MIN_LOG_LEVEL": "3"}
    env.pop("XLA_FLAGS", None)
    procs = [subprocess.Popen(
        [sys.executable, "-m", "recipes.compare", "--data", str(npz), "--model", "mlp",
         "--model-option", "width=16", "--activations", "relu", "--seeds", "1", "--epochs", "2",
         "--batch-size", "100", "--device", "cpu", "--no-diagnostics", "--out", str(out),
         "--models-dir", str(models), "--coordinator", f"127.0.0.1:{port}",
         "--num-processes", "2", "--process-id", str(i)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for i in (0, 1)]
    try:
        logs = [p.communicate(timeout=240)[0] for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    assert [p.returncode for p in procs] == [0, 0], logs[0][-2000:] + logs[1][-2000:]
    recs = [json.loads((out / "runs" / "relu-seed0.json").read_text()),
            json.loads((out / "process-1" / "runs" / "relu-seed0.json").read_text())]
    assert [(r["replicas"], r["processes"]) for r in recs] == [(2, 2), (2, 2)]
    assert recs[0]["history"]["loss"] == recs[1]["history"]["loss"]   # one model, two feeds
    import keras_acts

    paths = [glob.glob(str(models / "**" / "relu-seed0.keras"), recursive=True)[0],
             glob.glob(str(out / "process-1" / "**" / "relu-seed0.keras"), recursive=True)[0]]
    w0, w1 = (keras_acts.load_model(p).get_weights() for p in paths)
    assert len(w0) == len(w1) > 0
    for a, b in zip(w0, w1):
        np.testing.assert_array_equal(a, b)   # the processes agree on the trained weights


def test_process_flags_are_checked_before_anything_runs(tmp_path):
    from recipes import compare

    parse = compare.build_parser().parse_args
    for argv, match in ((["--coordinator", "127.0.0.1:1"], "go together"),
                        (["--num-processes", "2", "--process-id", "2",
                          "--coordinator", "127.0.0.1:1"], "process-id"),
                        (["--num-processes", "2", "--coordinator", "127.0.0.1:1", "--engine",
                          "ray"], "engine local"),
                        (["--ray-address", "127.0.0.1:1"], "engine ray")):
        with pytest.raises(SystemExit, match=match):
            compare.resolve_config(parse(argv))
    cfg = compare.resolve_config(parse(["--num-processes", "2", "--process-id", "1",
                                        "--coordinator", "127.0.0.1:1", "--out", "o"]))
    assert cfg.out == os.path.join("o", "process-1")   # not the chief: a copy beside it
    with pytest.raises(devices.DeviceError, match="KERAS_BACKEND=jax"):
        devices.join_processes("127.0.0.1:1", 2, 0, "tensorflow")
