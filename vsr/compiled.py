"""The deployed network through torch.compile: the same maths, fused into fewer kernels.

`CompiledNetwork(module)` calls a deployed network through `torch.compile` (Inductor) with
channels-last activations; `vsr.model.compile_model` gives an `SRModel` one for its
whole-frame calls, while calls on tiles (`region` given) keep the eager module. The
numbers it produces equal the eager ones within float rounding (tests/test_compiled.py; on
a GPU in fp16 within the fp16 bound).

Shapes are static: the first call compiles for its (batch, height, width), which takes
seconds (measured times: docs/BENCHMARKS.md), and a different height or width compiles
again. A smaller batch than the compiled one (the last
frames of a video) is padded up to it instead of compiling again; a larger one is run in
slices of the compiled size.
"""

import copy

import torch
from torch import Tensor

from .errors import DeviceError

RECOMPILE_LIMIT = 64
"""Compiled graphs kept per network code (Dynamo's default is 8): one per model, dtype,
batch and frame size, and a process that upscales many videos meets many sizes."""


class CompiledNetwork:
    """Calls `module` through torch.compile at one batch size per frame size."""

    def __init__(self, module: torch.nn.Module, *, channels_last: bool = True, mode: str | None = None) -> None:
        config = torch._dynamo.config
        for name in ("recompile_limit", "cache_size_limit"):  # the name before torch 2.7
            if hasattr(config, name):
                setattr(config, name, max(getattr(config, name), RECOMPILE_LIMIT))
                break
        self.channels_last = channels_last
        module = copy.deepcopy(module)  # its own weights' layout; the eager module stays as it is
        if channels_last:
            module = module.to(memory_format=torch.channels_last)
        self.module = module
        self.compiled = torch.compile(module, dynamic=False, mode=mode)
        self.batch_for: dict[tuple[int, int], int] = {}  # frame size -> compiled batch

    def __call__(self, x: Tensor) -> Tensor:
        frames = x.shape[0]
        batch = self.batch_for.setdefault(tuple(x.shape[-2:]), frames)
        if frames > batch:
            return torch.cat([self(x[start : start + batch]) for start in range(0, frames, batch)])
        if frames < batch:
            x = torch.cat([x, x[-1:].expand(batch - frames, *x.shape[1:])])
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        try:
            return self.compiled(x)[:frames].contiguous()
        except torch._dynamo.exc.BackendCompilerFailed as exc:  # e.g. no C++ compiler for the CPU
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise DeviceError(f"torch.compile failed ({reason})", hint="run without {compile}") from None
