"""Planar pixel layouts: reading a decoded frame's planes into one flat buffer (what
travels to the model's device in a single copy) and writing such a buffer back into a
frame for the encoder. Formats outside NATIVE_FORMATS are converted once, on the CPU,
into the nearest native one (`native_format_for`)."""

import functools
from dataclasses import dataclass

import av
import numpy as np

NATIVE_FORMATS = frozenset(
    f"{family}{sub}p{depth}"
    for family, subs in (("yuv", ("420", "422", "444")), ("yuvj", ("420", "422", "444")))
    for sub in subs
    for depth in (("",) if family == "yuvj" else ("", "10le", "12le"))
) | {"gbrp", "gbrp10le", "gbrp12le"}
"""Formats whose planes the pipeline reads and writes directly (8-12 bit, planar)."""


@dataclass(frozen=True)
class PlaneLayout:
    """Three planes of one pixel format at one size, packed one after another."""

    format: str
    width: int
    height: int

    def __reduce__(self):
        """Pickled without its cached av.VideoFormat (which does not pickle): a plan goes to Ray workers."""
        return PlaneLayout, (self.format, self.width, self.height)

    @functools.cached_property  # per-frame hot path: computed once per layout
    def _av_format(self) -> av.VideoFormat:
        return av.VideoFormat(self.format)

    @property
    def bits(self) -> int:
        return self._av_format.components[0].bits

    @property
    def is_rgb(self) -> bool:
        return self.format.startswith("gbr")

    @property
    def is_jpeg_range(self) -> bool:
        return self.format.startswith("yuvj")

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(np.uint8 if self.bits <= 8 else np.uint16)

    @functools.cached_property
    def chroma_shape(self) -> tuple[int, int]:
        fmt = self._av_format
        return fmt.chroma_height(self.height), fmt.chroma_width(self.width)

    @functools.cached_property
    def plane_shapes(self) -> tuple[tuple[int, int], ...]:
        return ((self.height, self.width), self.chroma_shape, self.chroma_shape)

    @functools.cached_property
    def size(self) -> int:
        """Samples in one packed frame."""
        return sum(h * w for h, w in self.plane_shapes)

    @property
    def subsampled(self) -> bool:
        return self.chroma_shape != (self.height, self.width)

    def scaled(self, scale: int, format: str | None = None) -> "PlaneLayout":
        return PlaneLayout(format or self.format, self.width * scale, self.height * scale)

    def read(self, frame: av.VideoFrame, out: np.ndarray | None = None) -> np.ndarray:
        """The frame's planes, without line padding, packed into a flat array (or `out`)."""
        out = np.empty(self.size, self.dtype) if out is None else out
        offset = 0
        for plane, (h, w) in zip(frame.planes[:3], self.plane_shapes):
            rows = np.frombuffer(plane, self.dtype).reshape(h, plane.line_size // self.dtype.itemsize)
            out[offset : offset + h * w].reshape(h, w)[:] = rows[:, :w]
            offset += h * w
        return out

    def write(self, packed: np.ndarray) -> av.VideoFrame:
        """A new frame of this layout holding `packed` (as made by `read`)."""
        frame = av.VideoFrame(self.width, self.height, self.format)
        offset = 0
        for plane, (h, w) in zip(frame.planes, self.plane_shapes):
            rows = np.frombuffer(plane, self.dtype).reshape(h, plane.line_size // self.dtype.itemsize)
            rows[:, :w] = packed[offset : offset + h * w].reshape(h, w)
            rows[:, w:] = rows[:, w - 1 : w]  # line padding: encoders' SIMD reads it (x264 did, nondeterministically)
            offset += h * w
        return frame


def native_format_for(name: str) -> str:
    """The native format a decoded frame of format `name` is read as (itself if native)."""
    if name in NATIVE_FORMATS:
        return name
    fmt = av.VideoFormat(name)
    bits = max(c.bits for c in fmt.components)
    depth = "" if bits <= 8 else ("10le" if bits <= 10 else "12le")
    if fmt.is_rgb or fmt.has_palette:
        return f"gbrp{depth}"
    if len(fmt.components) < 3:  # grey
        return f"yuv444p{depth}"
    probe = 16
    sub_w, sub_h = probe // fmt.chroma_width(probe), probe // fmt.chroma_height(probe)
    sub = {(2, 2): "420", (2, 1): "422"}.get((sub_w, sub_h), "444")
    return f"yuv{sub}p{depth}"

