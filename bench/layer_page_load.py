"""Benchmark: how fast a layer page of 512 channels loads from disk in headless Chromium.

    .venv/bin/python bench/layer_page_load.py
Renders the pages of a 512-channel layer (an untrained zf with widths [512] on synthetic 28 px
images), then asks Chromium (Debian's package `chromium`) for the page's own load timing
(navigationStart to loadEventEnd, every image decoded) through --dump-dom and a tiny script.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch

from convatlas.analyses.index import build_index
from convatlas.data.datasets import load_split
from convatlas.data.model_inputs import ModelInputs
from convatlas.models import build_model
from convatlas.nn.graph import ModelGraph
from convatlas.results.artifacts import LayerRecord
from convatlas.site.pages.layer import LayerPage, render_layer
from convatlas.site.render import Renderer
from convatlas.workflow.config import validate_config
from convatlas.workflow.datasets import dataset_spec

REPO = Path(__file__).resolve().parents[1]
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def main() -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        raise SystemExit("needs Debian's chromium: apt-get install chromium")
    torch.manual_seed(0)
    config = validate_config({"datasets": {"s": {"kind": "synthetic", "synthetic": {"size": 28, "test_count": 2000}}},
                              "models": {"m": {"arch": "zf", "dataset": "s"}}})
    probe = load_split(dataset_spec(config["datasets"]["s"], "s"), "test")
    model = build_model("zf", 1, 4, 28, {"widths": [512], "fc": [16]}).eval()
    layer = ModelGraph(model, (1, 28, 28)).layers[0]
    index, stats, predictions = build_index(model, [layer], ModelInputs(probe, [0.2], [0.3], show_progress=False))
    pictures = SimpleNamespace(classes=probe.classes, size=probe.size[0],
                               images=lambda indices: probe.images(torch.as_tensor(np.asarray(indices))).numpy())
    page = LayerPage("m", 1, layer.name, LayerRecord.of(layer), [layer.name], [1], index, stats, predictions, pictures,
                     probe.classes)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        folder = render_layer(page, Renderer(REPO / "templates", Path(tmp) / "site"))
        rendered = time.perf_counter() - start
        page = folder / "index.html"
        html = page.read_text()
        probe_script = ("<script>window.addEventListener('load', function () { setTimeout(function () {"
                        "var t = performance.timing; document.title = 'LOAD ' + (t.loadEventEnd - t.navigationStart);"
                        "}, 0); });</script>")
        timed = folder / "timed.html"
        timed.write_text(html.replace("</body>", probe_script + "</body>"))
        loads = []
        for _ in range(3):
            profile = Path(tmp) / f"profile-{len(loads)}"
            out = subprocess.run([browser, *FLAGS, f"--user-data-dir={profile}", "--virtual-time-budget=5000",
                                  "--dump-dom", timed.as_uri()], capture_output=True, text=True, timeout=120)
            match = re.search(r"<title>LOAD (\d+)</title>", out.stdout)
            if not match:
                raise SystemExit(f"no timing from chromium:\n{out.stderr[-2000:]}")
            loads.append(int(match.group(1)))
        sprite = (folder / "img" / "sprite.png").stat().st_size
        print(json.dumps({"channels": len(stats), "render_seconds": round(rendered, 2), "page_bytes": len(html),
                          "sprite_bytes": sprite, "load_ms": loads}, indent=1))


if __name__ == "__main__":
    main()
