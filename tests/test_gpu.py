"""Checks that need a CUDA device (skipped on the CPU)."""

import pytest
import torch

from conftest import natural_image
from vsr import load_model
from vsr.weights import shipped

pytestmark = pytest.mark.gpu


@pytest.mark.parametrize("entry", shipped().shipped_entries(), ids=lambda e: e.name)
def test_half_precision_on_cuda_stays_within_1_5_levels_of_cpu_float32(entry):
    x = natural_image(270, 480)
    reference = load_model(entry.name, device="cpu")(x).clamp(0, 1)
    half = load_model(entry.name, device="cuda", half=True)
    assert half.device.type == "cuda" and half.dtype == torch.float16
    out = half(x).float().cpu().clamp(0, 1)
    assert torch.isfinite(out).all()
    assert (out - reference).abs().max() * 255 < 1.5
