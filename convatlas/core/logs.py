"""A job's log: messages, warnings, tracebacks and progress bars go to the rule's log file."""
from __future__ import annotations

import atexit
import logging
import os
import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")
HEAVY_MODULES = ("torch", "torchvision", "pandas", "matplotlib")  # seconds to import each
_JOB_LOG: list = []  # the open log of this job's process, once log_to has run


def seconds_since_process_start() -> float | None:
    """Wall seconds since this process started (Linux /proc), or None where that is unknown."""
    try:
        with open("/proc/self/stat", encoding="ascii") as handle:
            start_ticks = int(handle.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime", encoding="ascii") as handle:
            uptime = float(handle.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return uptime - start_ticks / os.sysconf("SC_CLK_TCK")


def log_to(path: str | os.PathLike, job: str | None = None) -> None:
    """Send stderr and the logging module to ``path`` (line-buffered); at exit, record which
    slow-to-import libraries the job imported. An uncaught error's traceback goes there too, with
    one line naming it and ``job`` on the terminal (:mod:`convatlas.core.failures`)."""
    from .failures import report_failures

    handle = open(path, "a", buffering=1, encoding="utf-8")  # noqa: SIM115 - lives as long as the job
    report_failures(handle, str(path), job or "a convatlas job")
    sys.stderr = handle
    logging.basicConfig(stream=handle, level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", force=True)
    _JOB_LOG.append(handle)
    atexit.register(_report_imports, handle)


def work_starts() -> None:
    """Record, in the job's log, the job's start-up: seconds from process start to its first line of
    work, after the imports it needs (no-op outside a job started by :func:`log_to`)."""
    startup = seconds_since_process_start()
    if _JOB_LOG and startup is not None:
        _JOB_LOG[-1].write(f"job start-up: {startup:.2f} s from process start to the first line of work\n")


def _report_imports(handle) -> None:
    """Record which slow-to-import libraries the job ended up importing."""
    loaded = [name for name in HEAVY_MODULES if name in sys.modules]
    if not handle.closed:
        handle.write(f"job imported: {', '.join(loaded) or 'none'} (of {', '.join(HEAVY_MODULES)})\n")


def progress(items: Iterable[T], desc: str, total: int | None = None, enabled: bool = True) -> Iterator[T]:
    """``items`` with a tqdm progress bar on stderr (the job's log): refreshed every second on a
    terminal, every 15 s in a log file."""
    from tqdm import tqdm

    return iter(tqdm(items, desc=desc, total=total, file=sys.stderr, disable=not enabled,
                     mininterval=1.0 if sys.stderr.isatty() else 15.0))
