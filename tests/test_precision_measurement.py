"""benchmarks/gpu_precision.py, the GPU session's precision measurement, run on the CPU
(the same code; there TF32 switches do nothing) and, marked gpu, on CUDA."""

import importlib.util
from pathlib import Path

import pytest
import torch

from vsr.checkpoint import build_deployed, read_checkpoint
from vsr.precision import content
from vsr.precision import measure as measure_on_cpu
from vsr.weights import shipped

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu_precision.py"


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("gpu_precision", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _network(name="ultra-x2"):
    registry = shipped()
    return build_deployed(read_checkpoint(registry.verified_path(registry.get(name))))


def _rows(script, monkeypatch, device):
    monkeypatch.setattr(script, "inputs", content)  # the 64x96 content only: fast
    return {(r["precision"], r["content"]): r for r in script.measure(_network(), torch.device(device))}


def test_on_the_cpu_float32_is_the_reference_and_fp16_matches_vsr_precision(script, monkeypatch):
    switches = torch.backends.cudnn.conv.fp32_precision, torch.backends.cuda.matmul.fp32_precision, torch.backends.cudnn.benchmark
    rows = _rows(script, monkeypatch, "cpu")
    assert set(rows) == {(p, c) for p in script.PRECISIONS for c in ("charts", "photo")}
    assert all(rows[p, c]["max"] == 0 for p in ("fp32", "tf32") for c in ("charts", "photo"))
    expected = measure_on_cpu(_network())
    assert rows["fp16", "charts"]["max"] == pytest.approx(expected.fp16_charts, abs=0.01)
    assert rows["fp16", "photo"]["max"] == pytest.approx(expected.fp16_photo, abs=0.01)
    assert (torch.backends.cudnn.conv.fp32_precision, torch.backends.cuda.matmul.fp32_precision, torch.backends.cudnn.benchmark) == switches


@pytest.mark.gpu
def test_on_cuda_strict_float32_is_within_a_hundredth_of_a_level_of_the_cpu(script, monkeypatch):
    rows = _rows(script, monkeypatch, "cuda")
    assert all(rows["fp32", c]["max"] < 0.01 for c in ("charts", "photo")), rows
    assert all(rows["fp16", c]["max"] < 1 for c in ("charts", "photo")), rows  # ultra-x2 is fp16-safe (registry)
