"""What each kind of picture and the sanity checks cost in the projection stage, per layer, in one process.

The default atlas's two models (the ZF-style net and the CIFAR-style ResNet, widths 16/32/64, random
weights: the timing does not depend on them) at 28 px, on ``--images`` synthetic probe images: the
index's top 9 of every channel, then for each default layer the projections of every method
(deconvnet, guided backpropagation, gradient x input, LRP relevance; trunk and shortcut grids for
blocks) and the checks (:func:`convatlas.analyses.randomisation.projection_checks`) of each. Prints
seconds per method over all layers and the ratio of each configuration to the former default stage
(deconvnet + guided + branches, no checks); issue 24's target: the checks and the relevance picture
add at most 0.25 to it.

    .venv/bin/python bench/picture_cost.py --images 2000 --threads 2
"""
from __future__ import annotations

import argparse
import time
from collections import defaultdict

import torch

from convatlas.analyses.deconv import project_top_k
from convatlas.analyses.index import build_index
from convatlas.analyses.randomisation import projection_checks
from convatlas.data.datasets import TensorImageSet
from convatlas.data.model_inputs import ModelInputs
from convatlas.data.synthetic import make_synthetic
from convatlas.models import build_model
from convatlas.nn.graph import ModelGraph
from convatlas.site.images import display_tile

METHODS = ("deconvnet", "guided", "gradient_input", "relevance")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    images, labels, classes = make_synthetic(args.images, 28, 1, 4, seed=0)
    probe = TensorImageSet(torch.from_numpy(images), torch.from_numpy(labels), classes, "probe")
    mean, std = [0.3], [0.3]
    seconds = defaultdict(float)  # "<kind>" projections, "check <kind>" its checks
    for arch, params in (("zf", {}), ("resnet", {"widths": [16, 32, 64], "blocks": 1})):
        torch.manual_seed(0)
        model = build_model(arch, 1, 4, 28, params).eval()
        graph = ModelGraph(model, (1, 28, 28))
        index, _, _ = build_index(model, graph.layers, ModelInputs(probe, mean, std, show_progress=False), k=9)
        for layer in graph.layers:
            for method in METHODS:
                start = time.perf_counter()
                projections = project_top_k(model, layer.name, index, ModelInputs(probe, mean, std, batch_size=256, show_progress=False), methods=[method], branches=method == 'deconvnet', tile=display_tile, graph=graph)
                seconds[method] += time.perf_counter() - start
                start = time.perf_counter()
                projection_checks(model, layer.name, index, ModelInputs(probe, mean, std, batch_size=256), projections=projections, graph=graph, tile=display_tile)
                seconds[f"check {method}"] += time.perf_counter() - start
    for key, value in seconds.items():
        print(f"{key}: {value:.1f} s")
    former = seconds["deconvnet"] + seconds["guided"]  # deconvnet with its branch grids, and guided
    configurations = {
        "deconvnet + gradient x input, checked (the default)": ["deconvnet", "gradient_input"],
        "deconvnet + guided + gradient x input, checked": ["deconvnet", "guided", "gradient_input"],
        "deconvnet + guided + LRP relevance, checked": ["deconvnet", "guided", "relevance"],
        "deconvnet + LRP relevance, checked": ["deconvnet", "relevance"],
    }
    print(f"former default stage (deconvnet with trunk and shortcut grids + guided, unchecked): {former:.1f} s")
    for name, kinds in configurations.items():
        total = sum(seconds[k] + seconds[f"check {k}"] for k in kinds)
        print(f"{name}: {total:.1f} s, {total / former:.2f} of the former stage")
    print(f"({args.images} images, {args.threads} threads)")


if __name__ == "__main__":
    main()
