"""The segments this machine encodes, through ONE pipeline that follows the cut plan.

Why not one pipeline per segment: each one drained at its border. The model stage ran out of
frames while the last batch went through, the encoder flushed, the file was fsynced and
hashed, and only then did the next segment's decoder seek and its encoder open: the device
stood idle for all of it, at every border (every 30 s of input by default). On the CPU at
5 fps that was a fraction of a percent; a GPU at hundreds of fps spends a larger share of
each segment waiting, and the pause grows with the encoder's lookahead.

What was weighed: opening the next segment's decoder while the last batch runs (a second
pipeline started early) would hide the seek but still drain the model stage and still wait
for the flush, and would run two encoders and two model stages at once around each border.
One continuous pipeline hides all of it with the threads and channels already there:

- decode (`PlannedFrames`): each segment's exact frames in turn (vsr.video.segments.cutting.
  SegmentSource: its seek, its frame count check), so the next segment's decoder opens
  while the channel still holds frames for the model;
- model: never waits at a border: it sends its partial batch on at the `Border` (one short
  batch per segment, so a file holds only its own frames) and goes on with the next;
- encode (`SegmentSinks`): writes frames into the current segment's file and, at the
  `Border` the decode stage put after the segment's last frame, hands the file to the close
  stage; the next frame opens the next one. (A border, not a frame count: deinterlaced at
  field rate a segment makes one or two frames per input frame, as its flags say);
- close: flushes that segment's encoder, fsyncs and renames the file, and records it in the
  manifest (`on_done`), while the encode stage is already writing the next segment.

Resume, the manifest and the join are unchanged: a segment file is still written under a
temporary name, renamed only when complete, and recorded only after that; Ray workers keep
one pipeline per segment (vsr.video.segments.encode), as each task is one segment.
"""

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ...atomic import temporary_name
from ...errors import OutputError, VsrError
from ...model import SRModel
from ..io.frames import DecodedFrame
from ..io.sink import VideoSink
from ..stages.pipeline import END, Pipeline, StageClock
from ..stages.upscale import Border, run_stages
from .cutting import Segment, SegmentSource
from .encode import SegmentWork, segment_plan
from .manifest import fsync_file


@contextmanager
def writing(path: Path):
    """An OSError (a full disk, a removed folder) while writing `path` as one clear line, as
    vsr.atomic.atomic_path words it for a file written in one go."""
    try:
        yield
    except VsrError:
        raise
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None


class PlannedFrames:
    """The frames of `segments`, one after the other, as one FrameSource (video only)."""

    live = False

    def __init__(self, shared: SegmentWork, segments: list[Segment]):
        self.shared, self.segments, self.info = shared, segments, shared.info

    def items(self) -> Iterator[DecodedFrame]:
        for segment in self.segments:
            yield from SegmentSource(self.shared.src, self.info, segment).items()
            yield Border(segment)


class SegmentSinks:
    """The encode stage's sink: one segment file after another, each encoded as the whole
    output's plan says; a full one goes to `closing` (a channel to the close stage)."""

    def __init__(self, shared: SegmentWork, segments: list[Segment], path_of: Callable[[Segment], Path], closing):
        self.shared, self.path_of, self.closing = shared, path_of, closing
        self.pending = list(segments)
        self.plan = plan = shared.output  # the whole output's (as VideoSink.plan: what the start line reads)
        self.codec, self.layout, self.colour = plan.codec, plan.layout, plan.colour
        self.frames_written = 0
        self.open: dict[Path, VideoSink] = {}  # temporary file -> its sink, until the close stage renames it
        self._current: tuple[Segment, Path, VideoSink] | None = None

    def write_frame(self, pts: int, duration: int | None, packed) -> None:
        if self._current is None:
            segment = self.pending.pop(0)
            final = self.path_of(segment)
            temp = temporary_name(final)
            with writing(final):
                sink = VideoSink(temp, segment_plan(self.shared.output, final))
            self.open[temp] = sink
            self._current = (segment, temp, sink)
        segment, temp, sink = self._current
        with writing(self.path_of(segment)):
            sink.write_frame(pts, duration, packed)
        self.frames_written += 1

    def write_packet(self, border: Border) -> None:
        """The end of the current segment (segment files hold video only: copied streams
        are muxed at the join)."""
        segment, temp, sink = self._current
        assert border.tag is segment, "a segment's border came before its frames"
        self.closing.put((segment, temp, sink))  # room for every segment: never waits
        self._current = None
        if not self.pending:
            self.closing.put(END)

    def abort(self) -> None:
        """After a failure: every segment file not yet renamed is closed and removed."""
        for temp, sink in self.open.items():
            sink.abort()
            temp.unlink(missing_ok=True)
        self.open.clear()


def encode_continuously(
    shared: SegmentWork, segments: list[Segment], sr: SRModel, path_of, notify, on_done, progress=None, on_start=None
) -> list[StageClock]:
    """Encode `segments` (in order) into their files, `path_of(segment)`, through one
    pipeline; `on_done(segment)` runs in the close stage once a file is complete under its
    name; `progress(frames_written)` from the caller's thread; `on_start(sinks)` before the
    first frame. Returns the decode, model and encode stages' clocks."""
    pipeline = Pipeline(capacity=shared.queue_size)
    closing = pipeline.channel(len(segments) + 1)
    sinks = SegmentSinks(shared, segments, path_of, closing)

    def close_stage(clock: StageClock) -> None:
        while (item := closing.get(clock)) is not END:
            segment, temp, sink = item
            with writing(path_of(segment)):
                sink.finish()
                fsync_file(temp)
                os.replace(temp, path_of(segment))
            del sinks.open[temp]
            on_done(segment)

    pipeline.add("close", close_stage)
    try:
        if on_start:
            on_start(sinks)
        on_tick = (lambda written, _: progress(written)) if progress else None
        run_stages(PlannedFrames(shared, segments), sinks, sr, shared.batch, pipeline, pipeline.channel(), notify, on_tick)
    except BaseException:
        sinks.abort()
        raise
    return [clock for clock in pipeline.clocks if clock.name != "close"]
