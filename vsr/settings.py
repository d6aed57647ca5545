"""What a run uses, resolved in one place: the preset and the settings laid over it, the
model (and the preset's fallback when its model is not shipped), the scale, the device and
the precision. Every command and the Python API (`upscale_video`) resolve through here, so
a rule changes once.

    resolve_model(model, scale, device, half, purpose) -> ModelSettings   (image, live, bench)
    resolve_run(preset, model, ..., codec, crf, ...)   -> RunSettings     (upscale, demo)
"""

import os
from dataclasses import dataclass, replace
from pathlib import Path

import torch

from .constants import PURPOSES
from .device import resolve_device
from .presets import Preset, load_preset
from .video.io.codecs import EncoderSettings

AUTO_PRESET = "auto"
"""The preset named for "the device's default": DEVICE_PRESETS[device type]."""
DEVICE_PRESETS = {"cuda": "balanced", "cpu": "fast"}


@dataclass(frozen=True)
class ModelSettings:
    """The model to load (what `vsr.model.as_model` takes) and where it runs."""

    model: "object | str | Path | None"  # an SRModel, a shipped name, a weights file or None (the default)
    scale: int | None  # None: the weights file's own (or 2 for the default model)
    device: torch.device
    half: bool | None  # None: float16 on CUDA where the registry measured it accurate (vsr.model.use_half)
    notices: tuple[str, ...] = ()  # what was chosen that the caller did not ask for
    purpose: str = PURPOSES[0]  # a variant name or None takes the weights trained for this (video, else clean)

    def load(self, compile: bool = False):
        from .model import as_model

        return as_model(self.model, scale=self.scale, device=self.device, half=self.half, compile=compile, purpose=self.purpose)


@dataclass(frozen=True)
class RunSettings:
    """A video run: the preset with every given setting laid over it, and the model."""

    preset: Preset
    model: ModelSettings
    codec_named: bool = False  # the codec was given, not the preset's: HDR input keeps it

    @property
    def encoder(self) -> EncoderSettings:
        p = self.preset
        return EncoderSettings(p.codec, p.crf, p.encoder_preset, p.pix_fmt, codec_named=self.codec_named)

    @property
    def batch(self) -> int:
        return self.preset.batch


def resolve_model(
    model: "object | str | os.PathLike | None" = None,
    *,
    scale: int | None = None,
    device: "str | torch.device" = "auto",
    half: bool | None = None,
    purpose: str = PURPOSES[0],
) -> ModelSettings:
    """`model` as given (a `Path` is a weights file), on `device` ("auto": CUDA when there
    is one), in float16 where `half` says (None: per model, on CUDA; see vsr.model.use_half).
    A variant name or None means the weights trained for `purpose`: video unless asked."""
    torch_device = device if isinstance(device, torch.device) else resolve_device(device)
    return ModelSettings(model, scale, torch_device, half, purpose=purpose)


def resolve_run(
    preset: "str | Preset | None" = None,
    *,
    model: "object | str | os.PathLike | None" = None,
    scale: int | None = None,
    device: "str | torch.device" = "auto",
    half: bool | None = None,
    **overrides,
) -> RunSettings:
    """`preset` (a bundled name, a .toml path, a Preset, "auto" for the device's default,
    or None for none: libx264 at its defaults, batch 4, x2) with every setting that is not
    None laid over it: `scale` and the `overrides` (batch, codec, crf, encoder_preset,
    pix_fmt, deinterlace; checked by Preset.merged, the one place that validates them). A model named
    here wins over the preset's; so does its scale (None: the weights' own). The preset's
    model, when this version does not ship it at the preset's scale, falls back to the
    default model with a notice."""
    from .weights import shipped

    models = resolve_model(None, device=device, half=half)
    if preset is None:
        chosen = Preset("defaults", "no preset: the encoder's defaults")
    elif isinstance(preset, Preset):
        chosen = preset
    else:
        chosen = load_preset(DEVICE_PRESETS[models.device.type] if preset == AUTO_PRESET else preset)
    codec = overrides.get("codec")
    if codec and codec != chosen.codec and overrides.get("encoder_preset") is None:
        chosen = replace(chosen, encoder_preset=None)  # x264's "veryfast" means nothing to another encoder
    chosen = chosen.merged(scale=scale, **overrides)
    notices: tuple[str, ...] = ()
    if model is not None:
        spec = model
    else:
        spec, scale = chosen.model, chosen.scale
        if spec and not shipped().shipped_variant(spec, scale, PURPOSES[0]):
            notices = (f"preset {chosen.name} prefers {spec}-x{scale}, which this version does not ship; using the default model",)
            spec = None
    return RunSettings(chosen, replace(models, model=spec, scale=scale, notices=notices), codec_named=codec is not None)
