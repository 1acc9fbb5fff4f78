"""Backward rules of the ReLU family against elementwise formulas written out with numpy."""
import numpy as np
import pytest
import torch

from convatlas.nn.rules import REDIRECTED_LEAK, RELU_RULES, deconv_relu, guided_relu, redirected_relu

X = [-2.0, -0.5, 0.0, 0.5, 3.0, 7.0]
G = [1.0, -1.0, 2.0, -3.0, 0.5, -0.25]


def forward_and_backward(rule, upper=None, slope=0.0):
    x = torch.tensor(X, dtype=torch.float64, requires_grad=True)
    out = rule(x, upper, slope)
    (grad,) = torch.autograd.grad(out, x, torch.tensor(G, dtype=torch.float64))
    return out.detach().numpy(), grad.numpy()


def expected_forward(upper, slope):
    out = np.array([v if v > 0 else slope * v for v in X])
    return out if upper is None else np.minimum(out, upper)


@pytest.mark.parametrize("rule", [deconv_relu, guided_relu, redirected_relu])
@pytest.mark.parametrize("upper, slope", [(None, 0.0), (6.0, 0.0), (None, 0.1)])
def test_every_rule_keeps_the_rectifiers_forward(rule, upper, slope):
    out, _ = forward_and_backward(rule, upper, slope)
    np.testing.assert_allclose(out, expected_forward(upper, slope))


def test_deconvnet_rectifies_the_signal_and_ignores_the_forward():
    _, grad = forward_and_backward(deconv_relu)
    np.testing.assert_allclose(grad, [max(g, 0) for g in G])
    _, grad = forward_and_backward(deconv_relu, upper=6.0)  # the clip at 6 is ignored too
    np.testing.assert_allclose(grad, [max(g, 0) for g in G])
    _, grad = forward_and_backward(deconv_relu, slope=0.1)  # a leaky unit: a leaky rectification of the signal
    np.testing.assert_allclose(grad, [g if g > 0 else 0.1 * g for g in G])


def test_guided_keeps_positive_signal_where_the_unit_passes():
    _, grad = forward_and_backward(guided_relu)
    np.testing.assert_allclose(grad, [max(g, 0) * (x > 0) for x, g in zip(X, G, strict=True)])
    _, grad = forward_and_backward(guided_relu, upper=6.0)  # not above the clip (x = 7)
    np.testing.assert_allclose(grad, [max(g, 0) * (0 < x < 6) for x, g in zip(X, G, strict=True)])
    _, grad = forward_and_backward(guided_relu, slope=0.1)  # slope below zero, including at x = 0
    np.testing.assert_allclose(grad, [max(g, 0) * (1.0 if x > 0 else 0.1) for x, g in zip(X, G, strict=True)])


def test_redirected_passes_a_tenth_where_the_unit_was_inactive():
    _, grad = forward_and_backward(redirected_relu)
    np.testing.assert_allclose(grad, [g if x > 0 else REDIRECTED_LEAK * g for x, g in zip(X, G, strict=True)])
    _, grad = forward_and_backward(redirected_relu, upper=6.0)
    np.testing.assert_allclose(grad, [g if 0 < x < 6 else REDIRECTED_LEAK * g for x, g in zip(X, G, strict=True)])


def test_rules_are_named_by_method():
    assert RELU_RULES == {"deconvnet": deconv_relu, "guided": guided_relu, "redirected": redirected_relu}


def test_a_rule_inside_a_network_replaces_only_the_rectifiers_backward():
    """Linear -> rule -> sum: the gradient is W^T (rule's backward of ones)."""
    torch.manual_seed(0)
    layer = torch.nn.Linear(3, 4, bias=True).double()
    x = torch.randn(3, dtype=torch.float64, requires_grad=True)
    guided_relu(layer(x)).sum().backward()
    pre = layer(x).detach()
    expected = layer.weight.detach().T @ (pre > 0).double()
    assert torch.allclose(x.grad, expected)
