"""What a job may ask for (scale, preset, model, codec, crf), checked when it is submitted,
with `vsr upscale`'s defaults: the device's preset, the preset's model and scale.

A preset is a bundled name and a model a known name, never a file: a client must not
make the server read a file it names that way (server files come in through --allow-dir)."""

from dataclasses import dataclass
from pathlib import Path

from ..constants import ENCODERS, SCALES, VARIANT_NAMES
from ..errors import UsageError
from ..presets import preset_names
from ..settings import AUTO_PRESET

OPTION_NAMES = ("scale", "preset", "model", "codec", "crf")


@dataclass(frozen=True)
class ServerDefaults:
    """What every job of this server shares: the device, and the segment length of its
    resumable runs (None: vsr's default, segments only for inputs of 2 minutes or more)."""

    device: str = "auto"
    segment_seconds: float | None = None


def job_options(given: dict) -> dict:
    """The options of a submitted job, checked one by one: unknown names and values of
    the wrong kind are refused with one line. Empty values mean the default."""
    unknown = sorted(set(given) - set(OPTION_NAMES))
    if unknown:
        raise UsageError(f"unknown option{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}; the options are {', '.join(OPTION_NAMES)}")
    options = {name: value for name, value in given.items() if value not in (None, "")}
    if "scale" in options:
        options["scale"] = _integer("scale", options["scale"])
        if options["scale"] not in SCALES:
            raise UsageError(f"scale must be one of {', '.join(map(str, SCALES))}, got {options['scale']}")
    if "crf" in options:
        options["crf"] = _integer("crf", options["crf"])
    preset = options.get("preset")
    if preset is not None and preset != AUTO_PRESET and preset not in preset_names():
        raise UsageError(f"unknown preset {preset!r}; the presets are {', '.join([AUTO_PRESET, *preset_names()])}")
    model = options.get("model")
    if model is not None and model not in known_models():
        raise UsageError(f"model must be a known model's name (a variant such as {VARIANT_NAMES[0]}, or a name vsr models lists), got {model!r}")
    codec = options.get("codec")
    if codec is not None and codec not in ENCODERS:
        raise UsageError(f"unknown codec {codec!r}; the codecs are {', '.join(ENCODERS)}")
    return options


def known_models() -> list[str]:
    """The names a job may ask for: the variants and every name the registry knows."""
    from ..weights import registry

    return [*VARIANT_NAMES, *registry().names()]


def build_upscale(source: Path, options: dict, defaults: ServerDefaults, output: Path | None = None):
    """The vsr.video.io.job.UpscaleJob a job runs: checked as `vsr upscale` checks its
    flags (a bad combination is a UsageError before any work)."""
    from ..video.io.job import SegmentOptions, build_job

    segments = SegmentOptions(seconds=defaults.segment_seconds)
    preset = options.get("preset", AUTO_PRESET)
    rest = {k: v for k, v in options.items() if k != "preset"}
    return build_job(source, output, segments=segments, preset=preset, device=defaults.device, overwrite=True, **rest)


def _integer(name: str, value) -> int:
    if isinstance(value, bool):
        raise UsageError(f"{name} must be a whole number, got {value!r}")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise UsageError(f"{name} must be a whole number, got {value!r}") from None
