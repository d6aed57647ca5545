"""One frame of a video file as a PNG, for the compare view: read from the real file with
PyAV, the source's optionally enlarged to the result's size (nearest or bicubic, by OpenCV)
so that both sides line up pixel for pixel.

Frame N is the file's N-th frame in presentation order. Its timestamp comes from the
packets (read once per file, no decoding, and kept), so the read seeks to the keyframe
before it and decodes only that far; a file whose packets lack timestamps is decoded from
its start."""

import functools
from pathlib import Path

import av
import cv2
import numpy as np

from ..errors import InputError

ENLARGE = {"nearest": cv2.INTER_NEAREST, "bicubic": cv2.INTER_CUBIC}


@functools.lru_cache(maxsize=64)
def _frame_times(path: str, mtime_ns: int, size: int) -> tuple[int, ...] | None:
    """Every frame's pts in presentation order; None where a packet has none. (`mtime_ns`
    and `size` key the cache: a replaced file is read again.)"""
    with av.open(path) as container:
        stream = container.streams.video[0]
        stamps = [packet.pts for packet in container.demux(stream) if packet.size]
    return None if any(pts is None for pts in stamps) else tuple(sorted(stamps))


def frame_times(path: Path) -> tuple[int, ...] | None:
    stat = path.stat()
    return _frame_times(str(path), stat.st_mtime_ns, stat.st_size)


def read_frame(path: Path, n: int) -> np.ndarray:
    """Frame `n` (0 = first, in presentation order) as RGB24, shape (height, width, 3)."""
    if n < 0:
        raise InputError(f"frame {n}: frames count from 0")
    try:
        times = frame_times(path)
        if times is not None and n >= len(times):
            raise InputError(f"frame {n} is past the end of {path.name} ({len(times)} frames)")
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            if times is not None:
                container.seek(times[n], stream=stream, backward=True)  # the keyframe at or before it
                for frame in container.decode(stream):
                    if frame.pts is not None and frame.pts >= times[n]:
                        return frame.to_ndarray(format="rgb24")
            else:
                for count, frame in enumerate(container.decode(stream)):
                    if count == n:
                        return frame.to_ndarray(format="rgb24")
    except av.FFmpegError as exc:
        raise InputError(f"{path.name}: cannot read frames ({exc})") from None
    raise InputError(f"frame {n} is past the end of {path.name}")


def frame_png(path: Path, n: int, size: tuple[int, int] | None = None, enlarge: str = "bicubic") -> bytes:
    """Frame `n` of `path` as PNG bytes, resized to `size` (width, height) with `enlarge`."""
    if enlarge not in ENLARGE:
        raise InputError(f"enlarge must be one of {', '.join(ENLARGE)}, got {enlarge!r}")
    rgb = read_frame(path, n)
    if size is not None and (rgb.shape[1], rgb.shape[0]) != tuple(size):
        rgb = cv2.resize(rgb, tuple(size), interpolation=ENLARGE[enlarge])
    ok, png = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    if not ok:
        raise InputError(f"frame {n} of {path.name} could not be encoded as a PNG")
    return png.tobytes()


def frame_size(path: Path) -> tuple[int, int]:
    """(width, height) of the file's first video stream as decoded."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return stream.codec_context.width, stream.codec_context.height
