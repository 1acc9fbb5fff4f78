"""The resumable training state: resumed only by the configuration that saved it."""
import hashlib
import json
import logging

import torch

from convatlas.train.state import STATE_FORMAT, fingerprint, load_state, save_state


def test_fingerprint_is_the_sha256_of_the_sorted_settings():
    model = {"arch": "zf", "lr": 0.1}
    dataset = {"kind": "synthetic"}
    text = json.dumps({"model": {"arch": "zf", "lr": 0.1}, "dataset": dataset, "tracked": {}}, sort_keys=True)
    assert fingerprint(model, dataset) == hashlib.sha256(text.encode()).hexdigest()
    assert fingerprint(model, dataset) == fingerprint({"lr": 0.1, "arch": "zf"}, dataset)
    assert fingerprint(model, dataset) != fingerprint(dict(model, lr=0.2), dataset)
    assert fingerprint(model, dataset) != fingerprint(model, {"kind": "mnist"})
    assert fingerprint(model, dataset) != fingerprint(model, dataset, {"code": "abc"})


def saved(tmp_path, expected="abc"):
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(torch.ones(1, 3)).sum().backward()
    optimizer.step()
    path = tmp_path / "state.pt"
    save_state(path, expected, {"epoch": 3, "history": [{"epoch": 1}], "model": model.state_dict(),
                                "optimizer": optimizer.state_dict(), "mean": [0.5], "std": [0.25]})
    return path, model, optimizer


def test_a_saved_state_loads_back_for_its_own_fingerprint(tmp_path):
    path, model, optimizer = saved(tmp_path)
    state = load_state(path, "abc")
    assert state["format"] == STATE_FORMAT and state["epoch"] == 3 and state["history"] == [{"epoch": 1}]
    assert state["mean"] == [0.5] and state["std"] == [0.25]
    for key, value in model.state_dict().items():
        assert torch.equal(state["model"][key], value)
    other = torch.optim.SGD(torch.nn.Linear(3, 2).parameters(), lr=0.1, momentum=0.9)
    other.load_state_dict(state["optimizer"])  # momentum buffers restored
    assert torch.equal(other.state_dict()["state"][0]["momentum_buffer"],
                       optimizer.state_dict()["state"][0]["momentum_buffer"])


def test_another_fingerprint_a_missing_file_or_garbage_start_over(tmp_path, caplog):
    path, _, _ = saved(tmp_path)
    with caplog.at_level(logging.WARNING):
        assert load_state(path, "other") is None
    assert "another configuration" in caplog.text
    assert load_state(tmp_path / "absent.pt", "abc") is None
    (tmp_path / "garbage.pt").write_bytes(b"not a torch file")
    with caplog.at_level(logging.WARNING):
        assert load_state(tmp_path / "garbage.pt", "abc") is None
    assert "unreadable" in caplog.text
    torch.save({"fingerprint": "abc"}, tmp_path / "foreign.pt")  # no format marker
    assert load_state(tmp_path / "foreign.pt", "abc") is None
