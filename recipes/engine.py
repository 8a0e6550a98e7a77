"""Where a grid's runs execute: ``local`` (one after another, in this process) or ``ray``
(each (activation, seed) run one Ray task, on this machine or a cluster).

Both engines yield ``(activation, seed, record)`` as runs finish; each run's record is written
to ``<out>/runs/<activation>-seed<seed>.json`` atomically by whoever trained it, so the output
folder is the contract between the driver and the workers: on a cluster it must be on a
filesystem every worker sees (NFS, a shared volume), and ``--resume``, the results, the
report and the statistics read it alike whichever engine wrote it.

Ray: a task whose worker dies (killed, out of memory, node lost) is retried up to
``--max-retries`` times; an attempt that finds the run's record already written returns it
instead of training again, so a run is never redone or lost. A Python exception inside a
training is not retried (it would fail the same way); the grid goes on with the other runs
and then reports which failed. ``ray`` is an optional extra, imported only for
``--engine ray``.
"""
from __future__ import annotations

from .runs import GridError, load_run, run_path, write_json

__all__ = ["local_runs", "ray_runs"]


def local_runs(cfg, plan, pending, data, placement, train=None):
    """Train ``pending`` ``[(activation, slug, seed), ...]`` one after another with ``train``
    (default ``recipes.train.train_one``) as the run plan ``plan`` says."""
    if train is None:
        from .train import train_one as train

    for act, slug, seed in pending:
        rec = train(cfg, act, seed, data, placement, plan)
        write_json(run_path(cfg.out, slug, seed), rec)
        yield act, seed, rec


def _ray_run(cfg, plan, act: str, slug: str, seed: int, data) -> dict:
    """One run inside a Ray worker (module level: workers import it by name)."""
    from .devices import setup
    from .plan import enable_determinism
    from .train import train_one

    path = run_path(cfg.out, slug, seed)
    done = load_run(path)
    if done:   # an earlier attempt finished and wrote it before its worker died
        return done
    enable_determinism(plan)
    rec = train_one(cfg, act, seed, data, setup(cfg.device), plan)
    rec["engine"] = "ray"
    write_json(path, rec)
    return rec


def _import_ray():
    try:
        import ray
    except ImportError:
        raise GridError("--engine ray needs Ray: pip install -e '.[distributed]' (or pip "
                        "install 'ray[default]')") from None
    return ray


def ray_runs(cfg, plan, pending, data, stream=None):
    """Run ``pending`` as Ray tasks, each as the run plan ``plan`` says; yield ``(activation,
    seed, record)`` as they finish. The Config and the plan go to the workers as they are
    (both are frozen dataclasses that pickle)."""
    import os

    import keras

    ray = _import_ray()
    started_here = not ray.is_initialized()
    if started_here:
        env = {k: os.environ[k] for k in ("KERAS_BACKEND", "TF_CPP_MIN_LOG_LEVEL",
                                          "KERAS_ACTS_DATA", "KERAS_ACTS_CACHE")
               if k in os.environ}
        env["KERAS_BACKEND"] = keras.backend.backend()
        # workers import recipes by name: make this checkout importable there too
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH"))
                                            if p)
        ray.init(address=cfg.ray_address, runtime_env={"env_vars": env},
                 include_dashboard=False, log_to_driver=cfg.verbose,
                 logging_level="ERROR")
    task = ray.remote(_ray_run)
    try:
        data_ref = ray.put(data)
        refs = {}
        for act, slug, seed in pending:
            ref = task.options(name=f"{slug} seed {seed}", num_cpus=cfg.cpus_per_run,
                               num_gpus=cfg.gpus_per_run, max_retries=cfg.max_retries,
                               retry_exceptions=False).remote(cfg, plan, act, slug, seed, data_ref)
            refs[ref] = (act, seed)
        failed = []
        while refs:
            ready, _ = ray.wait(list(refs), num_returns=1)
            for ref in ready:
                act, seed = refs.pop(ref)
                try:
                    rec = ray.get(ref)
                except ray.exceptions.RayError as e:
                    first = str(e).strip().splitlines()[-1][:300] if str(e).strip() else ""
                    failed.append(f"{act} seed {seed} ({type(e).__name__}: {first})")
                    continue
                yield act, seed, rec
        if failed:
            raise GridError(f"{len(failed)} run(s) failed under Ray: " + "; ".join(failed)
                            + ". The finished runs are saved; rerun with --resume.")
    finally:
        if started_here:
            ray.shutdown()
