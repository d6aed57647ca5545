"""Y'CbCr <-> R'G'B' conversion in torch, so it runs on the model's device (on a GPU it
replaces swscale, which caps 4K output at ~34 fps on the CPU).

The matrix and range come from the stream's own tags (BT.601/709/2020, limited/full); an
untagged stream gets what players assume: BT.709 from 720 lines up, BT.601 below.
Chroma samples are taken as centred between their luma samples (bilinear up, 2x2 box
down); the MPEG-2 "left" siting differs by a quarter of a chroma sample horizontally.
"""

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

# (Kr, Kb) luma coefficients of each matrix.
MATRICES = {
    "bt601": (0.299, 0.114),
    "bt709": (0.2126, 0.0722),
    "bt2020": (0.2627, 0.0593),
    "smpte240m": (0.212, 0.087),
    "fcc": (0.30, 0.11),
}

# FFmpeg's AVColorSpace codes -> our matrix names (and back, for tagging output).
_COLORSPACE_CODES = {1: "bt709", 4: "fcc", 5: "bt601", 6: "bt601", 7: "smpte240m", 9: "bt2020", 10: "bt2020"}
MATRIX_CODES = {"bt709": 1, "fcc": 4, "bt601": 6, "smpte240m": 7, "bt2020": 9}
# Primaries and transfer that go with a matrix when the input did not say (codes match).
DEFAULT_PRIMARIES_TRC = {"bt709": (1, 1), "bt601": (6, 6), "bt2020": (9, 14), "smpte240m": (7, 7), "fcc": (6, 6)}
RANGE_LIMITED, RANGE_FULL = 1, 2


@dataclass(frozen=True)
class ColourSpec:
    """How a stream's code values map to R'G'B': matrix, range, bits per sample.
    `matrix` is None for RGB (gbrp) streams, which need no matrix."""

    matrix: str | None
    full_range: bool
    bits: int

    @property
    def max_code(self) -> int:
        return (1 << self.bits) - 1


def colour_spec_for(colorspace: int, color_range: int, height: int, bits: int, *, rgb: bool = False, jpeg_format: bool = False) -> ColourSpec:
    """The spec of a decoded frame from its FFmpeg tags (`frame.colorspace`, `frame.color_range`)."""
    if rgb:
        return ColourSpec(None, True, bits)
    matrix = _COLORSPACE_CODES.get(colorspace) or ("bt709" if height >= 720 else "bt601")
    full = color_range == RANGE_FULL or (jpeg_format and color_range != RANGE_LIMITED)
    return ColourSpec(matrix, full, bits)


def _offsets(spec: ColourSpec) -> tuple[float, float, float]:
    """(luma black, luma span, chroma span) in code values; chroma is centred on 2^(bits-1)."""
    if spec.full_range:
        return 0.0, float(spec.max_code), float(spec.max_code)
    unit = float(1 << (spec.bits - 8))
    return 16.0 * unit, 219.0 * unit, 224.0 * unit


def upsample_chroma(c: Tensor, height: int, width: int) -> Tensor:
    """(N, H', W') chroma -> (N, height, width), bilinear, centred siting."""
    if c.shape[-2:] == (height, width):
        return c
    up = F.interpolate(c.unsqueeze(1), size=(c.shape[-2] * (2 if c.shape[-2] < height else 1), c.shape[-1] * (2 if c.shape[-1] < width else 1)), mode="bilinear", align_corners=False)
    return up[:, 0, :height, :width]


def downsample_chroma(c: Tensor, height: int, width: int) -> Tensor:
    """(N, H, W) chroma -> (N, height, width) by box averaging (edge-replicated for odd sizes)."""
    fy, fx = (2 if height < c.shape[-2] else 1), (2 if width < c.shape[-1] else 1)
    if (fy, fx) == (1, 1):
        return c
    pad_y, pad_x = height * fy - c.shape[-2], width * fx - c.shape[-1]
    x = c.unsqueeze(1)
    if pad_y or pad_x:
        x = F.pad(x, (0, pad_x, 0, pad_y), mode="replicate")
    return F.avg_pool2d(x, (fy, fx))[:, 0]


def yuv_to_rgb(y: Tensor, u: Tensor, v: Tensor, spec: ColourSpec) -> Tensor:
    """Code values (N, H, W) luma and (N, h, w) chroma -> (N, 3, H, W) float32 RGB in [0, 1].
    For an RGB spec the planes are G, B, R (FFmpeg's gbrp order)."""
    height, width = y.shape[-2:]
    y, u, v = y.float(), upsample_chroma(u.float(), height, width), upsample_chroma(v.float(), height, width)
    if spec.matrix is None:
        return (torch.stack((v, y, u), 1) / spec.max_code).clamp_(0, 1)
    kr, kb = MATRICES[spec.matrix]
    kg = 1.0 - kr - kb
    black, luma_span, chroma_span = _offsets(spec)
    centre = float(1 << (spec.bits - 1))
    yn = (y - black) / luma_span
    pb = (u - centre) / chroma_span
    pr = (v - centre) / chroma_span
    r = yn + 2 * (1 - kr) * pr
    b = yn + 2 * (1 - kb) * pb
    g = (yn - kr * r - kb * b) / kg
    return torch.stack((r, g, b), 1).clamp_(0, 1)


def rgb_to_yuv(rgb: Tensor, spec: ColourSpec, chroma_height: int, chroma_width: int) -> tuple[Tensor, Tensor, Tensor]:
    """(N, 3, H, W) RGB in [0, 1] (any float dtype) -> rounded, clamped code values as float32:
    luma (N, H, W) and chroma (N, chroma_height, chroma_width). G, B, R planes for RGB specs."""
    rgb = rgb.float().clamp(0, 1)
    r, g, b = rgb[:, 0], rgb[:, 1], rgb[:, 2]
    if spec.matrix is None:
        planes = (g, b, r)
        return tuple(p.mul(spec.max_code).round_() for p in planes)  # type: ignore[return-value]
    kr, kb = MATRICES[spec.matrix]
    kg = 1.0 - kr - kb
    black, luma_span, chroma_span = _offsets(spec)
    centre = float(1 << (spec.bits - 1))
    yn = kr * r + kg * g + kb * b
    pb = (b - yn) / (2 * (1 - kb))
    pr = (r - yn) / (2 * (1 - kr))
    pb = downsample_chroma(pb, chroma_height, chroma_width)
    pr = downsample_chroma(pr, chroma_height, chroma_width)
    top = float(spec.max_code)
    y = (yn * luma_span + black).round_().clamp_(0, top)
    u = (pb * chroma_span + centre).round_().clamp_(0, top)
    v = (pr * chroma_span + centre).round_().clamp_(0, top)
    return y, u, v
