"""Local Importance-based Attention (LIA) and its cheap variant LIA-Speed.

Both modules are identical in the training and the deployed network; the sub-module
indices inside `body` match the official release so its state dicts load as they are.
"""

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .softpool import SoftPool2d

LIA_MIN_SIZE = 7
"""SoftPool's 7x7 window has no padding: smaller feature maps cannot be attended."""
IMPORTANCE_GRID = 6
"""Pixels per importance-map cell: SoftPool stride 3, then a stride-2 conv."""


@dataclass(frozen=True)
class TileRegion:
    """Where a tile lies in the whole input (low-resolution pixels). Its top and left
    must be multiples of IMPORTANCE_GRID so the tile's map cells are the whole map's."""

    top: int
    left: int
    full_height: int
    full_width: int


def importance_map_length(length: int) -> int:
    """Cells of the importance map along an axis of `length` pixels."""
    return (length - LIA_MIN_SIZE) // 3 // 2 + 1


class LocalImportanceAttention(nn.Module):
    """out = x * w * sigmoid(x[:, :1]), w an importance map computed at ~1/6 resolution.

    w = upsample(sigmoid(conv3x3(conv3x3_stride2(softpool7/3(conv1x1(x)))))).

    The upsampling is bilinear (align_corners=False) from the map to the input's size,
    so where a map cell lands depends on the size of the whole input. Given a
    `region`, a tile samples its map exactly where the whole image would sample its own.
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

    def forward(self, x: Tensor, region: TileRegion | None = None) -> Tensor:
        gate = torch.sigmoid(x[:, :1])
        cells = self.body(x)
        if region is None:
            importance = F.interpolate(cells, size=x.shape[-2:], mode="bilinear", align_corners=False)
        else:
            importance = _resample(cells, 2, x.shape[2], region.full_height, region.top)
            importance = _resample(importance, 3, x.shape[3], region.full_width, region.left)
        return x * importance * gate


def _resample(cells: Tensor, dim: int, length: int, full_length: int, offset: int) -> Tensor:
    """Linear interpolation along `dim` as F.interpolate(align_corners=False) does it for
    the whole axis of `full_length` pixels, evaluated at pixels [offset, offset+length)."""
    n_cells = cells.shape[dim]
    scale = importance_map_length(full_length) / full_length
    pixel = torch.arange(offset, offset + length, device=cells.device, dtype=torch.float64)
    source = ((pixel + 0.5) * scale - 0.5).clamp(min=0) - offset // IMPORTANCE_GRID
    source = source.clamp(0, n_cells - 1)
    lower = source.floor().long()
    upper = (lower + 1).clamp(max=n_cells - 1)
    shape = [1, 1, 1, 1]
    shape[dim] = length
    frac = (source - lower).to(cells.dtype).view(shape)
    return cells.index_select(dim, lower) * (1 - frac) + cells.index_select(dim, upper) * frac


class LocalImportanceAttentionSpeed(nn.Module):
    """LIA-Speed (ultra/tiny middle block): out = x * sigmoid(x[:, :1]) * sigmoid(conv3x3(x))."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(channels, channels, 3, padding=1), nn.Sigmoid())

    def forward(self, x: Tensor, region: TileRegion | None = None) -> Tensor:
        return x * torch.sigmoid(x[:, :1]) * self.body(x)
