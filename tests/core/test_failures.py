"""A failed job: the traceback to its log, one actionable line to the terminal; Ctrl-C: one line, no traceback."""
import io
import sys

import pytest

from convatlas.core.errors import DatasetError
from convatlas.core.failures import describe_job, report_failures


@pytest.fixture
def hook(monkeypatch):
    """Installs the handler on fresh log and terminal buffers; returns (raise_into_hook, log, terminal)."""
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # restored after the test
    monkeypatch.delenv("CONVATLAS_DEBUG", raising=False)
    log, terminal = io.StringIO(), io.StringIO()
    report_failures(log, "logs/train/mine-0.log", describe_job("train", {"model": "mine", "epoch": "0"}), terminal)

    def fail(error):
        try:
            raise error
        except BaseException as caught:
            sys.excepthook(type(caught), caught, caught.__traceback__)

    return fail, log, terminal


def test_a_data_error_names_the_file_first_and_leaves_the_traceback_in_the_log(hook):
    fail, log, terminal = hook
    fail(DatasetError("cannot read image photos/cats/1.jpg: image file is truncated"))
    lines = terminal.getvalue().splitlines()
    assert lines[0] == "convatlas: cannot read image photos/cats/1.jpg: image file is truncated"
    assert "rule train (model=mine, epoch=0), which loads the model as it is" in lines[1]
    assert "full traceback in logs/train/mine-0.log" in lines[1] and "Traceback" not in terminal.getvalue()
    assert "Traceback (most recent call last)" in log.getvalue() and "DatasetError" in log.getvalue()


def test_an_unexpected_error_is_named_by_its_type(hook):
    fail, log, terminal = hook
    fail(ZeroDivisionError("division by zero"))
    assert terminal.getvalue().startswith("convatlas: ZeroDivisionError: division by zero\n")


def test_ctrl_c_leaves_one_line_in_the_log_and_nothing_on_the_terminal(hook):
    fail, log, terminal = hook
    fail(KeyboardInterrupt())
    assert terminal.getvalue() == "" and "Traceback" not in log.getvalue()
    assert log.getvalue() == "interrupted (Ctrl-C): this job's outputs were not written; a rerun redoes it\n"


def test_debug_shows_the_traceback_on_the_terminal_too(hook, monkeypatch):
    fail, _, terminal = hook
    monkeypatch.setenv("CONVATLAS_DEBUG", "1")
    fail(DatasetError("cannot read image x.jpg"))
    text = terminal.getvalue()
    assert "Traceback (most recent call last)" in text and text.rstrip().splitlines()[-2].startswith("convatlas: cannot read image x.jpg")
