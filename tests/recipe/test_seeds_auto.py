"""--seeds auto through the grid runner (recipes.compare.run_grid) and the command line:
rounds, stop reasons, the round history in the results and report, --budget, --resume, and
bad input. Training is replaced by a trainer that draws each run's test accuracy from a known
distribution (activation effect + the seed's shared effect + noise), so the rounds' decisions
are known; real training of a grid is shown by test_compare and the MNIST page
(benchmarks/results/mnist-quick-auto-cpu-tensorflow.md). Nothing here depends on the Keras
backend (marker one_backend: tests/run.sh runs it under its first backend only)."""
import csv
import io
import json
import time

import numpy as np
import pytest

from recipes import compare
from recipes.data import make_synthetic

pytestmark = pytest.mark.one_backend

#: true accuracy differences to relu: sigmoid far worse, tanh worse, elu equal
EFFECTS = {"relu": 0.0, "sigmoid": -0.03, "tanh": -0.006, "elu": 0.0}


def fake_trainer(calls, sleep=0.0, wall=1.0):
    def train(cfg, act, seed, data, placement=None, plan=None):
        calls.append((act, seed))
        time.sleep(sleep)
        rng = np.random.default_rng([seed, sorted(EFFECTS).index(act)])
        shared = 0.002 * np.random.default_rng(seed).standard_normal()
        acc = 0.96 + EFFECTS[act] + shared + 0.0007 * rng.standard_normal()
        return {"status": "done", "activation": act, "spec": act, "slug": act, "seed": seed,
                "history": {"accuracy": [acc], "loss": [0.1], "val_accuracy": [acc],
                            "val_loss": [0.1]},
                "metrics": {"test_accuracy": acc, "macro_f1": acc, "test_loss": 1.0 - acc,
                            "epochs_to_99pct": 1, "params": 10, "diverged": False},
                "diagnostics": None, "replicas": 1, "wall_seconds": wall}
    return train


def cfg_for(tmp, *extra):
    args = compare.build_parser().parse_args([
        "--activations", ",".join(EFFECTS), "--seeds", "auto", "--epochs", "1",
        "--model-option", "width=8", "--model-option", "depth=1", "--out", str(tmp / "out"),
        "--no-diagnostics", "--no-save-models", "--tensorboard", "off", "--device", "cpu",
        *extra])
    return compare.resolve_config(args)


@pytest.fixture
def fake(monkeypatch):
    calls = []
    monkeypatch.setattr(compare, "train_one", fake_trainer(calls))
    return calls


def run(cfg):
    data = compare.prepare_arrays(cfg, make_synthetic("mnist", 32, 16, seed=0))
    stream = io.StringIO()
    res = compare.run_grid(cfg, data=data, stream=stream)
    return res, stream.getvalue()


def test_rounds_settle_stop_and_record_why(tmp_path, fake):
    cfg = cfg_for(tmp_path)
    assert cfg.seeds_auto and cfg.seeds == 5 and cfg.seed_list == tuple(range(14))
    res, log = run(cfg)
    seeds = {r["activation"]: r["seeds"] for r in res["rows"]}
    stop = {r["activation"]: r.get("stop") for r in res["rows"]}
    verdict = {r["activation"]: r["verdict"] for r in res["rows"]}
    # sigmoid and tanh are settled in the first round (5 seeds), never trained again
    assert verdict["sigmoid"] == verdict["tanh"] == "worse"
    assert seeds["sigmoid"] == seeds["tanh"] == 5 and stop["sigmoid"] == "settled"
    assert "round 1 (5 seeds of relu)" in log
    # elu equals relu: stopped as futile or at max seeds, never called different
    assert verdict["elu"] == "indistinguishable" and stop["elu"] in ("futile", "max seeds")
    # the baseline has as many seeds as the longest-running activation
    assert seeds["relu"] == max(seeds.values())
    assert sorted(fake) == sorted(set(fake))  # no run trained twice
    assert len(fake) == sum(seeds.values())
    # results.csv and results.json say it; report.md shows the rounds
    out = tmp_path / "out"
    rows = {r["activation"]: r for r in csv.DictReader(open(out / "results.csv"))}
    assert rows["tanh"]["stop"] == "settled" and rows["tanh"]["seeds"] == "5"
    assert float(rows["tanh"]["p_repeated"]) < 0.05
    seq = json.loads((out / "results.json").read_text())["sequential"]
    assert seq["looks"] == [5, 8, 11, 14] and seq["rounds"][0]["seeds"] == 5
    assert seq["rounds"][0]["decisions"]["sigmoid"]["stop"] == "settled"
    report = (out / "report.md").read_text()
    assert "Round by round" in report and "group-sequential" in report
    assert (out / "report_files" / "rounds.png").stat().st_size > 0


def test_budget_stops_between_runs_and_resume_goes_on(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(compare, "train_one", fake_trainer(calls, sleep=0.05, wall=0.05))
    res, log = run(cfg_for(tmp_path, "--budget", "0.3s"))
    # the projection (elapsed + median run) stops it before the 20 runs of round 1
    assert 2 <= len(calls) < 20, len(calls)
    assert "budget:" in log and "--resume" in log
    assert {r.get("stop") for r in res["rows"] if r["verdict"] != "baseline"} <= {"budget", None}
    first = list(calls)
    # --resume continues the rounds: nothing finished is trained again
    monkeypatch.setattr(compare, "train_one", fake_trainer(calls))
    res, _ = run(cfg_for(tmp_path, "--resume"))
    again = calls[len(first):]
    assert not set(again) & set(first) and again
    assert {r["activation"]: r["verdict"] for r in res["rows"]}["sigmoid"] == "worse"


def test_a_fixed_grid_resumed_as_auto_tops_up_to_the_first_round(tmp_path, fake):
    run(cfg_for(tmp_path, "--seeds", "2"))  # (the last --seeds wins)
    assert len(fake) == 8
    run(cfg_for(tmp_path, "--resume"))
    assert sorted(set(fake)) == sorted(fake)                      # seeds 0-1 not redone
    assert {s for a, s in fake[8:28]} == {2, 3, 4}                 # round 1 completed first


@pytest.mark.parametrize("argv,message", [
    (["--seeds", "many"], "expected a number of seeds or 'auto'"),
    (["--seeds", "auto", "--max-seeds", "3"], "--max-seeds must be at least 5"),
    (["--max-seeds", "9"], "--max-seeds goes with --seeds auto"),
    (["--seeds", "auto", "--budget", "5q"], "expected a duration such as 90s, 45m or 2h"),
    (["--seeds", "auto", "--budget", "0m"], "expected a duration"),
    (["--budget", "1h", "--engine", "ray"], "--budget is for --engine local"),
])
def test_bad_auto_settings_get_one_sentence(argv, message, capsys, tmp_path):
    with pytest.raises(SystemExit) as e:
        compare.main(["--preset", "quick", "--out", str(tmp_path / "o"), *argv])
    # argparse's usage error (stderr) or resolve_config's sentence (the exit message)
    assert message in capsys.readouterr().err + str(e.value.code)
    assert not (tmp_path / "o" / "runs").exists()  # nothing trained


def test_durations_parse():
    p = compare.build_parser()
    for text, seconds in (("90s", 90), ("45m", 2700), ("2h", 7200), ("1.5h", 5400), ("30", 30)):
        assert p.parse_args(["--budget", text]).budget == seconds


def test_resume_refuses_runs_of_another_precision(tmp_path, fake):
    # a grid resumed on another machine, where --mixed-precision auto means bfloat16 (or the
    # other way round): its finished runs were trained in another precision -> one sentence
    run(cfg_for(tmp_path, "--seeds", "1"))
    for p in (tmp_path / "out" / "runs").glob("*.json"):
        rec = json.loads(p.read_text())
        p.write_text(json.dumps({**rec, "dtype_policy": "mixed_bfloat16"}))
    with pytest.raises(compare.GridError, match="trained with dtype policy mixed_bfloat16, "
                                                "this machine's plan is float32"):
        run(cfg_for(tmp_path, "--resume"))
    n = len(fake)
    assert n == 4  # nothing trained by the refused resume
