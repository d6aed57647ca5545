"""Local Importance-based Attention (LIA) and its cheap variant LIA-Speed.

Both modules are identical in the training and the deployed network; the sub-module
indices inside `body` match the official release so its state dicts load as they are.
"""

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .softpool import SoftPool2d

LIA_MIN_SIZE = 7
"""SoftPool's 7x7 window has no padding: smaller feature maps cannot be attended."""


class LocalImportanceAttention(nn.Module):
    """out = x * w * sigmoid(x[:, :1]), w an importance map computed at ~1/6 resolution.

    w = upsample(sigmoid(conv3x3(conv3x3_stride2(softpool7/3(conv1x1(x)))))).
    """

    def __init__(self, channels: int, *, reduced: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, reduced, 1),
            SoftPool2d(kernel_size=7, stride=3),
            nn.Conv2d(reduced, reduced, 3, stride=2, padding=1),
            nn.Conv2d(reduced, channels, 3, padding=1),
            nn.Sigmoid(),
        )

    def forward(self, x: Tensor) -> Tensor:
        gate = torch.sigmoid(x[:, :1])
        importance = F.interpolate(
            self.body(x), size=x.shape[-2:], mode="bilinear", align_corners=False
        )
        return x * importance * gate


class LocalImportanceAttentionSpeed(nn.Module):
    """LIA-Speed (ultra/tiny middle block): out = x * sigmoid(x[:, :1]) * sigmoid(conv3x3(x))."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(channels, channels, 3, padding=1), nn.Sigmoid())

    def forward(self, x: Tensor) -> Tensor:
        return x * torch.sigmoid(x[:, :1]) * self.body(x)
