"""What the machine running the workflow offers: whether jobs hold a GPU token, how many threads each.

Read when the Snakefile is parsed, so nothing here imports torch (that costs seconds per parse):
the presence of a CUDA device is judged from the device files its driver creates.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

GPU_DEVICE_FILES = ("nvidia[0-9]*", "kfd")  # NVIDIA's per-GPU files; AMD ROCm's compute device


def cuda_present(dev: str | Path = "/dev", visible: str | None = None) -> bool:
    """Whether a CUDA (or ROCm) device is usable here: a GPU device file exists under ``dev`` and
    ``CUDA_VISIBLE_DEVICES`` (``visible``; read from the environment when None) does not hide them all."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES") if visible is None else visible
    if visible is not None and visible.strip() in ("", "-1"):
        return False
    return any(any(Path(dev).glob(pattern)) for pattern in GPU_DEVICE_FILES)


def gpu_request(device: str, dev: str | Path = "/dev", visible: str | None = None) -> int:
    """The ``gpu`` resource a heavy job asks for under the config's ``device``: 1 when it will run
    on a GPU (``cuda``, ``cuda:<i>``, or ``auto`` with a device present), else 0, so that on a
    machine without one the GPU token never serialises CPU work. Cluster profiles set it per rule."""
    if device == "cpu":
        return 0
    if device.startswith("cuda"):
        return 1
    return int(cuda_present(dev, visible))


def alone_job_threads(cores: int | None, gpu: int, fallback: int = 2) -> int:
    """Threads for a heavy job that no other job can run beside (the index pass of the only
    checkpoint, which every later job waits for): every core (with a GPU, half of them, as for
    :func:`heavy_job_threads`)."""
    if not cores:
        return fallback
    return max(1, cores // 2) if gpu else cores


def heavy_job_threads(cores: int | None, gpu: int, side_by_side: int = 4, fallback: int = 2) -> int:
    """Threads for a heavy (torch) job. On the CPU the networks here are small and torch's threads
    scale poorly, so the cores are shared out between ``side_by_side`` jobs: 1 thread each up to
    ``side_by_side`` cores, then ``cores // side_by_side``. With a GPU, GPU jobs run one at a time
    and get half the cores (the rest serve the CPU jobs beside them). ``cores`` is None when
    Snakemake submits to a cluster without a core count: ``fallback`` (profiles set their own)."""
    if not cores:
        return fallback
    if gpu:
        return max(1, cores // 2)
    return max(1, cores // side_by_side)


@dataclass(frozen=True)
class JobThreads:
    """Threads of the heavy (torch) jobs: ``analysis`` for most, ``critical`` for the index pass
    every later job waits for, ``training`` for the rule train and ``extra_training`` for the models
    trained beside the analyses (transfer_source)."""

    analysis: int
    critical: int
    training: int
    extra_training: int


def job_threads(cores: int | None, gpu: int, one_pass: bool, cluster_training: int, cluster_analysis: int) -> JobThreads:
    """The threads of every kind of heavy job. With a core count (one machine) they share out the
    cores (:func:`heavy_job_threads`; a ``one_pass`` run's training and index jobs run alone and get
    every core, :func:`alone_job_threads`). Without one (Snakemake submitting to a cluster) each job
    asks for ``cluster_training`` or ``cluster_analysis`` CPUs."""
    if not cores:
        return JobThreads(cluster_analysis, cluster_analysis, cluster_training, cluster_training)
    analysis = heavy_job_threads(cores, gpu)
    critical = alone_job_threads(cores, gpu) if one_pass else analysis
    return JobThreads(analysis, critical, critical, analysis)
