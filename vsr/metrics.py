"""PSNR and SSIM on the luma channel, as super-resolution papers report them:
Y of BT.601 studio range (MATLAB rgb2ycbcr), `shave` border pixels removed, both images
8-bit (the SR output is rounded to 8 bits first, as a saved file would be)."""

import numpy as np
import torch
import torch.nn.functional as F

BT601_Y = np.array([65.481, 128.553, 24.966]) / 255.0


def y_channel(rgb_uint8: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 RGB -> (H, W) float64 Y in [16, 235]."""
    return rgb_uint8.astype(np.float64) @ BT601_Y + 16.0


def _shaved(a: np.ndarray, b: np.ndarray, shave: int) -> tuple[np.ndarray, np.ndarray]:
    if a.shape != b.shape:
        raise ValueError(f"images differ in size: {a.shape} vs {b.shape}")
    if shave:
        a, b = a[shave:-shave, shave:-shave], b[shave:-shave, shave:-shave]
    return y_channel(a), y_channel(b)


def psnr_y(sr: np.ndarray, hr: np.ndarray, shave: int) -> float:
    a, b = _shaved(sr, hr, shave)
    mse = float(np.mean((a - b) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)


def _gaussian_window(size: int = 11, sigma: float = 1.5) -> torch.Tensor:
    x = torch.arange(size, dtype=torch.float64) - size // 2
    g = torch.exp(-(x**2) / (2 * sigma**2))
    g = g / g.sum()
    return (g[:, None] * g[None, :])[None, None]


def ssim_y(sr: np.ndarray, hr: np.ndarray, shave: int) -> float:
    """Wang et al. (2004): 11x11 Gaussian window (sigma 1.5), valid region only."""
    a, b = (torch.from_numpy(y)[None, None] for y in _shaved(sr, hr, shave))
    window = _gaussian_window()
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    mu_a, mu_b = F.conv2d(a, window), F.conv2d(b, window)
    var_a = F.conv2d(a * a, window) - mu_a**2
    var_b = F.conv2d(b * b, window) - mu_b**2
    cov = F.conv2d(a * b, window) - mu_a * mu_b
    ssim_map = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2))
    return float(ssim_map.mean())
