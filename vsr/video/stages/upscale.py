"""`upscale_video`: decode -> upscale -> encode + mux, each stage in its own thread.

    decode (PyAV, threaded) --frames, packets--> model (FrameUpscaler, batched)
        --upscaled batches, packets--> encode + mux (VideoSink)

Copied packets (audio, subtitles) travel through the same bounded channels as the frames,
so they reach the muxer in step with the video around them and memory stays bounded.
The output is written under a temporary name and renamed only when everything succeeded.
A pipe or URL output (vsr.video.io.endpoints) is written in place, and, like any output of a
live input, is finished (playable to the last frame written) when Ctrl-C, a lost input or
a reader that quits ends the run; `UpscaleResult.ended` says which.
"""

import contextlib
import os
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import av

from ...atomic import atomic_path
from ...errors import InputError, OutputError, UsageError
from ...constants import OUTPUT_CONTAINERS
from ...model import SRModel
from ...output_lock import claim
from ...outputs import check_suffix, make_folder, names_folder
from ..io.codecs import default_output
from ..io.endpoints import FORMAT_SUFFIXES, Endpoint, check_input_file, open_output
from ..io.job import NO_HOOKS, Hooks, UpscaleJob, build_job
from .engine import FrameUpscaler, UpscaledBatch, frames_per_call
from .pipeline import END, Pipeline, StageClock
from ..io.plan import plan_output
from .ending import RunEnding
from .realtime import channel_for, describe_stop
from ..io.sink import CopiedInput, VideoSink
from ..io.sequences import FIRST_NUMBER, numbered, sequence_stand_in
from ..io.trim import TrimmedSource
from ..io.source import DecodedFrame, FrameSource, VideoSource

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
    ended: RunEnding = RunEnding.INPUT_ENDED  # a stream or live run can stop early (vsr.video.stages.realtime)
    lost_because: str | None = None  # what failed, when the input was lost (RunEnding.INPUT_LOST)
    frames_dropped: int = 0  # by --realtime drop

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds else 0.0


@dataclass
class _Batch:
    frames: list[DecodedFrame]
    result: UpscaledBatch


@dataclass(frozen=True)
class Border:
    """An item a FrameSource may yield between its frames: every frame before it reaches
    the sink before it (the model stage writes out its batch first), and the sink gets it
    through `write_packet`. vsr.video.segments.continuous marks each segment's end so."""

    tag: object = None


def upscale_video(src: os.PathLike | str, dst: os.PathLike | str | None = None, **options) -> UpscaleResult:
    """Upscale every frame of `src` into `dst` (default: NAME_xS beside the input), copying
    audio, subtitles, chapters and metadata. The options (keyword arguments; another name
    is a TypeError) build a vsr.video.io.job.UpscaleJob, checked before any work:

    - `preset`: a bundled preset's name, a .toml file, a Preset, "auto" (the device's
      default) or None (libx264 at its defaults, 4 frames per GPU call, x2); every other
      setting given (not None) overrides it (vsr.settings.resolve_run): `model` (an SRModel,
      a shipped name or a weights file; None: the device's default, as in every front door),
      `scale`, `device` ("auto"), `precision` (auto, fp32, fp16, bf16: vsr.precision_policy;
      `half` True/False is fp16/fp32), `batch`, `codec`, `crf`, `encoder_preset`, `pix_fmt`;
    - `compile`: run the network through torch.compile (vsr.compiled: seconds to compile
      first, faster after); `overwrite`; `queue_size` (8 frames between stages);
    - `src` may be `-` (stdin), a URL or a device and `dst` `-` (stdout, in
      `output_format`) or a URL (vsr.video.io.endpoints); `timeout` bounds each network open
      and read (10 s); `realtime` is drop, block or auto (vsr.video.stages.realtime);
    - `audio`, `subtitles` (False: none kept), `maps` (FFmpeg's -map specifiers) and
      `audio_codec` (re-encode; "copy": never) choose the other streams
      (vsr.video.io.selection); `start` and `duration` (seconds) upscale a part
      (vsr.video.io.trim); `width`, `height`: an exact output size (vsr.video.io.output_size);
      the output's suffix picks VP9 for .webm when no codec is named;
    - the hooks (vsr.video.io.job.Hooks): `notify(message)` receives warnings as they happen;
      `on_progress(frames_done, frames_expected)` is called from the caller's thread;
      frames_expected is the input's frame count, or where its container has none (mkv,
      webm, ts) an estimate from its duration and frame rate, or None (a live stream);
      `on_start(source, sink, model)` once the output is open."""
    hooks = Hooks.from_options(options, ("notify", "on_progress", "on_start"))
    return run_single(build_job(src, dst, **options), hooks)


def run_single(job: UpscaleJob, hooks: Hooks = NO_HOOKS, model: SRModel | None = None) -> UpscaleResult:
    """`job` in one run (streamed or in one piece: vsr.video.io.job.run_kind), with `model`
    when it is loaded already (its notices said), else the job's, loaded here. A file
    output is claimed (vsr.output_lock) before the input is opened: a second run aimed at
    it, or an output folder that cannot be written, stops before any decoding."""
    warnings: list[str] = []
    warn = hooks.collector(warnings)
    if model is None:
        for notice in job.settings.model.notices:
            warn(notice)
    if job.output is not None and job.output.kind == "sequence":
        return _run_into_sequence(job, hooks, model, warnings)
    if job.output is not None and not job.output.is_file:
        return _run_single(job, hooks, model, None, warnings)
    if job.source.is_file:
        check_input_file(job.source.path)  # a missing input is said before the model loads
    model = model or job.settings.model.load(compile=job.compile)  # its scale names the output
    target = output_for(job.source, job.output, model.scale, job.encoder.codec, job.overwrite)
    with claim(target):
        return _run_single(job, hooks, model, target, warnings)


def _run_into_sequence(job: UpscaleJob, hooks: Hooks, model: SRModel | None, warnings: list[str]) -> UpscaleResult:
    """An image sequence output (`out/%04d.png`), by vsr.outputs' rules: its folder made,
    its first file not replaced without overwrite, its pattern claimed; written in place,
    one whole file a frame, and on a failure the files this run wrote are removed."""
    pattern = job.output.text
    first = numbered(pattern, FIRST_NUMBER)
    if first.exists() and not job.overwrite:
        raise OutputError(f"{first} exists (the first file of {pattern})", hint="pass {overwrite=True} to replace the sequence")
    make_folder(first.parent)
    with claim(Path(pattern)):
        before = {p for p in first.parent.iterdir()}
        try:
            return _run_single(job, hooks, model, None, warnings)
        except BaseException:
            for written in set(first.parent.iterdir()) - before:
                written.unlink(missing_ok=True)
            raise


def _run_single(job: UpscaleJob, hooks: Hooks, model: SRModel | None, target: Path | None, warnings: list[str]) -> UpscaleResult:
    """run_single's work; `target` is the claimed output file (None: a pipe or URL)."""
    warn = hooks.collector(warnings)
    settings, out_point = job.encoder, job.output
    streamed = out_point is not None and not out_point.is_file
    source = VideoSource(job.source, timeout=job.stream.timeout, reading=job.reading, start=job.trim.start)
    frames = TrimmedSource(source, job.trim) if job.trim.active else source
    ended, lost_because = RunEnding.INPUT_ENDED, None
    try:
        sr = model or job.settings.model.load(compile=job.compile)
        if streamed:
            output = open_output(out_point, job.stream.output_format, job.stream.timeout)
            target = out_point.label("output")
            place = contextlib.nullcontext(output)
            final_name = Path(f"{target}{FORMAT_SUFFIXES.get(output.format.name, '')}")  # for messages
            container = output.format.name
        else:
            place, final_name, container = atomic_path(target, replace=job.overwrite), target, None
        try:
            plan = plan_output(source.info, source.streams, sr.scale, settings, final_name, container, job.selection, job.size)
        except BaseException:
            if streamed:
                with contextlib.suppress(Exception):
                    output.close()
            raise
        for notice in plan.notices:
            warn(notice)
        source.select_copied(plan.copied)  # before decoding starts
        keep_on_stop = streamed or source.endpoint.live
        started = time.perf_counter()
        pipeline = Pipeline(capacity=job.queue_size)
        decoded = channel_for(job.stream.realtime, source.live, pipeline)
        with place as temp:
            try:
                sink = VideoSink(temp, plan, CopiedInput.of(source.container))
            except BaseException as exc:
                if not streamed:
                    raise
                with contextlib.suppress(Exception):
                    temp.close()
                why = describe_stop(exc)
                if why is not None and why.output_lost:
                    what = "the reader closed the output" if why.ending is RunEnding.READER_GONE else "the output connection was dropped"
                    raise OutputError(f"{target}: {what} before the video started") from None
                raise
            try:
                for dropped in plan.dropped:
                    warn(f"{final_name.suffix} cannot hold the input's {dropped}; it was left out")
                if hooks.on_start:
                    hooks.on_start(source, sink, sr)
                run_stages(frames, sink, sr, job.batch, pipeline, decoded, warn, hooks.on_progress)
                if job.trim.active and sink.frames_written == 0:  # an empty file is no result
                    raise InputError(f"{source.path.name} has no video frame {job.trim.describe()}", hint="change {start}")
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
                ended = why.ending
        seconds = time.perf_counter() - started
    finally:
        source.close()
    if source.damage.ended_early and not source.endpoint.is_file:
        ended, lost_because = RunEnding.INPUT_LOST, source.damage.ended_early
        source.damage.ended_early = None  # said once, as why the run ended
    clocks = pipeline.clocks
    damage = source.damage.summary()
    if damage:
        warn(f"damaged input: {damage}; every frame that decoded was upscaled")
    if sink.copy_report():
        warn(f"damaged input: {sink.copy_report()}")
    for note in source.reading_notes():
        warn(note)
    if source.damage.timing_note():
        warn(source.damage.timing_note())
    if sink.frames_retimed:
        tick = sink.video.time_base
        warn(f"{sink.frames_retimed} frame(s) less than {final_name.suffix}'s clock tick ({tick} s) after the one before were moved one tick on")
    info = source.info
    return UpscaleResult(
        output=target,
        frames=sink.frames_written,
        seconds=seconds,
        model=sr.name,
        device=sr.runs_on,
        codec=sink.codec,
        pix_fmt=sink.layout.format,
        size_in=(info.layout.width, info.layout.height),
        size_out=plan.size,
        stage_busy={clock.name: clock.busy_seconds for clock in clocks},
        warnings=warnings,
        ended=ended,
        lost_because=lost_because,
        frames_dropped=decoded.dropped,
    )


def output_for(source: Endpoint, output: Endpoint | None, scale: int, codec: str, overwrite: bool) -> Path:
    """The output file as vsr.outputs' rules say (NAME_xS beside the input by default, or
    in the folder `output` names, created if missing), checked before any work."""
    named = sequence_stand_in(source.text) if source.kind == "sequence" else source.path  # what the default name follows
    if output is None:
        target = default_output(named, scale, codec)
    elif names_folder(output.text):
        target = Path(output.text) / default_output(named, scale, codec).name
    else:
        target = output.path
        check_suffix(target, OUTPUT_CONTAINERS, "video")
    if source.is_file and target.resolve() == source.path.resolve():
        raise UsageError(f"the output would overwrite the input {source.path}", hint="name another {output}")
    if target.exists() and not overwrite:
        raise OutputError(f"{target} exists", hint="pass {overwrite=True} to replace it")
    make_folder(target.parent)
    return target


def run_stages(frames: FrameSource, sink: VideoSink, sr: SRModel, batch: int, pipeline: Pipeline, decoded, warn, on_progress) -> None:
    """Decode (`frames`), upscale (`sr`, `batch` frames per call where the device allows)
    and encode (`sink`) in `pipeline`'s three threads; `decoded` is the channel between the
    first two (vsr.video.stages.realtime.channel_for), `on_progress` as upscale_video's."""
    info = frames.info
    batch = frames_per_call(sr.device, batch)  # on the CPU one frame per call: stopping stays prompt too
    upscaler = FrameUpscaler(sr, info.layout, sink.layout, info.colour, sink.colour, batch=batch, notify=warn)
    upscaled = pipeline.channel(max(2, pipeline.capacity // batch))

    def decode_stage(clock: StageClock) -> None:
        for item in frames.items():
            decoded.put(item, clock)
        decoded.put(END, clock)

    def model_stage(clock: StageClock) -> None:
        pending: list[DecodedFrame] = []
        on_gpu: deque[UpscaledBatch] = deque()  # queued batches whose GPU time is not counted yet

        def flush(final: bool = False) -> None:
            if pending:
                result = upscaler.upscale([f.packed for f in pending])
                upscaled.put(_Batch(list(pending), result), clock)
                pending.clear()
                on_gpu.append(result)
            while on_gpu and (seconds := on_gpu[0].gpu_seconds(block=final)) is not None:
                clock.device_seconds += seconds
                on_gpu.popleft()

        while True:
            item = decoded.get(clock)
            if isinstance(item, DecodedFrame):
                pending.append(item)
                if len(pending) == batch:
                    flush()
            elif item is END:
                flush(final=True)
                upscaled.put(END, clock)
                return
            elif isinstance(item, Border):
                flush()
                upscaled.put(item, clock)
            else:  # a copied packet: on its way at once, the muxer interleaves
                upscaled.put(item, clock)

    def encode_stage(clock: StageClock) -> None:
        while True:
            item = upscaled.get(clock)
            if item is END:
                return
            if isinstance(item, (av.Packet, Border)):
                sink.write_packet(item)
                continue
            waited = time.perf_counter()
            packed = item.result.wait()  # the GPU's time is the model stage's (it reads the events)
            clock.waiting += time.perf_counter() - waited
            for frame, pixels in zip(item.frames, packed):
                sink.write_frame(frame.pts, frame.duration, pixels)

    for name, work in zip(STAGES, (decode_stage, model_stage, encode_stage)):
        pipeline.add(name, work)
    expected = None if frames.live else info.frames_estimated
    pipeline.run(on_tick=(lambda: on_progress(sink.frames_written, expected)) if on_progress else (lambda: None))
