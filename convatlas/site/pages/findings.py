"""The findings page of a model: does it reproduce Zeiler & Fergus? One row per claim, its test,
n, estimate with 95% interval and verdict, then each claim's detail."""
from __future__ import annotations

from collections.abc import Sequence

from ...analyses.findings import Finding, verdict_counts
from ...results.artifacts import ModelSummary
from .. import layout
from ..render import Renderer

ZF_MODEL = ("an 8-layer network (5 convolutional, 3 fully connected, max pooling) on 224 px ImageNet images, "
            "1,000 classes, 1.3 million training images, trained 70 epochs")
EVIDENCE = {"table1": "correspondence", "fig5_layers": "invariance", "fig5_output": "invariance", "fig7": "occlusion"}


def evidence_page(finding: Finding, model: str, epoch: int, first_layer: str | None) -> str | None:
    """The page a finding's numbers come from, when it was measured."""
    if finding.verdict == "not measured":
        return None
    if finding.key in EVIDENCE:
        return layout.analysis_page(model, epoch, EVIDENCE[finding.key])
    if finding.key == "fig4" and first_layer:
        return layout.layer_page(model, epoch, first_layer)  # its feature-evolution strips
    return layout.model_page(model)  # the variants table


def render_findings(renderer: Renderer, model: str, epoch: int, findings: Sequence[Finding], summary: ModelSummary,
                    sections: dict[str, bool] | None = None) -> None:
    """Write ``models/<model>/findings.html``; ``summary`` is the model's summary (what it is, how trained)."""
    first_layer = summary.layers[0].name if summary.layers else None
    for finding in findings:
        finding.evidence = evidence_page(finding, model, epoch, first_layer)
    counts = verdict_counts(f.verdict for f in findings)
    renderer.render("findings.html", layout.findings_page(model), model=model, epoch=epoch, findings=findings,
                    summary=summary, zf_model=ZF_MODEL, counts=counts)
