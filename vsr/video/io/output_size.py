"""An exact output size (`--width`, `--height`, `--resolution WxH`): the network upscales by
its scale, then FFmpeg's swscale resizes to the size asked for with Lanczos (PyAV's
VideoFrame.reformat), as `ffmpeg -vf scale=W:H:flags=lanczos` would.

One side given: the other follows the picture's proportions, rounded to an even number.
Both given: the display aspect ratio is kept by the sample aspect ratio, as FFmpeg's scale
filter does (SAR' = SAR x H x w / (W x h)), so nothing looks stretched in a player.
"""

from dataclasses import dataclass
from fractions import Fraction

from ...errors import UsageError

INTERPOLATION = "LANCZOS"


@dataclass(frozen=True)
class TargetSize:
    width: int | None = None
    height: int | None = None

    def __post_init__(self):
        if self.width is not None and self.width < 2:
            raise UsageError(f"the output width must be 2 pixels or more, got {self.width}", hint="change {width}")
        if self.height is not None and self.height < 2:
            raise UsageError(f"the output height must be 2 pixels or more, got {self.height}", hint="change {height}")

    @property
    def asked(self) -> bool:
        return self.width is not None or self.height is not None

    @classmethod
    def parse(cls, text: str) -> "TargetSize":
        """`1920x1080` (also `1920:1080`, and `-1` or `?` for a side that follows)."""
        parts = text.lower().replace(":", "x").split("x")
        if len(parts) != 2:
            raise ValueError(f"not a size: {text!r} (WxH, e.g. 1920x1080)")
        width, height = (None if p in ("-1", "?", "") else int(p) for p in parts)
        return cls(width, height)


NATIVE = TargetSize()


def resized(width: int, height: int, target: TargetSize, sar: Fraction | None) -> tuple[int, int, Fraction | None]:
    """(W, H, SAR) for network output `width` x `height` with sample aspect `sar`."""
    if not target.asked:
        return width, height, sar
    if target.width is not None and target.height is not None:
        w, h = target.width, target.height
    elif target.width is not None:
        w, h = target.width, _even(target.width * height / width)
    else:
        w, h = _even(target.height * width / height), target.height
    new_sar = (sar or Fraction(1)) * Fraction(h * width, w * height)
    if sar is None and new_sar == 1:
        return w, h, None
    return w, h, new_sar


def _even(value: float) -> int:
    return max(2, 2 * round(value / 2))
