"""The memory model of convatlas/workflow/memory.py against measured peak resident memory.

Each (model, kind, batch) runs in a fresh process: ``forward`` is the index pass over 2 batches of
images at every default layer; ``backward`` projects 2 batches of top units of the last default
layer (deconvnet and guided backpropagation, as the deconv job does). The process's peak resident
memory (ru_maxrss) is printed beside the estimate and the declared ``mem_mb`` the workflow would give.

    python bench/memory_model.py                 # resnet18 and efficientnet-lite0 at 224 px, zf at 28 px
    python bench/memory_model.py --batches 4 16  # other batches
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys

MODELS = {  # name -> (arch, input side, channels)
    "resnet18": ("torchvision:resnet18", 224, 3),
    "efficientnet-lite0": ("convatlas.demo:efficientnet_lite0", 224, 3),
    "zf": ("zf", 28, 1),
}

CHILD = r"""
import json, resource, sys
import torch
from convatlas.analyses.deconv import project_top_k
from convatlas.analyses.index import index_tables, index_pass
from convatlas.data.datasets import TensorImageSet
from convatlas.data.model_inputs import ModelInputs
from convatlas.models import build_model
from convatlas.models.registry import in_fast_layout
from convatlas.nn.graph import ModelGraph
torch.set_num_threads(1)
arch, side, channels, kind, batch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
torch.manual_seed(0)
model = in_fast_layout(build_model(arch, channels, 1000 if side > 64 else 10, side, {}).eval(), arch)
graph = ModelGraph(model, (channels, side, side))
count = 2 * batch
images = TensorImageSet(torch.randint(0, 256, (count, channels, side, side), dtype=torch.uint8),
                        torch.zeros(count, dtype=torch.long), [str(i) for i in range(10)], "bench")
mean, std = [0.5] * channels, [0.25] * channels
start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
if kind == "forward":
    index_pass(model, graph.layers, ModelInputs(images, mean, std, batch, show_progress=False), 9, "max")
else:
    last = graph.layers[-1]
    small = TensorImageSet(images.data[:9], images.labels[:9], images.classes, "bench")
    accumulators, _, _ = index_pass(model, [last], ModelInputs(small, mean, std, 9, show_progress=False), 9, "max")
    index, _ = index_tables(accumulators, images.classes)
    chosen = sorted(index.channel.unique().tolist())[: max(1, count // 9)]
    project_top_k(model, last.name, index, ModelInputs(small, mean, std, batch, show_progress=False),
                  ("deconvnet", "guided"), False, channels=chosen)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"after_imports_mb": start, "peak_mb": peak}))
"""


def footprint(arch: str, side: int, channels: int):
    from convatlas.models import build_model
    from convatlas.nn.graph import ModelGraph
    from convatlas.workflow.memory import graph_footprint

    model = build_model(arch, channels, 1000 if side > 64 else 10, side, {})
    return graph_footprint(ModelGraph(model, (channels, side, side)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batches", type=int, nargs="+", default=[4, 16])
    parser.add_argument("--models", nargs="+", default=list(MODELS))
    args = parser.parse_args()
    print("model | kind | batch | per image (MB, estimate) | after imports (MB) | peak measured (MB) | "
          "peak estimated (MB) | estimate / measured")
    for name in args.models:
        arch, side, channels = MODELS[name]
        fp = footprint(arch, side, channels)
        for kind in ("forward", "backward"):
            for batch in args.batches:
                run = subprocess.run([sys.executable, "-c", CHILD, arch, str(side), str(channels), kind, str(batch)],
                                     capture_output=True, text=True, check=True)
                got = json.loads(run.stdout.strip().splitlines()[-1])
                estimate = fp.peak_mb(kind, batch)
                print(f"{name} | {kind} | {batch} | {fp.per_image_mb(kind):.1f} | {got['after_imports_mb']:.0f} | "
                      f"{got['peak_mb']:.0f} | {estimate} | {estimate / got['peak_mb']:.2f}")


if __name__ == "__main__":
    main()
