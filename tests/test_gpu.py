"""Checks that need a CUDA device (skipped on the CPU). What precision a model runs in is
the registry's measured `cuda_precision`, as the resolver applies it; never assumed here."""

import pytest
import torch

from conftest import natural_image
from vsr import load_model
from vsr.settings import resolve_model
from vsr.weights import shipped

pytestmark = pytest.mark.gpu


@pytest.mark.parametrize("entry", shipped().shipped_entries(), ids=lambda e: e.name)
def test_cuda_runs_each_model_in_the_registrys_precision_within_1_5_levels_of_cpu_float32(entry):
    x = natural_image(270, 480)
    reference = load_model(entry.name, device="cpu")(x).clamp(0, 1)
    model = resolve_model(entry.name, device="cuda").load()  # what vsr upscale --model NAME loads
    assert model.device.type == "cuda" and model.dtype == getattr(torch, entry.cuda_precision)
    out = model(x).float().cpu().clamp(0, 1)
    assert torch.isfinite(out).all()
    assert (out - reference).abs().max() * 255 < 1.5


@pytest.mark.parametrize("entry", [e for e in shipped().shipped_entries() if e.half_is_accurate], ids=lambda e: e.name)
def test_half_precision_asked_for_on_cuda_stays_within_1_5_levels_of_cpu_float32(entry):
    x = natural_image(270, 480)
    reference = load_model(entry.name, device="cpu")(x).clamp(0, 1)
    half = load_model(entry.name, device="cuda", half=True)
    assert half.device.type == "cuda" and half.dtype == torch.float16
    out = half(x).float().cpu().clamp(0, 1)
    assert torch.isfinite(out).all()
    assert (out - reference).abs().max() * 255 < 1.5
