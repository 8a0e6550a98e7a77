import atexit
import gc
import os
import shutil
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
if "JAX_COMPILATION_CACHE_DIR" not in os.environ:
    # JAX compiles each new model's train / predict step with XLA (~1 s on these CPUs) although
    # many tests build the same model; with a compilation cache (keyed on the compiled program,
    # not on the Python objects) the rebuilds load in ~0.1 s. One cache per test session, shared
    # with the processes the tests start (they inherit the environment), removed at exit: a run
    # never reads what an earlier run compiled. Ignored by TensorFlow and torch.
    _jax_cache = tempfile.mkdtemp(prefix="keras-acts-jax-cache-")
    atexit.register(shutil.rmtree, _jax_cache, ignore_errors=True)
    os.environ.update(JAX_COMPILATION_CACHE_DIR=_jax_cache,
                      JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS="0",
                      JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES="0")

# JAX draws random numbers with a counter-based threefry that XLA compiles once per shape; in
# its "partitionable" form (JAX's default) that compile takes 4.4-5.1 s per new shape on these
# CPUs, in the classic form 0.3 s -- and every weight shape a test initialises is one (the
# small ResNet of test_models took 22 s to build, 5 s after). The classic form draws other bits
# from a seed; no test depends on which (seeded runs are compared with each other, in one
# setting: the processes the tests start inherit it). Users' JAX keeps its default.
os.environ.setdefault("JAX_THREEFRY_PARTITIONABLE", "0")

import pytest  # noqa: E402


def _controller(config):
    """pytest-xdist's controlling process: it hands the tests to its workers and runs none."""
    return bool(config.getoption("numprocesses", None)) and not hasattr(config, "workerinput")


def pytest_configure(config):
    if _controller(config):
        return  # no Keras here: the workers import it (three imports on 2 cores: one too many)
    import keras
    import keras_acts  # noqa: F401  (installs the string names)

    keras.ops.convert_to_tensor([0.0])  # let the backend create its runtime objects now ...
    gc.collect()
    gc.freeze()  # ... and move everything imported so far out of the collector's way: a full
    # gc.collect with TensorFlow / JAX / torch loaded walks millions of their objects (~0.5 s);
    # after the freeze it walks only what the tests created


def _backend():
    import keras

    return keras.backend.backend()


@pytest.fixture(autouse=True)
def _clear_session():
    yield
    # Keras's global state (layer-name counters, the functional-API scope) is reset after every
    # test; the full garbage collection Keras adds to it is not: on TensorFlow every traced
    # train step leaves ~6,000 objects alive for good (tf.custom_gradient registers each
    # gradient function in TF's global registry, which holds its FuncGraph), so a collection
    # per test walks a heap that grows all session -- it was over 1 s per test at the end
    import keras

    keras.backend.clear_session(free_memory=False)


@pytest.fixture(autouse=True, scope="module")
def _collect_per_module():
    yield
    import keras

    keras.backend.clear_session()  # one full collection per module frees what its tests dropped,
    gc.freeze()  # and what survives it (the leaked graphs above) is not walked again


@pytest.fixture
def eager_jax():
    """JAX compiles every jitted function (jax.nn.*, their gradients) per input shape and
    dtype; tests that call many activations once each run faster eagerly (primitives are
    compiled once and shared). Same XLA kernels, op by op. A no-op on other backends."""
    if _backend() != "jax":
        yield
        return
    import jax

    with jax.disable_jit():
        yield


#: the modules outside ``bash tests/run.sh --quick`` (pytest -m "not slow"): they train recipe
#: models, start processes or render figures; the quick tier is the activation library itself
#: (less the tests marked slow one by one, with their reason: fresh processes, compiled
#: training runs, the 20-layer statistics of test_init)
SLOW_MODULES = {'test_cifar_recipe', 'test_cli_errors', 'test_compare', 'test_data',
                'test_devices', 'test_diagnostics', 'test_distributed', 'test_feed',
                'test_fresh_process', 'test_layers', 'test_models', 'test_plot',
                'test_progress', 'test_report', 'test_swap', 'test_userdata', 'test_wheel'}


#: the modules that take longest (training, processes), in about that order: they run first, so
#: that with several workers (tests/run.sh: pytest-xdist, a module per worker at a time) no
#: worker is left alone on a long module at the end; the other modules follow in file order
LONG_FIRST = ['test_distributed', 'test_cifar_recipe', 'test_cli_errors', 'test_fresh_process',
              'test_layers', 'test_wheel', 'test_userdata', 'test_compare', 'test_swap',
              'test_progress', 'test_plot', 'test_catalogue', 'test_registry', 'test_models',
              'test_sequential', 'test_feed', 'test_report', 'test_init', 'test_gradients']


def _module(item):
    return item.module.__name__.rsplit(".", 1)[-1]


def pytest_collection_modifyitems(config, items):
    rank = {m: i for i, m in enumerate(LONG_FIRST)}
    items.sort(key=lambda i: rank.get(_module(i), len(rank)))  # stable: file order otherwise
    for item in items:
        if _module(item) in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)
    # tests/run.sh names the backend that runs the backend-independent tests (one_backend);
    # under the other backends they are deselected, not skipped: they ran once already
    first = os.environ.get("KERAS_ACTS_ONE_BACKEND")
    if first and first != _backend():
        elsewhere = [i.get_closest_marker("one_backend") is not None for i in items]
        if any(elsewhere):
            config.hook.pytest_deselected(items=[i for i, e in zip(items, elsewhere) if e])
            items[:] = [i for i, e in zip(items, elsewhere) if not e]


def pytest_report_header(config):
    from importlib.metadata import version

    backend = _backend() if "keras" in sys.modules else os.environ.get("KERAS_BACKEND")
    return f"keras {version('keras')}, backend {backend or 'from ~/.keras/keras.json'}"
