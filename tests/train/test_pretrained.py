"""Models analysed as loaded (epochs: 0): named outputs, classes mapped by name, checkpoint 0 with provenance."""
import pytest
import torch

from convatlas.analyses.summary import provenance
from convatlas.core.errors import ConfigError
from convatlas.data.datasets import load_split
from convatlas.jobs.train import import_and_save, pretrained_settings
from convatlas.models import build_model
from convatlas.models.checkpoint import load_checkpoint
from convatlas.models.weights import file_sha256
from convatlas.train.pretrained import (
    imagenet_wnids,
    import_pretrained,
    label_map,
    output_classes,
    read_class_names,
)
from convatlas.workflow.datasets import dataset_spec

MODULE = '''
from torch import nn


def build_net(width=4, classes=4):
    return nn.Sequential(nn.Conv2d(1, width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(width, width, 3),
                         nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(width, classes))
'''


def test_output_names_come_from_the_dataset_imagenet_or_a_file(tmp_path):
    assert output_classes(None, ["a", "b"], 2, "k") == ["a", "b"]
    imagenet = output_classes("imagenet", ["a"], 1000, "k")
    assert imagenet[0] == "tench" and len(imagenet) == 1000
    (tmp_path / "names.txt").write_text("cat\n\ndog\n")
    (tmp_path / "names.json").write_text('["cat", "dog", "emu"]')
    assert read_class_names(tmp_path / "names.txt", "k") == ["cat", "dog"]
    assert output_classes(str(tmp_path / "names.json"), ["x"], 3, "k") == ["cat", "dog", "emu"]
    with pytest.raises(ConfigError, match="models.m.classes: the model has 4 outputs but .*names.json names 3 classes"):
        output_classes(str(tmp_path / "names.json"), ["x"], 4, "models.m.classes")


def test_dataset_classes_map_onto_outputs_by_name():
    assert label_map(["Dog", "cat"], ["cat", "dog", "emu"], "k") == [1, 0]
    with pytest.raises(ConfigError, match="class 'goldfsh' of the dataset matches no output of the model; closest outputs: goldfish"):
        label_map(["goldfsh"], output_classes("imagenet", [], 1000, "k"), "models.m.classes")


def test_imagenet_folders_named_by_wordnet_id_map_onto_outputs():
    names, ids = output_classes("imagenet", [], 1000, "k"), imagenet_wnids()
    assert len(ids) == len(set(ids)) == 1000 and all(i.startswith("n") and len(i) == 9 for i in ids)
    # well-known pairs of ImageNet's class index: 0 tench, 1 goldfish, 207 golden retriever, 999 toilet tissue
    assert label_map(["n01440764", "n01443537", "n02099601", "n15075141", "Tench"], names, "k", ids) == [0, 1, 207, 999, 0]
    assert [names[i] for i in (0, 1, 207, 999)] == ["tench", "goldfish", "golden retriever", "toilet tissue"]
    with pytest.raises(ConfigError, match="class 'n00000000' of the dataset matches no output"):
        label_map(["n00000000"], names, "models.m.classes", ids)


def test_import_saves_checkpoint_zero_that_rebuilds_from_user_code(tmp_path, monkeypatch):
    (tmp_path / "mynets_pre.py").write_text(MODULE)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    torch.manual_seed(1)
    net = build_model("mynets_pre:build_net", 1, 4, 16, {"width": 3})
    torch.save(net.state_dict(), tmp_path / "weights.pt")
    dataset = {"kind": "synthetic", "synthetic": {"test_count": 40}, "normalise": {"mean": [0.2], "std": [0.3]}}
    config = {"arch": "mynets_pre:build_net", "params": {"width": 3}, "weights": "weights.pt", "classes": None, "seed": 0}
    images = load_split(dataset_spec(dataset, "shapes"), "test")
    meta = import_and_save("mine", config, "shapes", dataset, images, tmp_path / "train_log.tsv", tmp_path / "state")
    model, loaded = load_checkpoint(tmp_path / "state" / "epoch-0.pt")
    assert loaded.epoch == 0 and loaded.as_is and loaded.classes == images.classes
    assert loaded.weights == {"file": "weights.pt", "sha256": file_sha256(tmp_path / "weights.pt")}
    assert loaded.mean == [0.2] and loaded.std == [0.3] and loaded.label_map == [0, 1, 2, 3]
    assert all(torch.equal(a, b) for a, b in zip(net.state_dict().values(), model.state_dict().values(), strict=True))
    with torch.no_grad():
        logits = net.eval()((images.images(torch.arange(40)).float() / 255 - 0.2) / 0.3)
    assert meta.test_accuracy == pytest.approx(float((logits.argmax(1) == images.labels).double().mean()))
    assert (tmp_path / "train_log.tsv").read_text().startswith("epoch\t")
    assert provenance(loaded).startswith("weights loaded from weights.pt (SHA-256 ")
    assert provenance(loaded).endswith(", not trained here")


def test_a_model_that_refuses_the_images_is_named(tmp_path, monkeypatch):
    (tmp_path / "mynets_rgb.py").write_text(MODULE.replace("nn.Conv2d(1, width", "nn.Conv2d(3, width"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    dataset = {"kind": "synthetic"}
    config = {"arch": "mynets_rgb:build_net", "params": {}, "weights": None, "classes": None, "seed": 0}
    with pytest.raises(ConfigError, match=r"models.mine.arch: the model does not take the dataset's 1x16x16 images"):
        import_pretrained("mine", pretrained_settings(config), dataset_spec(dataset, "shapes"),
                          load_split(dataset_spec(dataset), "test"))


def test_unlabelled_images_take_the_predicted_class(tmp_path, monkeypatch):
    from PIL import Image

    (tmp_path / "mynets_flat.py").write_text(MODULE.replace("nn.Conv2d(1, width", "nn.Conv2d(3, width"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    rng = torch.Generator().manual_seed(0)
    for i in range(5):
        pixels = torch.randint(0, 256, (20, 24, 3), generator=rng, dtype=torch.uint8).numpy()
        Image.fromarray(pixels).save(tmp_path / f"photo{i}.png")
    (tmp_path / "names.txt").write_text("w\nx\ny\nz\n")
    dataset = {"kind": "imagefolder", "root": str(tmp_path), "image_size": 16, "normalise": "imagenet"}
    config = {"arch": "mynets_flat:build_net", "params": {}, "weights": None, "classes": "names.txt", "seed": 0}
    images = load_split(dataset_spec(dataset, "photos"), "test")
    assert images.classes == [] and images.labels.tolist() == [-1] * 5
    meta = import_and_save("mine", config, "photos", dataset, images, tmp_path / "train_log.tsv", tmp_path / "state")
    model, _ = load_checkpoint(tmp_path / "state" / "epoch-0.pt")
    with torch.no_grad():
        mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
        std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
        expected = model((images.images(torch.arange(5)).float() / 255 - mean) / std).argmax(1)
    assert meta.predicted_labels == expected.tolist() and meta.test_accuracy is None
    assert meta.classes == ["w", "x", "y", "z"] and meta.mean == [0.485, 0.456, 0.406]
    assert "the images have no labels" in provenance(meta)
    with pytest.raises(ConfigError, match="models.mine.classes: the images have no labels: name the model's outputs"):
        import_pretrained("mine", pretrained_settings({**config, "classes": None}), dataset_spec(dataset, "photos"), images)


def test_a_torchvision_resnet18_with_saved_weights_is_analysed_as_pretrained(tmp_path, monkeypatch):
    """torchvision's ResNet-18 with a random state dict saved as its "pretrained" weights, over a
    folder of classes named by WordNet id, with ImageNet's 1000 output names."""
    from PIL import Image
    from torchvision.models import resnet18

    monkeypatch.chdir(tmp_path)
    torch.manual_seed(2)
    net = resnet18().eval()
    torch.save(net.state_dict(), tmp_path / "resnet18.pt")
    rng = torch.Generator().manual_seed(0)
    for wnid in ("n01440764", "n01443537"):  # tench, goldfish
        (tmp_path / "val" / wnid).mkdir(parents=True)
        for i in range(3):
            pixels = torch.randint(0, 256, (40, 48, 3), generator=rng, dtype=torch.uint8).numpy()
            Image.fromarray(pixels).save(tmp_path / "val" / wnid / f"{i}.jpg")
    dataset = {"kind": "imagefolder", "root": str(tmp_path / "val"), "resize": 36, "crop": 32, "normalise": "imagenet"}
    config = {"arch": "torchvision:resnet18", "params": {}, "weights": "resnet18.pt", "classes": "imagenet", "seed": 0}
    images = load_split(dataset_spec(dataset, "val"), "test")
    meta = import_and_save("r18", config, "val", dataset, images, tmp_path / "train_log.tsv", tmp_path / "state")
    model, loaded = load_checkpoint(tmp_path / "state" / "epoch-0.pt")
    assert len(loaded.classes) == 1000 and loaded.label_map == [0, 1]  # WordNet ids -> tench, goldfish
    assert model.fc.out_features == 1000 and loaded.weights["sha256"] == file_sha256(tmp_path / "resnet18.pt")
    assert all(torch.equal(a, b) for a, b in zip(net.state_dict().values(), model.state_dict().values(), strict=True))
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    with torch.no_grad():
        logits = net((images.images(torch.arange(6)).float() / 255 - mean) / std)
    expected = (logits.argmax(1) == torch.tensor([0, 0, 0, 1, 1, 1])).double().mean()
    assert meta.test_accuracy == pytest.approx(float(expected))
