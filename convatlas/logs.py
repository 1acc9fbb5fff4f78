"""Sending a job's messages and progress bars to its log file."""
from __future__ import annotations

import logging
import os
import sys


def log_to(path: str | os.PathLike) -> None:
    """Send stderr (tqdm, warnings, tracebacks) and the logging module to ``path``, line-buffered."""
    handle = open(path, "a", buffering=1, encoding="utf-8")  # noqa: SIM115 - lives as long as the job
    sys.stderr = handle
    logging.basicConfig(stream=handle, level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", force=True)
