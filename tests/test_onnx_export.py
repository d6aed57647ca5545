"""vsr export --onnx: the file runs in ONNX Runtime like the PyTorch model, at any size."""

import importlib.util

import pytest
import torch

from conftest import randomize_
from vsr import load_model
from vsr.archs import build_plainusr
from vsr.cli import main
from vsr.model import upscale_any_size

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxscript")
onnxruntime = pytest.importorskip("onnxruntime")


def run_onnx(path, x: torch.Tensor) -> torch.Tensor:
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return torch.from_numpy(session.run(None, {"input": x.numpy()})[0])


@pytest.fixture(scope="module")
def small_file(tmp_path_factory):
    """An LIA variant (minimum input 7x7) with random weights, exported once for the tests."""
    folder = tmp_path_factory.mktemp("onnx")
    weights = folder / "small.pth"
    torch.save(randomize_(build_plainusr("small", 2)).state_dict(), weights)
    out = folder / "small.onnx"
    assert main(["export", "--onnx", str(out), "--weights", str(weights)]) == 0
    return weights, out


def test_metadata_opset_and_dynamic_axes(small_file):
    weights, out = small_file
    proto = onnx.load(str(out))
    meta = {p.key: p.value for p in proto.metadata_props}
    assert meta["variant"] == "small" and meta["scale"] == "2" and meta["source"].startswith("small.pth (sha256 ")
    assert max(o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")) >= 17
    dims = [d.dim_param or d.dim_value for d in proto.graph.input[0].type.tensor_type.shape.dim]
    assert dims[1] == 3 and all(isinstance(d, str) and d for d in (dims[0], dims[2], dims[3]))


@pytest.mark.parametrize("shape", [(1, 3, 19, 27), (2, 3, 45, 61), (1, 3, 5, 3), (1, 3, 1, 1)], ids=str)
def test_onnx_runtime_matches_pytorch_on_odd_and_tiny_sizes(small_file, shape):
    weights, out = small_file
    model = load_model(weights, device="cpu")
    x = torch.rand(shape)
    expected = upscale_any_size(model, x)
    got = run_onnx(out, x)
    assert got.shape == expected.shape == (shape[0], 3, shape[2] * 2, shape[3] * 2)
    assert (got - expected).abs().max() < 1e-4


def test_half_export_of_a_known_model_is_float16_and_close(tmp_path, capsys):
    out = tmp_path / "ultra-x2-fp16.onnx"
    assert main(["export", "--onnx", str(out), "--model", "ultra-x2", "--half"]) == 0
    assert "float16" in capsys.readouterr().out
    proto = onnx.load(str(out))
    assert proto.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT16
    meta = {p.key: p.value for p in proto.metadata_props}
    assert meta["source"].startswith("ultra-x2 (shipped") and meta["licence"] == "MIT"
    x = torch.rand(1, 3, 23, 17)
    fp32 = load_model("ultra-x2", device="cpu")(x).clamp(0, 1)
    fp16 = run_onnx(out, x.half()).float().clamp(0, 1)
    assert (fp16 - fp32).abs().max() * 255 < 1.5


def test_mistakes_are_one_line(tmp_path, capsys, monkeypatch):
    taken = tmp_path / "taken.onnx"
    taken.write_bytes(b"keep me")
    assert main(["export", "--onnx", str(taken), "--model", "ultra-x2"]) == 1
    assert main(["export", "--onnx", str(tmp_path / "a.onnx")]) == 2
    assert main(["export", "--onnx", str(tmp_path / "a.onnx"), "--model", "ultra-x2", "-o", "x.pth"]) == 2
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "onnxscript" else real_find_spec(name, *a))
    assert main(["export", "--onnx", str(tmp_path / "a.onnx"), "--model", "ultra-x2"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 4 and "exists" in err[0] and "pip install 'vsr[onnx]'" in err[3]
    assert taken.read_bytes() == b"keep me" and not (tmp_path / "a.onnx").exists()
