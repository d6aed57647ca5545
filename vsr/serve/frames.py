"""One frame of a video file as a PNG, for the compare view: read from the real file with
PyAV, the source's optionally enlarged to the result's size (nearest or bicubic, by OpenCV)
so that both sides line up pixel for pixel."""

from pathlib import Path

import av
import cv2
import numpy as np

from ..errors import InputError

ENLARGE = {"nearest": cv2.INTER_NEAREST, "bicubic": cv2.INTER_CUBIC}


def frame_count(path: Path) -> int:
    """Frames in the file's first video stream, counted from its packets (no decoding)."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return sum(1 for packet in container.demux(stream) if packet.size)


def read_frame(path: Path, n: int) -> np.ndarray:
    """Frame `n` (0 = first, in presentation order) as RGB24, shape (height, width, 3)."""
    if n < 0:
        raise InputError(f"frame {n}: frames count from 0")
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            count = 0
            for frame in container.decode(stream):
                if count == n:
                    return frame.to_ndarray(format="rgb24")
                count += 1
    except av.FFmpegError as exc:
        raise InputError(f"{path.name}: cannot read frames ({exc})") from None
    raise InputError(f"frame {n} is past the end of {path.name} ({count} frames)")


def frame_png(path: Path, n: int, size: tuple[int, int] | None = None, enlarge: str = "bicubic") -> bytes:
    """Frame `n` of `path` as PNG bytes, resized to `size` (width, height) with `enlarge`."""
    if enlarge not in ENLARGE:
        raise InputError(f"enlarge must be one of {', '.join(ENLARGE)}, got {enlarge!r}")
    rgb = read_frame(path, n)
    if size is not None and (rgb.shape[1], rgb.shape[0]) != tuple(size):
        rgb = cv2.resize(rgb, tuple(size), interpolation=ENLARGE[enlarge])
    ok, png = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    assert ok, "OpenCV could not encode a PNG"
    return png.tobytes()


def frame_size(path: Path) -> tuple[int, int]:
    """(width, height) of the file's first video stream as decoded."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return stream.codec_context.width, stream.codec_context.height
