"""What the sanity checks of the projections cost beside the projections, per layer, in one process.

The default atlas's two models (the ZF-style net and the CIFAR-style ResNet, widths 16/32/64, random
weights: the timing does not depend on them) at 28 px, on ``--images`` synthetic probe images: the
index's top 9 of every channel, then for each default layer (a) every projection the deconv job
makes (deconvnet and guided backpropagation, plus trunk and shortcut for blocks) and (b) the checks
(:func:`convatlas.analyses.randomisation.projection_checks`). Prints seconds per layer and the
ratio checks / projections (issue 24's target: at most 0.25 over the stage).

    .venv/bin/python bench/sanity_cost.py --images 2000 --threads 2
"""
from __future__ import annotations

import argparse
import time

import torch

from convatlas.analyses.deconv import project_top_k
from convatlas.analyses.index import build_index
from convatlas.analyses.randomisation import projection_checks
from convatlas.data.datasets import TensorImageSet
from convatlas.data.synthetic import make_synthetic
from convatlas.models import build_model
from convatlas.nn.graph import ModelGraph
from convatlas.site.images import display_tile


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    images, labels, classes = make_synthetic(args.images, 28, 1, 4, seed=0)
    probe = TensorImageSet(torch.from_numpy(images), torch.from_numpy(labels), classes, "probe")
    mean, std = [0.3], [0.3]
    total = {"projections": 0.0, "checks": 0.0}
    for arch, params in (("zf", {}), ("resnet", {"widths": [16, 32, 64], "blocks": 1})):
        torch.manual_seed(0)
        model = build_model(arch, 1, 4, 28, params).eval()
        graph = ModelGraph(model, (1, 28, 28))
        index, _, _ = build_index(model, graph.layers, probe, mean, std, k=9, show_progress=False)
        for layer in graph.layers:
            start = time.perf_counter()
            projections = project_top_k(model, layer.name, (1, 28, 28), index, probe, mean, std, ["deconvnet", "guided"],
                                        branches=True, batch_size=256, show_progress=False, tile=display_tile, graph=graph)
            projected = time.perf_counter() - start
            start = time.perf_counter()
            projection_checks(model, layer.name, (1, 28, 28), index, probe, mean, std, projections, batch_size=256,
                              graph=graph, tile=display_tile)
            checked = time.perf_counter() - start
            total["projections"] += projected
            total["checks"] += checked
            print(f"{arch} {layer.name}: projections {projected:.2f} s, checks {checked:.2f} s ({checked / projected:.2f})")
    print(f"all layers: projections {total['projections']:.1f} s, checks {total['checks']:.1f} s, "
          f"ratio {total['checks'] / total['projections']:.2f} ({args.images} images, {args.threads} threads)")


if __name__ == "__main__":
    main()
