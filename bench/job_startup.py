"""Job start-up per rule: seconds from a job's process start to its first line of work, and which
slow-to-import libraries (torch, torchvision, pandas, matplotlib) it imported.

Every job records both in its log (``convatlas.core.logs.log_to``); this reads the logs of a
finished run and prints one line per rule (median and largest start-up over its jobs).

    python bench/job_startup.py            # the logs/ of the run in this directory
    python bench/job_startup.py path/to/workdir
"""
from __future__ import annotations

import argparse
import re
import statistics
from collections import defaultdict
from pathlib import Path

STARTUP = re.compile(r"^job start-up: ([0-9.]+) s")
IMPORTED = re.compile(r"^job imported: (.*) \(of ")


def read_logs(workdir: Path) -> dict[str, dict]:
    """Per rule: start-up seconds of every job and the union of heavy modules its jobs imported."""
    rules: dict[str, dict] = defaultdict(lambda: {"startup": [], "imported": set()})
    for log in sorted((workdir / "logs").glob("*/*.log")):
        rule = rules[log.parent.name]
        for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
            if match := STARTUP.match(line):
                rule["startup"].append(float(match.group(1)))
            elif match := IMPORTED.match(line):
                rule["imported"].update(name for name in match.group(1).split(", ") if name != "none")
    return {name: rule for name, rule in rules.items() if rule["startup"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("workdir", nargs="?", default=".", type=Path)
    args = parser.parse_args()
    rules = read_logs(args.workdir)
    if not rules:
        raise SystemExit(f"no job logs with a start-up line under {args.workdir / 'logs'}: run the workflow first")
    print(f"{'rule':22s} {'jobs':>4s} {'median s':>9s} {'max s':>7s}  imported")
    for name, rule in sorted(rules.items(), key=lambda item: statistics.median(item[1]["startup"])):
        times = rule["startup"]
        print(f"{name:22s} {len(times):4d} {statistics.median(times):9.2f} {max(times):7.2f}  "
              f"{', '.join(sorted(rule['imported'])) or '-'}")


if __name__ == "__main__":
    main()
