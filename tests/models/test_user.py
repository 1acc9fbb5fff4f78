"""The user's own model code (arch: module:callable) and weights loaded exactly: every error names the key."""
import pytest
import torch
from torch import nn

from convatlas.core.errors import ConfigError
from convatlas.models.registry import build_model, check_arch
from convatlas.models.user import is_user_arch
from convatlas.models.weights import load_as_is

MODULE = '''
from torch import nn


def build_net(width=4, classes=3):
    return nn.Sequential(nn.Conv2d(1, width, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(width, classes))


class Net(nn.Module):
    def __init__(self, width=2):
        super().__init__()
        self.body = build_net(width)

    def forward(self, x):
        return self.body(x)


def not_a_model():
    return 42
'''


@pytest.fixture
def user_module(tmp_path, monkeypatch):
    """A module ``mynets_<id>`` in the working directory, as a user's own code would be."""
    name = f"mynets_{tmp_path.name.replace('-', '_')}"
    (tmp_path / f"{name}.py").write_text(MODULE)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    return name


def test_user_arch_strings():
    assert is_user_arch("mynets.models:build_net") and is_user_arch("pkg:Net")
    assert not is_user_arch("torchvision:resnet18") and not is_user_arch("zf") and not is_user_arch("a b:c")


def test_a_builder_function_and_a_class_build_with_their_params(user_module):
    model = build_model(f"{user_module}:build_net", 1, 3, 16, {"width": 5})
    assert isinstance(model, nn.Sequential) and model[0].out_channels == 5
    assert build_model(f"{user_module}:Net", 1, 3, 16, {})(torch.zeros(2, 1, 8, 8)).shape == (2, 3)


@pytest.mark.parametrize("arch, message", [
    ("no_such_module_xyz:build", "cannot import module 'no_such_module_xyz'"),
    ("{m}:buld_net", "has no callable 'buld_net'; did you mean build_net"),
])
def test_missing_module_or_callable_is_named(user_module, arch, message):
    with pytest.raises(ConfigError, match="models.mine.arch") as caught:
        check_arch(arch.format(m=user_module), {}, "models.mine")
    assert message in str(caught.value)


def test_a_callable_that_returns_no_module_is_named(user_module):
    with pytest.raises(ConfigError, match=r"models.mine.arch: .*:not_a_model returned a int, not a torch.nn.Module"):
        from convatlas.models.user import build_user_model

        build_user_model(f"{user_module}:not_a_model", {}, "models.mine.arch")


def test_wrong_params_name_the_params_key(user_module):
    from convatlas.models.user import build_user_model

    with pytest.raises(ConfigError, match="models.mine.params: .*does not take these parameters"):
        build_user_model(f"{user_module}:build_net", {"depth": 3}, "models.mine.arch")


def test_weights_load_exactly_or_the_mismatch_is_listed(user_module, tmp_path):
    model = build_model(f"{user_module}:build_net", 1, 3, 16, {"width": 4})
    torch.save(model.state_dict(), tmp_path / "good.pt")
    fresh = build_model(f"{user_module}:build_net", 1, 3, 16, {"width": 4})
    load_as_is(fresh, tmp_path / "good.pt", "models.mine.weights")
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), fresh.state_dict().values(), strict=True))

    wider = build_model(f"{user_module}:build_net", 1, 3, 16, {"width": 6}).state_dict()
    wider["extra.weight"] = torch.zeros(1)
    del wider["4.bias"]
    torch.save(wider, tmp_path / "bad.pt")
    with pytest.raises(ConfigError) as caught:
        load_as_is(fresh, tmp_path / "bad.pt", "models.mine.weights")
    message = str(caught.value)
    assert message.startswith("config key models.mine.weights: weights file")
    assert "missing keys: 4.bias" in message and "unexpected keys: extra.weight" in message
    assert "0.weight (6, 1, 3, 3) vs (4, 1, 3, 3)" in message


def test_torchvision_as_is_keeps_its_own_head():
    model = build_model("torchvision:resnet18", 1, 4, 32, {}, as_is=True)
    assert model.fc.out_features == 1000 and model.conv1.in_channels == 3
    adapted = build_model("torchvision:resnet18", 1, 4, 32, {})
    assert adapted.fc.out_features == 4 and adapted.conv1.in_channels == 1
