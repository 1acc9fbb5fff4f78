"""The site's URL layout: every page and image has its own path, nested where it belongs, and links
made between any two of them resolve."""
import posixpath
from pathlib import PurePosixPath

import pytest

from convatlas.site import layout
from convatlas.site.render import relative_link

MODEL, EPOCH, LAYER = "zf", 3, "features.relu2"


def every_path():
    """One example of each path the layout names, by the function that names it."""
    return {
        "index_page": layout.index_page(), "compare_page": layout.compare_page(),
        "compare_image": layout.compare_image("linear-probes"), "run_page": layout.run_page(),
        "run_image": layout.run_image("timeline"), "model_page": layout.model_page(MODEL),
        "findings_page": layout.findings_page(MODEL), "model_image": layout.model_image(MODEL, "curves"),
        "layer_page": layout.layer_page(MODEL, EPOCH, LAYER), "channel_page": layout.channel_page(MODEL, EPOCH, LAYER, 7),
        "layer_image": layout.layer_image(MODEL, EPOCH, LAYER, "sprite"),
        "feature_maps_index": layout.feature_maps_page(MODEL, EPOCH),
        "feature_maps_page": layout.feature_maps_page(MODEL, EPOCH, 2),
        "feature_maps_image": layout.feature_maps_image(MODEL, EPOCH, "2-input"),
        "analysis_page": layout.analysis_page(MODEL, EPOCH, "occlusion"),
        "occlusion_image_page": layout.analysis_page(MODEL, EPOCH, "occlusion", 5),
        "analysis_image": layout.analysis_image(MODEL, EPOCH, "occlusion-5"),
        "ablation_page": layout.ablation_page(MODEL, EPOCH), "ablation_image": layout.ablation_image(MODEL, EPOCH, "off-flipped"),
    }


def test_every_path_is_relative_distinct_and_of_its_kind():
    paths = every_path()
    assert len(set(paths.values())) == len(paths)
    for name, path in paths.items():
        parts = PurePosixPath(path).parts
        assert not path.startswith("/") and ".." not in parts and "" not in parts and "\\" not in path, name
        assert path.endswith(".html" if name.endswith(("page", "index")) else ".png"), name


def test_pages_nest_under_their_model_epoch_and_layer():
    paths = every_path()
    model, epoch, layer = layout.model_dir(MODEL), layout.epoch_dir(MODEL, EPOCH), layout.layer_dir(MODEL, EPOCH, LAYER)
    assert epoch.startswith(model + "/") and layer.startswith(epoch + "/")
    site_wide = {"index_page", "compare_page", "compare_image", "run_page", "run_image"}
    for name, path in paths.items():
        assert path.startswith(model + "/") != (name in site_wide), name
    for name in ("channel_page", "layer_image"):
        assert paths[name].startswith(layer + "/"), name
    for name in ("feature_maps_page", "feature_maps_image", "feature_maps_index"):
        assert paths[name].startswith(layout.feature_maps_dir(MODEL, EPOCH) + "/") and paths[name].startswith(epoch + "/")
    for name in ("analysis_page", "occlusion_image_page", "analysis_image"):
        assert paths[name].startswith(layout.analyses_dir(MODEL, EPOCH) + "/"), name
    assert paths["ablation_image"].startswith(layout.ablation_dir(MODEL, EPOCH) + "/")
    assert posixpath.dirname(paths["layer_page"]) == posixpath.dirname(paths["channel_page"])  # siblings link by name
    assert posixpath.dirname(paths["layer_image"]) == layer + "/img"


def test_links_between_any_two_paths_resolve_on_disk(tmp_path):
    paths = every_path()
    for path in paths.values():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(path)
    for page in paths.values():
        if not page.endswith(".html"):
            continue
        for target in paths.values():
            link = relative_link(page, target)
            assert not link.startswith("/")
            resolved = ((tmp_path / page).parent / link).resolve()
            assert resolved == (tmp_path / target).resolve(), (page, target, link)
            assert resolved.read_text() == target


def test_channel_pages_of_other_layers_and_epochs_are_one_and_two_folders_away():
    here = layout.channel_page(MODEL, EPOCH, LAYER, 1)
    assert relative_link(here, layout.channel_page(MODEL, EPOCH, LAYER, 2)) == "channel-2.html"
    assert relative_link(here, layout.channel_page(MODEL, EPOCH, "features.relu1", 2)) == "../features.relu1/channel-2.html"
    assert relative_link(here, layout.channel_page(MODEL, 1, LAYER, 1)) == f"../../epoch-1/{LAYER}/channel-1.html"


@pytest.mark.parametrize("side, ext", [(28, "png"), (layout.PHOTO_SIDE, "png"), (layout.PHOTO_SIDE + 1, "jpg"), (224, "jpg")])
def test_photo_sized_pictures_are_jpeg_and_small_ones_png(side, ext):
    assert layout.picture_ext(side) == ext
    assert layout.layer_image(MODEL, EPOCH, LAYER, "3-patches", layout.picture_ext(side)).endswith(f"/img/3-patches.{ext}")


def test_page_files_are_each_layer_page_and_the_sections_pages_of_every_epoch():
    layers = ["a", "b"]
    files = layout.page_files(MODEL, [1, 2], layers)
    for epoch in (1, 2):
        want = {layout.layer_page(MODEL, epoch, "a"), layout.layer_page(MODEL, epoch, "b"),
                layout.feature_maps_page(MODEL, epoch), layout.ablation_page(MODEL, epoch),
                *(layout.analysis_page(MODEL, epoch, a) for a in ("occlusion", "correspondence", "invariance"))}
        assert want <= set(files)
    assert len(files) == len(set(files)) == 2 * (2 + 1 + 3 + 1)
    off = layout.page_files(MODEL, [1], iter(layers), {"occlusion": False, "ablation": False, "feature_maps": False})
    assert off == [layout.layer_page(MODEL, 1, "a"), layout.layer_page(MODEL, 1, "b"),
                   layout.analysis_page(MODEL, 1, "correspondence"), layout.analysis_page(MODEL, 1, "invariance")]
    assert layout.page_files(MODEL, [], layers) == []
