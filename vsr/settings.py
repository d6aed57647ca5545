"""What a run uses, resolved in one place: the preset and the settings laid over it, the
model (and the preset's fallback when its model is not shipped), the scale, the device and
the precision. Every command and the Python API (`upscale_video`) resolve through here, so
a rule changes once.

    resolve_model(model, scale, device, precision, purpose) -> ModelSettings   (image, live, bench)
    resolve_run(preset, model, ..., codec, crf, ...)   -> RunSettings     (upscale, demo, bench)

One default everywhere: with no model named, every front door (upscale, live, image, bench,
demo, upscale_video, upscale_frames) runs the model of the device's default preset
(DEVICE_PRESETS: `fast`'s ultra on the CPU, `balanced`'s small on CUDA, in the weights
trained for video; vsr.model.default_model_name), in the precision vsr.precision_policy
chooses for that file on that device ("auto"). tests/test_front_doors.py runs each door.
"""

import os
from dataclasses import dataclass, replace
from pathlib import Path

import torch

from .constants import PURPOSES
from .device import resolve_device
from .presets import DEVICE_PRESETS, Preset, load_preset
from .video.io.codecs import EncoderSettings

AUTO_PRESET = "auto"
"""The preset named for "the device's default": DEVICE_PRESETS[device type]."""
__all__ = ["AUTO_PRESET", "DEVICE_PRESETS", "ModelSettings", "RunSettings", "resolve_model", "resolve_run"]


@dataclass(frozen=True)
class ModelSettings:
    """The model to load (what `vsr.model.as_model` takes) and where it runs."""

    model: "object | str | Path | None"  # an SRModel, a shipped name, a weights file or None (the default)
    scale: int | None  # None: the weights file's own (or 2 for the default model)
    device: torch.device
    precision: str = "auto"  # auto, fp32, fp16 or bf16: decided per file at load (vsr.precision_policy)
    notices: tuple[str, ...] = ()  # what was chosen that the caller did not ask for
    purpose: str = PURPOSES[0]  # a variant name or None takes the weights trained for this (video, else clean)

    def plan(self):
        """What `load` would load and in which precision, decided but not built (vsr.model.LoadPlan)."""
        from .model import plan_load

        return plan_load(self.model, scale=self.scale, device=self.device, precision=self.precision, purpose=self.purpose)

    def load(self, compile: bool = False):
        from .model import as_model

        return as_model(self.model, scale=self.scale, device=self.device, precision=self.precision, compile=compile, purpose=self.purpose)


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
    precision: str | None = None,
    purpose: str = PURPOSES[0],
) -> ModelSettings:
    """`model` as given (a `Path` is a weights file; None: the device's default model, see
    the module docstring), on `device` ("auto": CUDA when there is one), in `precision`
    (auto, fp32, fp16, bf16; `half` True/False is the older fp16/fp32). A variant name or
    None means the weights trained for `purpose`: video unless asked."""
    from .model import default_model_name
    from .precision_policy import precision_from

    torch_device = device if isinstance(device, torch.device) else resolve_device(device)
    if model is None:
        model = default_model_name(scale, purpose=purpose, device_type=torch_device.type)
    return ModelSettings(model, scale, torch_device, precision_from(precision, half), purpose=purpose)


def resolve_run(
    preset: "str | Preset | None" = None,
    *,
    model: "object | str | os.PathLike | None" = None,
    scale: int | None = None,
    device: "str | torch.device" = "auto",
    half: bool | None = None,
    precision: str | None = None,
    **overrides,
) -> RunSettings:
    """`preset` (a bundled name, a .toml path, a Preset, "auto" for the device's default,
    or None for none: libx264 at its defaults, batch 4, x2, the default model) with every
    setting that is not None laid over it: `scale`, `precision` (or `half`) and the
    `overrides` (batch, codec, crf, encoder_preset, pix_fmt, deinterlace; checked by
    Preset.merged, the one place that validates them). A model named here wins over the
    preset's; so does its scale (None: the weights' own). The preset's model, when this
    version does not ship it at the preset's scale, falls back to the default model with a
    notice."""
    from .precision_policy import precision_from
    from .weights import shipped

    torch_device = device if isinstance(device, torch.device) else resolve_device(device)
    if preset is None:
        chosen = Preset("defaults", "no preset: the encoder's defaults")
    elif isinstance(preset, Preset):
        chosen = preset
    else:
        chosen = load_preset(DEVICE_PRESETS.get(torch_device.type, DEVICE_PRESETS["cpu"]) if preset == AUTO_PRESET else preset)
    codec = overrides.get("codec")
    if codec and codec != chosen.codec and overrides.get("encoder_preset") is None:
        chosen = replace(chosen, encoder_preset=None)  # x264's "veryfast" means nothing to another encoder
    asked = precision_from(precision, half) if precision is not None or half is not None else None
    chosen = chosen.merged(scale=scale, precision=asked, **overrides)
    notices: tuple[str, ...] = ()
    if model is not None:
        spec = model
    else:
        spec, scale = chosen.model, chosen.scale
        if spec and not shipped().shipped_variant(spec, scale, PURPOSES[0]):
            notices = (f"preset {chosen.name} prefers {spec}-x{scale}, which this version does not ship; using the default model",)
            spec = None
    models = resolve_model(spec, scale=scale, device=torch_device, precision=chosen.precision or "auto")
    return RunSettings(chosen, replace(models, notices=notices), codec_named=codec is not None)
