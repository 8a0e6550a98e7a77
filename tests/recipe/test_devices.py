"""recipes.devices: strategy selection from injected device lists (pure, CPU-only)."""
from types import SimpleNamespace

import keras
import pytest

from recipes.devices import DeviceError, Plan, select_strategy, setup

CPU = ["CPU:0"]
GPU1 = ["CPU:0", "GPU:0"]
GPU2 = ["CPU:0", "GPU:0", "GPU:1"]


@pytest.mark.parametrize("device, devices, strategy, kind, n", [
    ("auto", CPU, "default", "cpu", 1),
    ("cpu", CPU, "default", "cpu", 1),
    ("auto", GPU1, "default", "gpu", 1),
    ("gpu", GPU1, "default", "gpu", 1),
    ("auto", GPU2, "mirrored", "gpu", 2),
    ("cpu", GPU2, "one_device", "cpu", 1),
    ("tpu", CPU, "tpu", "tpu", 1),  # TPU nodes appear only after the resolver connects
    ("auto", ["CPU:0", "TPU:0", "TPU:1"], "tpu", "tpu", 1),
])
def test_tensorflow_plans(device, devices, strategy, kind, n):
    plan = select_strategy("tensorflow", device, devices)
    assert isinstance(plan, Plan)
    assert (plan.strategy, plan.device, plan.replicas) == (strategy, kind, n)
    assert plan.description


def test_tensorflow_mirrored_uses_all_gpus():
    plan = select_strategy("tensorflow", "gpu", ["CPU:0"] + [f"GPU:{i}" for i in range(4)])
    assert plan.strategy == "mirrored" and plan.devices == ("GPU:0", "GPU:1", "GPU:2", "GPU:3")
    assert plan.replicas == 4 and "MirroredStrategy" in plan.description


@pytest.mark.parametrize("backend", ["tensorflow", "jax", "torch"])
def test_missing_gpu_is_a_clear_error(backend):
    with pytest.raises(DeviceError, match=r"--device gpu.*no GPU.*visible devices: CPU:0"):
        select_strategy(backend, "gpu", CPU)


@pytest.mark.parametrize("device, devices, strategy, n", [
    ("auto", ["CPU:0"], "single", 1),
    ("auto", ["CPU:0", "CPU:1"], "data_parallel", 2),
    ("auto", ["CPU:0", "GPU:0", "GPU:1"], "data_parallel", 2),
    ("cpu", ["CPU:0", "GPU:0", "GPU:1"], "single", 1),
    ("tpu", ["CPU:0"] + [f"TPU:{i}" for i in range(8)], "data_parallel", 8),
])
def test_jax_plans(device, devices, strategy, n):
    plan = select_strategy("jax", device, devices)
    assert (plan.strategy, plan.replicas) == (strategy, n)


def test_jax_missing_tpu():
    with pytest.raises(DeviceError, match="tpu"):
        select_strategy("jax", "tpu", CPU)


def test_torch_plans():
    assert select_strategy("torch", "auto", CPU).devices == ("cpu",)
    plan = select_strategy("torch", "auto", GPU2)
    assert plan.devices == ("cuda:0",) and plan.notes  # more GPUs: a note, one is used
    assert select_strategy("torch", "cpu", GPU2).device == "cpu"
    with pytest.raises(DeviceError, match="torch"):
        select_strategy("torch", "tpu", CPU)


def test_device_objects_are_understood():
    tf_like = [SimpleNamespace(device_type="CPU", name="/physical_device:CPU:0"),
               SimpleNamespace(device_type="GPU", name="/physical_device:GPU:0"),
               SimpleNamespace(device_type="GPU", name="/physical_device:GPU:1")]
    assert select_strategy("tensorflow", "auto", tf_like).devices == ("GPU:0", "GPU:1")
    jax_like = [SimpleNamespace(platform="gpu", id=0), SimpleNamespace(platform="gpu", id=1)]
    assert select_strategy("jax", "gpu", jax_like).devices == ("GPU:0", "GPU:1")


def test_bad_device_name():
    with pytest.raises(ValueError, match="--device"):
        select_strategy("tensorflow", "npu", CPU)


def test_setup_on_this_machine():
    placement = setup("cpu")
    assert placement.plan.device == "cpu" and placement.replicas == 1
    with placement.scope():
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    assert model.count_params() == 8


def test_setup_gpu_absent_raises():
    from recipes.devices import available_devices

    if any("GPU" in str(getattr(d, "device_type", getattr(d, "platform", d))).upper()
           for d in available_devices(keras.backend.backend())):
        pytest.skip("a GPU is visible")
    with pytest.raises(DeviceError):
        setup("gpu")
