"""Encoding presets for `vsr upscale`: flat TOML tables -> frozen, validated `Preset`s.

A preset names a model, a scale, an encoder and its settings, and a batch size (the keys
are documented in README.md here). The bundled ones are the .toml files beside this module,
shipped as package data; any other .toml file can be given by path. Command-line flags override a preset through `Preset.merged`.
Every mistake is a `UsageError` of one line that names the file or the preset.

This module imports neither torch nor av, so `vsr presets` answers at once.
"""

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, NoReturn

from ..constants import CRF_MAX, DEINTERLACE_MODES, PRECISIONS, SCALES, VARIANT_NAMES
from ..constants import ENCODERS as KNOWN_CODECS
from ..errors import UsageError

PRESET_KEYS = ("description", "model", "scale", "codec", "crf", "encoder_preset", "batch", "pix_fmt", "precision", "deinterlace")
"""The keys a preset file may have; only `description` is required."""

DEVICE_PRESETS = {"cuda": "balanced", "cpu": "fast"}
"""The default preset per device type; its model is the default model on that device
(vsr.settings, vsr.model.default_model_name)."""

BUNDLED = Path(__file__).resolve().parent
"""The bundled presets' folder: this package, in a checkout and in an install alike."""


@dataclass(frozen=True)
class Preset:
    """One preset. `None` means "not set": the default model, the encoder's own CRF and
    speed preset, the input's pixel format, precision auto. `path` is the file it came from, if any."""

    name: str
    description: str
    model: str | None = None
    scale: int = 2
    codec: str = "libx264"
    crf: int | None = None
    encoder_preset: str | None = None
    batch: int = 4
    pix_fmt: str | None = None
    precision: str | None = None  # auto, fp32, fp16, bf16 (vsr.precision_policy); None: auto
    deinterlace: str = "auto"  # vsr.video.io.deinterlace: auto, off, field, frame or ivtc
    path: Path | None = None

    def __post_init__(self) -> None:
        _check(self.settings(), f"preset {self.name}")

    def settings(self) -> dict[str, Any]:
        """The values of PRESET_KEYS, by key."""
        return {key: getattr(self, key) for key in PRESET_KEYS}

    def merged(self, **overrides: Any) -> "Preset":
        """A copy in which every override that is not None replaces the preset's value (how
        command-line flags win over a preset). Keys are PRESET_KEYS; another key is a bug in
        the caller (TypeError). Raises UsageError when a merged value is invalid."""
        unknown = sorted(set(overrides) - set(PRESET_KEYS))
        if unknown:
            raise TypeError(f"Preset.merged() got unknown keys {unknown}; allowed: {', '.join(PRESET_KEYS)}")
        changes = {key: value for key, value in overrides.items() if value is not None}
        if not changes:
            return self
        described = ", ".join(f"{key}={value!r}" for key, value in changes.items())
        _check({**self.settings(), **changes}, f"preset {self.name} with {described}")
        return replace(self, **changes)


def presets_dir() -> Path:
    """The folder of bundled presets (vsr/presets/, shipped as package data)."""
    return BUNDLED


def preset_names() -> list[str]:
    """The bundled presets' names, sorted, without reading the files."""
    folder = presets_dir()
    return sorted(p.stem for p in folder.glob("*.toml")) if folder.is_dir() else []


def list_presets() -> list[Preset]:
    """Every bundled preset, sorted by name."""
    return [load_preset_file(presets_dir() / f"{name}.toml") for name in preset_names()]


def load_preset(name_or_path: str) -> Preset:
    """A bundled preset by name ("fast"), or a preset file: anything ending in .toml or
    containing a path separator is a path, and the preset is named after the file."""
    looks_like_path = name_or_path.endswith(".toml") or "/" in name_or_path or "\\" in name_or_path
    if looks_like_path:
        return load_preset_file(Path(name_or_path))
    if name_or_path not in preset_names():
        available = ", ".join(preset_names()) or f"none (no preset files in {presets_dir()})"
        raise UsageError(f"unknown preset {name_or_path!r}; the presets are {available} (or give a path to a .toml file)")
    return load_preset_file(presets_dir() / f"{name_or_path}.toml")


def load_preset_file(path: Path) -> Preset:
    """Read and validate one preset file."""
    if not path.is_file():
        what = "is not a file" if path.exists() else "not found"
        raise UsageError(f"preset file {path} {what}")
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except OSError as exc:
        raise UsageError(f"cannot read preset file {path}: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: invalid TOML: {_one_line(str(exc))}") from None
    _check(data, str(path))
    return Preset(name=path.stem, path=path.resolve(), **data)


def _check(values: Mapping[str, Any], source: str) -> None:
    """Raise UsageError "SOURCE: problem" for the first problem in `values` (a preset's keys)."""

    def fail(problem: str) -> NoReturn:
        raise UsageError(f"{source}: {problem}")

    for key in values:
        if key not in PRESET_KEYS:
            fail(f"unknown key {key!r}; the keys are {', '.join(PRESET_KEYS)}")
    if "description" not in values:
        fail("missing key 'description' (one line saying what the preset is for)")
    values = {**{f.name: f.default for f in fields(Preset) if f.name in PRESET_KEYS}, **values}

    description = values["description"]
    if not isinstance(description, str) or not description.strip() or description.splitlines() != [description]:
        fail(f"description must be one line of text, got {_shown(description)}")
    model = values["model"]
    if model is not None and model not in VARIANT_NAMES:
        fail(f"model must be one of {', '.join(VARIANT_NAMES)}, got {_shown(model)}")
    scale = values["scale"]
    if not _is_int(scale) or scale not in SCALES:
        fail(f"scale must be 2, 3 or 4, got {_shown(scale)}")
    codec = values["codec"]
    if codec not in KNOWN_CODECS:
        fail(f"codec must be one of {', '.join(KNOWN_CODECS)}, got {_shown(codec)}")
    crf, top = values["crf"], CRF_MAX[codec]
    if crf is not None and (not _is_int(crf) or crf < 0 or (top is not None and crf > top)):
        allowed = f"an integer from 0 to {top} for {codec}" if top is not None else "an integer of 0 or more"
        fail(f"crf must be {allowed}, got {_shown(crf)}")
    for key in ("encoder_preset", "pix_fmt"):
        value = values[key]
        if value is not None and (not isinstance(value, str) or value.split() != [value]):
            fail(f"{key} must be a single word (or left out), got {_shown(value)}")
    batch = values["batch"]
    if not _is_int(batch) or batch < 1:
        fail(f"batch must be an integer of 1 or more, got {_shown(batch)}")
    precision = values["precision"]
    if precision is not None and precision not in PRECISIONS:
        fail(f"precision must be one of {', '.join(PRECISIONS)}, got {_shown(precision)}")
    if values["deinterlace"] not in DEINTERLACE_MODES:
        fail(f"deinterlace must be one of {', '.join(DEINTERLACE_MODES)}, got {_shown(values['deinterlace'])}")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)  # TOML true is not 1


def _shown(value: Any) -> str:
    """A value for an error message, with its type when the type is what is wrong."""
    text = _one_line(repr(value))
    return text if isinstance(value, (int, str)) and not isinstance(value, bool) else f"{text} ({type(value).__name__})"


def _one_line(text: str) -> str:
    return " ".join(text.split())
