"""Finding the first conv and last linear of a network, and replacing a module by its path."""
import pytest
from torch import nn

from convatlas.nn.modules import first_conv, first_linear, last_linear, replace_module


def net():
    return nn.Sequential(nn.Linear(4, 4), nn.Sequential(nn.Conv2d(1, 2, 3), nn.Conv2d(2, 2, 3)),
                         nn.Sequential(nn.Linear(4, 3), nn.Linear(3, 2)))


def test_first_conv_and_last_linear_in_module_order():
    model = net()
    assert first_conv(model) == ("1.0", model[1][0])
    assert last_linear(model) == ("2.1", model[2][1])


def test_a_network_without_them_is_named():
    with pytest.raises(ValueError, match="Sequential has no Conv2d"):
        first_conv(nn.Sequential(nn.Linear(2, 2)))
    with pytest.raises(ValueError, match="ReLU has no Linear classifier"):
        last_linear(nn.ReLU())


def test_replace_module_nested_and_at_the_top():
    model = net()
    new = nn.Linear(3, 7)
    replace_module(model, "2.1", new)
    assert model[2][1] is new and last_linear(model) == ("2.1", new)
    top = nn.Identity()
    replace_module(model, "0", top)
    assert model[0] is top and dict(model.named_modules())["0"] is top


def test_replace_module_on_an_attribute():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(2, 2)

    model = Net()
    replace_module(model, "fc", nn.Linear(2, 5))
    assert model.fc.out_features == 5 and dict(model.named_modules())["fc"] is model.fc


def test_first_linear_is_the_first_in_module_order_and_a_conv_only_net_is_named():
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(8, 4), nn.ReLU(), nn.Linear(4, 2))
    assert first_linear(net) == ("2", net[2])
    with pytest.raises(ValueError, match="Sequential has no Linear layer"):
        first_linear(nn.Sequential(nn.Conv2d(1, 2, 3)))
