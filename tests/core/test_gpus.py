"""Each GPU job claims its own device; the claim is a lock the kernel drops when the job ends."""
import subprocess
import sys
import textwrap

import pytest

from convatlas.core import gpus


@pytest.fixture(autouse=True)
def _release():
    yield
    gpus.release_devices()


def test_physical_ids_follow_cuda_visible_devices():
    assert gpus.physical_ids(3, "") == ["0", "1", "2"]
    assert gpus.physical_ids(2, "3, 5") == ["3", "5"]
    assert gpus.physical_ids(2, "GPU-aa,GPU-bb,GPU-cc") == ["GPU-aa", "GPU-bb"]
    assert gpus.physical_ids(2, "7") == ["0", "1"]  # fewer entries than devices: the indices


def test_claims_in_turn_get_different_devices_and_a_released_one_is_reused(tmp_path):
    assert [gpus.claim_device(3, tmp_path, "") for _ in range(3)] == [0, 1, 2]
    with pytest.raises(TimeoutError, match=r"all 3 GPUs \(0, 1, 2\) stayed claimed"):
        gpus.claim_device(3, tmp_path, "", timeout=0.0)
    gpus.release_devices()
    assert gpus.claim_device(3, tmp_path, "") == 0


def test_a_device_held_by_another_process_is_skipped_until_it_ends(tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys
            from pathlib import Path
            from convatlas.core.gpus import claim_device
            print(claim_device(2, Path({str(tmp_path)!r}), "4,6"), flush=True)
            sys.stdin.readline()
        """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "0"
        assert (tmp_path / "gpu-4.lock").read_text().strip() == str(holder.pid)
        assert gpus.claim_device(2, tmp_path, "4,6") == 1  # physical 6
        gpus.release_devices()
    finally:
        holder.communicate("\n", timeout=30)  # the holder ends: the kernel drops its lock
    assert gpus.claim_device(2, tmp_path, "4,6") == 0


def test_other_jobs_seeing_another_physical_device_as_cuda0_do_not_wait(tmp_path):
    assert gpus.claim_device(1, tmp_path, "2") == 0
    assert gpus.claim_device(1, tmp_path, "3") == 0  # a Slurm job given physical GPU 3
