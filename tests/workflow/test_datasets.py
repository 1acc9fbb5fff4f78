"""A dataset config block as the typed DatasetSpec the readers take."""
from pathlib import Path

from convatlas.data.spec import DatasetSpec, Normalisation, SyntheticSpec
from convatlas.workflow.datasets import dataset_spec


def test_a_partial_block_gets_the_schema_defaults():
    spec = dataset_spec({"kind": "synthetic", "synthetic": {"classes": 3}}, "shapes")
    assert spec.name == "shapes" and spec.kind == "synthetic" and spec.root is None and not spec.download
    assert (spec.probe_split, spec.probe_limit, spec.image_size, spec.channels, spec.normalise) == ("test", None, None, None, None)
    assert spec.synthetic == SyntheticSpec(size=16, channels=1, classes=3, train_count=512, test_count=128, seed=0)


def test_roots_normalisation_and_folder_settings_are_typed(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    spec = dataset_spec({"kind": "imagefolder", "root": "~/photos", "resize": 256, "crop": 224, "held_out": 0.2,
                         "normalise": {"mean": [0.5, 0.4, 0.3], "std": [0.2, 0.2, 0.2]}, "probe_limit": 50}, "photos")
    assert spec.root == Path(tmp_path / "photos") and spec.folder() == spec.root and spec.synthetic is None
    assert spec.normalise == Normalisation((0.5, 0.4, 0.3), (0.2, 0.2, 0.2))
    assert dataset_spec({"kind": "mnist", "normalise": "imagenet"}).normalise == "imagenet"
    assert dataset_spec(spec) is spec  # already typed: returned as it is
    assert isinstance(spec, DatasetSpec) and spec.is_folder
