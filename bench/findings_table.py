"""The findings of a finished run (every model's ``results/<model>/findings.json``) as one Markdown
table: claim, then per model the estimate with its 95% interval, n and verdict. The README quotes it.

    .venv/bin/python bench/findings_table.py [workdir]
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from convatlas.analyses.findings import Finding


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workdir", nargs="?", default=".", type=Path)
    args = parser.parse_args()
    runs = {path.parent.name: json.loads(path.read_text()) for path in sorted(args.workdir.glob("results/*/findings.json"))}
    if not runs:
        raise SystemExit(f"no results/*/findings.json under {args.workdir}: run the atlas first")
    models = list(runs)
    print("| claim | " + " | ".join(f"`{m}` (epoch {runs[m]['epoch']})" for m in models) + " |")
    print("|---|" + "---|" * len(models))
    for number, first in enumerate(runs[models[0]]["findings"]):
        cells = []
        for model in models:
            finding = Finding(**runs[model]["findings"][number])
            cells.append(f"**{finding.verdict}**" + ("" if finding.verdict == "not measured"
                                                     else f": {finding.result}, n = {finding.n:,} {finding.n_of}"))
        print(f"| {first['reference']}: {first['claim']} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
