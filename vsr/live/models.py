"""vsr live's models: the ones `m` cycles through, loaded on first use and skipped (named
once) when they cannot be; a frame through one of them; the label the window shows."""

import re
import threading
from collections.abc import Callable
from pathlib import Path

import torch

from ..model import SRModel, as_model
from ..weights import shipped


def models_to_cycle(first, scale: int | None, device_type: str = "cpu") -> list:
    """`first` (a name, a weights file or None for the default model) and then every other
    shipped model, in the registry's order: what `m` steps through. The file `first` loads
    is not offered again ("ultra" at x2 loads ultra-x2-video on a `device_type` device)."""
    from ..errors import VsrError
    from ..model import default_model_name, identify_weights

    first = first if first is not None else default_model_name(scale)
    try:
        loads = identify_weights(first, scale=scale, device_type=device_type).source
    except VsrError:
        loads = first  # said once when `m` gets to it
    registry = shipped()
    on_disk = [e.name for e in registry.entries if registry.is_available(e)]  # never a download mid-session
    return [first, *(name for name in on_disk if name not in (first, loads))]


class ModelChoice:
    """The models `m` cycles through, loaded on first use in the inference thread. The
    display thread only asks for the next one (`next`), so a slow load never freezes the
    window. A model that cannot be loaded is named once and skipped; while recording, a
    model at another scale is skipped too (by its -xN name, before loading it)."""

    def __init__(
        self,
        specs: list,
        *,
        device: torch.device,
        precision: str,
        scale: int | None,
        notify: Callable[[str], None],
        fixed_scale: bool,
        compile: bool = False,
    ):
        self.specs, self.device, self.precision, self.scale, self.notify = specs, device, precision, scale, notify
        self.compile = compile  # each model compiles on its first frame (seconds; frames drop meanwhile)
        self.fixed_scale = fixed_scale  # recording: the output size cannot change
        self.loaded: dict[int, SRModel] = {}
        self.broken: set[int] = set()
        self.index = 0
        self._asked = 0
        self._lock = threading.Lock()

    def current(self) -> SRModel:
        """The model to use now; the first call raises if the first model cannot be loaded."""
        if self.index not in self.loaded:
            model = self._load(self.index)
            self.scale = self.scale or model.scale  # None: the first model's (a weights file's own)
        with self._lock:
            asked, self._asked = self._asked, 0
        for _ in range(asked):
            self._advance()
        return self.loaded[self.index]

    def next(self) -> None:
        with self._lock:
            self._asked += 1

    def _advance(self) -> None:
        for step in range(1, len(self.specs)):
            candidate = (self.index + step) % len(self.specs)
            spec = self.specs[candidate]
            if candidate in self.broken or (self.fixed_scale and _named_scale(spec) not in (None, self.scale)):
                continue
            try:
                model = self._load(candidate)
            except Exception as exc:  # a bad file, an unknown name, out of memory: keep going
                self.broken.add(candidate)
                self.notify(f"cannot switch to {spec}: {exc}")
                continue
            if self.fixed_scale and model.scale != self.scale:
                continue
            self.index = candidate
            return
        if self.fixed_scale:
            self.notify(f"no other model at x{self.scale} to switch to while recording")

    def _load(self, index: int) -> SRModel:
        if index not in self.loaded:
            spec = self.specs[index]
            # the first is what the user asked for, at --scale; the others are full shipped names (ultra-x4)
            scale = self.scale if index == 0 and not isinstance(spec, (SRModel, Path)) else None
            self.loaded[index] = as_model(spec, scale=scale, device=self.device, precision=self.precision, compile=self.compile)
        return self.loaded[index]


def _named_scale(spec) -> int | None:
    """The scale a shipped name such as ultra-x4 promises, or None if it does not say."""
    match = re.fullmatch(r".+-x(\d+)", spec) if isinstance(spec, str) else None
    return int(match.group(1)) if match else None


def model_label(model: SRModel) -> str:
    return f"PlainUSR {model.variant} x{model.scale} | {model.runs_on}"
