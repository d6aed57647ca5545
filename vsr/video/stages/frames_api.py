"""`upscale_frames`: the model stage for people who bring their own frames.

    for big in vsr.upscale_frames(frames, model="ultra", scale=2):  # RGB uint8 HxWx3 arrays
        ...                                                         # or av.VideoFrame objects

numpy frames are taken as sRGB-like R'G'B' and come back the same way (HsxWsx3 uint8).
PyAV frames are converted with their own matrix and range on the model's device and come
back as PyAV frames of the same pixel format family, pts and time base kept. Frames are
batched `batch` at a time, so output lags input by up to one batch; on CUDA by up to two:
a batch is read back only after the next one is queued, so the copies of one batch and the
compute of the next overlap (vsr.video.stages.engine) instead of the GPU idling while the
caller takes each batch. On the CPU each batch is done when it is queued.
"""

import os
from collections import deque
from collections.abc import Iterable, Iterator

import av
import numpy as np

from ...errors import InputError
from ...model import SRModel, as_model
from ..io.colour import ColourSpec
from ..io.frames import describe_frame
from ..io.planes import PlaneLayout, native_format_for
from .engine import FrameUpscaler, frames_per_call


def upscale_frames(
    frames: Iterable[np.ndarray | av.VideoFrame],
    model: SRModel | str | os.PathLike | None = None,
    *,
    scale: int | None = None,
    device: str = "auto",
    half: bool | None = None,
    precision: str | None = None,
    batch: int = 4,
) -> Iterator[np.ndarray | av.VideoFrame]:
    """`frames` upscaled by `model` (an SRModel, a name, a weights file, or None: the
    device's default model, as every front door resolves it: vsr.settings) in `precision`
    (auto unless given; `half` True/False is fp16/fp32; vsr.precision_policy)."""
    from ...settings import resolve_model

    if isinstance(model, SRModel):
        sr = as_model(model, scale=scale)
    else:
        sr = resolve_model(model, scale=scale, device=device, half=half, precision=precision).load()
    yield from _upscaled(frames, sr, batch, in_flight=1 if sr.device.type == "cuda" else 0)


def _upscaled(frames: Iterable, sr: SRModel, batch: int, in_flight: int) -> Iterator:
    """upscale_frames' work: up to `in_flight` queued batches wait while the next is queued."""
    upscaler: FrameUpscaler | None = None
    key = None
    pending: list = []
    queued: deque = deque()  # (originals, UpscaledBatch, target layout)

    def submit():
        queued.append(([original for original, _ in pending], upscaler.upscale([packed for _, packed in pending]), upscaler.target))
        pending.clear()

    def take(keep: int):
        while len(queued) > keep:
            originals, result, target = queued.popleft()
            for original, packed in zip(originals, result.wait()):
                yield _unpack(original, packed, target)

    for frame in frames:
        layout, spec = _layout_of(frame)
        if (layout, spec) != key:
            if pending:
                submit()
                yield from take(in_flight)
            key = (layout, spec)
            upscaler = FrameUpscaler(sr, layout, _target_layout(layout, sr.scale), spec, spec, batch=frames_per_call(sr.device, batch))
        pending.append((frame, _pack(frame, layout)))
        if len(pending) == batch:
            submit()
            yield from take(in_flight)
    if pending:
        submit()
    yield from take(0)


def _layout_of(frame) -> tuple[PlaneLayout, ColourSpec]:
    if isinstance(frame, av.VideoFrame):
        return describe_frame(frame)
    array = np.asarray(frame)
    if array.ndim != 3 or array.shape[2] != 3 or array.dtype != np.uint8:
        raise InputError(f"frames must be HxWx3 uint8 RGB arrays or av.VideoFrame; got {array.dtype} {array.shape}")
    return PlaneLayout("gbrp", array.shape[1], array.shape[0]), ColourSpec(None, True, 8)


def _target_layout(layout: PlaneLayout, scale: int) -> PlaneLayout:
    """Same format, except that chroma subsampling needs even sizes (odd -> 4:4:4)."""
    target = layout.scaled(scale)
    if target.subsampled and (target.width % 2 or target.height % 2):
        target = layout.scaled(scale, native_format_for(layout.format).replace("420", "444").replace("422", "444"))
    return target


def _pack(frame, layout: PlaneLayout) -> np.ndarray:
    if isinstance(frame, av.VideoFrame):
        if frame.format.name != layout.format:
            frame = frame.reformat(format=layout.format)
        return layout.read(frame)
    rgb = np.asarray(frame)
    return np.concatenate([rgb[..., 1].ravel(), rgb[..., 2].ravel(), rgb[..., 0].ravel()])  # G, B, R planes


def _unpack(original, packed: np.ndarray, layout: PlaneLayout):
    if isinstance(original, av.VideoFrame):
        out = layout.write(packed)
        out.pts, out.time_base = original.pts, original.time_base
        for name in ("colorspace", "color_range", "color_primaries", "color_trc"):
            setattr(out, name, getattr(original, name))
        return out
    g, b, r = packed.reshape(3, layout.height, layout.width)
    return np.stack([r, g, b], axis=-1)
