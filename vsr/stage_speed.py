"""Frames per second of each pipeline stage alone and of the whole pipeline, on the same
clip with the same settings, so the pipeline's efficiency (full fps / slowest stage alone)
can be read off one run. benchmarks/stages.py reports these (docs/BENCHMARKS.md).
Every upscaled frame is held in memory for the encode-only step: use clips of a few
hundred frames (a 2160p frame is 12 MB).

- decode:  VideoSource.items() to the end (demux, threaded decode, packing the planes).
- model:   FrameUpscaler on frames already decoded into memory: host->device copy,
           Y'CbCr->RGB, PlainUSR, RGB->Y'CbCr, device->host; timed to the last frame's
           arrival on the host (CUDA: after synchronising), after a warm-up batch.
- encode:  VideoSink fed with upscaled frames already in memory (encode + mux).
- pipeline: upscale_video, everything above in three threads.
"""

import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from .model import SRModel
from .video.codecs import EncoderSettings
from .video.engine import FrameUpscaler, frames_per_call
from .video.sink import VideoSink
from .video.source import DecodedFrame, VideoSource
from .video.upscale import upscale_video


@dataclass
class StageSpeeds:
    frames: int
    size_in: tuple[int, int]
    size_out: tuple[int, int]
    fps: dict[str, float] = field(default_factory=dict)  # decode, model, encode, pipeline
    pipeline_busy: dict[str, float] = field(default_factory=dict)

    @property
    def slowest_stage(self) -> str:
        return min(("decode", "model", "encode"), key=lambda name: self.fps[name])

    @property
    def efficiency(self) -> float:
        """Pipeline fps / fps of the slowest stage alone (1.0 = no overhead at all)."""
        return self.fps["pipeline"] / self.fps[self.slowest_stage]


def _sync(model: SRModel) -> None:
    if model.device.type == "cuda":
        torch.cuda.synchronize(model.device)


def measure_stages(clip: os.PathLike, model: SRModel, *, batch: int = 4, settings: EncoderSettings = EncoderSettings(), workdir: os.PathLike | None = None) -> StageSpeeds:
    workdir = Path(workdir or tempfile.mkdtemp(prefix="vsr-speed-"))
    # decode alone
    source = VideoSource(clip)
    started = time.perf_counter()
    frames = [item for item in source.items() if isinstance(item, DecodedFrame)]
    decode_seconds = time.perf_counter() - started
    count = len(frames)
    info = source.info
    probe = VideoSink(workdir / "probe.mkv", workdir / "probe.mkv", source, model.scale, settings)
    target, colour = probe.layout, probe.colour
    probe.abort()
    speeds = StageSpeeds(count, (info.layout.width, info.layout.height), (target.width, target.height))
    speeds.fps["decode"] = count / decode_seconds

    # model alone (warm-up batch first: cuDNN picks its algorithms, allocator fills)
    upscaler = FrameUpscaler(model, info.layout, target, info.colour, colour, batch=frames_per_call(model.device, batch))
    upscaler.upscale([f.packed for f in frames[:batch]]).wait()
    _sync(model)
    started = time.perf_counter()
    results = [upscaler.upscale([f.packed for f in frames[i : i + batch]]) for i in range(0, count, batch)]
    outputs = [row for result in results for row in result.wait()]
    _sync(model)
    speeds.fps["model"] = count / (time.perf_counter() - started)

    # encode alone
    source.close()
    source = VideoSource(clip)
    source.select_copied([])
    sink = VideoSink(workdir / "encode-only.mkv", workdir / "encode-only.mkv", source, model.scale, settings)
    sink_started = time.perf_counter()
    for frame, pixels in zip(frames, outputs):
        sink.write_frame(frame.pts, frame.duration, pixels)
    sink.finish()
    speeds.fps["encode"] = count / (time.perf_counter() - sink_started)
    source.close()
    del outputs, results

    # the whole pipeline
    result = upscale_video(
        clip, workdir / "pipeline.mkv", model=model, batch=batch, codec=settings.codec, crf=settings.crf,
        encoder_preset=settings.preset, pix_fmt=settings.pix_fmt, overwrite=True,
    )
    speeds.fps["pipeline"] = result.frames / result.seconds
    speeds.pipeline_busy = {name: seconds / result.seconds for name, seconds in result.stage_busy.items()}
    return speeds

