from __future__ import annotations

import torch
import torchvision
from torch import nn

from stylelab.metrics import LPIPSNet, ParameterCounts, count_parameters, parameter_counts


def test_known_counts() -> None:
    assert count_parameters(nn.Conv2d(3, 64, 3)) == 1_792
    # torchvision's own builder of vgg16().features (skips initialising the 120M-parameter classifier)
    vgg16_features = torchvision.models.vgg.make_layers(torchvision.models.vgg.cfgs["D"])
    assert count_parameters(vgg16_features) == 14_714_688
    # Our LPIPS backbones are torchvision's feature stacks (without the final pool): same counts.
    assert count_parameters(LPIPSNet("vgg").backbone) == 14_714_688
    assert count_parameters(LPIPSNet("alex").backbone) == 2_469_696
    assert count_parameters(LPIPSNet("alex").heads) == 64 + 192 + 384 + 256 + 256


class _Student(nn.Module):
    """A toy distilled model: a conv, a frozen parameter eigenbasis and a buffer eigenbasis."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 10, 3)  # 280
        self.eigenbases = nn.ParameterList([nn.Parameter(torch.zeros(64, 10), requires_grad=False)])  # 640
        self.register_buffer("projection", torch.zeros(5, 4))  # 20
        self.tied = self.conv  # shared module: counted once


def test_with_and_without_auxiliary_tensors() -> None:
    model = _Student()
    assert count_parameters(model) == 280 + 640
    assert count_parameters(model, trainable_only=True) == 280
    assert count_parameters(model, include_buffers=True) == 280 + 640 + 20
    assert count_parameters(model, exclude=["eigenbases"]) == 280
    counts = parameter_counts(model, auxiliary=["eigenbases"])
    assert counts == ParameterCounts(without_auxiliary=280, with_auxiliary=940)
    assert counts.auxiliary == 660
    assert parameter_counts(nn.BatchNorm2d(4)) == ParameterCounts(8, 8 + 4 + 4 + 1)
