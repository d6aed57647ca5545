"""A live session: capture, inference, display and recording in their own threads.

Capture keeps only the newest frame (vsr.live.latest); inference takes the newest frame,
so a model slower than the source drops frames instead of queueing them and the latency
(capture to display) stays bounded; the display (or the headless report) runs in the
caller's thread and never blocks capture. `--record` encodes the upscaled frames through
the same VideoSink as `vsr upscale`, stamped with the capture clock (milliseconds), and
keeps the recording playable whatever ends the session (q, Ctrl-C, --duration, the end
of a file, a lost source, any stage's failure) but a second Ctrl-C; a failure is raised
after the recording was closed.
"""

import contextlib
import re
import signal
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import torch

from ..atomic import atomic_path
from ..errors import DeviceError, OutputError, VsrError
from ..model import SRModel, as_model, upscale_any_size
from ..video.codecs import EncoderSettings
from ..video.colour import rgb_to_yuv
from ..video.engine import is_out_of_memory
from ..video.pipeline import END, Pipeline, StageClock, Stopped
from ..video.plan import plan_output, rgb_frames
from ..video.sink import VideoSink
from .latest import LatestSlot
from .sources import Captured

TICK_SECONDS = 0.01  # the display loop's period: ~100 window polls a second
RECORD_QUEUE = 8


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


class ModelChoice:
    """The models `m` cycles through, loaded on first use in the inference thread. The
    display thread only asks for the next one (`next`), so a slow load never freezes the
    window. A model that cannot be loaded is named once and skipped; while recording, a
    model at another scale is skipped too (by its -xN name, before loading it)."""

    def __init__(self, specs: list, *, device: torch.device, half: bool | None, scale: int, notify: Callable[[str], None], fixed_scale: bool, compile: bool = False):
        self.specs, self.device, self.half, self.scale, self.notify = specs, device, half, scale, notify
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
            self._load(self.index)
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
            self.loaded[index] = as_model(spec, scale=scale, device=self.device, half=self.half, compile=self.compile)
        return self.loaded[index]


def _named_scale(spec) -> int | None:
    """The scale a shipped name such as ultra-x4 promises, or None if it does not say."""
    match = re.fullmatch(r".+-x(\d+)", spec) if isinstance(spec, str) else None
    return int(match.group(1)) if match else None


def model_label(model: SRModel) -> str:
    return f"PlainUSR {model.variant} x{model.scale} | {model.device} {str(model.dtype).removeprefix('torch.')}"


def upscale_image(model: SRModel, image: np.ndarray) -> torch.Tensor:
    """BGR uint8 HxWx3 -> (1, 3, sH, sW) float32 RGB in [0, 1] on the model's device."""
    with torch.inference_mode():
        x = torch.from_numpy(image).to(model.device).flip(-1).permute(2, 0, 1)[None].to(model.dtype) / 255
        return upscale_any_size(model, x).float().clamp_(0, 1)


def to_bgr(rgb: torch.Tensor) -> np.ndarray:
    with torch.inference_mode():
        return (rgb[0] * 255).round_().to(torch.uint8).flip(0).permute(1, 2, 0).contiguous().cpu().numpy()


class Recorder:
    """The upscaled frames into a video file through VideoSink (as vsr upscale writes)."""

    def __init__(self, temp: Path, target: Path, width: int, height: int, rate: float | None, scale: int, settings: EncoderSettings, notify):
        frames = rgb_frames(width, height, rate, time_base=Fraction(1, 1000))  # the capture clock, in milliseconds
        plan = plan_output(frames, (), scale, settings, target)
        for notice in plan.notices:
            notify(notice)
        self.sink = VideoSink(temp, plan)
        self.target = target
        self._started: float | None = None
        self._last_pts = -1
        self.frames = 0

    def pack(self, rgb: torch.Tensor, captured: float) -> tuple[int, np.ndarray]:
        """(pts in ms of the capture clock, strictly increasing; packed planes) of a frame."""
        if self._started is None:
            self._started = captured
        pts = max(self._last_pts + 1, round((captured - self._started) * 1000))
        self._last_pts = pts
        layout = self.sink.layout
        with torch.inference_mode():
            planes = rgb_to_yuv(rgb, self.sink.colour, *layout.chroma_shape)
            dtype = torch.uint8 if layout.dtype == np.uint8 else torch.int16
            packed = torch.cat([p.flatten(1) for p in planes], 1).to(dtype)[0].cpu().numpy()
        return pts, packed.view(np.uint16) if packed.dtype == np.int16 else packed

    def write(self, pts: int, packed: np.ndarray) -> None:
        try:
            self.sink.write_frame(pts, None, packed)
        except (av.FFmpegError, OSError) as exc:  # a full disk, a removed drive
            raise OutputError(f"recording to {self.target} failed after {self.frames} frames: {getattr(exc, 'strerror', None) or exc}") from None
        self.frames += 1


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


def run_live(
    source,
    models: list,
    *,
    device: torch.device,
    half: bool | None = None,
    scale: int = 2,
    record: Path | None = None,
    overwrite: bool = False,
    encoder: EncoderSettings = EncoderSettings("libx264", 23, "veryfast"),
    duration: float | None = None,
    compile: bool = False,
    window=None,
    every_second: Callable[[str], None] | None = None,
    notify: Callable[[str], None] = lambda message: None,
) -> LiveReport:
    """Run until the source ends, `duration` passes, the user quits (q, closing the window,
    Ctrl-C) or something fails. `window`: a LiveWindow, or None for headless; then
    `every_second` receives a status line once a second. A failure (a lost source, any
    stage's error) is raised after the recording was finished and kept."""
    if record is not None:
        if record.exists() and not overwrite:
            raise OutputError(f"{record} exists; pass --overwrite to replace it")
        if not record.parent.is_dir():
            raise OutputError(f"output folder does not exist: {record.parent}")
    choice = ModelChoice(models, device=device, half=half, scale=scale, notify=notify, fixed_scale=record is not None, compile=compile)
    first = choice.current()  # a bad model is one line before anything starts
    report = LiveReport(recording=record)
    with contextlib.ExitStack() as stack:
        recorder = None
        if record is not None:
            temp = stack.enter_context(atomic_path(record))
            recorder = Recorder(temp, record, source.width, source.height, source.rate, first.scale, encoder, notify)
        try:
            failure = _run_threads(source, choice, recorder, report, duration, window, every_second)
        except BaseException:  # a second Ctrl-C: nothing is kept
            if recorder is not None:
                recorder.sink.abort()
            raise
        if recorder is not None:
            try:
                recorder.sink.finish()  # playable up to the last frame, whatever ended the session
            except BaseException as exc:
                recorder.sink.abort()
                if failure is not None:
                    raise failure from None  # the recorder had failed already: that is the news
                if isinstance(exc, (av.FFmpegError, OSError)) and not isinstance(exc, VsrError):
                    raise OutputError(f"cannot finish the recording {record}: {getattr(exc, 'strerror', None) or exc}") from None
                raise
            report.recorded = recorder.frames
    if failure is not None:
        raise failure
    return report


def _run_threads(source, choice: ModelChoice, recorder: Recorder | None, report: LiveReport, duration, window, every_second) -> Exception | None:
    """Runs the stages; returns what ended the session if it was a failure (any stage's
    error, after every thread has stopped and what was captured before a lost source has
    flowed to the recording). A second Ctrl-C is raised."""
    pipeline = Pipeline()
    controls = Controls()
    captured_slot, shown_slot = LatestSlot(pipeline.stop), LatestSlot(pipeline.stop)
    to_record = pipeline.channel(RECORD_QUEUE)
    started = time.monotonic()
    lost: list[VsrError] = []
    compiled: set[int] = set()  # compiled models that have run once

    def capture(clock: StageClock) -> None:
        try:
            for frame in source.frames(controls.ending):
                if pipeline.stop.is_set():  # another thread failed
                    raise Stopped
                captured_slot.put(frame)
                report.frames_captured += 1
                if duration is not None and time.monotonic() - started >= duration:
                    controls.end(f"--duration {duration:g} s")
        except VsrError as exc:  # a lost source: the frames before it still reach the recording
            lost.append(exc)
            controls.end("failure")
        captured_slot.close()

    def infer(clock: StageClock) -> None:
        while (item := captured_slot.get(clock)) is not END:
            if controls.paused:
                controls.skipped += 1
                continue
            model = choice.current()
            if model.compiled is not None and id(model) not in compiled:
                compiled.add(id(model))
                choice.notify(f"compiling {model_label(model)} for its first frame (seconds; frames are dropped meanwhile)")
            try:
                rgb = upscale_image(model, item.image)
            except (RuntimeError, torch.OutOfMemoryError) as exc:
                if not is_out_of_memory(exc):
                    raise
                h, w = item.image.shape[:2]
                raise DeviceError(f"{model_label(model)} ran out of memory on a {w}x{h} frame; try a smaller --model or source, or --device cpu") from None
            if recorder is not None:
                to_record.put(recorder.pack(rgb, item.captured), clock)
            shown_slot.put(Upscaled(item.index, item.image, to_bgr(rgb), item.captured, model_label(model)))
        shown_slot.close()
        if recorder is not None:
            to_record.put(END, clock)

    def write(clock: StageClock) -> None:
        while (item := to_record.get(clock)) is not END:
            recorder.write(*item)

    pipeline.add("capture", capture)
    pipeline.add("inference", infer)
    if recorder is not None:
        pipeline.add("recorder", write)
    display = _Display(window, every_second, controls, choice, shown_slot, captured_slot, report, source)

    def tick() -> None:
        try:
            if pipeline.stop.is_set():  # a stage failed: the capture's waits watch `ending`
                controls.end("failure")
            display.tick()
        except BaseException:
            controls.end("failure")
            raise

    previous = signal.getsignal(signal.SIGINT)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, lambda *_: controls.end("Ctrl-C") if not controls.ending.is_set() else _raise_interrupt())
    failure: Exception | None = None
    try:
        pipeline.run(on_tick=tick, tick_seconds=TICK_SECONDS)
    except Exception as exc:  # any stage's or the window's: reported after the recording is closed
        failure = exc
    finally:
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, previous)
        if window is not None:
            window.close()
    failure = failure or (lost[0] if lost else None)
    report.seconds = max(1e-9, time.monotonic() - started)
    report.dropped = display.dropped()
    report.stopped_by = controls.stopped_by if failure is None else "failure"
    return failure


def _raise_interrupt():
    raise KeyboardInterrupt  # a second Ctrl-C: stop now


class _Display:
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
        latency = sum(l for _, l in self.recent) / len(self.recent) if self.recent else 0.0
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
