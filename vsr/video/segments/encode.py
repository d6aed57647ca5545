"""One segment into its own file: its exact frames through the usual pipeline, encoded as
the whole output's plan says, so that the join can copy its packets. Run by Ray workers
(vsr.video.segments.distributed), one segment per task; the segments a machine runs itself
go through one continuous pipeline (vsr.video.segments.continuous), which shares
`SegmentWork` and `segment_plan` from here."""

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from ...atomic import atomic_path
from ...model import SRModel
from ..io.codecs import container_for
from ..io.plan import OutputPlan
from ..io.sink import VideoSink
from ..io.source import VideoInfo
from ..stages.pipeline import Pipeline
from ..stages.upscale import run_stages
from .cutting import Segment, SegmentSource
from .manifest import fsync_file


@dataclass(frozen=True)
class SegmentWork:
    """What every segment of one output shares: frames read from `src` (described by
    `info`, the whole input's), encoded as `output` (the whole output's plan) says, `batch`
    frames per model call, `queue_size` between stages. Used by the run and by Ray workers."""

    src: Path
    info: VideoInfo
    output: OutputPlan
    batch: int
    queue_size: int


def segment_plan(output: OutputPlan, path: Path) -> OutputPlan:
    """The plan for one segment file: the output's video exactly (encoder, options, pixel
    format, colour, tags), so that the join can copy its packets, and nothing else."""
    return dataclasses.replace(output, output=path, container=container_for(path), copied=(), attachments=(), dropped=(), notices=())


def encode_segment(shared: SegmentWork, segment: Segment, path: Path, sr: SRModel, notify, progress=None, on_start=None):
    """Upscale one segment into `path` (written under a temporary name, flushed to disk,
    then renamed) as `shared.output` (the whole output's plan) encodes video; returns the
    pipeline's stage clocks. Used by Ray workers."""
    with atomic_path(path) as temp:
        sink = VideoSink(temp, segment_plan(shared.output, path))
        try:
            if on_start:
                on_start(sink)
            frames = SegmentSource(shared.src, shared.info, segment)
            pipeline = Pipeline(capacity=shared.queue_size)
            run_stages(frames, sink, sr, shared.batch, pipeline, pipeline.channel(), notify, progress)
            clocks = pipeline.clocks
            sink.finish()
        except BaseException:
            sink.abort()
            raise
        fsync_file(temp)
    return clocks
