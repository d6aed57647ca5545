"""`upscale_in_segments`: a long upscale that survives a crash and resumes where it stopped.

The input is cut on keyframes (vsr.video.segments.cutting); the segments are upscaled by
one continuous pipeline that follows the cut plan (vsr.video.segments.continuous: nothing
drains at a border), each into its own file in a work folder beside the output
(`OUT.vsr-work/`), checked (frame count, first and last pts) and recorded with its hash
in the manifest (vsr.video.segments.manifest) as soon as it is complete. The same command after any interruption redoes only
what is not recorded; the end joins the segments by stream copy (vsr.video.segments.join) and
removes the work folder.

Defaults, and why (the numbers live in vsr.video.io.job, whose run_kind applies them):
* segments of 30 s: an interruption costs at most 30 s of work per worker, a two-hour
  film still makes 240 segments for workers to share, and the cost of each new segment
  (a seek, an encoder start, an IDR frame instead of a P frame) is a fraction of a percent
  of 30 s of upscaling (docs/BENCHMARKS.md);
* segmenting is the default for inputs of 2 minutes or more; a shorter run is cheaper
  to redo than to keep a work folder for. `segment_seconds`, `resume` or `ray`, or an
  earlier run's work folder, asks for it at any length;
* a pipe, URL or device on either side is streamed, never segmented;
* inputs that cannot be cut exactly (no index, frames without their own timestamps,
  damage) run in one piece, with a notice.
"""

import shutil
import time
from pathlib import Path

import av

from ...atomic import atomic_path
from ...errors import OutputError, VsrError
from ...interrupt import EXIT_CODE
from ...model import SRModel
from ...output_lock import claim
from ...weights import sha256_of as file_sha256
from ..io.job import NO_HOOKS, Hooks, RunKind, SegmentOptions, UpscaleJob, build_job, run_kind
from ..io.plan import OutputPlan, plan_output
from ..io.endpoints import check_input_file
from ..io.source import VideoSource
from ..stages.upscale import STAGES, UpscaleResult, output_for, run_single
from .cutting import InexactSegment, NotSegmentable, Segment, plan_segments
from .continuous import encode_continuously
from .encode import SegmentWork
from .join import join_segments, segment_container
from .manifest import Manifest, fingerprint


class Interrupted(VsrError):
    """Ctrl-C during a segmented run: the work folder is kept, the exit is Ctrl-C's."""

    exit_code = EXIT_CODE


def work_folder(target: Path) -> Path:
    return target.with_name(f"{target.name}.vsr-work")


def upscale_in_segments(src, dst=None, **options) -> UpscaleResult:
    """Like vsr.upscale_video (the same options, `preset` included, resolved the same way
    by vsr.settings.resolve_run), in resumable segments where the input allows it (a file
    into a file; vsr.video.io.job.run_kind), with these options too (vsr.video.io.job.SegmentOptions):
    `segment_seconds`; `resume`: "auto" (continue a matching work folder, with a notice),
    "resume" (the same, asked for) or "restart" (discard it); `keep_work`; `ray`: encode
    the segments on a Ray cluster (vsr.video.segments.distributed; `ray_address` or RAY_ADDRESS, else a
    local Ray with `workers` CPU workers). The hook `on_segments(done, total)` follows the
    segments; `on_progress(frames, frames_expected)` counts only the frames this run has to do."""
    hooks = Hooks.from_options(options)
    segments = SegmentOptions.from_options(options)
    return run_job(build_job(src, dst, segments=segments, **options), hooks)


def run_job(job: UpscaleJob, hooks: Hooks = NO_HOOKS, model: SRModel | None = None) -> UpscaleResult:
    """`job` as vsr.video.io.job.run_kind says: streamed or in one piece (vsr.video.stages.upscale.run_single)
    or in segments, with `model` when it is loaded already (its notices said)."""
    if run_kind(job) is not RunKind.SEGMENTED:
        return run_single(job, hooks, model)
    warnings: list[str] = []
    warn = hooks.collector(warnings)
    options = job.segments
    if options.ray:
        from .distributed import import_ray

        import_ray()  # missing: one line, before any work
    if model is None:
        for notice in job.settings.model.notices:
            warn(notice)
    check_input_file(job.source.path)  # a missing input is said before the model loads
    # with Ray the workers load the model; the driver only reads what the weights are
    sr = model or (_identify(job) if options.ray else job.settings.model.load(compile=job.compile))
    target = output_for(job.source, job.output, sr.scale, job.encoder.codec, job.overwrite)
    with claim(target):  # before any decoding (vsr.output_lock); run_single's claim nests in it
        return _run_claimed(job, hooks, sr, target, warnings)


def _run_claimed(job: UpscaleJob, hooks: Hooks, sr, target: Path, warnings: list[str]) -> UpscaleResult:
    """run_job's work once the output `target` is claimed; `sr` an SRModel, or with Ray
    the weights the workers will load (vsr.model.WeightsIdentity)."""
    warn = hooks.collector(warnings)
    options = job.segments
    source = VideoSource(job.source, reading=job.reading)

    def in_one_piece() -> UpscaleResult:
        source.close()
        loaded = sr if isinstance(sr, SRModel) else job.settings.model.load(compile=job.compile)  # a Ray run that cannot be cut
        result = run_single(job, hooks, loaded)
        result.warnings[:0] = warnings
        return result

    try:
        plan = plan_output(source.info, source.streams, sr.scale, job.encoder, target, choice=job.selection, size=job.size)  # refuses what cannot be written
        work = work_folder(target)
        duration = source.container.duration
        seconds = None if duration is None else duration / 1_000_000
        if run_kind(job, seconds=seconds, work_exists=work.exists()) is RunKind.ONE_PIECE:
            return in_one_piece()
        try:
            if source.deinterlacing.active and source.deinterlacing.mode == "ivtc":
                raise NotSegmentable("inverse telecine matches fields across segment borders")
            segments = plan_segments(source.path, options.length)
        except NotSegmentable as exc:
            if options.asked or work.exists():
                warn(f"cannot cut {source.path.name} into segments exactly ({exc}); upscaling it in one piece, without resume")
            return in_one_piece()
    except BaseException:
        source.close()
        raise
    ray = None
    try:
        for notice in plan.notices:
            warn(notice)
        shared = SegmentWork(source.path, source.info, plan, job.batch, job.queue_size)
        if options.ray:
            ray = _ray_runner(job, shared, sr, warn)
            sr = ray.start(len(segments))  # what the workers run, as they report it
        run = _SegmentedRun(job, source, sr, plan, target, segments, warn)
        run.ray = ray
        run.open_work()
        return run.run(warnings, hooks)
    except InexactSegment as exc:
        warn(f"{exc}: the input cannot be cut exactly; upscaling it in one piece, without resume")
        shutil.rmtree(work, ignore_errors=True)
        if ray is not None:
            ray.close()
            ray = None
        return in_one_piece()
    finally:
        if ray is not None:
            ray.close()
        source.close()


class _SegmentedRun:
    """One segmented run: the work folder and its manifest, the segments encoded here or on
    Ray, the join."""

    def __init__(self, job: UpscaleJob, source: VideoSource, sr, output: OutputPlan, target: Path, plan: list[Segment], warn):
        self.job, self.source, self.sr, self.output, self.target, self.work = job, source, sr, output, target, work_folder(target)
        self.plan, self.warn = plan, warn
        self.shared = SegmentWork(source.path, source.info, output, job.batch, job.queue_size)
        self.suffix = segment_container(output.codec)
        self.manifest: Manifest | None = None
        self.ray = None  # a vsr.video.segments.distributed.RayRunner, or None: segments are encoded here
        self._notices: set[str] = set()

    def path_of(self, segment: Segment) -> Path:
        return self.work / f"{segment.name}{self.suffix}"

    def open_work(self) -> None:
        resume, seconds = self.job.segments.resume, self.job.segments.length
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

    def run(self, warnings: list[str], hooks: Hooks) -> UpscaleResult:
        on_segments = hooks.on_segments
        started = time.perf_counter()
        todo = [s for s in self.plan if not self.is_done(s)]
        remaining_frames = sum(s.frames for s in todo)
        busy = dict.fromkeys(STAGES, 0.0)
        total = len(self.plan)
        if on_segments:
            on_segments(total - len(todo), total)
        try:
            if self.ray is None:
                for clock in self.encode_here(todo, hooks, remaining_frames):
                    busy[clock.name] += clock.busy_seconds
            else:
                for segment, seconds in self.ray.encode(self, todo, hooks.on_progress, remaining_frames):
                    for stage, value in seconds.items():
                        busy[stage] += value
                    self.record(segment)
                    if on_segments:
                        on_segments(len(self.manifest.done), total)
            with atomic_path(self.target, replace=self.job.overwrite) as temp:
                joined, written = join_segments(self.source, [self.path_of(s) for s in self.plan], temp, self.output, self.once)
                expected = sum(self.manifest.done[s.name].get("written", s.frames) for s in self.plan)
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
        if not self.job.segments.keep_work:
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
            size_out=joined.plan.size,
            stage_busy=busy,
            warnings=warnings,
        )

    def once(self, message: str) -> None:
        """Encoder notices would repeat for every segment: each is said once."""
        if message not in self._notices:
            self._notices.add(message)
            self.warn(message)

    def encode_here(self, todo: list[Segment], hooks: Hooks, remaining_frames: int) -> list:
        """Encode `todo` in this process through one pipeline that follows the plan
        (vsr.video.segments.continuous); each file is recorded as soon as it is complete.
        The hooks run in the caller's thread. Returns the stage clocks."""
        if not todo:
            return []
        on_progress, on_segments, on_start = hooks.on_progress, hooks.on_segments, hooks.on_start
        said = [len(self.manifest.done)]
        per_input_frame = 2 if self.source.deinterlacing.changes_rate else 1  # at field rate: progress counts output frames, as a single run's

        def tick(written: int) -> None:
            if on_progress:
                on_progress(written, remaining_frames * per_input_frame)
            if on_segments and len(self.manifest.done) != said[0]:
                said[0] = len(self.manifest.done)
                on_segments(said[0], len(self.plan))

        start = (lambda sinks: on_start(self.source, sinks, self.sr)) if on_start else None
        return encode_continuously(self.shared, todo, self.sr, self.path_of, self.once, self.record, tick, start)

    def _as_planned(self, segment: Segment, stamps: list, first, last, tolerance) -> bool:
        """Whether a segment's file holds the frames its plan says: as many as the input's
        frames from the first's time to the last's; at field rate (vsr.video.io.deinterlace)
        one or two per input frame, ending up to a field after the last input frame."""
        if not stamps:
            return False
        time_base = self.source.video.time_base  # the segment plan's: the input stream's
        late = last - segment.last_pts * time_base
        if abs(first - segment.first_pts * time_base) > tolerance:
            return False
        if self.source.deinterlacing.changes_rate:
            field = 1 / self.source.info.frame_rate
            return segment.frames <= len(stamps) <= 2 * segment.frames and -tolerance <= late <= field + tolerance
        return len(stamps) == segment.frames and abs(late) <= tolerance

    def record(self, segment: Segment) -> None:
        """Check the finished file against the plan, then list it in the manifest."""
        path = self.path_of(segment)
        with av.open(str(path)) as written:
            stream = written.streams.video[0]
            stamps = [p.pts for p in written.demux(stream) if p.size]
            time_base = stream.time_base  # read while open: PyAV 18.1.1 refuses a closed container's streams
        tolerance = time_base / 2  # mkv (ffv1 segments) keeps milliseconds
        first, last = (min(stamps) * time_base, max(stamps) * time_base) if stamps else (None, None)
        if not self._as_planned(segment, stamps, first, last, tolerance):
            raise OutputError(
                f"{path} holds {len(stamps)} frames from {first} to {last} s; expected {segment.frames} from pts {segment.first_pts} to {segment.last_pts}"
            )
        self.manifest.done[segment.name] = {
            "frames": segment.frames, "written": len(stamps), "first_pts": segment.first_pts, "last_pts": segment.last_pts,
            "bytes": path.stat().st_size, "sha256": file_sha256(path),
        }  # fmt: skip
        self.manifest.save(self.work)


def _identify(job: UpscaleJob):
    """The weights a Ray run's workers will load (vsr.model.identify_weights), not loaded here."""
    from ...model import identify_weights

    settings = job.settings.model
    return identify_weights(settings.model, scale=settings.scale, purpose=settings.purpose, device_type=settings.device.type)


def _ray_runner(job: UpscaleJob, shared: SegmentWork, sr, warn):
    """The Ray runner for `job`: the workers load `sr`'s weights on the device the run asked
    for, in the precision the run asked for (an SRModel given: its own; else the settings'
    `precision`: auto is decided by the precision policy on each worker's device)."""
    from .distributed import RayRunner, WorkerSpec

    given = job.settings.model.model  # an SRModel the caller made keeps its precision; one loaded here from the
    # settings (a batch loads once for all its inputs) does not: the workers decide from what was asked
    precision = given.precision.name if isinstance(given, SRModel) else job.settings.model.precision
    weights = str(Path(sr.source).resolve()) if Path(sr.source).is_file() else sr.source  # a worker elsewhere starts in another folder
    spec = WorkerSpec(shared.src.resolve(), weights, sr.scale, precision, job.compile, shared.batch, shared.queue_size, shared.output)
    return RayRunner(spec, job.segments.ray_address, job.segments.workers, warn, device=job.segments.worker_device)


def _settings_of(sr, output: OutputPlan, target: Path, seconds: float) -> dict:
    """What shapes the output (and so must match to resume); device, batch, workers do not.
    `sr` is the SRModel, or what the Ray workers report they run. The encoder is the
    plan's: what really runs, after any NVENC fallback."""
    weights = Path(sr.source)
    weights_id = file_sha256(weights) if weights.is_file() else sr.source
    return {
        "model": f"{sr.variant}-x{sr.scale}",
        "weights": weights_id,
        "dtype": str(sr.dtype).removeprefix("torch."),
        "codec": output.codec,
        "encoder options": output.settings.options(),
        "pix_fmt": output.layout.format,
        "deinterlace": output.video.deinterlacing.mode if output.video.deinterlacing else "off",
        "streams": list(output.copied),
        "container": target.suffix.lower(),
        "segment seconds": seconds,
    }
