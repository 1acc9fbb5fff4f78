"""The GPU token and the threads per heavy job, judged without torch."""
from convatlas.workflow.machine import cuda_present, gpu_request, heavy_job_threads


def test_no_device_files_means_no_gpu_token(tmp_path):
    assert not cuda_present(tmp_path, visible=None)
    assert gpu_request("auto", tmp_path, visible="0") == 0
    assert gpu_request("cpu", tmp_path, visible="0") == 0


def test_nvidia_or_rocm_device_files_mean_a_gpu_unless_hidden(tmp_path):
    (tmp_path / "nvidiactl").touch()  # the control file alone is not a GPU
    assert gpu_request("auto", tmp_path, visible="0") == 0
    (tmp_path / "nvidia0").touch()
    assert gpu_request("auto", tmp_path, visible="0,1") == 1
    assert gpu_request("auto", tmp_path, visible="") == 0 and gpu_request("auto", tmp_path, visible="-1") == 0
    assert gpu_request("cpu", tmp_path, visible="0") == 0  # the config wins
    amd = tmp_path / "amd"
    amd.mkdir()
    (amd / "kfd").touch()
    assert cuda_present(amd, visible="0")


def test_cuda_asked_for_holds_a_token_even_where_the_planner_sees_no_gpu(tmp_path):
    # a cluster login node plans jobs that run on GPU nodes
    assert gpu_request("cuda", tmp_path, visible="") == 1 and gpu_request("cuda:1", tmp_path, visible="") == 1


def test_threads_share_the_cores_between_jobs():
    assert [heavy_job_threads(c, gpu=0) for c in (1, 2, 4, 8, 16, 64)] == [1, 1, 1, 2, 4, 16]
    assert [heavy_job_threads(c, gpu=1) for c in (1, 2, 8)] == [1, 1, 4]
    assert heavy_job_threads(None, gpu=0) == 2 and heavy_job_threads(None, gpu=1, fallback=6) == 6


def test_job_threads_share_the_cores_on_one_machine_and_ask_the_cluster_settings_without_a_core_count():
    from convatlas.workflow.machine import JobThreads, job_threads

    assert job_threads(8, 0, False, 8, 4) == JobThreads(2, 2, 2, 2)  # 4 heavy jobs side by side
    assert job_threads(8, 0, True, 8, 4) == JobThreads(2, 8, 8, 2)  # the own-model run's alone jobs get all 8
    assert job_threads(8, 1, True, 8, 4) == JobThreads(4, 4, 4, 4)  # with a GPU: half the cores
    assert job_threads(None, 1, False, 8, 4) == JobThreads(4, 4, 8, 8)  # a cluster: the profile's numbers
