"""The naive loop: how the common upscaling scripts process a video, one frame at a time,
everything in sequence on one thread:

    decode a frame -> to_ndarray("rgb24") on the CPU (swscale) -> tensor to the device
    -> the model, batch 1 -> clamp, round, back to the host -> VideoFrame.from_ndarray
    -> reformat to the encoder's pixel format on the CPU (swscale) -> encode -> mux

It uses the same model object (weights, dtype, device, compiled or not), the same
encoder settings and the same threaded decoder as the pipeline it is compared with, so
the speed-up measures the pipeline's design, not a different network or codec.
"""

import dataclasses
import time
from pathlib import Path

import av
import numpy as np
import torch

from ..model import SRModel
from ..video.io.codecs import EncoderSettings, choose_encoder
from .stages import synchronize


def naive_loop(clip: Path, model: SRModel, settings: EncoderSettings, workdir: Path, repeat: int = 1, pix_fmt: str = "yuv420p") -> float:
    """Frames per second of the naive loop (the fastest of `repeat` runs), writing
    `pix_fmt` (give it the pipeline's output format, so both encode the same samples)."""
    best, frames = float("inf"), 0
    _run(clip, model, settings, pix_fmt, workdir / "naive-warmup.mkv", limit=2)
    for _ in range(max(1, repeat)):
        started = time.perf_counter()
        frames = _run(clip, model, settings, pix_fmt, workdir / "naive.mkv")
        best = min(best, time.perf_counter() - started)
    return frames / best


def _run(clip: Path, model: SRModel, settings: EncoderSettings, pix_fmt: str, output: Path, limit: int | None = None) -> int:
    frames = 0
    with av.open(str(clip)) as inp, av.open(str(output), "w") as out:
        stream = inp.streams.video[0]
        stream.thread_type = "AUTO"
        width, height = stream.codec_context.width * model.scale, stream.codec_context.height * model.scale
        codec, _ = choose_encoder(settings, width, height)
        if codec != settings.codec:  # as the pipeline does: the fallback gets no NVENC options
            settings = dataclasses.replace(settings, codec=codec, encoder_preset=None)
        video = out.add_stream(codec, rate=stream.average_rate or 25)
        video.width, video.height = width, height
        video.pix_fmt = pix_fmt
        video.codec_context.time_base = stream.time_base
        video.codec_context.options = settings.options()
        for frame in inp.decode(stream):
            rgb = frame.to_ndarray(format="rgb24")
            x = torch.from_numpy(rgb).to(model.device).permute(2, 0, 1)[None].to(model.input_dtype) / 255
            y = model(x)
            pixels = (y.clamp(0, 1) * 255).round().to(torch.uint8)[0].permute(1, 2, 0).cpu().numpy()
            upscaled = av.VideoFrame.from_ndarray(np.ascontiguousarray(pixels), format="rgb24").reformat(format=video.pix_fmt)
            upscaled.pts, upscaled.time_base = (frame.pts if frame.pts is not None else frames), stream.time_base
            out.mux(video.encode(upscaled))
            frames += 1
            if limit and frames >= limit:
                break
        out.mux(video.encode(None))
    synchronize(model.device)
    return frames
