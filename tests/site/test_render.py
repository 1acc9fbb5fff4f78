"""Rendering: relative links, autoescaping and the formatting filters of every page."""
import jinja2
import pytest

from convatlas.site import layout
from convatlas.site.render import Renderer, relative_link


def test_relative_links_between_site_paths():
    assert relative_link("models/m/epoch-1/l/channel-3.html", "models/m/index.html") == "../../index.html"
    assert relative_link("models/m/epoch-1/l/index.html", "models/m/epoch-1/l/img/sprite.png") == "img/sprite.png"
    assert relative_link("index.html", layout.model_page("m")) == "models/m/index.html"


def test_signed_points_is_the_one_format_of_accuracy_changes():
    from convatlas.site.render import signed_points

    assert signed_points(0.0123, 2) == "+1.23 points" and signed_points(-0.008) == "−0.8 points"
    assert signed_points(-0.00001, 2) == "0.00 points" and signed_points(0.0) == "0.0 points"  # no "−0.00"
    assert signed_points(float("nan")) == "–"


def test_accuracies_carry_their_n_and_wilson_interval_and_counts_their_plural():
    from convatlas.site.render import accuracy_interval, plural, wilson

    assert wilson(0.5, 10) == "23.7–76.3%" and wilson(0.9, None) == "–"  # Newcombe's 5/10: 0.2366-0.7634
    assert accuracy_interval(0.9025, 10_000, 2) == "n = 10,000; 95%: 89.65–90.82%"  # 0.9023 ± 0.0058 by hand
    assert accuracy_interval(0.9, None) == "n unknown" and accuracy_interval(float("nan"), 10) == "–"
    assert plural(1, "image") == "1 image" and plural(1000, "image") == "1,000 images" and plural(0, "class", "classes") == "0 classes"


def test_numbers_are_fixed_notation_and_parameters_read_as_text():
    from convatlas.site.render import number, params_text

    assert number(5.94e-06) == "≈ 0" and number(0.012345) == "0.0123" and number(-2.5) == "−2.50"
    assert number(1234.5) == "1234" and number(0.21) == "0.210" and number(float("nan")) == "–" and number(0) == "0"
    assert params_text({}) == "defaults" and params_text('{"widths": [16, 32, 64]}') == "widths 16, 32, 64"
    assert params_text({"widths": [4, 8], "blocks": 1}) == "widths 4, 8; blocks 1"


@pytest.fixture
def templates(tmp_path):
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "page.html").write_text('<p>{{ text }}</p><a href="{{ href(target) }}">x</a>{{ share | percent }}', encoding="utf-8")
    (folder / "notes.txt").write_text("{{ text }}", encoding="utf-8")
    (folder / "missing.html").write_text("{{ nowhere }}", encoding="utf-8")
    return folder


def test_data_is_escaped_in_every_template_and_pages_link_relatively(templates, tmp_path):
    renderer = Renderer(templates, tmp_path / "site")
    out = renderer.render("page.html", "models/m/index.html", text='<script>alert("x")</script> & more',
                          target=layout.compare_page(), share=0.5)
    assert out == tmp_path / "site/models/m/index.html"
    html = out.read_text(encoding="utf-8")
    assert "<script>" not in html and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; more" in html
    assert 'href="../../compare.html"' in html and "50.0%" in html
    notes = renderer.render("notes.txt", "notes.txt", text="<b>")
    assert notes.read_text(encoding="utf-8") == "&lt;b&gt;"  # not only .html: escaping is the default


def test_a_template_naming_a_value_it_was_not_given_fails_instead_of_rendering_empty(templates, tmp_path):
    with pytest.raises(jinja2.UndefinedError):
        Renderer(templates, tmp_path / "site").render("missing.html", "index.html")
    assert not (tmp_path / "site/index.html").exists()


def test_a_class_name_holding_markup_is_shown_as_text_on_a_real_page(renderer, tmp_path):
    from convatlas.site.pages.overview import render_overview

    from .pages.synthetic import summary

    model = summary()
    model.classes = ['<img src=x onerror="alert(1)">', "square", "ring"]
    render_overview(renderer, [model], {"tiny": [2]}, {})
    page = (tmp_path / "site" / layout.model_page("tiny")).read_text(encoding="utf-8")
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in page and "<img src=x" not in page


def test_copy_puts_a_file_into_the_site_and_path_says_where(tmp_path, templates):
    renderer = Renderer(templates, tmp_path / "site")
    source = tmp_path / "plot.png"
    source.write_bytes(b"\x89PNG not really")
    out = renderer.copy(source, layout.model_image("m", "curves"))
    assert out == renderer.path(layout.model_image("m", "curves")) == tmp_path / "site/models/m/curves.png"
    assert out.read_bytes() == source.read_bytes()
    assert sorted(p.name for p in out.parent.iterdir()) == ["curves.png"]  # no temporary file left


def test_every_optional_section_is_on_unless_a_job_turns_it_off(templates, tmp_path):
    sections = Renderer(templates, tmp_path).env.globals["sections"]
    assert set(sections) == {"occlusion", "correspondence", "invariance", "ablation", "maximise", "linear_probes",
                             "feature_maps", "transfer", "variants"}
    assert all(sections.values())


def test_percentages_points_and_thousands():
    from convatlas.site.render import percent, points, points_interval, thousands

    assert percent(0.12345) == "12.3%" and percent(0.5, 0) == "50%" and percent(1.0, 2) == "100.00%"
    assert percent(None) == "–" and percent(float("nan")) == "–"
    assert points(0.0123) == "1.2"
    assert points_interval(-0.0062, 0.001, 2) == "−0.62 to +0.10 points"
    assert points_interval(-0.00001, 0.02) == "0.0 to +2.0 points"  # a bound that rounds to zero has no sign
    assert thousands(1234567) == "1,234,567" and thousands(12) == "12"
