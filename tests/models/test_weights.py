"""Local weight files: read safely, loaded exactly or refused with what does not fit, fingerprinted."""
import hashlib

import pytest
import torch
from torch import nn

from convatlas.core.errors import ConfigError
from convatlas.models.weights import LISTED, file_sha256, load_as_is, read_state_dict, weights_record


def test_weights_record_their_hash(tmp_path):
    (tmp_path / "w.pt").write_bytes(b"abc")
    assert file_sha256(tmp_path / "w.pt") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert weights_record(tmp_path / "w.pt")["sha256"].startswith("ba7816bf")


def test_a_large_file_hashes_as_hashlib_does_in_one_go(tmp_path):
    data = bytes(range(256)) * 9000  # over 2 MiB: several blocks
    (tmp_path / "big.pt").write_bytes(data)
    assert file_sha256(tmp_path / "big.pt") == hashlib.sha256(data).hexdigest()
    assert weights_record(tmp_path / "big.pt") == {"file": str(tmp_path / "big.pt"),
                                                    "sha256": hashlib.sha256(data).hexdigest()}


def test_read_state_dict_unwraps_state_dict_and_names_the_key_on_bad_files(tmp_path):
    state = nn.Linear(2, 3).state_dict()
    torch.save({"state_dict": state, "epoch": 3}, tmp_path / "wrapped.pt")
    assert read_state_dict(tmp_path / "wrapped.pt", "k").keys() == state.keys()
    (tmp_path / "junk.pt").write_bytes(b"junk")
    with pytest.raises(ConfigError, match="config key models.m.weights: cannot load weights file .*junk.pt"):
        read_state_dict(tmp_path / "junk.pt", "models.m.weights")
    torch.save({"weight": torch.zeros(1), "note": "not a tensor"}, tmp_path / "mixed.pt")
    with pytest.raises(ConfigError, match="holds no state dict of tensors"):
        read_state_dict(tmp_path / "mixed.pt", "k")


def test_an_exact_file_loads_and_long_lists_of_misfits_are_cut(tmp_path):
    source = nn.Sequential(*[nn.Linear(2, 2) for _ in range(6)])  # 12 keys
    torch.save(source.state_dict(), tmp_path / "six.pt")
    target = nn.Sequential(*[nn.Linear(2, 2) for _ in range(6)])
    load_as_is(target, tmp_path / "six.pt", "k")
    assert all(torch.equal(a, b) for a, b in zip(source.state_dict().values(), target.state_dict().values(), strict=True))
    torch.save({}, tmp_path / "empty.pt")
    with pytest.raises(ConfigError) as caught:
        load_as_is(target, tmp_path / "empty.pt", "k")
    keys = list(target.state_dict())
    assert f"missing keys: {', '.join(keys[:LISTED])} and {len(keys) - LISTED} more" in str(caught.value)
