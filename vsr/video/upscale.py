"""`upscale_video`: decode -> upscale -> encode + mux, each stage in its own thread.

    decode (PyAV, threaded) --frames, packets--> model (FrameUpscaler, batched)
        --upscaled batches, packets--> encode + mux (VideoSink)

Copied packets (audio, subtitles) travel through the same bounded channels as the frames,
so they reach the muxer in step with the video around them and memory stays bounded.
The output is written under a temporary name and renamed only when everything succeeded.
A pipe or URL output (vsr.video.endpoints) is written in place, and, like any output of a
live input, is finished (playable to the last frame written) when Ctrl-C, a lost input or
a reader that quits ends the run; `UpscaleResult.ended` says which.
"""

import contextlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import av

from ..atomic import atomic_path
from ..errors import OutputError, UsageError
from ..model import SRModel, as_model
from .codecs import EncoderSettings, default_output
from .endpoints import DEFAULT_TIMEOUT, FORMAT_SUFFIXES, classify, open_output
from .engine import FrameUpscaler, UpscaledBatch, frames_per_call
from .pipeline import END, Pipeline, StageClock
from .realtime import INPUT_ENDED, channel_for, describe_stop
from .source import DecodedFrame, VideoSource
from .sink import VideoSink

STAGES = ("decode", "model", "encode")


@dataclass
class UpscaleResult:
    output: Path | str  # a str for a pipe or URL output
    frames: int
    seconds: float
    model: str
    device: str
    codec: str
    pix_fmt: str
    size_in: tuple[int, int]
    size_out: tuple[int, int]
    stage_busy: dict[str, float]  # seconds each stage worked (not waiting on the others)
    warnings: list[str] = field(default_factory=list)
    ended: str = INPUT_ENDED  # why the run stopped (vsr.video.realtime: a stream or live run can stop early)
    frames_dropped: int = 0  # by --realtime drop

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds else 0.0


@dataclass
class _Batch:
    frames: list[DecodedFrame]
    result: UpscaledBatch


def upscale_video(
    src: os.PathLike | str,
    dst: os.PathLike | str | None = None,
    *,
    model: SRModel | str | os.PathLike | None = None,
    scale: int | None = None,
    device: str = "auto",
    half: bool | None = None,
    compile: bool = False,
    batch: int = 4,
    codec: str = "libx264",
    crf: int | None = None,
    encoder_preset: str | None = None,
    pix_fmt: str | None = None,
    overwrite: bool = False,
    queue_size: int = 8,
    notify: Callable[[str], None] | None = None,
    on_progress: Callable[[int, int | None], None] | None = None,
    on_start: Callable[["VideoSource", VideoSink, SRModel], None] | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
    output_format: str | None = None,
    realtime: str = "auto",
) -> UpscaleResult:
    """Upscale every frame of `src` into `dst` (default: NAME_xS beside the input), copying
    audio, subtitles, chapters and metadata. `model` is an SRModel, a shipped name or a
    weights file; `half` defaults to True on CUDA; `compile` runs the network through
    torch.compile (vsr.compiled: seconds to compile first, faster after). `notify` receives warnings as they happen;
    `on_progress(frames_done, frames_expected)` is called from the caller's thread.
    `src` may be `-` (stdin), a URL or a device and `dst` `-` (stdout, in `output_format`)
    or a URL (vsr.video.endpoints); `timeout` bounds each network open and read;
    `realtime` is drop, block or auto (vsr.video.realtime)."""
    warnings: list[str] = []

    def warn(message: str) -> None:
        warnings.append(message)
        if notify:
            notify(message)

    if batch < 1:
        raise UsageError(f"--batch must be 1 or more, got {batch}")
    settings = EncoderSettings(codec, crf, encoder_preset, pix_fmt)
    out_point = classify(dst) if dst is not None else None
    streamed = out_point is not None and not out_point.is_file
    source = VideoSource(src, timeout=timeout)
    ended = INPUT_ENDED
    try:
        sr = as_model(model, scale=scale, device=device, half=half, compile=compile)
        if streamed:
            output = open_output(out_point, output_format, timeout)
            target = out_point.label("output")
            place = contextlib.nullcontext(output)
            final_name = Path(f"{target}{FORMAT_SUFFIXES.get(output.format.name, '')}")  # for messages
        else:
            if dst is None and not source.endpoint.is_file:
                raise UsageError(f"an output must be named for {source.path}")
            target = Path(dst) if dst is not None else default_output(source.path, sr.scale, settings.codec)
            if source.endpoint.is_file and target.resolve() == source.path.resolve():
                raise UsageError(f"the output would overwrite the input {source.path}; pass another -o")
            if target.exists() and not overwrite:
                raise OutputError(f"{target} exists; pass --overwrite to replace it")
            if not target.parent.is_dir():
                raise OutputError(f"output folder does not exist: {target.parent}")
            place, final_name = atomic_path(target), target
        keep_on_stop = streamed or source.endpoint.live
        started = time.perf_counter()
        pipeline = Pipeline(capacity=queue_size)
        decoded = channel_for(realtime, source.endpoint.live, pipeline)
        with place as temp:
            try:
                sink = VideoSink(temp, final_name, source, sr.scale, settings, warn)
            except BaseException as exc:
                if not streamed:
                    raise
                with contextlib.suppress(Exception):
                    temp.close()
                why = describe_stop(exc)
                if why is not None and why.output_lost:
                    raise OutputError(f"{target}: {why.text} before the video started") from None
                raise
            try:
                for dropped in sink.dropped:
                    warn(f"{final_name.suffix} cannot hold the input's {dropped}; it was left out")
                if on_start:
                    on_start(source, sink, sr)
                _run_pipeline(source, sink, sr, batch, pipeline, decoded, warn, on_progress)
                sink.finish()
            except BaseException as exc:
                why = describe_stop(exc) if keep_on_stop else None
                if why is None or why.output_lost:
                    with contextlib.suppress(Exception):
                        sink.abort()
                    if why is None or not streamed:
                        raise
                else:
                    sink.finish()
                ended = why.text
        seconds = time.perf_counter() - started
    finally:
        source.close()
    if source.damage.ended_early and not source.endpoint.is_file:
        ended = f"the input was lost ({source.damage.ended_early})"
        source.damage.ended_early = None  # said once, as why the run ended
    clocks = pipeline.clocks
    damage = source.damage.summary()
    if damage:
        warn(f"damaged input: {damage}; every frame that decoded was upscaled")
    if sink.copy_report():
        warn(f"damaged input: {sink.copy_report()}")
    if source.damage.timing_note():
        warn(source.damage.timing_note())
    info = source.info
    return UpscaleResult(
        output=target,
        frames=sink.frames_written,
        seconds=seconds,
        model=f"PlainUSR {sr.variant} x{sr.scale} ({sr.source})",
        device=f"{sr.device} {str(sr.dtype).removeprefix('torch.')}{' compiled' if sr.compiled else ''}",
        codec=sink.codec,
        pix_fmt=sink.layout.format,
        size_in=(info.layout.width, info.layout.height),
        size_out=(sink.layout.width, sink.layout.height),
        stage_busy={clock.name: clock.busy_seconds for clock in clocks},
        warnings=warnings,
        ended=ended,
        frames_dropped=decoded.dropped,
    )


def _run_pipeline(source, sink, sr, batch, pipeline, decoded, warn, on_progress) -> None:
    info = source.info
    batch = frames_per_call(sr.device, batch)  # on the CPU one frame per call: stopping stays prompt too
    upscaler = FrameUpscaler(sr, info.layout, sink.layout, info.colour, sink.colour, batch=batch, notify=warn)
    upscaled = pipeline.channel(max(2, pipeline.capacity // batch))

    def decode(clock: StageClock) -> None:
        for item in source.items():
            decoded.put(item, clock)
        decoded.put(END, clock)

    def model(clock: StageClock) -> None:
        pending: list[DecodedFrame] = []

        def flush() -> None:
            if pending:
                upscaled.put(_Batch(list(pending), upscaler.upscale([f.packed for f in pending])), clock)
                pending.clear()

        while True:
            item = decoded.get(clock)
            if isinstance(item, DecodedFrame):
                pending.append(item)
                if len(pending) == batch:
                    flush()
            elif item is END:
                flush()
                upscaled.put(END, clock)
                return
            else:  # a copied packet: on its way at once, the muxer interleaves
                upscaled.put(item, clock)

    def encode(clock: StageClock) -> None:
        while True:
            item = upscaled.get(clock)
            if item is END:
                return
            if isinstance(item, av.Packet):
                sink.write_packet(item)
                continue
            waited = time.perf_counter()
            packed = item.result.wait()
            gpu_seconds = time.perf_counter() - waited
            # Waiting for the GPU to finish a batch is model work that the model thread,
            # which only queues it, cannot see: count it there, not here.
            clock.waiting += gpu_seconds
            model_clock.waiting = max(0.0, model_clock.waiting - gpu_seconds)
            for frame, pixels in zip(item.frames, packed):
                sink.write_frame(frame.pts, frame.duration, pixels)

    for name, work in zip(STAGES, (decode, model, encode)):
        pipeline.add(name, work)
    model_clock = pipeline.clocks[1]
    expected = info.frames_expected or _frames_in_duration(source)
    pipeline.run(on_tick=(lambda: on_progress(sink.frames_written, expected)) if on_progress else (lambda: None))


def _frames_in_duration(source) -> int | None:
    """For a container without a frame count (mkv, ts, most pipes and streams): the frames
    its declared duration holds at the stream's rate, so progress can show an ETA; None
    for a live stream, which declares none."""
    duration, rate = source.container.duration, source.info.frame_rate
    if not duration or not rate or source.endpoint.live:
        return None
    return max(1, round(duration / 1_000_000 * rate))
