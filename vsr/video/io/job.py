"""A run, decided before it starts: `UpscaleJob` carries what an upscale needs (where from,
where to, the resolved preset and model, batch and queue sizes, the stream and segment
options), frozen and validated once, when it is built, as `EncoderSettings` and the
output plan are. The callbacks travel apart, together, in `Hooks`.

    job = build_job("in.mp4", "out.mkv", preset="fast", crf=20)  # what upscale_video builds
    run_kind(job) -> RunKind.ONE_PIECE

`run_kind` is the one place that says how an input runs: streamed (a pipe, URL or device
on either side), in one piece, or in resumable segments (vsr.video.segments).

Building a job opens no video and loads no model (it reads a preset file, when one is
named); the input is opened and the model loaded when the job runs.
"""

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from ...errors import UsageError
from ...settings import RunSettings, resolve_run
from .codecs import codec_for_suffix
from .endpoints import DEFAULT_TIMEOUT, REALTIME_POLICIES, Endpoint, classify
from .reading import ReadOptions
from .size_change import check_policy
from .selection import KEEP_ALL, StreamChoice
from .output_size import NATIVE, TargetSize
from .trim import WHOLE, Trim

RESUME_MODES = ("auto", "resume", "restart")
DEFAULT_SEGMENT_SECONDS = 30.0
SEGMENT_BY_DEFAULT_FROM = 120.0  # seconds of input: a shorter run is cheaper to redo than to keep a work folder for
DEFAULT_QUEUE = 8

MODEL_OPTIONS = ("preset", "model", "scale", "device", "half", "precision", "batch", "codec", "crf", "encoder_preset", "pix_fmt", "deinterlace")
"""upscale_video's keyword arguments that vsr.settings.resolve_run resolves."""
RUN_OPTIONS = ("compile", "overwrite", "queue_size", "on_size_change")
STREAM_OPTIONS = ("timeout", "output_format", "realtime")
CHOICE_OPTIONS = ("audio", "subtitles", "maps", "audio_codec")
TRIM_OPTIONS = ("start", "duration")
SIZE_OPTIONS = ("width", "height")
"""upscale_video's keyword arguments for which streams are kept (vsr.video.io.selection)."""
SEGMENT_OPTIONS = ("segment_seconds", "resume", "keep_work", "ray", "ray_address", "workers")
HOOKS = ("notify", "on_progress", "on_start", "on_segments")


class RunKind(Enum):
    STREAMED = "streamed"  # a pipe, URL or device on either side: one run, at the stream's pace
    ONE_PIECE = "one piece"  # a file into a file, in one run
    SEGMENTED = "segmented"  # a file into a file, in resumable segments


@dataclass(frozen=True)
class StreamOptions:
    """How a pipe, URL or device is read and written (vsr.video.io.endpoints,
    vsr.video.stages.realtime)."""

    timeout: float | None = DEFAULT_TIMEOUT  # seconds per network open or read; None: never give up
    output_format: str | None = None  # the container of a pipe or URL output
    realtime: str = "auto"  # drop, block or auto (drop for live inputs)

    def __post_init__(self):
        if self.timeout is not None and self.timeout < 0:
            raise UsageError(f"the timeout must be 0 or more seconds, got {self.timeout:g}", hint="change {timeout}")
        if self.realtime not in REALTIME_POLICIES:
            raise UsageError(f"realtime must be one of {', '.join(REALTIME_POLICIES)}, got {self.realtime!r}", hint="change {realtime}")


@dataclass(frozen=True)
class SegmentOptions:
    """How a file is cut into resumable segments (vsr.video.segments)."""

    seconds: float | None = None  # None: DEFAULT_SEGMENT_SECONDS, and only inputs of SEGMENT_BY_DEFAULT_FROM or more
    resume: str = "auto"  # continue a matching work folder (with a notice), "resume" (asked for) or "restart"
    keep_work: bool = False
    ray: bool = False
    ray_address: str | None = None
    workers: int | None = None
    worker_device: str = "auto"  # the device setting as given, for Ray workers: auto means the cluster's GPUs when it has any

    def __post_init__(self):
        if self.resume not in RESUME_MODES:
            raise UsageError(f"resume must be one of {', '.join(RESUME_MODES)}, got {self.resume!r}", hint="change {resume}")
        if self.seconds is not None and self.seconds <= 0:
            raise UsageError(f"segment_seconds must be more than 0, got {self.seconds}", hint="change {segment_seconds}")
        if self.workers is not None and not self.ray:
            raise UsageError("workers are only for a Ray run", hint="pass {ray=True} with {workers}, or leave {workers} out")
        if self.workers is not None and self.workers < 1:
            raise UsageError(f"workers must be 1 or more, got {self.workers}", hint="change {workers}")

    @property
    def asked(self) -> bool:
        """Segments were asked for, whatever the input's length."""
        return self.seconds is not None or self.resume != "auto" or self.ray

    @property
    def length(self) -> float:
        return self.seconds or DEFAULT_SEGMENT_SECONDS

    @classmethod
    def from_options(cls, options: dict) -> "SegmentOptions":
        """Takes SEGMENT_OPTIONS (upscale_in_segments' names) out of `options`, and reads
        (leaves) `device` for the Ray workers."""
        taken = {name: options.pop(name) for name in SEGMENT_OPTIONS if name in options}
        taken["worker_device"] = str(options.get("device") or "auto")
        if "segment_seconds" in taken:
            taken["seconds"] = taken.pop("segment_seconds")
        return cls(**taken)


@dataclass(frozen=True)
class Hooks:
    """The callbacks of a run, all optional. `notify(message)` receives each warning as it
    happens; `on_progress(frames_done, frames_expected)` is called from the caller's thread
    (frames_expected: None for a live stream); `on_start(source, sink, model)` once the
    output is open; `on_segments(done, total)` follows a segmented run's segments."""

    notify: Callable[[str], None] | None = None
    on_progress: Callable[[int, int | None], None] | None = None
    on_start: Callable | None = None
    on_segments: Callable[[int, int], None] | None = None

    @classmethod
    def from_options(cls, options: dict, names: tuple[str, ...] = HOOKS) -> "Hooks":
        """Takes the hooks among `names` out of `options` (keyword arguments)."""
        return cls(**{name: options.pop(name) for name in names if name in options})

    def collector(self, warnings: list[str]) -> Callable[[str], None]:
        """A `warn(message)` that keeps each message in `warnings` and passes it to notify."""

        def warn(message: str) -> None:
            warnings.append(message)
            if self.notify:
                self.notify(message)

        return warn


NO_HOOKS = Hooks()


@dataclass(frozen=True)
class UpscaleJob:
    """Everything a run needs but the callbacks, checked when it is built."""

    source: Endpoint
    output: Endpoint | None  # None: NAME_xS beside the input (vsr.video.io.codecs.default_output)
    settings: RunSettings  # the preset with the given settings laid over it, and the model
    compile: bool = False
    overwrite: bool = False
    queue_size: int = DEFAULT_QUEUE
    stream: StreamOptions = field(default_factory=StreamOptions)
    segments: SegmentOptions | None = None  # None: never in segments (upscale_video)
    on_size_change: str = "scale"  # vsr.video.io.size_change: scale or error
    selection: StreamChoice = KEEP_ALL  # which other streams are kept, and how audio is written
    trim: Trim = WHOLE  # the part of the input to upscale (vsr.video.io.trim)
    size: TargetSize = NATIVE  # an exact output size, reached by resizing the network's (vsr.video.io.output_size)

    def __post_init__(self):
        check_policy(self.on_size_change)
        if self.queue_size < 1:
            raise UsageError(f"queue_size must be 1 or more, got {self.queue_size}")
        if self.output is None and self.source.kind not in ("file", "sequence"):
            raise UsageError(f"an output must be named for {self.source.label()}", hint="name one with {output}")
        if self.segments is not None and self.trim.active and self.segments.asked:
            raise UsageError("a part of the input (a start or duration) is upscaled in one piece, not in segments", hint="leave the segment options out")
        if self.segments is not None and self.streamed and (self.segments.ray or self.segments.resume == "resume"):
            what = f"{self.source.label()} to {self.output.label('output') if self.output else 'a file'}"
            hint = "leave {ray} out" if self.segments.ray else "leave {resume=resume} out"
            raise UsageError(f"{what}: pipes, URLs and devices cannot be split or resumed", hint=hint)

    @property
    def encoder(self):
        """The encoder settings (vsr.video.io.codecs.EncoderSettings), validated."""
        return self.settings.encoder

    @property
    def batch(self) -> int:
        return self.settings.batch

    @property
    def reading(self) -> ReadOptions:
        """How the input's frames are read: the preset's deinterlacing, the size-change policy."""
        return ReadOptions(self.settings.preset.deinterlace, self.on_size_change)

    @property
    def streamed(self) -> bool:
        """A pipe, URL or device on either side."""
        return not self.source.is_file or (self.output is not None and not self.output.is_file)


def run_kind(job: UpscaleJob, *, seconds: float | None = None, work_exists: bool = False) -> RunKind:
    """How `job` runs: the one place that decides it. `seconds` is the input's duration
    (None: not known), `work_exists` whether an earlier run left its work folder. A file
    that turns out not to cut exactly still runs in one piece (vsr.video.segments)."""
    if job.streamed:
        return RunKind.STREAMED
    if job.segments is None or job.trim.active:  # a part of the input: read once, in one piece
        return RunKind.ONE_PIECE
    if not (job.segments.asked or work_exists) and seconds is not None and seconds < SEGMENT_BY_DEFAULT_FROM:
        return RunKind.ONE_PIECE
    return RunKind.SEGMENTED


def build_job(
    src: "os.PathLike | str | Endpoint", dst: "os.PathLike | str | Endpoint | None" = None, *, segments: SegmentOptions | None = None, **options
) -> UpscaleJob:
    """The job for `upscale_video(src, dst, **options)`: MODEL_OPTIONS resolved through
    vsr.settings.resolve_run (`preset` None: no preset), RUN_OPTIONS and STREAM_OPTIONS as
    given. Another name is a TypeError, as for any function."""
    unknown = sorted(set(options) - {*MODEL_OPTIONS, *RUN_OPTIONS, *STREAM_OPTIONS, *CHOICE_OPTIONS, *TRIM_OPTIONS, *SIZE_OPTIONS})
    if unknown:
        allowed = ", ".join((*MODEL_OPTIONS, *RUN_OPTIONS, *STREAM_OPTIONS, *CHOICE_OPTIONS, *TRIM_OPTIONS, *SIZE_OPTIONS))
        raise TypeError(f"unknown option{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}; the options are {allowed}")
    stream = StreamOptions(**{name: options.pop(name) for name in STREAM_OPTIONS if name in options})
    selection = StreamChoice(**{name: options.pop(name) for name in CHOICE_OPTIONS if name in options})
    trim = Trim(**{name: options.pop(name) for name in TRIM_OPTIONS if options.get(name) is not None})
    size = TargetSize(**{name: options.pop(name) for name in SIZE_OPTIONS if name in options})
    run = {name: options.pop(name) for name in RUN_OPTIONS if name in options}
    preset = options.pop("preset", None)
    output = None if dst is None else as_endpoint(dst)
    return UpscaleJob(
        source=as_endpoint(src),
        output=output,
        settings=resolve_for_output(output, options.pop("codec", None), lambda codec: resolve_run(preset, codec=codec, **options)),
        stream=stream,
        segments=segments,
        selection=selection,
        trim=trim,
        size=size,
        **run,
    )


def resolve_for_output(output: Endpoint | None, codec: str | None, resolve: Callable[[str | None], RunSettings]) -> RunSettings:
    """`resolve(codec)`: the settings with the codec as named; where none was named and the
    preset's does not fit the output's container, `resolve` again with the encoder the
    suffix picks (vsr.video.io.codecs.codec_for_suffix: .webm gets VP9)."""
    settings = resolve(codec)
    if codec is not None or output is None or not output.is_file:
        return settings
    better = codec_for_suffix(output.path, settings.encoder.codec)
    return settings if better is None else resolve(better)


def as_endpoint(where: "os.PathLike | str | Endpoint") -> Endpoint:
    """A path (always a file), a string (classified: `-`, a URL, a device or a file) or an Endpoint."""
    if isinstance(where, Endpoint):
        return where
    return classify(where if isinstance(where, str) else Path(where))
