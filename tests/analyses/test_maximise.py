"""Activation maximisation: the objective rises, the step is normalised, penalties are right,
and a batch gives the images of separate runs."""
import numpy as np
import pytest
import torch

from convatlas.analyses.maximise import (
    channel_objective,
    class_objective,
    edge_penalty,
    noise_start,
    normalised_step,
    optimise,
)
from convatlas.jobs.maximise import maximise_settings
from convatlas.models import build_model


def tiny(dtype=torch.float32):
    torch.manual_seed(0)
    return build_model("zf", 1, 4, 16, {"widths": [4, 6], "fc": [8]}).to(dtype).eval()


BOUNDS = (torch.full((1, 1, 1, 1), -1.0), torch.full((1, 1, 1, 1), 3.0))


def test_normalised_step_has_the_step_size_as_largest_magnitude():
    gradient = torch.randn(3, 2, 5, 5) * torch.tensor([1e-2, 1.0, 1e3]).view(3, 1, 1, 1)
    step = normalised_step(gradient, 0.05)
    assert torch.allclose(step.abs().flatten(1).amax(dim=1), torch.full((3,), 0.05), rtol=1e-5)
    assert torch.allclose(step / gradient, (step / gradient)[:, :1, :1, :1].expand_as(step))


def test_edge_penalty_equals_a_direct_scharr_computation():
    images = torch.randn(2, 3, 7, 6, dtype=torch.float64)
    kx = np.array([[-3, 0, 3], [-10, 0, 10], [-3, 0, 3]], dtype=np.float64)
    ky = kx.T
    expected = []
    for image in images.numpy():
        total, count = 0.0, 0
        for channel in image:
            for y in range(channel.shape[0] - 2):
                for x in range(channel.shape[1] - 2):
                    window = channel[y:y + 3, x:x + 3]
                    total += (window * kx).sum() ** 2 + (window * ky).sum() ** 2
                    count += 1
        expected.append(total / count)
    assert torch.allclose(edge_penalty(images), torch.tensor(expected, dtype=torch.float64))


@pytest.mark.parametrize("fourier", [False, True])
def test_target_channel_activation_rises(fourier):
    model = tiny()
    channels = torch.tensor([0, 2, 5])
    objective = channel_objective(model, "features.relu2", channels, (1, 16, 16))
    start = noise_start(3, (1, 16, 16), [0, 2, 5], maximise_settings())
    settings = maximise_settings(steps=40 if not fourier else 120, octaves=1, step_size=0.05, colour=0.0, edge=0.0,
                                 jitter=0, rotate=0, scale=0, fourier=fourier)
    with torch.no_grad():
        before = objective(start)
    after_images = optimise(objective, start, [0, 2, 5], settings, BOUNDS)
    with torch.no_grad():
        after = objective(after_images)
    rise = 1.5 if fourier else 2  # a step in the spectrum moves the image less on this 16 px net
    assert after[0] > rise * before[0] and after[2] > rise * before[2]
    # channel 2 starts dead (no positive unit): the redirected ReLU still moves its pre-activation up
    with torch.no_grad():
        pre = lambda x: model.features.conv2(model.features.pool1(model.features.relu1(model.features.conv1(x))))[:, 2].mean()
        assert before[1] == 0 and pre(after_images[1:2]) > pre(start[1:2])


@pytest.mark.parametrize("fourier", [False, True])
def test_batch_equals_separate_runs(fourier):
    model = tiny(torch.float64)
    channels = [1, 3, 4]
    settings = maximise_settings(steps=6, octaves=2, octave_scale=1.5, jitter=1, rotate=8, scale=0.1, fourier=fourier)
    bounds = tuple(b.double() for b in BOUNDS)
    start = noise_start(3, (1, 16, 16), channels, settings).double()
    batch = optimise(channel_objective(model, "features.relu2", torch.tensor(channels), (1, 16, 16)), start, channels, settings, bounds)
    for i, channel in enumerate(channels):
        alone = optimise(channel_objective(model, "features.relu2", torch.tensor([channel]), (1, 16, 16)), start[i:i + 1], [channel],
                         settings, bounds)
        assert torch.allclose(batch[i:i + 1], alone, atol=1e-9), channel


def test_class_logit_rises_and_distance_keeps_the_edit_close():
    model = tiny()
    photo = torch.rand(2, 1, 16, 16)
    classes = torch.tensor([1, 3])
    objective = class_objective(model, classes, (1, 16, 16))
    free = optimise(objective, photo, [1, 3], maximise_settings(steps=20, octaves=1), BOUNDS)
    close = optimise(objective, photo, [1, 3], maximise_settings(steps=20, octaves=1, distance=50.0), BOUNDS)
    with torch.no_grad():
        assert (objective(free) > objective(photo)).all()
    assert (close - photo).abs().mean() < (free - photo).abs().mean()
