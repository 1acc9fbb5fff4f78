"""The findings page: each Zeiler & Fergus claim with its test and verdict."""
from convatlas.site import layout

from .synthetic import summary


def test_findings_page_states_each_claim_with_its_test_and_verdict(renderer, tmp_path):
    from convatlas.analyses.findings import findings
    from convatlas.site.pages.findings import render_findings

    from ...analyses.test_findings import invariance_table, pairs_table

    pairs = pairs_table({"features.relu1": 0.1, "classifier.fc1_relu": 0.45}, {"features.relu1": 0.5, "classifier.fc1_relu": 0.5})
    invariance = (invariance_table(0.8, 0.3, {"translation": 0.8, "scale": 0.7, "rotation": 0.1}), "features.relu1",
                  "classifier.fc1_relu")
    results = findings("tiny", (pairs, ["features.relu1", "classifier.fc1_relu"]), invariance)
    render_findings(renderer, "tiny", 2, results, summary())
    page = (tmp_path / "site" / layout.findings_page("tiny")).read_text()
    assert page.count('class="verdict reproduced"') == 3 and page.count('class="verdict not-measured"') == 3
    assert "3 reproduced, 3 not measured" in page and "0.00 to" not in page.replace("+0.00", "") and "bootstrap over 6 images (15 pairs)" in page
    assert 'href="epoch-2/analyses/correspondence.html"' in page and 'href="epoch-2/analyses/invariance.html"' in page
    assert "e-0" not in page and "e+0" not in page  # fixed notation
    assert "No architecture variants of tiny are configured" in page


def test_each_measured_finding_links_the_page_its_numbers_come_from():
    from convatlas.analyses.findings import Finding
    from convatlas.site.pages.findings import evidence_page

    def finding(key, verdict="reproduced"):
        return Finding(key, "Fig. X", "a claim", verdict=verdict)

    assert evidence_page(finding("table1"), "m", 3, "relu1") == layout.analysis_page("m", 3, "correspondence")
    assert evidence_page(finding("fig5_layers"), "m", 3, "relu1") == layout.analysis_page("m", 3, "invariance")
    assert evidence_page(finding("fig5_output"), "m", 3, None) == layout.analysis_page("m", 3, "invariance")
    assert evidence_page(finding("fig7"), "m", 3, "relu1") == layout.analysis_page("m", 3, "occlusion")
    assert evidence_page(finding("fig4"), "m", 3, "relu1") == layout.layer_page("m", 3, "relu1")  # evolution strips
    assert evidence_page(finding("fig4"), "m", 3, None) == layout.model_page("m")
    assert evidence_page(finding("table3"), "m", 3, "relu1") == layout.model_page("m")  # the variants table
    assert evidence_page(finding("table1", "not measured"), "m", 3, "relu1") is None
