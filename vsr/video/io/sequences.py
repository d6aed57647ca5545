"""Image sequences, read and written by FFmpeg's image2 demuxer and muxer.

As an input:

- a pattern, `frames/%04d.png` (printf-style: `%d`, `%04d`), as `ffmpeg -i` takes it;
- a folder of images, with a frame rate (`--framerate`): its files of the most common
  image suffix, in name order (image2's glob pattern).

Frames are timed at the frame rate (FFmpeg's default, 25, unless one is given); the
default output is the sequence's folder name, NAME_xS.mkv, beside that folder.

As an output, a pattern (`-o out/%04d.png`): one 8-bit RGB image per frame, numbered from
1, in the format the suffix names (IMAGE_ENCODERS).
"""

import re
from collections import Counter
from pathlib import Path

PATTERN = re.compile(r"%0?\d*d")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".dpx", ".exr", ".tga")
DEFAULT_FRAMERATE = "25"  # what image2 assumes
IMAGE_ENCODERS = {".png": ("png", "rgb24"), ".jpg": ("mjpeg", "yuvj444p"), ".jpeg": ("mjpeg", "yuvj444p"), ".tif": ("tiff", "rgb24"),
                  ".tiff": ("tiff", "rgb24"), ".bmp": ("bmp", "bgr24")}  # fmt: skip
"""A sequence output's suffix -> FFmpeg's encoder and the pixel format it is given."""
FIRST_NUMBER = 1  # image2's start_number


def numbered(pattern: str, number: int) -> Path:
    """The file of frame `number` (from FIRST_NUMBER) of an output pattern."""
    return Path(PATTERN.sub(lambda m: f"%{m.group()[1:]}" % number, pattern, count=1))


def is_pattern(text: str) -> bool:
    """`frames/%04d.png`: a numbered sequence, not one file."""
    return bool(PATTERN.search(Path(text).name))


def image2_input(text: str, framerate: str | None) -> tuple[str, dict[str, str]]:
    """The URL and image2 options that read the sequence `text` (a pattern or a folder)."""
    options = {"framerate": framerate or DEFAULT_FRAMERATE}
    if is_pattern(text):
        return text, options
    folder = Path(text)
    suffix = _common_suffix(folder)
    return str(folder / f"*{suffix}"), {**options, "pattern_type": "glob"}


def sequence_stand_in(text: str) -> Path:
    """A file name standing for the whole sequence, for naming its output: the folder's
    name with the images' suffix, beside the folder (`shots/%04d.png` -> `shots.png`)."""
    path = Path(text)
    folder = path.parent if is_pattern(text) else path
    suffix = path.suffix if is_pattern(text) else _common_suffix(folder)
    return folder.with_name((folder.resolve().name or "frames") + suffix)


def _common_suffix(folder: Path) -> str:
    counts = Counter(p.suffix.lower() for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES) if folder.is_dir() else Counter()
    return counts.most_common(1)[0][0] if counts else ".png"
