"""The deconv job: every top-k unit of one layer projected back to pixel space."""
from __future__ import annotations

from typing import Any

from ..analyses.deconv import project_top_k
from ..core.io import read_parquet, write_npz
from .subject import load_subject


def run_deconv(inputs: Any, outputs: Any, params: Any) -> None:
    """Write the layer's projections (one array per method, (C, k, h, w, in)); for the layer of the
    first conv's rectified output also the conv's ``filters`` (C, in, kh, kw)."""
    subject = load_subject(inputs.checkpoint, params.dataset, None, params.device, params.threads)
    meta = subject.meta
    projections = project_top_k(
        subject.model, params.layer, subject.input_shape, read_parquet(inputs.index), subject.images,
        meta["mean"], meta["std"], params.methods, params.branches, params.batch_size, subject.device)
    first = subject.graph.first_conv()
    if first and first[1] == params.layer:
        projections["filters"] = subject.model.get_submodule(first[0]).weight.detach().cpu().numpy()
    write_npz(outputs.projections, projections)
