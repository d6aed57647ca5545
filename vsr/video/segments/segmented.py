"""`upscale_in_segments`: a long upscale that survives a crash and resumes where it stopped.

The input is cut on keyframes (vsr.video.segments.cutting); each segment is upscaled by the usual
three-thread pipeline into its own file in a work folder beside the output
(`OUT.vsr-work/`), checked (frame count, first and last pts) and recorded with its hash
in the manifest (vsr.video.segments.manifest). The same command after any interruption redoes only
what is not recorded; the end joins the segments by stream copy (vsr.video.segments.join) and
removes the work folder.

Defaults, and why:
* segments of 30 s: an interruption costs at most 30 s of work per worker, a two-hour
  film still makes 240 segments for workers to share, and the cost of each new segment
  (a seek, an encoder start, an IDR frame instead of a P frame) is a fraction of a percent
  of 30 s of upscaling (docs/BENCHMARKS.md);
* segmenting is the default for inputs of 2 minutes or more; a shorter run is cheaper
  to redo than to keep a work folder for. `segment_seconds` or `resume` (the CLI's
  `--segment-seconds`, `--resume`) asks for it at any length;
* inputs that cannot be cut exactly (no index, frames without their own timestamps,
  damage) run in one piece, with a notice.
"""

import dataclasses
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import av

from ...atomic import atomic_path
from ...errors import OutputError, UsageError, VsrError
from ...model import SRModel
from ...presets import Preset
from ...settings import resolve_run
from ...weights import sha256_of as file_sha256
from ..io.codecs import container_for
from .join import join_segments, segment_container
from .manifest import Manifest, fingerprint, fsync_file
from .cutting import (
    InexactSegment,
    NotSegmentable,
    Segment,
    SegmentSource,
    plan_segments,
)
from ..stages.pipeline import Pipeline
from ..io.plan import OutputPlan, plan_output
from ..io.sink import VideoSink
from ..io.source import VideoSource
from ..stages.upscale import STAGES, UpscaleResult, output_for, run_stages, upscale_video

DEFAULT_SEGMENT_SECONDS = 30.0
SEGMENT_BY_DEFAULT_FROM = 120.0  # seconds of input
RESUME_MODES = ("auto", "resume", "restart")


class Interrupted(VsrError):
    """Ctrl-C during a segmented run: the work folder is kept, the exit is 130."""

    exit_code = 130


def work_folder(target: Path) -> Path:
    return target.with_name(f"{target.name}.vsr-work")


def upscale_in_segments(
    src: os.PathLike | str,
    dst: os.PathLike | str | None = None,
    *,
    segment_seconds: float | None = None,
    resume: str = "auto",
    keep_work: bool = False,
    ray: bool = False,
    ray_address: str | None = None,
    workers: int | None = None,
    preset: "str | Preset | None" = None,
    model: SRModel | str | os.PathLike | None = None,
    scale: int | None = None,
    device: str = "auto",
    half: bool | None = None,
    compile: bool = False,
    batch: int | None = None,
    codec: str | None = None,
    crf: int | None = None,
    encoder_preset: str | None = None,
    pix_fmt: str | None = None,
    overwrite: bool = False,
    queue_size: int = 8,
    notify: Callable[[str], None] | None = None,
    on_progress: Callable[[int, int | None], None] | None = None,
    on_start: Callable[[VideoSource, VideoSink, SRModel], None] | None = None,
    on_segments: Callable[[int, int], None] | None = None,
) -> UpscaleResult:
    """Like vsr.upscale_video (the same settings, `preset` included, resolved the same way
    by vsr.settings.resolve_run), in resumable segments where the input allows it.
    `resume`: "auto" (continue a matching work folder, with a notice), "resume" (the same,
    asked for) or "restart" (discard it). `on_segments(done, total)` follows the segments;
    `on_progress(frames, frames_expected)` counts only the frames this run has to do.
    `ray`: encode the segments on a Ray cluster (vsr.video.segments.distributed; `ray_address` or
    RAY_ADDRESS, else a local Ray with `workers` CPU workers)."""
    warnings: list[str] = []

    def warn(message: str) -> None:
        warnings.append(message)
        if notify:
            notify(message)

    if resume not in RESUME_MODES:
        raise UsageError(f"resume must be one of {', '.join(RESUME_MODES)}, got {resume!r}", hint="change {resume}")
    if segment_seconds is not None and segment_seconds <= 0:
        raise UsageError(f"segment_seconds must be more than 0, got {segment_seconds}", hint="change {segment_seconds}")
    if batch is not None and batch < 1:
        raise UsageError(f"batch must be 1 or more, got {batch}", hint="change {batch}")
    if workers is not None and not ray:
        raise UsageError("workers are only for a Ray run", hint="pass {ray=True} with {workers}, or leave {workers} out")
    if workers is not None and workers < 1:
        raise UsageError(f"workers must be 1 or more, got {workers}", hint="change {workers}")
    if ray:
        from .distributed import import_ray

        import_ray()  # missing: one line, before any work
    run = resolve_run(
        preset, model=model, scale=scale, device=device, half=half, batch=batch, codec=codec, crf=crf, encoder_preset=encoder_preset, pix_fmt=pix_fmt
    )
    settings, batch = run.encoder, run.batch
    for notice in run.model.notices:
        warn(notice)
    source = VideoSource(src)
    try:
        sr = run.model.load(compile=compile)
    except BaseException:
        source.close()
        raise

    def in_one_piece() -> UpscaleResult:
        source.close()
        result = upscale_video(
            src, dst, preset=run.preset, model=sr, queue_size=queue_size,
            overwrite=overwrite, notify=notify, on_progress=on_progress, on_start=on_start,
        )  # fmt: skip
        result.warnings[:0] = warnings
        return result

    try:
        target = output_for(source, dst, sr.scale, settings.codec, overwrite)
        plan = plan_output(source.info, source.streams, sr.scale, settings, target)  # refuses what cannot be written, before any work
        work = work_folder(target)
        asked = segment_seconds is not None or resume != "auto" or ray or work.exists()
        seconds = segment_seconds or DEFAULT_SEGMENT_SECONDS
        duration = source.container.duration
        if not asked and duration is not None and duration / 1_000_000 < SEGMENT_BY_DEFAULT_FROM:
            return in_one_piece()
        try:
            segments = plan_segments(source.path, seconds)
        except NotSegmentable as exc:
            if asked:
                warn(f"cannot cut {source.path.name} into segments exactly ({exc}); upscaling it in one piece, without resume")
            return in_one_piece()
    except BaseException:
        source.close()
        raise
    try:
        for notice in plan.notices:
            warn(notice)
        job = _SegmentedJob(source, sr, plan, target, work, segments, batch, queue_size, warn)
        job.open_work(resume, seconds)
        if ray:
            job.ray = _ray_runner(source, sr, plan, compile, batch, queue_size, ray_address, workers, warn)
        try:
            return job.run(keep_work, warnings, on_progress, on_start, on_segments)
        finally:
            if job.ray is not None:
                job.ray.close()
    except InexactSegment as exc:
        warn(f"{exc}: the input cannot be cut exactly; upscaling it in one piece, without resume")
        shutil.rmtree(work, ignore_errors=True)
        return in_one_piece()
    finally:
        source.close()


class _SegmentedJob:
    def __init__(self, source, sr, output: OutputPlan, target, work, plan, batch, queue_size, warn):
        self.source, self.sr, self.output, self.target, self.work = source, sr, output, target, work
        self.plan, self.batch, self.queue_size, self.warn = plan, batch, queue_size, warn
        self.suffix = segment_container(output.codec)
        self.manifest: Manifest | None = None
        self.ray = None  # a vsr.video.segments.distributed.RayRunner, or None: segments are encoded here
        self._notices: set[str] = set()

    def path_of(self, segment: Segment) -> Path:
        return self.work / f"{segment.name}{self.suffix}"

    def open_work(self, resume: str, seconds: float) -> None:
        streams = [f"{s.index}:{s.type}:{s.codec_context.name if s.codec_context else '-'}" for s in self.source.container.streams]
        source_id = fingerprint(self.source.path, streams)
        settings = _settings_of(self.sr, self.output, self.target, seconds)
        if resume == "restart" and self.work.exists():
            shutil.rmtree(self.work)
        found = Manifest.load(self.work) if self.work.exists() else None
        if self.work.exists() and found is None:
            raise OutputError(f"{self.work} exists but holds no readable manifest", hint="remove it or pass {resume=restart}")
        if found is not None:
            found.check_matches(self.work, source_id, settings)
            done = sum(1 for name in found.done if (self.work / f"{name}{self.suffix}").exists())
            if resume == "auto":
                self.warn(f"resuming from {self.work} ({done} of {len(found.segments)} segments done; a restart starts over)")
            self.manifest, self.plan = found, found.plan()
            for stray in self.work.glob(".*.part"):  # a segment being written when the run was killed
                stray.unlink(missing_ok=True)
            return
        if resume == "resume":
            self.warn(f"nothing to resume at {self.work}; starting")
        try:
            self.work.mkdir()
        except OSError as exc:
            raise OutputError(f"cannot create the work folder {self.work}: {exc.strerror}") from None
        self.manifest = Manifest.new(source_id, settings, self.plan)
        self.manifest.save(self.work)

    def is_done(self, segment: Segment) -> bool:
        record = self.manifest.done.get(segment.name)
        if record is None:
            return False
        path = self.path_of(segment)
        if path.exists() and path.stat().st_size == record["bytes"] and file_sha256(path) == record["sha256"]:
            return True
        self.warn(f"{segment.name} in {self.work} is missing or damaged; it is redone")
        del self.manifest.done[segment.name]
        return False

    def run(self, keep_work, warnings, on_progress, on_start, on_segments) -> UpscaleResult:
        started = time.perf_counter()
        todo = [s for s in self.plan if not self.is_done(s)]
        remaining_frames = sum(s.frames for s in todo)
        busy = dict.fromkeys(STAGES, 0.0)
        total = len(self.plan)
        if on_segments:
            on_segments(total - len(todo), total)
        try:
            if self.ray is None:
                encoded = self.encode_here(todo, on_progress, on_start, remaining_frames)
            else:
                encoded = self.ray.encode(self, todo, on_progress, remaining_frames)
            for segment, seconds in encoded:
                for stage, value in seconds.items():
                    busy[stage] += value
                self.record(segment)
                if on_segments:
                    on_segments(len(self.manifest.done), total)
            with atomic_path(self.target) as temp:
                joined, written = join_segments(self.source, [self.path_of(s) for s in self.plan], temp, self.output, self.once)
                expected = sum(s.frames for s in self.plan)
                if written != expected:
                    raise OutputError(f"the segments hold {written} frames, the input {expected}", hint="rerun with {resume=restart}")
        except InexactSegment:
            raise
        except KeyboardInterrupt:
            raise Interrupted(
                f"interrupted with {len(self.manifest.done)} of {total} segments done; they are kept in {self.work} and the same command resumes"
            ) from None
        except BaseException:
            if self.manifest.done:
                self.warn(f"stopped with {len(self.manifest.done)} of {total} segments done; they are kept in {self.work} and the same command resumes")
            raise
        if not keep_work:
            shutil.rmtree(self.work, ignore_errors=True)
        if joined.copy_report():
            self.warn(f"damaged input: {joined.copy_report()}")
        info, sr = self.source.info, self.sr
        return UpscaleResult(
            output=self.target,
            frames=written,
            seconds=time.perf_counter() - started,
            model=sr.name,
            device=sr.runs_on,
            codec=joined.codec,
            pix_fmt=joined.layout.format,
            size_in=(info.layout.width, info.layout.height),
            size_out=(joined.layout.width, joined.layout.height),
            stage_busy=busy,
            warnings=warnings,
        )

    def once(self, message: str) -> None:
        """Encoder notices would repeat for every segment: each is said once."""
        if message not in self._notices:
            self._notices.add(message)
            self.warn(message)

    def encode_here(self, todo: list[Segment], on_progress, on_start, remaining_frames: int):
        """Encode `todo` in this process, one after the other: (segment, stage seconds) each."""
        frames_done = 0
        for segment in todo:
            progress = (lambda done, _, base=frames_done: on_progress(base + done, remaining_frames)) if on_progress else None
            start = (lambda sink, hook=on_start: hook(self.source, sink, self.sr)) if on_start else None
            on_start = None
            clocks = encode_segment(
                self.source.path,
                self.source.info,
                segment,
                self.path_of(segment),
                self.sr,
                self.output,
                self.batch,
                self.queue_size,
                self.once,
                progress,
                start,
            )
            frames_done += segment.frames
            yield segment, {clock.name: clock.busy_seconds for clock in clocks}

    def record(self, segment: Segment) -> None:
        """Check the finished file against the plan, then list it in the manifest."""
        path = self.path_of(segment)
        with av.open(str(path)) as written:
            stream = written.streams.video[0]
            stamps = [p.pts for p in written.demux(stream) if p.size]
            tolerance = stream.time_base / 2  # mkv (ffv1 segments) keeps milliseconds
        time_base = self.source.info.time_base
        first, last = (min(stamps) * stream.time_base, max(stamps) * stream.time_base) if stamps else (None, None)
        if len(stamps) != segment.frames or abs(first - segment.first_pts * time_base) > tolerance or abs(last - segment.last_pts * time_base) > tolerance:
            raise OutputError(
                f"{path} holds {len(stamps)} frames from {first} to {last} s; expected {segment.frames} from pts {segment.first_pts} to {segment.last_pts}"
            )
        self.manifest.done[segment.name] = {
            "frames": segment.frames, "first_pts": segment.first_pts, "last_pts": segment.last_pts,
            "bytes": path.stat().st_size, "sha256": file_sha256(path),
        }  # fmt: skip
        self.manifest.save(self.work)


def _ray_runner(source, sr, output: OutputPlan, compile, batch, queue_size, address, workers, warn):
    from .distributed import RayRunner, WorkerSpec

    half = str(sr.dtype) == "torch.float16"
    spec = WorkerSpec(source.path.resolve(), sr.source, sr.scale, half, compile, batch, queue_size, output)
    return RayRunner(spec, address, workers, warn)


def segment_plan(output: OutputPlan, path: Path) -> OutputPlan:
    """The plan for one segment file: the output's video exactly (encoder, options, pixel
    format, colour, tags), so that the join can copy its packets, and nothing else."""
    return dataclasses.replace(output, output=path, container=container_for(path), copied=(), attachments=(), dropped=(), notices=())


def encode_segment(src: Path, info, segment: Segment, path: Path, sr, output: OutputPlan, batch, queue_size, notify, progress=None, on_start=None):
    """Upscale one segment into `path` (written under a temporary name, flushed to disk,
    then renamed) as `output` (the whole output's plan) encodes video; returns the
    pipeline's stage clocks. Used here and by Ray workers."""
    with atomic_path(path) as temp:
        sink = VideoSink(temp, segment_plan(output, path))
        try:
            if on_start:
                on_start(sink)
            frames = SegmentSource(src, info, segment)
            pipeline = Pipeline(capacity=queue_size)
            run_stages(frames, sink, sr, batch, pipeline, pipeline.channel(), notify, progress)
            clocks = pipeline.clocks
            sink.finish()
        except BaseException:
            sink.abort()
            raise
        fsync_file(temp)
    return clocks


def _settings_of(sr: SRModel, output: OutputPlan, target: Path, seconds: float) -> dict:
    """What shapes the output (and so must match to resume); device, batch, workers do not.
    The encoder is the plan's: what really runs, after any NVENC fallback."""
    weights = Path(sr.source)
    weights_id = file_sha256(weights) if weights.is_file() else sr.source
    return {
        "model": f"{sr.variant}-x{sr.scale}",
        "weights": weights_id,
        "dtype": str(sr.dtype).removeprefix("torch."),
        "codec": output.codec,
        "encoder options": output.settings.options(),
        "pix_fmt": output.layout.format,
        "streams": list(output.copied),
        "container": target.suffix.lower(),
        "segment seconds": seconds,
    }
