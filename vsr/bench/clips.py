"""Benchmark inputs. A file is used as it is; `--synthetic WxH` makes a real H.264 clip
from FFmpeg's `testsrc2` pattern (moving colour bars, a counter and gradients), so a
benchmark needs no media on the machine and decodes the way a camera file would."""

import tempfile
from pathlib import Path

import av

from ..clip_writer import BT709_TAGS, VideoEncoding, open_clip
from ..errors import UsageError

SYNTHETIC_RATE = 25
SYNTHETIC_ENCODING = VideoEncoding("libx264", "yuv420p", {"crf": "18", "preset": "veryfast"}, BT709_TAGS)
MAX_SIDE = 8192


def parse_size(text: str) -> tuple[int, int]:
    width, sep, height = text.lower().partition("x")
    if not sep or not width.isdigit() or not height.isdigit() or int(width) < 8 or int(height) < 8:
        raise UsageError(f"bad size {text!r}: expected WIDTHxHEIGHT, e.g. 1920x1080 (8x8 or larger)")
    if int(width) > MAX_SIDE or int(height) > MAX_SIDE:
        raise UsageError(f"bad size {text!r}: at most {MAX_SIDE} pixels a side")
    if int(width) % 2 or int(height) % 2:
        raise UsageError(f"bad size {text!r}: width and height must be even (4:2:0 video)")
    return int(width), int(height)


def make_synthetic_clip(width: int, height: int, frames: int, folder: Path | None = None) -> Path:
    """An H.264 (yuv420p, BT.709, crf 18 veryfast) mp4 of `frames` testsrc2 frames, in
    `folder` (default: a new temporary folder, which the caller removes)."""
    if frames < 1:
        raise UsageError(f"a synthetic clip needs 1 frame or more, got {frames}", hint="change {frames}")
    folder = Path(folder or tempfile.mkdtemp(prefix="vsr-bench-"))
    path = folder / f"testsrc2-{width}x{height}-{frames}.mp4"
    graph = f"testsrc2=size={width}x{height}:rate={SYNTHETIC_RATE}"
    try:
        _encode_pattern(graph, path, width, height, frames)
    except av.FFmpegError as exc:
        raise UsageError(f"cannot make a {width}x{height} synthetic clip: {exc}") from None
    return path


def _encode_pattern(graph: str, path: Path, width: int, height: int, frames: int) -> None:
    with av.open(graph, format="lavfi") as pattern, open_clip(path, width, height, SYNTHETIC_ENCODING, rate=SYNTHETIC_RATE) as clip:
        for index, frame in enumerate(pattern.decode(video=0)):
            if index == frames:
                break
            clip.write(frame, pts=index)
