"""Y'CbCr <-> R'G'B' conversion in torch, so it runs on the model's device (on a GPU it
replaces swscale, which converts on the CPU in one thread and is slower than the model at
4K output: docs/BENCHMARKS.md).

The matrix and range come from the stream's own tags (BT.601/709/2020, limited/full); an
untagged stream gets what players assume: BT.709 from 720 lines up, BT.601 below.

Subsampled chroma is placed where the stream says its samples sit (FFmpeg's
`chroma_location`): "left" (MPEG-2, H.264, HEVC, AV1: co-sited with the even luma columns,
half-way between two luma rows), "center" (JPEG, MPEG-1), "topleft" (co-sited both ways,
common in UHD HDR masters), and "top", "bottomleft", "bottom". Up-sampling interpolates
linearly between chroma samples at their true positions; down-sampling averages the luma
area each chroma sample stands for (a 2x2 box when centred, [1 2 1]/4 across a co-sited
axis), so a colour edge stays where it is across a round trip.
"""

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from ...constants import default_matrix

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

# FFmpeg's AVChromaLocation codes -> (horizontal, vertical) position of the first chroma
# sample, as a fraction of the distance from the first luma sample of its block to the last.
CHROMA_LOCATIONS = {
    "left": (0.0, 0.5),
    "center": (0.5, 0.5),
    "topleft": (0.0, 0.0),
    "top": (0.5, 0.0),
    "bottomleft": (0.0, 1.0),
    "bottom": (0.5, 1.0),
}
CHROMA_LOCATION_CODES = {"left": 1, "center": 2, "topleft": 3, "top": 4, "bottomleft": 5, "bottom": 6}
_CHROMA_LOCATION_NAMES = {code: name for name, code in CHROMA_LOCATION_CODES.items()}
# Decoders that site their chroma like JPEG when the stream does not say otherwise.
_CENTRED_CODECS = {"mjpeg", "jpegls", "mpeg1video", "h261", "h263", "h263p"}


@dataclass(frozen=True)
class ColourSpec:
    """How a stream's code values map to R'G'B': matrix, range, bits per sample.
    `matrix` is None for RGB (gbrp) streams, which need no matrix."""

    matrix: str | None
    full_range: bool
    bits: int
    chroma_location: str = "left"  # a key of CHROMA_LOCATIONS; ignored without subsampling

    @property
    def max_code(self) -> int:
        return (1 << self.bits) - 1


def colour_spec_for(
    colorspace: int, color_range: int, height: int, bits: int, *, rgb: bool = False, jpeg_format: bool = False, chroma_location: str = "left"
) -> ColourSpec:
    """The spec of a decoded frame from its FFmpeg tags (`frame.colorspace`, `frame.color_range`)
    and its chroma location (see `chroma_location_of`)."""
    if rgb:
        return ColourSpec(None, True, bits)
    matrix = _COLORSPACE_CODES.get(colorspace) or default_matrix(height)
    full = color_range == RANGE_FULL or (jpeg_format and color_range != RANGE_LIMITED)
    return ColourSpec(matrix, full, bits, chroma_location)


def chroma_location_of(frame, codec_name: str | None = None, *, jpeg_format: bool = False) -> str:
    """Where a decoded frame's chroma samples sit. The frame's own tag when PyAV exposes it
    (`VideoFrame.chroma_location`, PyAV > 18.1); else FFmpeg's convention for an unspecified
    location: JPEG-style codecs and full-range "yuvj" formats are centred, everything else
    (H.264, HEVC, MPEG-2/4, VP9, AV1, FFV1 ...) is left-sited."""
    code = int(getattr(frame, "chroma_location", 0) or 0)
    if code in _CHROMA_LOCATION_NAMES:
        return _CHROMA_LOCATION_NAMES[code]
    return "center" if jpeg_format or codec_name in _CENTRED_CODECS else "left"


def _offsets(spec: ColourSpec) -> tuple[float, float, float]:
    """(luma black, luma span, chroma span) in code values; chroma is centred on 2^(bits-1)."""
    if spec.full_range:
        return 0.0, float(spec.max_code), float(spec.max_code)
    unit = float(1 << (spec.bits - 8))
    return 16.0 * unit, 219.0 * unit, 224.0 * unit


def _chroma_offsets(location: str, factor_y: int, factor_x: int) -> tuple[float, float]:
    """(y, x) position, in luma samples, of the first chroma sample."""
    frac_x, frac_y = CHROMA_LOCATIONS[location]
    return frac_y * (factor_y - 1), frac_x * (factor_x - 1)


def _factor(full: int, sub: int) -> int:
    return 1 if sub >= full else -(-full // sub)


def _hold_edges(c: Tensor, dim: int, before: int, after: int) -> Tensor:
    """`c` with its first and last samples along `dim` repeated `before` and `after` times."""
    if not (before or after):
        return c
    return torch.cat([c.narrow(dim, 0, 1)] * before + [c] + [c.narrow(dim, c.shape[dim] - 1, 1)] * after, dim)


def _upsample_axis(c: Tensor, dim: int, size: int, factor: int, offset: float) -> Tensor:
    """Linear interpolation along `dim` from chroma samples at luma positions
    i * factor + offset to every luma position 0..size-1 (edges held). Luma position
    i * factor + r lies at the same fraction between the same two neighbours for every i, so
    each phase r is one whole-tensor blend of two shifted views (fast on the CPU, where
    index_select and convolutions are several times slower)."""
    n = c.shape[dim]
    padded = _hold_edges(c, dim, 1, 1)  # samples -1 and n
    phases = []
    for r in range(factor):
        pos = (r - offset) / factor
        a = math.floor(pos)
        weight = pos - a  # a Python number: no tensor made on the device per call
        left, right = padded.narrow(dim, a + 1, n), padded.narrow(dim, a + 2, n)
        phases.append(left + (right - left) * weight)
    out = torch.stack(phases, dim)  # phase r of sample i just after it: (..., n, factor, ...)
    shape = list(c.shape)
    shape[dim] = n * factor
    return out.reshape(shape).narrow(dim, 0, size)


def upsample_chroma(c: Tensor, height: int, width: int, location: str = "left") -> Tensor:
    """(N, h, w) chroma -> (N, height, width), linear between samples at their sited positions."""
    if c.shape[-2:] == (height, width):
        return c
    fy, fx = _factor(height, c.shape[-2]), _factor(width, c.shape[-1])
    oy, ox = _chroma_offsets(location, fy, fx)
    if fx > 1:
        c = _upsample_axis(c, -1, width, fx, ox)
    if fy > 1:
        c = _upsample_axis(c, -2, height, fy, oy)
    return c


def _area_taps(factor: int, offset: float) -> list[tuple[int, float]]:
    """(luma shift from i * factor, weight) pairs: how much of each luma sample's width lies
    within the `factor`-wide span centred on the chroma sample at i * factor + offset."""
    lo, hi = offset - factor / 2, offset + factor / 2
    taps = []
    for k in range(-factor, 2 * factor):
        overlap = min(hi, k + 0.5) - max(lo, k - 0.5)
        if overlap > 1e-9:
            taps.append((k, overlap / factor))
    return taps


def _downsample_axis(c: Tensor, dim: int, size: int, factor: int, offset: float) -> Tensor:
    """`size` area averages along `dim`, one every `factor` samples (edges replicated): a
    weighted sum of strided views, which beats a one-channel convolution several times on
    the CPU."""
    taps = _area_taps(factor, offset)
    before = max(0, -taps[0][0])
    after = max(0, (size - 1) * factor + taps[-1][0] + 1 - c.shape[dim])
    x = _hold_edges(c, dim, before, after)
    index = [slice(None)] * c.dim()
    out = None
    for k, weight in taps:
        index[dim] = slice(before + k, before + k + (size - 1) * factor + 1, factor)
        view = x[tuple(index)]
        out = view * weight if out is None else out.add_(view, alpha=weight)
    return out


def downsample_chroma(c: Tensor, height: int, width: int, location: str = "left") -> Tensor:
    """(N, H, W) chroma -> (N, height, width): each sample the area average of the luma
    samples around its sited position (edge-replicated)."""
    fy, fx = _factor(c.shape[-2], height), _factor(c.shape[-1], width)
    if (fy, fx) == (1, 1):
        return c
    oy, ox = _chroma_offsets(location, fy, fx)
    if fx > 1:
        c = _downsample_axis(c, -1, width, fx, ox)
    if fy > 1:
        c = _downsample_axis(c, -2, height, fy, oy)
    return c


def yuv_to_rgb(y: Tensor, u: Tensor, v: Tensor, spec: ColourSpec) -> Tensor:
    """Code values (N, H, W) luma and (N, h, w) chroma -> (N, 3, H, W) float32 RGB in [0, 1].
    For an RGB spec the planes are G, B, R (FFmpeg's gbrp order)."""
    height, width = y.shape[-2:]
    siting = spec.chroma_location
    y, u, v = y.float(), upsample_chroma(u.float(), height, width, siting), upsample_chroma(v.float(), height, width, siting)
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
    """(N, 3, H, W) RGB in [0, 1] (any float dtype, any memory format) -> rounded, clamped
    code values as float32: luma (N, H, W) and chroma (N, chroma_height, chroma_width).
    G, B, R planes for RGB specs.

    The first step makes one planar float32 copy: a channels_last network output (bf16 on
    the CPU) would otherwise make every plane below a stride-3 view, and each of the dozen
    whole-frame operations on such views costs several times one on a plane (measured:
    docs/BENCHMARKS.md, "A cheaper CPU pipeline")."""
    rgb = rgb.to(torch.float32, memory_format=torch.contiguous_format, copy=True).clamp_(0, 1)
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
    pb = downsample_chroma(pb, chroma_height, chroma_width, spec.chroma_location)
    pr = downsample_chroma(pr, chroma_height, chroma_width, spec.chroma_location)
    top = float(spec.max_code)
    y = (yn * luma_span + black).round_().clamp_(0, top)
    u = (pb * chroma_span + centre).round_().clamp_(0, top)
    v = (pr * chroma_span + centre).round_().clamp_(0, top)
    return y, u, v
