import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import pytest  # noqa: E402

import keras_acts  # noqa: E402,F401  (installs the string names)

BACKEND = keras.backend.backend()


@pytest.fixture(autouse=True)
def _clear_session():
    yield
    keras.backend.clear_session()


def pytest_report_header(config):
    return f"keras {keras.__version__}, backend {BACKEND}"
