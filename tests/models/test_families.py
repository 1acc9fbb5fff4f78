"""Families register themselves where they are defined; the registry builds and checks them."""
import inspect

import pytest
from torch import nn

from convatlas.core.errors import ConfigError
from convatlas.models import build_model, check_arch
from convatlas.models.families import FAMILIES, register_model
from convatlas.models.lenet import LeNet
from convatlas.models.resnet import CifarResNet
from convatlas.models.vgg import VGG
from convatlas.models.zf import ZFNet


def test_every_family_is_registered_by_its_own_module():
    assert FAMILIES == {"zf": ZFNet, "lenet": LeNet, "vgg": VGG, "resnet": CifarResNet}
    for arch, cls in FAMILIES.items():
        assert type(build_model(arch, 1, 3, 28)) is cls


def test_a_second_family_of_one_name_is_refused():
    with pytest.raises(ValueError, match="'zf' is registered twice"):
        register_model("zf")(type("Other", (nn.Module,), {}))
    assert FAMILIES["zf"] is ZFNet


def test_parameters_are_checked_against_the_registered_class():
    accepted = set(inspect.signature(ZFNet.__init__).parameters) - {"self", "in_channels", "num_classes", "image_size"}
    check_arch("zf", dict.fromkeys(accepted), "models.m")
    with pytest.raises(ConfigError, match="models.m.params.depth: zf takes no parameter 'depth'"):
        check_arch("zf", {"depth": 3}, "models.m")
