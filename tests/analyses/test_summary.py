"""A model's summary: parameters counted by hand, layers from the traced graph, provenance notes."""
import pytest

from convatlas.analyses.summary import provenance, summarise_model
from convatlas.models import build_model
from convatlas.models.checkpoint import CheckpointMeta
from convatlas.nn.graph import ModelGraph


def stored(**changes):
    return {"arch": "zf", "params": {"widths": [2], "fc": [3]}, "dataset": "shapes", "dataset_kind": "synthetic",
            "classes": ["a", "b"], "in_channels": 1, "image_size": 8, "epoch": 2, "mean": [0.5], "std": [0.5],
            "test_accuracy": 0.75, "test_loss": 0.5, "per_class_accuracy": [1.0, 0.5], "per_class_images": [2, 2],
            **changes}


def meta(**changes):
    return CheckpointMeta.from_dict(stored(**changes))


def test_a_model_trained_here_has_no_provenance():
    assert provenance(meta()) is None and provenance(meta(pretrained=False)) is None


def test_loaded_weights_are_named_with_a_short_hash():
    note = provenance(meta(pretrained=True, weights={"file": "w.pt", "sha256": "0123456789abcdef" * 4}))
    assert note == "weights loaded from w.pt (SHA-256 0123456789ab…), not trained here"
    own = provenance(meta(pretrained=True, weights=None, arch="torchvision:resnet18"))
    assert own == "weights as torchvision:resnet18 builds them (its own initialisation, no file loaded), not trained here"
    unlabelled = provenance(meta(pretrained=True, predicted_labels=[0, 1]))
    assert unlabelled.endswith("; the images have no labels, so every analysis that needs a class uses the predicted one")


def test_the_summary_counts_parameters_and_lists_layers():
    model = build_model("zf", 1, 2, 8, {"widths": [2], "fc": [3]})
    model.classifier.out.weight.requires_grad_(False)
    graph = ModelGraph(model.eval(), (1, 8, 8))
    log = [{"epoch": 1, "train_loss": 1.0}]
    summary = summarise_model("tiny", model, meta(), graph.layers, log)
    # conv1 5x5: 2*25+2; 8 -> 4 px after the pool: fc1 2*4*4 -> 3; out 3 -> 2
    total = (2 * 25 + 2) + (32 * 3 + 3) + (3 * 2 + 2)
    assert summary.parameters == total and summary.trainable_parameters == total - 3 * 2
    assert summary.class_name == "ZFNet" and summary.input_shape == [1, 8, 8] and summary.train_log is log
    assert [(layer.name, layer.kind, layer.shape, layer.channels) for layer in summary.layers] == [
        ("features.relu1", "conv", [2, 8, 8], 2), ("classifier.fc1_relu", "linear", [3], 3)]
    assert [layer.receptive_field for layer in summary.layers] == [5, None]
    assert summary.provenance is None and summary.test_top5_accuracy is None  # optional keys default to None
    assert summary.test_accuracy == 0.75 and summary.per_class_images == [2, 2]


def test_required_meta_keys_are_required():
    broken = stored()
    del broken["mean"]
    with pytest.raises(ValueError, match=r"checkpoint meta lacks \['mean'\]"):
        CheckpointMeta.from_dict(broken)
