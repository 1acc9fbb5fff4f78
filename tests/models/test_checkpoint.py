"""Checkpoints: round trip, and clear errors for missing, corrupt, foreign and unsafe files."""
import pytest
import torch

from convatlas.core.errors import CheckpointError
from convatlas.models import build_model
from convatlas.models.checkpoint import load_checkpoint, publish_checkpoint, save_checkpoint


def meta(**extra):
    return dict(arch="zf", params={"widths": [4, 8], "fc": [16]}, dataset="shapes", classes=["a", "b", "c"],
                in_channels=1, image_size=16, epoch=3, mean=[0.2], std=[0.3], test_accuracy=0.5, **extra)


def saved(tmp_path):
    torch.manual_seed(0)
    model = build_model("zf", 1, 3, 16, {"widths": [4, 8], "fc": [16]}).eval()
    path = tmp_path / "ck.pt"
    save_checkpoint(path, model, meta())
    return model, path


def test_round_trip(tmp_path):
    model, path = saved(tmp_path)
    loaded, info = load_checkpoint(path)
    assert not loaded.training
    assert info.epoch == 3 and info.classes == ["a", "b", "c"] and info.mean == [0.2] and info.test_accuracy == 0.5
    x = torch.randn(2, 1, 16, 16)
    assert torch.equal(model(x), loaded(x))
    assert not list(tmp_path.glob(".*part"))


def test_missing_checkpoint_named(tmp_path):
    with pytest.raises(CheckpointError, match="nope.pt does not exist"):
        load_checkpoint(tmp_path / "nope.pt")


def test_corrupt_checkpoint_named(tmp_path):
    _, path = saved(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="ck.pt is corrupt"):
        load_checkpoint(path)


def test_foreign_checkpoint_named(tmp_path):
    path = tmp_path / "foreign.pt"
    torch.save({"model": {"w": torch.zeros(2)}}, path)
    with pytest.raises(CheckpointError, match="foreign.pt is not a convatlas checkpoint"):
        load_checkpoint(path)


class Payload:
    def __reduce__(self):
        return (print, ("this must never run",))


def test_unsafe_pickle_refused(tmp_path, capsys):
    path = tmp_path / "evil.pt"
    torch.save({"format": "convatlas-checkpoint", "version": 1, "meta": Payload(), "state_dict": {}}, path)
    with pytest.raises(CheckpointError, match="evil.pt"):
        load_checkpoint(path)
    assert "must never run" not in capsys.readouterr().out


def test_wrong_architecture_named(tmp_path):
    model = build_model("lenet", 1, 3, 16)
    path = tmp_path / "mismatch.pt"
    save_checkpoint(path, model, meta())
    with pytest.raises(CheckpointError, match="mismatch.pt does not fit architecture zf"):
        load_checkpoint(path)


def test_publish_refuses_a_corrupt_source(tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"garbage")
    with pytest.raises(CheckpointError, match="bad.pt"):
        publish_checkpoint(bad, tmp_path / "out" / "epoch-1.pt")
    assert not (tmp_path / "out" / "epoch-1.pt").exists()


def test_the_meta_is_stored_as_a_plain_dict_with_unknown_keys_kept(tmp_path):
    from convatlas.models.checkpoint import CheckpointMeta, read_checkpoint

    model = build_model("zf", 1, 3, 16, {"widths": [4, 8], "fc": [16]})
    save_checkpoint(tmp_path / "ck.pt", model, meta(note="kept"))
    stored = read_checkpoint(tmp_path / "ck.pt")["meta"]
    assert type(stored) is dict and stored["note"] == "kept" and stored["epoch"] == 3 and stored["as_is"] is False
    loaded = CheckpointMeta.from_dict(stored)
    assert loaded.extra == {"note": "kept"} and loaded.input_shape == (1, 16, 16) and loaded.to_dict() == stored
    with pytest.raises(ValueError, match=r"lacks \['std'\]"):
        save_checkpoint(tmp_path / "bad.pt", model, {k: v for k, v in meta().items() if k != "std"})
