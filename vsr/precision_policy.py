"""The precision policy, the one place that decides what dtype a model runs in, and why.

    choose(asked, capabilities(device), errors) -> Precision

Asked is "auto", "fp32", "fp16" or "bf16" (`--precision`; `--half`/`--no-half` are fp16 and
fp32). The bounds are in 1/255 levels of the network's output, measured by vsr.precision:

- auto on CUDA: fp16 when the weights' measured fp16 error is within FP16_BOUND, else fp32.
- auto on the CPU: bf16 when the CPU has native bf16 (AVX512-BF16 or AMX, read at run time)
  and the weights' measured bf16 error is within BF16_BOUND; else fp32.
- fp32 on CUDA is true float32: TF32 (which rounds convolution inputs to 10 mantissa bits,
  like fp16) is switched off around the model's calls (`exact_float32`), because no TF32
  error has been measured for any file. The day one is measured within FP16_BOUND, pass it
  as `Errors.tf32` and TF32 stays on for that file (docs/MODELS.md, "Precision").
- An explicit fp16 or bf16 on weights over the bound runs, with one warning that gives the
  measured error. A precision the device lacks is refused (UsageError, exit 2): bf16 on a
  CPU without native bf16 (emulated bf16 is slower than float32), bf16 on a GPU without
  it, fp16 where torch cannot run a float16 convolution on that device. fp16 on a CPU
  that torch runs it on is allowed (it is how vsr.precision measures), and the reason says
  it is emulated and slow.

The errors come from the registry (shipped and official files, and any file whose sha256
is a registry entry's), else from a measurement on vsr.precision's small built-in content,
cached by the file's sha256 (vsr.precision_cache). Only the error a decision needs is
measured: auto on a CPU without bf16 measures nothing.
"""

import contextlib
import functools
import math
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import torch

from .constants import PRECISIONS
from .errors import PrecisionWarning, UsageError

__all__ = ["PRECISIONS", "Capabilities", "Errors", "Precision", "capabilities", "choose", "exact_float32", "precision_from", "warn_once"]
FP16_BOUND = 1.0
"""1/255 levels: auto runs fp16 on CUDA only within this (and TF32 only within it too)."""
BF16_BOUND = 6.0
"""1/255 levels: auto runs bf16 on a CPU with native bf16 only within this."""
DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}
BOUNDS = {"fp16": FP16_BOUND, "bf16": BF16_BOUND}
CPU_BF16_FLAGS = ("avx512_bf16", "amx_bf16", "bf16")
"""/proc/cpuinfo flags of native bf16 arithmetic (x86: AVX512-BF16, AMX-BF16; Arm: BF16)."""


@dataclass(frozen=True)
class Capabilities:
    """What a device runs: `bf16` natively, `fp16` at all (torch has the kernels)."""

    device_type: str  # "cpu", "cuda", ...
    where: str  # "this CPU", "cuda:0 (NVIDIA H100)": for messages
    fp16: bool
    fp16_native: bool
    bf16: bool


@dataclass(frozen=True)
class Precision:
    """A decision: the precision that runs, why (a few words for the start line), and the
    warning to give (explicit half precision over its bound)."""

    name: str  # fp32, fp16 or bf16
    reason: str
    warning: str | None = None
    tf32: bool = False  # CUDA float32 may use TF32 (only where measured within FP16_BOUND)

    @property
    def dtype(self) -> torch.dtype:
        return DTYPES[self.name]

    def __str__(self) -> str:
        return f"{self.name} ({self.reason})"


FLOAT32 = Precision("fp32", "asked")
ANY_CUDA = Capabilities("cuda", "a CUDA GPU", fp16=True, fp16_native=True, bf16=True)
"""What auto assumes of a GPU it is not running on (`vsr models`' CUDA column)."""


class Errors:
    """Measured max errors against float32, 1/255 levels, by precision. `lookup` maps
    "fp16", "bf16" or "tf32" to an error or None (unknown); it may measure, so each
    precision is looked up once, when a decision needs it. `label` names the weights."""

    def __init__(self, lookup: Callable[[str], float | None], label: str):
        self._lookup, self.label, self._known = lookup, label, {}

    @classmethod
    def of_entry(cls, entry) -> "Errors":
        """A registry entry's figures (vsr.weights.WeightsEntry: fp16_max_error, ...)."""
        return cls(lambda precision: getattr(entry, f"{precision}_max_error", None), entry.name)

    def of(self, precision: str) -> float | None:
        if precision not in self._known:
            value = self._lookup(precision)
            self._known[precision] = None if value is None or math.isnan(value) else float(value)
        return self._known[precision]


def precision_from(precision: str | None, half: bool | None) -> str:
    """`precision` (auto, fp32, fp16, bf16; None: auto) or the older `half` (True: fp16,
    False: fp32, None: auto); both given and disagreeing is a UsageError."""
    if precision is not None and precision not in PRECISIONS:
        raise UsageError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    from_half = None if half is None else ("fp16" if half else "fp32")
    if precision not in (None, "auto") and from_half is not None and from_half != precision:
        raise UsageError(f"half={half} and precision={precision!r} disagree; give one", hint="use {precision} alone")
    return from_half if precision in (None, "auto") and from_half else precision or "auto"


def choose(asked: str, device: Capabilities, errors: Errors) -> Precision:
    """The precision to run (see the module docstring)."""
    if asked not in PRECISIONS:
        raise UsageError(f"precision must be one of {', '.join(PRECISIONS)}, got {asked!r}")
    if asked == "fp32":
        return Precision("fp32", "asked", tf32=_tf32_allowed(device, errors))
    if asked in ("fp16", "bf16"):
        return _explicit(asked, device, errors)
    if device.device_type == "cuda":
        return _auto("fp16", device, errors, "")
    if device.device_type == "cpu":
        if not device.bf16:
            return Precision("fp32", "no native bf16 on this CPU")
        return _auto("bf16", device, errors, "native on this CPU; ")
    return Precision("fp32", f"the default on {device.where}")


def _auto(half: str, device: Capabilities, errors: Errors, native: str) -> Precision:
    error, bound = errors.of(half), BOUNDS[half]
    if error is None:
        return Precision("fp32", f"{half} error of {errors.label} unknown", tf32=False)
    if error <= bound:
        return Precision(half, f"{native}measured {error:.1f}/255")
    return Precision("fp32", f"{half} strays {error:.1f}/255 here, over its {bound:g}/255 bound", tf32=_tf32_allowed(device, errors))


def _explicit(asked: str, device: Capabilities, errors: Errors) -> Precision:
    lacks = not device.bf16 if asked == "bf16" else not device.fp16
    if lacks:
        raise UsageError(f"{asked} is not supported natively on {device.where}", hint="use {precision=auto} or {precision=fp32}")
    reason = "asked"
    if device.device_type == "cpu" and asked == "fp16" and not device.fp16_native:
        reason = "asked; emulated on this CPU, slow"
    error, bound = errors.of(asked), BOUNDS[asked]
    warning = None
    if error is not None and error > bound:
        warning = f"{errors.label} in {asked} strays up to {error:.0f}/255 from float32 (measured; the bound is {bound:g}/255); auto would run fp32"
    return Precision(asked, reason, warning)


def _tf32_allowed(device: Capabilities, errors: Errors) -> bool:
    if device.device_type != "cuda":
        return False
    error = errors.of("tf32")
    return error is not None and error <= FP16_BOUND


def warn_once(precision: Precision) -> None:
    """The decision's warning, as a PrecisionWarning (the CLI prints it as one line)."""
    if precision.warning:
        warnings.warn(precision.warning, PrecisionWarning, stacklevel=3)


@contextlib.contextmanager
def exact_float32(device: torch.device, precision: Precision) -> Iterator[None]:
    """Around a model's call: on CUDA in fp32 without measured TF32 accuracy, TF32 off
    (cuDNN convolutions and matmuls), restored afterwards; elsewhere nothing."""
    if device.type != "cuda" or precision.name != "fp32" or precision.tf32:
        yield
        return
    before = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    try:
        yield
    finally:
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = before


# --- capabilities, read at run time (tests replace these probes) ---------------------------


def capabilities(device: torch.device) -> Capabilities:
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
        return Capabilities("cuda", f"{device} ({name})", True, True, torch.cuda.is_bf16_supported())
    if device.type == "cpu":
        flags = cpu_flags()
        native_fp16 = bool({"avx512_fp16", "amx_fp16"} & flags)
        return Capabilities("cpu", "this CPU", fp16=torch_runs_fp16_on_cpu(), fp16_native=native_fp16, bf16=bool(set(CPU_BF16_FLAGS) & flags))
    return Capabilities(device.type, str(device), False, False, False)


@functools.cache
def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags (Linux /proc/cpuinfo; elsewhere only what torch reports:
    its AMX capability level implies AMX-BF16)."""
    flags: set[str] = set()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(("flags", "Features")):  # x86, Arm
                flags.update(line.partition(":")[2].split())
                break
    if "AMX" in torch.backends.cpu.get_cpu_capability():
        flags.add("amx_bf16")
    return frozenset(flags)


@functools.cache
def torch_runs_fp16_on_cpu() -> bool:
    """Whether this torch has a float16 convolution on the CPU."""
    try:
        with torch.inference_mode():
            torch.nn.functional.conv2d(torch.zeros(1, 1, 3, 3, dtype=torch.float16), torch.zeros(1, 1, 1, 1, dtype=torch.float16))
        return True
    except RuntimeError:
        return False
