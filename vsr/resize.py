"""Bicubic resizing as the super-resolution literature does it (MATLAB `imresize`):
Keys cubic with a = -0.5, the kernel widened by the factor when downscaling
(antialiasing), mirrored borders. Training makes its low-resolution inputs with it and
`vsr eval` uses it both to make LR images and as the bicubic baseline, so the two
always agree. Written in torch so it runs wherever training runs (no PyAV, no PIL)."""

import math

import numpy as np
import torch
from torch import Tensor


def _cubic(x: Tensor) -> Tensor:
    a = -0.5
    ax = x.abs()
    near = ((a + 2) * ax - (a + 3)) * ax * ax + 1
    far = ((a * ax - 5 * a) * ax + 8 * a) * ax - 4 * a
    return torch.where(ax <= 1, near, torch.where(ax < 2, far, torch.zeros_like(ax)))


def resize_matrix(in_len: int, out_len: int) -> Tensor:
    """(out_len, in_len) float64 matrix M so that M @ signal is the resized signal."""
    scale = out_len / in_len
    stretch = min(scale, 1.0)  # widen the kernel when downscaling
    width = 4.0 / stretch
    centre = (torch.arange(out_len, dtype=torch.float64) + 0.5) / scale - 0.5
    taps = math.ceil(width) + 2
    first = torch.floor(centre - width / 2)
    index = first[:, None] + torch.arange(taps, dtype=torch.float64)[None, :]
    weight = _cubic(stretch * (centre[:, None] - index)) * stretch
    weight = weight / weight.sum(dim=1, keepdim=True)
    index = index.long()
    period = 2 * in_len  # mirror: -1 -> 0, -2 -> 1, n -> n-1, ...
    index = index % period
    index = torch.where(index >= in_len, period - 1 - index, index)
    matrix = torch.zeros(out_len, in_len, dtype=torch.float64)
    matrix.scatter_add_(1, index, weight)
    return matrix


def resize_bicubic(image: Tensor, height: int, width: int) -> Tensor:
    """(..., H, W) float tensor -> (..., height, width)."""
    rows = resize_matrix(image.shape[-2], height).to(image.device, image.dtype)
    cols = resize_matrix(image.shape[-1], width).to(image.device, image.dtype)
    return rows @ image @ cols.T


def downscale_uint8(hr: np.ndarray, scale: int) -> np.ndarray:
    """(H, W, 3) uint8 -> (H//scale, W//scale, 3) uint8: the LR image of an HR image whose
    size is a multiple of `scale` (crop it first with `crop_to_multiple`)."""
    h, w = hr.shape[:2]
    x = torch.from_numpy(hr).permute(2, 0, 1).double()
    lr = resize_bicubic(x, h // scale, w // scale)
    return lr.round().clamp(0, 255).byte().permute(1, 2, 0).numpy()


def crop_to_multiple(image: np.ndarray, scale: int) -> np.ndarray:
    h, w = image.shape[:2]
    return image[: h - h % scale, : w - w % scale]
