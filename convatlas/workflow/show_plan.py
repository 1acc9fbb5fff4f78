"""Print what a run of a config would do, without running anything: the plan the workflow prints
before its first job (layers analysed and left out, work, time and disk per model).

    python -m convatlas.workflow.show_plan [config.yaml] [--cores N] [--gpu]
"""
from __future__ import annotations

import argparse
import copy
import os
import sys

import yaml

from ..core.errors import ConvatlasError


def plan_text(path: str, cores: int, on_gpu: bool) -> str:
    """The plan's lines for the config at ``path`` (validated as the workflow validates it)."""
    from .config import validate_config
    from .plan import model_graph, model_plan
    from .plan_file import build_plan, measure_passes, plan_lines

    with open(path, encoding="utf-8") as handle:
        given = yaml.safe_load(handle)
    config = validate_config(copy.deepcopy(given))
    plans = {name: model_plan(config, name, on_gpu, given) for name in sorted(config["models"])}
    measured = {}
    for name in plans:
        graph = model_graph(config, name)
        measured[name] = measure_passes(graph.model, graph.input_shape, config["models"][name]["arch"])
    return "\n".join(plan_lines(build_plan(plans, cores, on_gpu, measured)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Print the plan of a convatlas config without running it.")
    parser.add_argument("config", nargs="?", default="config.yaml")
    parser.add_argument("--cores", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--gpu", action="store_true", help="plan for a run on a GPU")
    args = parser.parse_args(argv)
    try:
        print(plan_text(args.config, args.cores, args.gpu))
    except (ConvatlasError, OSError) as error:
        print(f"convatlas: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
