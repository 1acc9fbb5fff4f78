"""The optimiser and the step schedule, from the training settings the train job builds from a model's config block."""
import pytest
import torch

from convatlas.jobs.train import training_settings
from convatlas.train.optim import learning_rate, make_optimizer
from convatlas.train.settings import OptimizerSettings, StepSchedule
from convatlas.workflow.config import validate_config


def test_step_schedule_halves_every_n_epochs():
    schedule = StepSchedule(step_epochs=2, gamma=0.5)
    assert [learning_rate(0.1, schedule, e) for e in (1, 2, 3, 4, 5)] == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025])
    assert learning_rate(0.1, None, 7) == 0.1


def test_adam_optimizer_settings(tiny_config):
    config = validate_config(tiny_config())
    block = dict(config["models"]["tiny"], optimizer=dict(config["models"]["tiny"]["optimizer"], name="adam", lr=0.001,
                                                          betas=[0.8, 0.99], eps=1e-6))
    optimizer = make_optimizer(torch.nn.Linear(2, 2), training_settings(block).optimizer)
    assert isinstance(optimizer, torch.optim.Adam)
    group = optimizer.param_groups[0]
    assert group["betas"] == (0.8, 0.99) and group["eps"] == 1e-6 and group["weight_decay"] == 0.0005


def sgd_settings(**changes):
    return OptimizerSettings(**{"name": "sgd", "lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.0, **changes})


def test_sgd_nesterov_only_with_momentum():
    group = make_optimizer(torch.nn.Linear(2, 2), sgd_settings()).param_groups[0]
    assert group["nesterov"] and group["momentum"] == 0.9 and group["lr"] == 0.1
    plain = make_optimizer(torch.nn.Linear(2, 2), sgd_settings(momentum=0.0))  # torch refuses nesterov without momentum
    assert isinstance(plain, torch.optim.SGD) and not plain.param_groups[0]["nesterov"]


def test_one_sgd_step_with_momentum_and_weight_decay_by_hand():
    """Two steps of w <- w - lr * v with v <- m v + (g + wd w), for a loss sum(w) (gradient 1)."""
    layer = torch.nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        layer.weight.fill_(2.0)
    optimizer = make_optimizer(layer, sgd_settings(nesterov=False, momentum=0.5, weight_decay=0.1))
    w, v = 2.0, 0.0
    for _ in range(2):
        optimizer.zero_grad()
        layer.weight.sum().backward()
        optimizer.step()
        v = 0.5 * v + (1 + 0.1 * w)
        w = w - 0.1 * v
    assert float(layer.weight.detach()) == pytest.approx(w)


def test_step_schedule_with_gamma_a_tenth_every_three_epochs():
    schedule = StepSchedule(step_epochs=3, gamma=0.1)
    expected = [1.0 * 0.1 ** ((e - 1) // 3) for e in range(1, 8)]
    assert [learning_rate(1.0, schedule, e) for e in range(1, 8)] == pytest.approx(expected)
    assert learning_rate(0.5, None, 4) == 0.5  # no schedule keeps the base rate
