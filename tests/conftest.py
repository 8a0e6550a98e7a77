import gc
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import pytest  # noqa: E402

import keras_acts  # noqa: E402,F401  (installs the string names)

BACKEND = keras.backend.backend()
keras.ops.convert_to_tensor([0.0])  # let the backend create its runtime objects now ...
gc.collect()
gc.freeze()  # ... and move everything imported so far out of the collector's way: a full
# gc.collect with TensorFlow / JAX / torch loaded walks millions of their objects (~0.5 s);
# after the freeze it walks only what the tests created


@pytest.fixture(autouse=True)
def _clear_session():
    yield
    keras.backend.clear_session()  # Keras's global state; its gc.collect is cheap after the freeze


def pytest_report_header(config):
    return f"keras {keras.__version__}, backend {BACKEND}"
