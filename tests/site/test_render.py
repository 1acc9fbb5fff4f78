"""Rendering: relative links, autoescaping and the formatting filters of every page."""
from convatlas.site import layout
from convatlas.site.render import relative_link


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
