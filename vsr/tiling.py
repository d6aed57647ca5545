"""Upscaling images of any size in overlapping tiles, so memory stays bounded.

Neighbouring tiles overlap by at least 2*overlap pixels and each output pixel is
taken from the tile whose centre region it lies in, so it sees >= `overlap` pixels of
context on every side. PlainUSR's attention is the one non-local part: it pools 7x7
windows at stride 3, convolves at stride 2, and stretches the resulting map bilinearly
to the size of its input, so a tile on its own would place the map differently from the
whole image. Tiles therefore start on the map's 6-pixel grid and tell the network where
they lie (`TileRegion`), and the attention samples the map where the whole image would.
Measured with the official S/B x2 and L x4 weights on a 300x421 photo crop (tiles
96-256, overlap 32): at most 0.06/255 from untiled output (1.15/255 without the
region, 0.56/255 with overlap 16). The last tile along an axis is up to 5 px longer.
"""

from collections.abc import Callable

import torch
from torch import Tensor

from .archs import IMPORTANCE_GRID, TileRegion
from .constants import DEFAULT_TILE
from .constants import TILE_OVERLAP as DEFAULT_OVERLAP

GRID = IMPORTANCE_GRID


def tile_spans(length: int, tile: int, overlap: int) -> list[tuple[int, int, int, int]]:
    """(tile_start, tile_end, keep_start, keep_end) along one axis, in input pixels."""
    if length <= tile:
        return [(0, length, 0, length)]
    step = (tile - 2 * overlap) // GRID * GRID
    if step <= 0:
        raise ValueError(f"tile {tile} must exceed twice the overlap {overlap} by at least {GRID}")
    last = (length - tile) // GRID * GRID
    starts = list(range(0, last, step)) + [last]
    spans = []
    for i, start in enumerate(starts):
        first, final = i == 0, i == len(starts) - 1
        end = length if final else start + tile
        keep_start = 0 if first else (starts[i - 1] + tile + start) // 2
        keep_end = length if final else (start + tile + starts[i + 1]) // 2
        spans.append((start, end, keep_start, keep_end))
    return spans


def upscale_tiled(
    run: Callable[[Tensor, TileRegion | None], Tensor],
    x: Tensor,
    scale: int,
    tile: int = DEFAULT_TILE,
    overlap: int = DEFAULT_OVERLAP,
    *,
    on_device: bool = False,
) -> Tensor:
    """run(x, None) for an (N, C, H, W) x, computed as run(x_tile, region) tile by tile
    when H or W exceeds `tile`.

    By default the result is float32 on the CPU and only one tile at a time is on the
    model's device (images of any size: vsr.images, vsr.evaluate). `on_device=True`
    assembles the frame where `run` leaves its tiles, in their dtype, with no copy to the
    host and back: the video engine's out-of-memory fallback, which packs the frame on the
    device next (vsr.video.stages.engine)."""
    n, _, height, width = x.shape
    rows, cols = tile_spans(height, tile, overlap), tile_spans(width, tile, overlap)
    land = (lambda t: t) if on_device else (lambda t: t.float().cpu())
    if len(rows) == 1 and len(cols) == 1:
        return land(run(x, None))
    out: Tensor | None = None
    for y0, y1, ky0, ky1 in rows:
        for x0, x1, kx0, kx1 in cols:
            sr = run(x[:, :, y0:y1, x0:x1], TileRegion(y0, x0, height, width))
            if out is None:
                shape = (n, sr.shape[1], height * scale, width * scale)
                out = torch.empty(shape, dtype=sr.dtype, device=sr.device) if on_device else torch.empty(shape, dtype=torch.float32)
            kept = sr[:, :, (ky0 - y0) * scale : (ky1 - y0) * scale, (kx0 - x0) * scale : (kx1 - x0) * scale]
            out[:, :, ky0 * scale : ky1 * scale, kx0 * scale : kx1 * scale] = land(kept)
    assert out is not None
    return out
