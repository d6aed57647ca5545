"""A loaded model as an ONNX file for other runtimes: vs-mlrt (VapourSynth: TensorRT, ONNX
Runtime, OpenVINO), chaiNNer, or ONNX Runtime itself.

The graph takes NCHW RGB in [0, 1] (float32, or float16 with `half`), with dynamic batch,
height and width, and returns (N, 3, H*s, W*s), unclamped, as the PyTorch model does. An
input smaller than the model's minimum (7x7 for the LIA variants) is padded inside the
graph by repeating its edge and the result cropped back, as `vsr.model.upscale_any_size`
does, so no runtime needs to know about the limit. SoftPool stays in float32 inside a
float16 graph (vsr.archs.softpool). The metadata names the variant, scale and source.

onnx and onnxscript (the exporter's dependencies) and onnxruntime (the check) are the
optional extra `vsr[onnx]`; they are imported only here.
"""

import contextlib
import copy
import importlib.util
import logging
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .atomic import atomic_path
from .errors import UsageError
from .model import SRModel, upscale_any_size

OPSET = 18  # the exporter's own; vs-mlrt's and chaiNNer's ONNX Runtime builds read it
MAX_SIDE = 16384
FLOAT32_TOLERANCE = 1e-4  # ONNX Runtime against PyTorch, float32; a file further off is not kept
INPUT, OUTPUT = "input", "output"


class _PaddedNetwork(nn.Module):
    """The deployed network with the padding of inputs below its minimum size."""

    def __init__(self, net: nn.Module, scale: int, min_size: int) -> None:
        super().__init__()
        self.net, self.scale, self.min_size = net, scale, min_size

    def forward(self, x: Tensor) -> Tensor:
        height, width = x.shape[-2], x.shape[-1]
        pad_h = torch.sym_max(0, self.min_size - height)  # symbolic: Max in the graph, not a branch
        pad_w = torch.sym_max(0, self.min_size - width)
        x = F.pad(x, (0, pad_w, 0, pad_h), mode="replicate")
        return self.net(x)[..., : height * self.scale, : width * self.scale]


@dataclass(frozen=True)
class OnnxExport:
    path: Path
    metadata: dict[str, str]
    max_error: float | None  # ONNX Runtime against PyTorch on a check input; None if not run


def require_onnx(check: bool = True) -> None:
    """One line naming the extra when the exporter's packages are missing."""
    needed = ("onnx", "onnxscript", "onnxruntime") if check else ("onnx", "onnxscript")
    missing = [name for name in needed if importlib.util.find_spec(name) is None]
    if missing:
        raise UsageError(f"ONNX export needs {', '.join(missing)}: pip install 'vsr[onnx]'")


def export_onnx(model: SRModel, path: str | os.PathLike, *, source: str, licence: str = "", check: bool = True) -> OnnxExport:
    """Write `model` (its dtype: float32 or float16) to `path` as ONNX, atomically; with
    `check`, run the file in ONNX Runtime on an odd-sized input and a tiny one and return
    the largest difference from PyTorch."""
    require_onnx(check)
    import onnx

    cpu_net = copy.deepcopy(model.module).cpu()  # the caller's model stays where it is
    network = _PaddedNetwork(cpu_net, model.scale, model.min_size).eval()
    example = torch.rand(2, 3, 33, 41, dtype=model.dtype)  # batch 2: a batch of 1 would be fixed at 1
    dims = {0: torch.export.Dim("batch", min=1, max=64)}
    dims |= {2: torch.export.Dim("height", min=1, max=MAX_SIDE), 3: torch.export.Dim("width", min=1, max=MAX_SIDE)}
    with _exporter_quiet():
        program = torch.onnx.export(network, (example,), dynamo=True, opset_version=OPSET, input_names=[INPUT],
                                    output_names=[OUTPUT], dynamic_shapes={"x": dims}, verbose=False)  # fmt: skip
    proto = program.model_proto
    metadata = {
        "variant": model.variant,
        "scale": str(model.scale),
        "source": source,
        "licence": licence,
        "min_size": str(model.min_size),
        "input": f"NCHW RGB in [0, 1], {str(model.dtype).removeprefix('torch.')}; any size (below {model.min_size}x{model.min_size} padded inside)",
        "output": f"NCHW RGB, {model.scale}x the input size, not clamped",
    }
    onnx.helper.set_model_props(proto, metadata)
    proto.producer_name, proto.doc_string = "vsr", f"PlainUSR {model.variant} x{model.scale} ({source})"
    path = Path(path)
    with atomic_path(path) as temp:
        onnx.save(proto, temp)
        onnx.checker.check_model(str(temp))
        max_error = _check_with_onnx_runtime(temp, model) if check else None
        if max_error is not None and model.dtype == torch.float32 and max_error > FLOAT32_TOLERANCE:
            raise RuntimeError(f"the ONNX graph differs from PyTorch by {max_error:.2g} (over {FLOAT32_TOLERANCE}); not kept")
    return OnnxExport(path, metadata, max_error)


@contextlib.contextmanager
def _exporter_quiet() -> Iterator[None]:
    """The exporter's notes about optional packages (torchvision) and its own deprecation
    warnings are not the user's business."""
    logger = logging.getLogger("torch.onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            yield
    finally:
        logger.setLevel(level)


def _check_with_onnx_runtime(path: Path, model: SRModel) -> float:
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    reference = SRModel(copy.deepcopy(model.module).cpu(), model.variant, model.scale, model.source, torch.device("cpu"), model.dtype)
    worst = 0.0
    for height, width in ((19, 27), (3, 5)):  # odd, and below every variant's minimum
        x = torch.rand(1, 3, height, width).to(model.dtype)
        ours = upscale_any_size(reference, x).float()
        theirs = torch.from_numpy(session.run(None, {INPUT: x.numpy()})[0]).float()
        worst = max(worst, (ours - theirs).abs().max().item())
    return worst
