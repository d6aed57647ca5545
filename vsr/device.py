"""Device and precision policy, in one place: device names -> torch devices (one clear
line when that fails), the default precision per device, the one process-wide cuDNN flag
vsr sets, and the CPU environment the `vsr` command sets before torch starts.

Importing vsr changes no global state. What vsr does change, and when:
- `torch.backends.cudnn.benchmark = True` when a video run starts on CUDA
  (`prefer_fixed_size_kernels`);
- torch's Dynamo recompile limit, raised when a model is compiled (vsr.compiled);
- THP_MEM_ALLOC_ENABLE / OMP_WAIT_POLICY, set by the `vsr` command (not the library)
  before it imports torch (vsr.environment, which imports no torch).
"""

import torch

from .errors import DeviceError, UsageError


def resolve_device(spec: str = "auto") -> torch.device:
    """'auto' (CUDA when present, else CPU), 'cpu', 'cuda' or 'cuda:N'."""
    spec = spec.strip().lower()
    if spec == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if spec == "cpu":
        return torch.device("cpu")
    if spec == "cuda" or spec.startswith("cuda:"):
        index_text = spec.partition(":")[2]
        if index_text and not index_text.isdigit():
            raise UsageError(f"bad device {spec!r}: expected auto, cpu, cuda or cuda:N")
        if not torch.cuda.is_available():
            raise DeviceError(f"device {spec} requested but no CUDA GPU is available here", hint="use {device=cpu}")
        index = int(index_text or 0)
        if index >= torch.cuda.device_count():
            raise DeviceError(f"device {spec} requested but only {torch.cuda.device_count()} CUDA device(s) exist")
        return torch.device("cuda", index)
    raise UsageError(f"bad device {spec!r}: expected auto, cpu, cuda or cuda:N")


def resolve_half(device: torch.device, half: bool | None) -> bool:
    """The precision policy: float16 where `half` says so; None means float16 on CUDA (the
    models are fp16-safe: vsr.archs.softpool) and float32 on the CPU (no fast fp16 there)."""
    return device.type == "cuda" if half is None else half


def prefer_fixed_size_kernels(device: torch.device) -> None:
    """Let cuDNN time its algorithms once per shape and keep the fastest (every frame of a
    video has one size). This sets `torch.backends.cudnn.benchmark`, a process-wide flag:
    vsr sets it only when a CUDA video run starts, never at import."""
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True

