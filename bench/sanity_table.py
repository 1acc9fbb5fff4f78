"""The sanity checks of a finished run's projections, as a table: model, layer, kind of picture,
median tile correlation (image dependence) and median rank correlation with the randomised model
(model dependence), each with its channel count, the verdict, and what the layer's pages lead with.

    .venv/bin/python bench/sanity_table.py [workdir] [--markdown]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from convatlas.analyses.sanity import layer_verdicts, lead_picture
from convatlas.results.artifacts import Projections


def rows(workdir: Path) -> list[dict]:
    """One row per (model, last epoch, layer, kind of picture) of the run in ``workdir``."""
    table = []
    for model in sorted(p for p in (workdir / "results").iterdir() if p.is_dir() and (p / "checkpoints").is_dir()):
        epochs = sorted((p for p in model.glob("epoch-*") if (p / "deconv").is_dir()), key=lambda p: int(p.name[6:]))
        if not epochs:
            continue
        for path in sorted(epochs[-1].glob("deconv/*.npz")):
            checks, filters = Projections.read_checks(path)
            if filters:
                table.append({"model": model.name, "layer": path.stem, "kind": "(first layer: its filter)"})
                continue
            verdicts = layer_verdicts(checks)
            lead = lead_picture(verdicts)
            for verdict in verdicts:
                table.append({"model": model.name, "layer": path.stem, **verdict, "lead": lead})
    return table


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workdir", nargs="?", default=".")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    found = rows(Path(args.workdir))
    if not found:
        print("no projections with checks under results/", file=sys.stderr)
        return 1
    if args.markdown:
        print("| model | layer | picture | tile correlation (channels) | with weights re-initialised (channels) | verdict | lead |")
        print("|---|---|---|---:|---:|---|---|")
    for r in found:
        if "tile_correlation" not in r:
            line = [r["model"], r["layer"], r["kind"], "", "", "", "filter"]
        else:
            line = [r["model"], r["layer"], r["kind"], f"{r['tile_correlation']:.2f} ({r['tile_channels']})",
                    f"{r['random_correlation']:.2f} ({r['random_channels']})", "passes" if r["passes"] else "fails", r["lead"]]
        print(("| " + " | ".join(line) + " |") if args.markdown else "  ".join(line))
    return 0


if __name__ == "__main__":
    sys.exit(main())
