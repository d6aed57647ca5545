"""Each pipeline stage alone, and the whole pipeline, on the same clip and settings.

- decode:   VideoSource.items() to the end (demux, threaded decode, packing the planes).
- model:    the model stage (FrameUpscaler) on frames already decoded into memory:
            host->device copy, Y'CbCr->RGB, PlainUSR, RGB->Y'CbCr, device->host; timed to
            the last frame's arrival on the host, after a warm-up batch.
- encode:   VideoSink fed with upscaled frames already in memory (encode + mux), once per
            encoder asked for.
- pipeline: vsr.upscale_video, the three stages in their threads.

Each is timed `repeat` times and the fastest run counts: on a shared machine the slow
runs measure the neighbours, not vsr. Every upscaled frame is held in memory for the
encode-only step (a 2160p frame is 12 MB): use clips of a few hundred frames at most.
"""

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..model import SRModel
from ..video.io.codecs import EncoderSettings
from ..video.stages.engine import FrameUpscaler, frames_per_call
from ..video.io.plan import OutputPlan, plan_output
from ..video.io.sink import VideoSink
from ..video.io.source import DecodedFrame, VideoInfo, VideoSource
from ..video.stages.upscale import upscale_video


@dataclass
class DecodedClip:
    frames: list[DecodedFrame]
    info: VideoInfo
    fps: float


@dataclass
class PipelineSpeed:
    fps: float
    busy: dict[str, float]  # share of the wall time each stage worked


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def decode_alone(clip: Path, repeat: int = 1) -> DecodedClip:
    best, frames, info = float("inf"), [], None
    for _ in range(max(1, repeat)):
        source = VideoSource(clip)
        try:
            started = time.perf_counter()
            frames = [item for item in source.items() if isinstance(item, DecodedFrame)]
            best = min(best, time.perf_counter() - started)
            info = source.info
        finally:
            source.close()
    return DecodedClip(frames, info, len(frames) / best)


def video_plan(info: VideoInfo, scale: int, settings: EncoderSettings, output: Path) -> OutputPlan:
    """What the pipeline writes for this video (its frames only: nothing copied)."""
    return plan_output(info, (), scale, settings, output)


def model_stage_alone(decoded: DecodedClip, model: SRModel, target, target_colour, batch: int, repeat: int = 1) -> tuple[list[np.ndarray], float]:
    """The upscaled frames (packed, on the host) and the model stage's fps."""
    batch = frames_per_call(model.device, batch)
    upscaler = FrameUpscaler(model, decoded.info.layout, target, decoded.info.colour, target_colour, batch=batch)
    packed = [f.packed for f in decoded.frames]
    upscaler.upscale(packed[:batch]).wait()  # warm-up: cuDNN picks algorithms, a compile happens
    synchronize(model.device)
    best, outputs = float("inf"), []
    for _ in range(max(1, repeat)):
        outputs = []
        started = time.perf_counter()
        results = [upscaler.upscale(packed[i : i + batch]) for i in range(0, len(packed), batch)]
        for result in results:
            outputs.extend(result.wait())
        synchronize(model.device)
        best = min(best, time.perf_counter() - started)
    return outputs, len(packed) / best


def encode_alone(decoded: DecodedClip, upscaled: list[np.ndarray], scale: int, settings: EncoderSettings, workdir: Path, repeat: int = 1) -> float:
    best = float("inf")
    plan = video_plan(decoded.info, scale, settings, workdir / "encode-only.mkv")
    for _ in range(max(1, repeat)):
        sink = VideoSink(plan.output, plan)
        started = time.perf_counter()
        for frame, pixels in zip(decoded.frames, upscaled):
            sink.write_frame(frame.pts, frame.duration, pixels)
        sink.finish()
        best = min(best, time.perf_counter() - started)
    return len(upscaled) / best


def pipeline(clip: Path, model: SRModel, batch: int, settings: EncoderSettings, workdir: Path, repeat: int = 1) -> PipelineSpeed:
    best = None
    for _ in range(max(1, repeat)):
        result = upscale_video(
            clip, workdir / "pipeline.mkv", model=model, batch=batch, codec=settings.codec, crf=settings.crf,
            encoder_preset=settings.encoder_preset, pix_fmt=settings.pix_fmt, overwrite=True,
        )
        if best is None or result.seconds < best.seconds:
            best = result
    return PipelineSpeed(best.frames / best.seconds, {name: seconds / best.seconds for name, seconds in best.stage_busy.items()})
