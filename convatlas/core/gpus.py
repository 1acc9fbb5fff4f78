"""One GPU per running job on a machine with several.

Snakemake's ``--resources gpu=N`` lets at most N GPU jobs run at once but does not say which device
each gets. A job claims one: an exclusive ``flock`` on a lock file per physical device, held until
the process ends (the kernel drops it even after a crash), the first free device in order. As
Snakemake never starts more GPU jobs than devices, a free one is normally there at once; a job
waits only while another workflow on the same machine holds them all.

Devices are named by their physical id (the entries of ``CUDA_VISIBLE_DEVICES`` when it is set, as
Slurm does for each job, else the index), so that jobs which see different devices as ``cuda:0``
never wait for each other.
"""
from __future__ import annotations

import fcntl
import os
import tempfile
import time
from pathlib import Path
from typing import IO

_held: list[IO[str]] = []  # the claimed lock files of this process: kept open until it ends


def physical_ids(count: int, visible: str | None = None) -> list[str]:
    """The physical id of each of the ``count`` devices a process sees (``visible``: the value of
    ``CUDA_VISIBLE_DEVICES``, read from the environment when None)."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES") if visible is None else visible
    ids = [entry.strip() for entry in visible.split(",") if entry.strip()] if visible else []
    return ids[:count] if len(ids) >= count else [str(i) for i in range(count)]


def lock_dir() -> Path:
    """Where the device locks live: ``CONVATLAS_GPU_LOCKS``, else a folder of this user in the
    temporary directory (node-local on a cluster)."""
    configured = os.environ.get("CONVATLAS_GPU_LOCKS")
    return Path(configured) if configured else Path(tempfile.gettempdir()) / f"convatlas-gpus-{os.getuid()}"


def claim_device(count: int, folder: Path | None = None, visible: str | None = None,
                 timeout: float = 24 * 3600.0, poll: float = 1.0) -> int:
    """Claim the first free of ``count`` devices for the rest of this process and return its index
    (as in ``cuda:<index>``). Raises ``TimeoutError`` when none is free within ``timeout`` seconds."""
    if count < 1:
        raise ValueError("no device to claim")
    folder = lock_dir() if folder is None else folder
    folder.mkdir(parents=True, exist_ok=True)
    ids = physical_ids(count, visible)
    deadline = time.monotonic() + timeout
    while True:
        for index, physical in enumerate(ids):
            handle = open(folder / f"gpu-{physical}.lock", "a+")  # noqa: SIM115 - held until the process ends
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                continue
            handle.seek(0)
            handle.truncate()
            handle.write(f"{os.getpid()}\n")
            handle.flush()
            _held.append(handle)
            return index
        if time.monotonic() >= deadline:
            raise TimeoutError(f"all {count} GPUs ({', '.join(ids)}) stayed claimed by other jobs for "
                               f"{timeout:.0f} s (locks in {folder})")
        time.sleep(poll)


def release_devices() -> None:
    """Give back every device this process claimed (for tests and long-lived processes)."""
    while _held:
        _held.pop().close()
