"""`load_model`: a ready-to-run PlainUSR from a shipped name or any weights file."""

import dataclasses
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor

from .archs import SCALES, VARIANTS, PlainUSR, TileRegion
from .checkpoint import build_deployed, read_checkpoint
from .compiled import CompiledNetwork
from .constants import DEFAULT_SCALE, DEFAULT_VARIANTS, PURPOSES
from .device import resolve_device
from .errors import PrecisionWarning, UsageError, WeightsError
from .weights import Registry, WeightsEntry, shipped


@dataclass
class SRModel:
    """A deployed PlainUSR in eval mode on a device, with what callers need to know."""

    module: PlainUSR
    variant: str
    scale: int
    source: str  # shipped name or file path
    device: torch.device
    dtype: torch.dtype
    compiled_network: Callable[[Tensor], Tensor] | None = None  # whole-frame calls (vsr.compiled)

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
        with torch.inference_mode():
            x = x.to(self.device, self.dtype)
            if self.compiled_network is not None and region is None:
                return self.compiled_network(x)
            return self.module(x, region)

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
        """e.g. 'PlainUSR base x2 (base-x2) on cuda:0 float16, compiled'."""
        return f"{self.name} on {self.runs_on}"


@dataclass(frozen=True)
class WeightsIdentity:
    """What `load_model` would load, read off the weights file without building the network
    (a Ray driver plans the output from it while its workers load the model)."""

    source: str  # shipped name or file path
    variant: str
    scale: int


def identify_weights(
    model: "SRModel | str | os.PathLike | None", *, scale: int | None = None, purpose: str = PURPOSES[0], registry: Registry | None = None
) -> WeightsIdentity:
    """The weights `load_model(model, scale=scale, purpose=purpose)` would load (an SRModel:
    its own), with the same errors, but no network is built and nothing is put on a device."""
    if isinstance(model, SRModel):
        if scale is not None and model.scale != scale:
            raise UsageError(f"the model is x{model.scale} but scale {scale} was asked for")
        return WeightsIdentity(model.source, model.variant, model.scale)
    _, source, checkpoint = _read_weights(model, scale, registry or shipped(), purpose)
    return WeightsIdentity(source, checkpoint.variant, checkpoint.scale)


def upscale_any_size(model: "SRModel", x: Tensor) -> Tensor:
    """`model(x)`, but an input below the model's minimum size (a tiny video) is padded by
    repeating its edge and the result cropped back to scale x its size."""
    height, width = x.shape[-2:]
    pad_h, pad_w = max(0, model.min_size - height), max(0, model.min_size - width)
    if pad_h or pad_w:
        x = F.pad(x, (0, pad_w, 0, pad_h), mode="replicate")
    return model(x)[..., : height * model.scale, : width * model.scale]


def load_model(
    model: str | os.PathLike | None = None,
    *,
    scale: int | None = None,
    device: str | torch.device = "cpu",
    half: bool | None = False,
    registry: Registry | None = None,
    purpose: str = PURPOSES[0],
) -> SRModel:
    """Load PlainUSR weights.

    `model` is a shipped name (`small-x2-video`), a variant name with `scale` (`small`,
    scale=2), None for the default shipped model at `scale`, or a path to any weights file
    (vsr's own or an official PlainUSR release file; variant and scale are read off the
    tensors). A `Path` is always taken as a file; a string is a name unless it looks like a
    path. A variant name or None takes the weights trained for `purpose` ("video", the
    default, or "clean"; vsr.constants.PURPOSES) where they are shipped, else the others.

    `half`: float16; None means float16 on CUDA unless the registry measured that these
    weights stray more than 1/255 from float32 in float16 (`cuda_precision`); asking for
    float16 on such weights works but warns (PrecisionWarning).
    """
    registry = registry or shipped()
    path, source, checkpoint = _read_weights(model, scale, registry, purpose)
    torch_device = device if isinstance(device, torch.device) else resolve_device(device)
    half = use_half(half, torch_device, registry.get(source) or registry.find_file(path))
    dtype = torch.float16 if half else torch.float32
    module = build_deployed(checkpoint).eval().requires_grad_(False).to(torch_device, dtype)
    return SRModel(module, checkpoint.variant, checkpoint.scale, source, torch_device, dtype)


def use_half(half: bool | None, device: torch.device, entry: WeightsEntry | None) -> bool:
    """Whether to run in float16: as asked, or (None) on CUDA unless the registry entry says
    float16 strays more than 1/255 from float32 for these weights. Asking for float16 on
    such weights is allowed, with a PrecisionWarning."""
    accurate = entry is None or entry.half_is_accurate
    if half is None:
        return device.type == "cuda" and accurate
    if half and not accurate:
        warnings.warn(
            f"{entry.name} in float16 strays up to {entry.fp16_max_error:.0f}/255 from float32 on high-contrast "
            "content (measured; see vsr models and docs/MODELS.md); without --half it runs in float32",
            PrecisionWarning,
            stacklevel=3,
        )
    return half


def as_model(
    model: "SRModel | str | os.PathLike | None",
    *,
    scale: int | None = None,
    device: str | torch.device = "auto",
    half: bool | None = None,
    compile: bool = False,
    purpose: str = PURPOSES[0],
) -> SRModel:
    """An SRModel as given (checked against `scale`), or `load_model` of a name/path/None;
    `half=None` means float16 on CUDA (where the weights allow it, see `load_model`) and
    float32 on the CPU; `compile` runs whole frames through torch.compile (vsr.compiled);
    `purpose` picks video or clean weights for a variant name or None (see `load_model`)."""
    if isinstance(model, SRModel):
        if scale is not None and model.scale != scale:
            raise UsageError(f"the model is x{model.scale} but scale {scale} was asked for")
    else:
        torch_device = device if isinstance(device, torch.device) else resolve_device(device)
        model = load_model(model, scale=scale, device=torch_device, half=half, purpose=purpose)
    if compile:
        model = compile_model(model)
    return model


def compile_model(model: SRModel, *, channels_last: bool = True, mode: str | None = None) -> SRModel:
    """`model` with its whole-frame calls compiled (see vsr.compiled); tiles and
    the eager `model.module` keep running eagerly, on the same weight values."""
    if model.is_compiled:
        return model
    return dataclasses.replace(model, compiled_network=CompiledNetwork(model.module, channels_last=channels_last, mode=mode))


def default_model_name(scale: int | None, registry: Registry | None = None, purpose: str = PURPOSES[0]) -> str | None:
    """The shipped model used when none is named: the first of DEFAULT_VARIANTS with
    weights trained for `purpose` (video by default) at this scale, else with any weights,
    as `Registry.shipped_variant` picks them; None if nothing is shipped at that scale."""
    registry = registry or shipped()
    scale = scale or DEFAULT_SCALE
    for wanted in (purpose, *(p for p in PURPOSES if p != purpose)):
        variant = next((v for v in DEFAULT_VARIANTS if registry.shipped_for(v, scale, wanted)), None)
        if variant:
            return registry.shipped_variant(variant, scale, purpose).name
    return None


def _read_weights(model, scale: int | None, registry: Registry, purpose: str):
    """(path, source, checkpoint) of what `model` and `scale` name, checked against `scale`."""
    if scale is not None and scale not in SCALES:
        raise UsageError(f"scale must be one of {', '.join(map(str, SCALES))}; got {scale}")
    path, source = _locate(model, scale, registry, purpose)
    checkpoint = read_checkpoint(path)
    if scale is not None and checkpoint.scale != scale:
        raise UsageError(f"{source} is a x{checkpoint.scale} model but scale {scale} was asked for")
    return path, source, checkpoint


def _locate(model: str | os.PathLike | None, scale: int | None, registry: Registry, purpose: str) -> tuple[Path, str]:
    if model is None:
        wanted = scale or DEFAULT_SCALE
        name = default_model_name(wanted, registry, purpose)
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
