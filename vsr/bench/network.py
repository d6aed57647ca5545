"""The network alone: (N, 3, H, W) tensors already on the device in, upscaled tensors out.
No colour conversion, no copies, no video: the ceiling the model stage works under.

On a GPU each measurement is timed with CUDA events around a run of calls, after warm-up
calls (cuDNN autotuning, the allocator, and for a compiled network the compile itself,
whose time is reported separately)."""

import dataclasses
import time
from dataclasses import dataclass

import torch

from ..device import prefer_fixed_size_kernels
from ..model import SRModel
from .stages import synchronize

WARMUP_CALLS = 3


@dataclass
class NetworkSpeed:
    variant: str
    scale: int
    dtype: str
    batch: int
    compiled: bool
    width: int
    height: int
    fps: float
    first_call_seconds: float  # the compile, for a compiled network

    @property
    def ms_per_frame(self) -> float:
        return 1000 / self.fps

    def as_dict(self) -> dict:
        return dataclasses.asdict(self) | {"ms_per_frame": self.ms_per_frame}


def time_network(model: SRModel, width: int, height: int, batch: int, *, min_seconds: float = 1.0) -> NetworkSpeed:
    device = model.device
    if device.type == "cuda":
        prefer_fixed_size_kernels(device)  # as the pipeline's model stage runs (vsr.video.stages.engine)
    x = torch.rand(batch, 3, height, width, device=device, dtype=model.input_dtype)
    started = time.perf_counter()
    model(x)
    synchronize(device)
    first_call = time.perf_counter() - started
    for _ in range(WARMUP_CALLS - 1):
        model(x)
    calls, seconds = _timed_calls(model, x, 1)
    while seconds < min_seconds:  # enough calls to fill min_seconds, measured afresh
        calls, seconds = _timed_calls(model, x, max(calls * 2, int(calls * min_seconds / max(seconds, 1e-6) * 1.1)))
    dtype = str(model.dtype).removeprefix("torch.")
    return NetworkSpeed(model.variant, model.scale, dtype, batch, model.is_compiled, width, height, calls * batch / seconds, first_call)


def _timed_calls(model: SRModel, x: torch.Tensor, calls: int) -> tuple[int, float]:
    if model.device.type == "cuda":
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(calls):
            model(x)
        end.record()
        end.synchronize()
        return calls, start.elapsed_time(end) / 1000
    started = time.perf_counter()
    for _ in range(calls):
        model(x)
    return calls, time.perf_counter() - started
