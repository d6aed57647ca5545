"""The networks a benchmark times: shipped or user weights where they exist, else the same
architecture with fresh weights (its speed is the real network's; its pictures are noise)."""

import copy
import dataclasses
import os
from pathlib import Path

import torch

from ..archs import VARIANTS, build_plainusr
from ..model import SRModel, load_model
from ..weights import shipped

DTYPES = {"fp32": torch.float32, "fp16": torch.float16}


def model_for_speed(spec: str, scale: int, device: torch.device, dtype: torch.dtype) -> SRModel:
    """`spec`: a variant (ultra ... large), a shipped name (ultra-x2) or a weights file."""
    half = dtype == torch.float16
    if spec in VARIANTS and not shipped().get(f"{spec}-x{scale}"):
        module = build_plainusr(spec, scale).eval().requires_grad_(False).to(device, dtype)
        return SRModel(module, spec, scale, "untrained: speed only", device, dtype)
    path_like = os.sep in spec or spec.endswith((".pth", ".pt"))
    return load_model(Path(spec) if path_like else spec, scale=None if path_like else scale, device=device, half=half)


def with_dtype(model: SRModel, dtype: torch.dtype) -> SRModel:
    if dtype == model.dtype:
        return model.eager()
    return dataclasses.replace(model, module=copy.deepcopy(model.module).to(dtype), dtype=dtype, compiled_network=None)
