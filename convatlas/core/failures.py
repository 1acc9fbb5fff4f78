"""How a job ends when something goes wrong: its whole traceback goes to its log; the terminal gets
one line a user can act on (what failed, the thing at fault, where the traceback is); Ctrl-C leaves
one line in the log and no traceback. ``CONVATLAS_DEBUG=1`` (the config's ``debug: true``) also
prints the traceback on the terminal."""
from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Mapping
from typing import Any, TextIO

from .errors import ConvatlasError

DEBUG_VARIABLE = "CONVATLAS_DEBUG"


def debugging() -> bool:
    """Whether tracebacks are wanted on the terminal too."""
    return os.environ.get(DEBUG_VARIABLE, "") not in ("", "0", "false", "False")


def describe_job(rule: str, wildcards: Mapping[str, Any]) -> str:
    """A job as the terminal names it: ``rule index (model=mine, epoch=0)``; the train job of a model
    analysed as loaded says that it loads, not trains."""
    fields = ", ".join(f"{key}={value}" for key, value in wildcards.items())
    what = f"rule {rule}" + (f" ({fields})" if fields else "")
    if rule == "train" and str(wildcards.get("epoch")) == "0":
        what += ", which loads the model as it is and measures it on its images"
    return what


def failure_line(error: BaseException, job: str, log_path: str) -> str:
    """The terminal's account of a failed job: the error's own message first (it names the key, file
    or layer at fault), then the job and where its traceback is."""
    message = str(error) if isinstance(error, ConvatlasError) else f"{type(error).__name__}: {error}"
    hint = "" if debugging() else f" (to see it here: snakemake --config debug=True, or {DEBUG_VARIABLE}=1)"
    return f"convatlas: {message}\n    in {job}; full traceback in {log_path}{hint}\n"


def report_failures(log: TextIO, log_path: str, job: str, terminal: TextIO | None = None) -> None:
    """Install the job's handler of uncaught exceptions (see the module docstring)."""
    terminal = terminal or sys.__stderr__

    def handle(kind, error, trace) -> None:
        if issubclass(kind, KeyboardInterrupt):
            log.write("interrupted (Ctrl-C): this job's outputs were not written; a rerun redoes it\n")
            if debugging():
                traceback.print_exception(kind, error, trace, file=terminal)
            return
        traceback.print_exception(kind, error, trace, file=log)
        log.flush()
        if debugging():
            traceback.print_exception(kind, error, trace, file=terminal)
        terminal.write(failure_line(error, job, log_path))
        terminal.flush()

    sys.excepthook = handle
