"""The link check: on a tiny hand-made site, each broken or off-site reference is reported once, and
nothing else is."""
from convatlas.site.linkcheck import broken_references, main


def write(site, path, html):
    (site / path).parent.mkdir(parents=True, exist_ok=True)
    (site / path).write_text(html, encoding="utf-8")


def tiny_site(site):
    write(site, "index.html", '<a href="models/m/index.html">m</a> <a href="#top">top</a> <img src="img/logo.png">'
                              '<a href="mailto:someone@example.org">mail</a> <img src="data:image/png;base64,AAAA">')
    write(site, "img/logo.png", "png")
    write(site, "models/m/index.html", '<a href="../../index.html">home</a> <a href="layer%201/channel-0.html#maps">c0</a>'
                                       '<a href="layer%201/channel-1.html?x=1">c1</a>')
    write(site, "models/m/layer 1/channel-0.html", '<link rel="stylesheet" href="../../../style.css"><a href="">self</a>')
    write(site, "style.css", "body {}")
    return site


def test_a_site_whose_references_all_resolve_has_no_problems(tmp_path):
    site = tiny_site(tmp_path / "site")
    write(site, "models/m/layer 1/channel-1.html", "<p>the second channel</p>")
    assert broken_references(site) == []
    assert main([str(site)]) == 0


def test_each_missing_target_and_off_site_reference_is_named_with_its_page(tmp_path, capsys):
    site = tiny_site(tmp_path / "site")  # channel-1.html is linked but missing
    write(site, "models/m/findings.html", '<a href="https://example.org/paper.pdf">paper</a> <script src="//cdn.example/x.js">'
                                          '</script> <img src="img/missing.png"> <a href="index.html">model</a>')
    problems = broken_references(site)
    assert sorted(problems) == sorted([
        "models/m/index.html: missing layer%201/channel-1.html?x=1",
        "models/m/findings.html: off-site reference https://example.org/paper.pdf",
        "models/m/findings.html: off-site reference //cdn.example/x.js",
        "models/m/findings.html: missing img/missing.png",
    ])
    assert main([str(site)]) == 1
    out = capsys.readouterr().out
    assert "4 broken reference(s)" in out and "img/missing.png" in out


def test_a_folder_without_pages_has_nothing_to_check(tmp_path):
    assert broken_references(tmp_path) == []


def test_a_link_to_a_folder_is_reported_even_with_an_index_inside(tmp_path):
    """Opened from file://, a folder shows a file listing, not its index.html."""
    site = tiny_site(tmp_path / "site")
    write(site, "models/m/layer 1/channel-1.html", "<p>the second channel</p>")
    write(site, "about.html", '<a href="models/">models</a> <a href="models/m/index.html">m</a>')
    assert broken_references(site) == ["about.html: link to a folder models/ (link its index.html)"]
