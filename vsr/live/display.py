"""vsr live's display side, in the caller's thread: the newest result shown (or the
headless line once a second), the keys, and the numbers (fps, latency, drops)."""

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .latest import LatestSlot
from .models import ModelChoice


@dataclass
class Upscaled:
    index: int
    original: np.ndarray  # BGR, as captured
    upscaled: np.ndarray  # BGR, scale x
    captured: float
    model: str


@dataclass
class LiveReport:
    frames_captured: int = 0
    frames_shown: int = 0
    dropped: int = 0  # captured but never upscaled, or upscaled but never shown
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    recorded: int = 0
    recording: Path | None = None
    stopped_by: str = "end of source"

    @property
    def fps(self) -> float:
        return self.frames_shown / self.seconds if self.seconds else 0.0

    def latency(self, quantile: float) -> float:
        return float(np.quantile(self.latencies_ms, quantile)) if self.latencies_ms else 0.0


@dataclass
class Controls:
    """What the user changes while the session runs (set by the display thread)."""

    paused: bool = False
    skipped: int = 0  # captured while paused: dropped
    ending: threading.Event = field(default_factory=threading.Event)  # stop capturing, finish cleanly
    stopped_by: str = "end of source"

    def end(self, reason: str) -> None:
        if not self.ending.is_set():
            self.stopped_by = reason
            self.ending.set()


class Display:
    """The caller's thread: shows the newest result, handles keys, keeps the numbers."""

    def __init__(self, window, every_second, controls: Controls, choice: ModelChoice, shown: LatestSlot, captured: LatestSlot, report: LiveReport, source):
        self.window, self.every_second, self.controls, self.choice = window, every_second, controls, choice
        self.shown, self.captured, self.report, self.source = shown, captured, report, source
        self.recent: deque = deque()  # (display time, latency ms) over the last second
        self.next_report = time.monotonic() + 1
        self.last: Upscaled | None = None

    def tick(self) -> None:
        item = self.shown.take()
        if isinstance(item, Upscaled):
            self.last = item
        action = None
        if self.window is not None:
            if isinstance(item, Upscaled) or (self.last is not None and self.controls.paused):
                self.window.show(self.last.original, self.last.upscaled, self.lines())
            action = self.window.poll()  # (OpenCV paints the picture here)
        now = time.monotonic()  # the frame is on screen: the end of its latency
        if isinstance(item, Upscaled):
            latency = (now - item.captured) * 1000
            self.report.frames_shown += 1
            self.report.latencies_ms.append(latency)
            self.recent.append((now, latency))
        while self.recent and self.recent[0][0] < now - 1:
            self.recent.popleft()
        self._act(action)
        if now >= self.next_report:
            self.next_report = now + 1
            if self.every_second:
                try:
                    self.every_second(" | ".join(self.lines()[:3]))
                except BrokenPipeError:  # whoever read the numbers has gone (vsr live | head)
                    self.every_second = None
                    self.controls.end("closed output")

    def dropped(self) -> int:
        return self.captured.dropped + self.shown.dropped + self.controls.skipped

    def lines(self) -> list[str]:
        fps = len(self.recent)
        latency = sum(ms for _, ms in self.recent) / len(self.recent) if self.recent else 0.0
        dropped = self.dropped()
        model = self.last.model if self.last else "starting"
        w, h = self.source.width, self.source.height
        s = self.last.upscaled.shape[1] // w if self.last else 0
        state = "PAUSED" if self.controls.paused else f"{fps} fps"
        return [model, f"{w}x{h} -> {w * s}x{h * s}", f"{state}  latency {latency:.0f} ms  dropped {dropped}", "q quit  space pause  v view  m model"]

    def _act(self, action: str | None) -> None:
        if action == "quit":
            self.controls.end("the user (q)")
        elif action == "pause":
            self.controls.paused = not self.controls.paused
        elif action == "model":
            self.choice.next()
