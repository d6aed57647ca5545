"""One decoded frame, described and packed for the pipeline, written once for every path
that decodes: a file or stream (vsr.video.io.source), a segment (vsr.video.segments) and
frames brought by the caller (vsr.video.stages.frames_api).

`describe_frame` reads a frame's plane layout and colour off the frame itself;
`FramePacker` turns each later frame into a `DecodedFrame` in that layout, refusing a frame
of another size (one size per output file) with one line that says where it changed.
"""

from dataclasses import dataclass
from fractions import Fraction

import av
import numpy as np

from ...errors import InputError
from .colour import ColourSpec, chroma_location_of, colour_spec_for
from .planes import PlaneLayout, native_format_for


@dataclass
class DecodedFrame:
    pts: int  # in the input video's time_base
    duration: int | None
    packed: np.ndarray  # PlaneLayout.read of the frame


def describe_frame(frame: av.VideoFrame, codec_name: str | None = None) -> tuple[PlaneLayout, ColourSpec]:
    """The layout the pipeline reads `frame` in (its native format at its size) and the
    colour its pixels are in; `codec_name` (the decoder's) decides an untagged chroma siting."""
    layout = PlaneLayout(native_format_for(frame.format.name), frame.width, frame.height)
    jpeg = layout.is_jpeg_range
    siting = chroma_location_of(frame, codec_name, jpeg_format=jpeg)
    colour = colour_spec_for(frame.colorspace, frame.color_range, frame.height, layout.bits, rgb=layout.is_rgb, jpeg_format=jpeg, chroma_location=siting)
    return layout, colour


def frame_ticks(frame_rate: Fraction | None, time_base: Fraction) -> int | None:
    """One frame at `frame_rate`, in `time_base`: what a frame without a duration gets."""
    if not frame_rate:
        return None
    return max(1, round(1 / (frame_rate * time_base)))


class FramePacker:
    """Frames of one input, in `layout`, as DecodedFrames. `where` names the input in the
    error for a frame of another size; `frames` counts the frames packed."""

    def __init__(self, layout: PlaneLayout, default_duration: int | None, where: str):
        self.layout, self.default_duration, self.where = layout, default_duration, where
        self.frames = 0

    def pack(self, frame: av.VideoFrame, pts: int) -> DecodedFrame:
        layout = self.layout
        if (frame.width, frame.height) != (layout.width, layout.height):
            raise InputError(
                f"the frame size changes from {layout.width}x{layout.height} to {frame.width}x{frame.height} "
                f"at frame {self.frames} of {self.where}; vsr writes one size per file: cut the input there"
            )
        if frame.format.name != layout.format:
            frame = frame.reformat(format=layout.format)
        decoded = DecodedFrame(pts, frame.duration or self.default_duration or None, layout.read(frame))
        self.frames += 1
        return decoded
