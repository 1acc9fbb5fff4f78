"""Choosing the device: CUDA when there is one (one of several claimed per job), else the CPU."""
import pytest
import torch

from convatlas.core import device, gpus
from convatlas.core.errors import ConfigError


@pytest.fixture(autouse=True)
def _release():
    yield
    gpus.release_devices()


def test_pick_device_claims_one_of_several_gpus(monkeypatch, tmp_path):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 4)
    monkeypatch.setenv("CONVATLAS_GPU_LOCKS", str(tmp_path))
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    assert [device.pick_device("auto") for _ in range(2)] == [torch.device("cuda", 0), torch.device("cuda", 1)]
    assert device.pick_device("cuda") == torch.device("cuda", 2)
    assert device.pick_device("cuda:3") == torch.device("cuda", 3)  # as given, no claim
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gpu-0.lock", "gpu-1.lock", "gpu-2.lock"]


def test_pick_device_on_a_machine_without_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert device.pick_device("auto") == torch.device("cpu")
    with pytest.raises(Exception, match="'cuda' was asked for"):
        device.pick_device("cuda")


def test_without_cuda_the_error_names_the_device_key(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ConfigError) as error:
        device.pick_device("cuda")
    assert error.value.key == "device"
    assert device.pick_device("cpu") == torch.device("cpu")


def test_one_gpu_is_cuda_0_without_a_claim(monkeypatch, tmp_path):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setenv("CONVATLAS_GPU_LOCKS", str(tmp_path))
    assert [device.pick_device("auto"), device.pick_device("cuda")] == [torch.device("cuda", 0)] * 2
    assert list(tmp_path.iterdir()) == []  # nothing locked


def test_set_threads_sets_torchs_threads_and_ignores_none():
    before = torch.get_num_threads()
    try:
        device.set_threads(1)
        assert torch.get_num_threads() == 1
        device.set_threads(None)
        device.set_threads(0)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
