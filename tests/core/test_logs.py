"""A job's log: start-up time, messages, tracebacks and imports go to the rule's log file."""
import io
import subprocess
import sys
import time

from convatlas.core import logs
from convatlas.core.logs import HEAVY_MODULES, progress, seconds_since_process_start


def test_a_job_log_starts_with_its_start_up_time_and_ends_with_its_imports(tmp_path):
    log = tmp_path / "job.log"
    code = f"from convatlas.core.logs import log_to, work_starts; log_to({str(log)!r}); work_starts()"
    subprocess.run([sys.executable, "-c", code], check=True)
    lines = log.read_text().splitlines()
    assert lines[0].startswith("job start-up: ") and lines[0].endswith(" s from process start to the first line of work")
    assert 0 < float(lines[0].split()[2]) < 60
    assert lines[-1] == "job imported: none (of torch, torchvision, pandas, matplotlib)"


def run_job(code):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)


def test_messages_warnings_and_a_traceback_go_to_the_log_and_one_line_to_the_terminal(tmp_path):
    log = tmp_path / "job.log"
    code = (f"import logging, sys\nfrom convatlas.core.logs import log_to\nlog_to({str(log)!r}, 'job x')\n"
            "logging.info('hello from logging')\nprint('to stderr', file=sys.stderr)\nraise ValueError('bad thing')")
    result = run_job(code)
    text = log.read_text()
    assert result.returncode != 0
    assert "hello from logging" in text and "to stderr" in text
    assert "Traceback" in text and "ValueError: bad thing" in text
    assert "Traceback" not in result.stderr and "job x" in result.stderr  # the terminal gets one line naming the job


def test_the_log_is_appended_to(tmp_path):
    log = tmp_path / "job.log"
    log.write_text("earlier run\n")
    run_job(f"from convatlas.core.logs import log_to; log_to({str(log)!r})")
    lines = log.read_text().splitlines()
    assert lines[0] == "earlier run" and lines[-1].startswith("job imported: ")


def test_seconds_since_process_start_grows_with_the_process():
    result = run_job("import time; time.sleep(0.3)\nfrom convatlas.core.logs import seconds_since_process_start as s\n"
                     "print(s())")
    assert 0.3 <= float(result.stdout) < 60
    here = seconds_since_process_start()
    time.sleep(0.05)
    assert seconds_since_process_start() > here > 0


def test_work_starts_writes_nothing_outside_a_job(monkeypatch):
    monkeypatch.setattr(logs, "_JOB_LOG", [])
    logs.work_starts()  # no log: a no-op, no error


def test_the_import_report_lists_the_heavy_modules_loaded():
    handle = io.StringIO()
    logs._report_imports(handle)
    loaded = [name for name in HEAVY_MODULES if name in sys.modules]
    assert handle.getvalue() == f"job imported: {', '.join(loaded) or 'none'} (of {', '.join(HEAVY_MODULES)})\n"
    handle.close()
    logs._report_imports(handle)  # a closed log (the job closed it): nothing written, no error


def test_progress_yields_every_item_and_can_be_silent(capsys):
    assert list(progress(range(5), "counting", enabled=False)) == [0, 1, 2, 3, 4]
    assert capsys.readouterr().err == ""
    assert list(progress(iter("abc"), "letters", total=3)) == ["a", "b", "c"]
    assert "letters" in capsys.readouterr().err
