"""`load_model`: a ready-to-run PlainUSR from a shipped name or any weights file."""

import contextlib
import dataclasses
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor

from .archs import SCALES, VARIANTS, PlainUSR, TileRegion
from .checkpoint import Checkpoint, build_deployed, read_checkpoint
from .compiled import CompiledNetwork
from .constants import DEFAULT_SCALE, DEFAULT_VARIANTS, PURPOSES
from .device import prefers_channels_last, resolve_device
from .errors import UsageError, WeightsError
from .precision_policy import FLOAT32, Errors, Precision, capabilities, choose, exact_float32, precision_from, warn_once
from .weights import Registry, WeightsEntry, shipped


@dataclass
class SRModel:
    """A deployed PlainUSR in eval mode on a device, with what callers need to know."""

    module: PlainUSR
    variant: str
    scale: int
    source: str  # shipped name or file path
    device: torch.device
    dtype: torch.dtype  # what the network computes in: float32, float16, or bfloat16 (autocast)
    compiled_network: Callable[[Tensor], Tensor] | None = None  # whole-frame calls (vsr.compiled)
    precision: Precision = FLOAT32  # the policy's decision and its reason (vsr.precision_policy)
    channels_last: bool = False  # eager calls in channels_last (vsr.device.prefers_channels_last)

    @property
    def min_size(self) -> int:
        return self.module.min_size

    @property
    def num_params(self) -> int:
        return sum(p.numel() for p in self.module.parameters())

    def __call__(self, x: Tensor, region: TileRegion | None = None) -> Tensor:
        """(N, 3, H, W) RGB in [0, 1] -> (N, 3, H*s, W*s), in the model's dtype, unclamped.
        `region` says where x lies when it is a tile of a larger image (vsr.tiling)."""
        if x.shape[-1] < self.min_size or x.shape[-2] < self.min_size:
            raise ValueError(f"input {x.shape[-1]}x{x.shape[-2]} is smaller than the model's minimum {self.min_size}x{self.min_size}")
        with torch.inference_mode(), exact_float32(self.device, self.precision), self._autocast():
            x = x.to(self.device, self.input_dtype)
            if self.compiled_network is not None and region is None:
                return self.compiled_network(x)
            if self.channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            return self.module(x, region)

    @property
    def input_dtype(self) -> torch.dtype:
        """What inputs are converted to: bf16 runs the float32 network under autocast, as
        vsr.precision measures it, so its inputs stay float32."""
        return torch.float32 if self.dtype == torch.bfloat16 else self.dtype

    def _autocast(self):
        if self.dtype != torch.bfloat16:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=torch.bfloat16)

    @property
    def is_compiled(self) -> bool:
        return self.compiled_network is not None

    def eager(self) -> "SRModel":
        """This model without its compiled network (for calls of many sizes)."""
        return dataclasses.replace(self, compiled_network=None)

    @property
    def name(self) -> str:
        """e.g. 'PlainUSR base x2 (base-x2)'."""
        return f"PlainUSR {self.variant} x{self.scale} ({self.source})"

    @property
    def runs_on(self) -> str:
        """e.g. 'cuda:0 float16, compiled'."""
        return f"{self.device} {str(self.dtype).removeprefix('torch.')}{', compiled' if self.is_compiled else ''}"

    @property
    def description(self) -> str:
        """e.g. 'PlainUSR base x2 (base-x2) on cuda:0 float16, compiled; fp16 (measured
        0.3/255)': what runs, and why in that precision (the start line)."""
        return f"{self.name} on {self.runs_on}; {self.precision}"


@dataclass(frozen=True)
class WeightsIdentity:
    """What `load_model` would load, read off the weights file without building the network
    (a Ray driver plans the output from it while its workers load the model)."""

    source: str  # shipped name or file path
    variant: str
    scale: int


def identify_weights(
    model: "SRModel | str | os.PathLike | None",
    *,
    scale: int | None = None,
    purpose: str = PURPOSES[0],
    device_type: str = "cpu",
    registry: Registry | None = None,
) -> WeightsIdentity:
    """The weights `load_model(model, scale=scale, purpose=purpose)` would load on a device
    of `device_type` (the default model depends on it; an SRModel: its own), with the same
    errors, but no network is built and nothing is put on a device."""
    if isinstance(model, SRModel):
        if scale is not None and model.scale != scale:
            raise UsageError(f"the model is x{model.scale} but scale {scale} was asked for")
        return WeightsIdentity(model.source, model.variant, model.scale)
    _, source, checkpoint = _read_weights(model, scale, registry or shipped(), purpose, device_type)
    return WeightsIdentity(source, checkpoint.variant, checkpoint.scale)


def upscale_any_size(model: "SRModel", x: Tensor) -> Tensor:
    """`model(x)`, but an input below the model's minimum size (a tiny video) is padded by
    repeating its edge and the result cropped back to scale x its size."""
    height, width = x.shape[-2:]
    pad_h, pad_w = max(0, model.min_size - height), max(0, model.min_size - width)
    if pad_h or pad_w:
        x = F.pad(x, (0, pad_w, 0, pad_h), mode="replicate")
    return model(x)[..., : height * model.scale, : width * model.scale]


def load_model(model: str | os.PathLike | None = None, **options) -> SRModel:
    """Load PlainUSR weights: `plan_load(model, **options)` (its keyword arguments:
    `scale`, `device` ("cpu"), `precision`, `half`, `registry`, `purpose`), built.

    `model` is a shipped name (`small-x2-video`), a variant name with `scale` (`small`,
    scale=2), None for the default shipped model at `scale`, or a path to any weights file
    (vsr's own or an official PlainUSR release file; variant and scale are read off the
    tensors). A `Path` is always taken as a file; a string is a name unless it looks like a
    path. A variant name or None takes the weights trained for `purpose` ("video", the
    default, or "clean"; vsr.constants.PURPOSES) where they are shipped, else the others.

    `precision`: "auto", "fp32", "fp16" or "bf16", decided by vsr.precision_policy (auto:
    fp16 on CUDA, bf16 on a CPU with native bf16, where the weights' measured error allows);
    `half` is the older spelling (True: fp16, False: fp32). Given neither, a model loaded
    by itself runs float32; as_model, upscale_video, upscale_frames and the commands
    default to auto. Half precision asked for on weights over its bound works, with a
    PrecisionWarning; one the device lacks is a UsageError.
    """
    plan = plan_load(model, **options)
    warn_once(plan.precision)
    module, channels_last = placed(build_deployed(plan.checkpoint), plan.device, plan.precision)
    variant, scale = plan.checkpoint.variant, plan.checkpoint.scale
    return SRModel(module, variant, scale, plan.source, plan.device, plan.precision.dtype, precision=plan.precision, channels_last=channels_last)


def placed(module: torch.nn.Module, device: torch.device, precision: Precision) -> tuple[torch.nn.Module, bool]:
    """A network ready to run: eval, no grad, on `device`, float16 for fp16 (else float32:
    bf16 runs under autocast), in the device's memory format; and whether channels_last."""
    module = module.eval().requires_grad_(False).to(device, torch.float16 if precision.name == "fp16" else torch.float32)
    channels_last = prefers_channels_last(device)
    return (module.to(memory_format=torch.channels_last) if channels_last else module), channels_last


@dataclass(frozen=True)
class LoadPlan:
    """What `load_model` will load, where, and in which precision (decided, not yet built)."""

    path: Path
    source: str  # the shipped name or the file path
    checkpoint: Checkpoint
    device: torch.device
    precision: Precision

    @property
    def key(self) -> tuple[str, str, str]:
        """What tells two loads apart: the same key builds the same network (a cache key)."""
        return str(self.path), str(self.device), self.precision.name


def plan_load(
    model: str | os.PathLike | None = None,
    *,
    scale: int | None = None,
    device: str | torch.device = "cpu",
    half: bool | None = None,
    precision: str | None = None,
    registry: Registry | None = None,
    purpose: str = PURPOSES[0],
) -> LoadPlan:
    """`load_model`'s decisions without building the network: the weights file (read and
    checked), the device, and the precision policy's choice (which may measure an unknown
    file once: vsr.precision_cache)."""
    registry = registry or shipped()
    asked = "fp32" if precision is None and half is None else precision_from(precision, half)
    torch_device = device if isinstance(device, torch.device) else resolve_device(device)
    path, source, checkpoint = _read_weights(model, scale, registry, purpose, torch_device.type)
    errors = precision_errors(registry.get(source) or registry.find_file(path), path, lambda: build_deployed(checkpoint), source, torch_device)
    return LoadPlan(path, source, checkpoint, torch_device, choose(asked, capabilities(torch_device), errors))


def precision_errors(
    entry: WeightsEntry | None, path: Path, network: Callable[[], torch.nn.Module], label: str, device: torch.device
) -> Errors:
    """The measured errors of these weights: the registry's figures where it has the file,
    else measured once (on `network()`) and cached by the file's sha256 (vsr.precision_cache)."""
    if entry is not None:
        return Errors.of_entry(entry)
    from .precision_cache import cached_lookup

    return Errors(cached_lookup(path, network, "cuda" if device.type == "cuda" else "cpu"), label)


def as_model(
    model: "SRModel | str | os.PathLike | None",
    *,
    scale: int | None = None,
    device: str | torch.device = "auto",
    half: bool | None = None,
    precision: str | None = None,
    compile: bool = False,
    purpose: str = PURPOSES[0],
) -> SRModel:
    """An SRModel as given (checked against `scale`), or `load_model` of a name/path/None
    in `precision` (default auto; `half` True/False is fp16/fp32; see vsr.precision_policy);
    `compile` runs whole frames through torch.compile (vsr.compiled); `purpose` picks
    video or clean weights for a variant name or None (see `load_model`)."""
    if isinstance(model, SRModel):
        if scale is not None and model.scale != scale:
            raise UsageError(f"the model is x{model.scale} but scale {scale} was asked for")
    else:
        torch_device = device if isinstance(device, torch.device) else resolve_device(device)
        model = load_model(model, scale=scale, device=torch_device, precision=precision_from(precision, half), purpose=purpose)
    if compile:
        model = compile_model(model)
    return model


def compile_model(model: SRModel, *, channels_last: bool = True, mode: str | None = None) -> SRModel:
    """`model` with its whole-frame calls compiled (see vsr.compiled); tiles and
    the eager `model.module` keep running eagerly, on the same weight values."""
    if model.is_compiled:
        return model
    return dataclasses.replace(model, compiled_network=CompiledNetwork(model.module, channels_last=channels_last, mode=mode))


def default_model_name(
    scale: int | None, registry: Registry | None = None, purpose: str = PURPOSES[0], device_type: str = "cpu"
) -> str | None:
    """The shipped model used when none is named: the model of the device's default preset
    (vsr.presets.DEVICE_PRESETS: ultra on the CPU, small on CUDA) where it is shipped at
    this scale, else the first of DEFAULT_VARIANTS with weights trained for `purpose`
    (video by default) at this scale, else with any weights, as `Registry.shipped_variant`
    picks them; None if nothing is shipped at that scale."""
    from .presets import DEVICE_PRESETS, load_preset

    registry = registry or shipped()
    scale = scale or DEFAULT_SCALE
    preferred = load_preset(DEVICE_PRESETS.get(device_type, DEVICE_PRESETS["cpu"])).model
    for wanted in (purpose, *(p for p in PURPOSES if p != purpose)):
        variants = (preferred, *DEFAULT_VARIANTS) if preferred else DEFAULT_VARIANTS
        variant = next((v for v in variants if registry.shipped_for(v, scale, wanted)), None)
        if variant:
            return registry.shipped_variant(variant, scale, purpose).name
    return None


def _read_weights(model, scale: int | None, registry: Registry, purpose: str, device_type: str):
    """(path, source, checkpoint) of what `model` and `scale` name, checked against `scale`."""
    if scale is not None and scale not in SCALES:
        raise UsageError(f"scale must be one of {', '.join(map(str, SCALES))}; got {scale}")
    path, source = _locate(model, scale, registry, purpose, device_type)
    checkpoint = read_checkpoint(path)
    if scale is not None and checkpoint.scale != scale:
        raise UsageError(f"{source} is a x{checkpoint.scale} model but scale {scale} was asked for")
    return path, source, checkpoint


def _locate(model: str | os.PathLike | None, scale: int | None, registry: Registry, purpose: str, device_type: str) -> tuple[Path, str]:
    if model is None:
        wanted = scale or DEFAULT_SCALE
        name = default_model_name(wanted, registry, purpose, device_type)
        if name is not None:
            return registry.verified_path(registry.get(name)), name
        raise WeightsError(
            f"no shipped weights for x{wanted} in this version of vsr",
            hint="pass a weights file ({weights=FILE}; an official PlainUSR checkpoint works)",
        )
    if isinstance(model, os.PathLike):
        return Path(model), os.fspath(model)
    text = model
    name = f"{text}-x{scale or DEFAULT_SCALE}" if text in VARIANTS else text
    entry = registry.shipped_variant(text, scale or DEFAULT_SCALE, purpose) if text in VARIANTS else registry.get(name)
    if entry:
        return registry.verified_path(entry), entry.name
    if text in VARIANTS:
        available = ", ".join(e.name for e in registry.shipped_entries()) or "none yet"
        official = f"; official-{name} is the official release (downloaded on first use)" if registry.get(f"official-{name}") else ""
        raise WeightsError(f"no shipped weights for {name} (shipped: {available}){official}", hint="pass {weights=FILE}")
    if Path(text).exists() or os.sep in text or text.endswith((".pth", ".pt")):
        return Path(text), text
    available = ", ".join(registry.names()) or "none yet"
    raise WeightsError(f"unknown model {text!r}: expected a variant ({', '.join(VARIANTS)}), a known name ({available}; see vsr models) or a weights file")
