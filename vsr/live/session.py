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
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import av
import torch

from ..atomic import atomic_path
from ..errors import DeviceError, OutputError, VsrError
from ..video.io.codecs import EncoderSettings
from ..video.stages.engine import is_out_of_memory
from ..video.stages.pipeline import END, Pipeline, StageClock, Stopped
from .display import Controls, Display, LiveReport, Upscaled
from .latest import LatestSlot
from .models import ModelChoice, model_label
from .recording import Recorder
from .transfer import LiveTransfer

RECORD_ENCODER = EncoderSettings("libx264", 23, "veryfast")
"""--record's encoder unless told otherwise: fast enough to keep up with a camera."""
TICK_SECONDS = 0.01  # the display loop's period: ~100 window polls a second
RECORD_QUEUE = 8


@dataclass(frozen=True)
class LiveOptions:
    """What a live session runs with: run_live's keyword arguments but the window and the
    callbacks (another name is a TypeError)."""

    device: torch.device
    precision: str = "auto"  # auto, fp32, fp16, bf16: per model, by vsr.precision_policy
    scale: int | None = None  # None: the first model's
    compile: bool = False  # each model compiles on its first frame
    record: Path | None = None  # the upscaled frames, encoded into this file
    overwrite: bool = False  # replace `record` if it exists
    encoder: EncoderSettings = RECORD_ENCODER  # how `record` is encoded
    duration: float | None = None  # seconds, then the session ends


def run_live(
    source,
    models: list,
    *,
    window=None,
    every_second: Callable[[str], None] | None = None,
    notify: Callable[[str], None] = lambda message: None,
    **options,
) -> LiveReport:
    """Run until the source ends, `duration` passes, the user quits (q, closing the window,
    Ctrl-C) or something fails; `options` are LiveOptions' fields (`device` at least).
    `window`: a LiveWindow, or None for headless; then `every_second` receives a status
    line once a second. A failure (a lost source, any stage's error) is raised after the
    recording was finished and kept."""
    settings = LiveOptions(**options)
    record, duration = settings.record, settings.duration
    if record is not None:
        if record.exists() and not settings.overwrite:
            raise OutputError(f"{record} exists", hint="pass {overwrite=True} to replace it")
        if not record.parent.is_dir():
            raise OutputError(f"output folder does not exist: {record.parent}")
    choice = ModelChoice(
        models,
        device=settings.device,
        precision=settings.precision,
        scale=settings.scale,
        notify=notify,
        fixed_scale=record is not None,
        compile=settings.compile,
    )
    first = choice.current()  # a bad model is one line before anything starts
    notify(f"model {first.description}")  # the start line: which model, which precision and why
    report = LiveReport(recording=record)
    with contextlib.ExitStack() as stack:
        recorder = None
        if record is not None:
            temp = stack.enter_context(atomic_path(record))
            recorder = Recorder(temp, record, source.width, source.height, source.rate, first.scale, settings.encoder, notify)
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
    transfer = LiveTransfer(choice.device)

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
            if model.is_compiled and id(model) not in compiled:
                compiled.add(id(model))
                choice.notify(f"compiling {model_label(model)} for its first frame (seconds; frames are dropped meanwhile)")
            try:
                frame = transfer.upscale(model, item.image, recorder.sink if recorder is not None else None)
            except (RuntimeError, torch.OutOfMemoryError) as exc:
                if not is_out_of_memory(exc):
                    raise
                h, w = item.image.shape[:2]
                hint = "try a smaller {model} or source, or {device=cpu}"
                raise DeviceError(f"{model_label(model)} ran out of memory on a {w}x{h} frame", hint=hint) from None
            if recorder is not None:
                to_record.put((recorder.stamp(item.captured), frame.packed), clock)  # copied while the next frame runs
            shown_slot.put(Upscaled(item.index, item.image, frame.shown.wait(), item.captured, model_label(model)))
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
    display = Display(window, every_second, controls, choice, shown_slot, captured_slot, report, source)

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


