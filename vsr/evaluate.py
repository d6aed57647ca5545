"""Scoring upscalers on image pairs: PSNR-Y and SSIM-Y (vsr.metrics) per image and mean."""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from .datasets import ImagePair
from .metrics import psnr_y, ssim_y
from .output_size import resize_bicubic
from .tiling import upscale_tiled

Upscaler = Callable[[np.ndarray], np.ndarray]  # (h, w, 3) uint8 -> (h*s, w*s, 3) uint8


@dataclass
class Score:
    name: str
    psnr: float
    ssim: float


def score(upscale: Upscaler, pairs: list[ImagePair], scale: int) -> list[Score]:
    scores = []
    for pair in pairs:
        sr = upscale(pair.lr)
        scores.append(Score(pair.name, psnr_y(sr, pair.hr, scale), ssim_y(sr, pair.hr, scale)))
    return scores


def mean(scores: list[Score]) -> tuple[float, float]:
    return float(np.mean([s.psnr for s in scores])), float(np.mean([s.ssim for s in scores]))


def bicubic_upscaler(scale: int) -> Upscaler:
    def upscale(lr: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(lr).permute(2, 0, 1).double()
        sr = resize_bicubic(x, lr.shape[0] * scale, lr.shape[1] * scale)
        return sr.round().clamp(0, 255).byte().permute(1, 2, 0).numpy()

    return upscale


def model_upscaler(model) -> Upscaler:
    """An SRModel as an Upscaler: tiled, output rounded to 8 bits."""

    def upscale(lr: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(lr).permute(2, 0, 1)[None].float() / 255
        sr = upscale_tiled(model, x, model.scale)
        return (sr[0].clamp(0, 1) * 255).round().byte().permute(1, 2, 0).numpy()

    return upscale
