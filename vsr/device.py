"""Device policy, in one place: device names -> torch devices (one clear line when that
fails), the memory format per device, the one process-wide cuDNN flag vsr sets, and the
CPU environment the `vsr` command sets before torch starts. The precision policy is
vsr.precision_policy.

Importing vsr changes no global state. What vsr does change, and when:
- `torch.backends.cudnn.benchmark = True` when a video run starts on CUDA
  (`prefer_fixed_size_kernels`);
- TF32 off (cuDNN and matmul), set and restored around each call of a CUDA model that the
  precision policy runs in true float32 (vsr.precision_policy.exact_float32);
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


CHANNELS_LAST = {"cpu": True, "cuda": False}
"""Eager calls in channels_last, per device type, as measured (docs/BENCHMARKS.md, "Memory
format"): on the CPU (oneDNN) channels_last is faster at every frame size measured, in
float32 and bf16; on CUDA it is not measured yet (no GPU lent since 2026-11-28), so eager
CUDA stays contiguous as before (`--compile` uses channels_last on every device)."""


def prefers_channels_last(device: torch.device) -> bool:
    """Whether the model runs in channels_last on this device (CHANNELS_LAST)."""
    return CHANNELS_LAST.get(device.type, False)


def prefer_fixed_size_kernels(device: torch.device) -> None:
    """Let cuDNN time its algorithms once per shape and keep the fastest (every frame of a
    video has one size). This sets `torch.backends.cudnn.benchmark`, a process-wide flag:
    vsr sets it only when a CUDA video run starts, never at import."""
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True

