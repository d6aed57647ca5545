"""Image files <-> float arrays, and the model applied to a whole image.

8- and 16-bit PNG/JPEG/WebP/TIFF/BMP through OpenCV; grey, RGB and RGBA. Colour goes
through the model; an alpha channel is upscaled by the same model as a grey image.
Files are written to a temporary name in the destination folder and renamed only when
complete, so a failed or interrupted run never leaves a half-written image.
"""

import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch

from .atomic import write_atomically
from .constants import MIN_IMAGE_TILE
from .errors import DeviceError, InputError, OutputError
from .model import SRModel
from .tiling import DEFAULT_OVERLAP, DEFAULT_TILE, upscale_tiled

WRITABLE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".bmp")
NO_ALPHA_SUFFIXES = (".jpg", ".jpeg", ".bmp")


@dataclass
class Image:
    pixels: np.ndarray  # (H, W, C) float32 in [0, 1]; C = 1 (grey), 3 (RGB) or 4 (RGBA)
    bit_depth: int  # 8 or 16

    @property
    def width(self) -> int:
        return self.pixels.shape[1]

    @property
    def height(self) -> int:
        return self.pixels.shape[0]


def purpose_for(path: str | os.PathLike) -> str:
    """Which weights suit this file (vsr.constants.PURPOSES): "video", the ones trained on
    codec damage, for a lossy file (JPEG, lossy WebP), "clean" for a lossless one (PNG,
    TIFF, BMP, lossless WebP). Read off the file's first bytes, not its name. The choice
    was measured: docs/MODELS.md, "Images: clean or video weights"."""
    try:
        with open(path, "rb") as f:
            head = f.read(16)
    except OSError:
        return "clean"  # read_image says what is wrong with it
    lossy_webp = head[:4] == b"RIFF" and head[8:16] == b"WEBPVP8 "  # "VP8L" is lossless, "VP8X" extended
    return "video" if head[:3] == b"\xff\xd8\xff" or lossy_webp else "clean"


def read_image(path: str | os.PathLike) -> Image:
    path = Path(path)
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None
    decoded = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if decoded is None:
        raise InputError(f"cannot read {path}: empty or not an image OpenCV can decode")
    if decoded.ndim == 2 or decoded.shape[2] != 4:
        # IMREAD_UNCHANGED ignores the EXIF orientation (phone photos would come out
        # sideways); without alpha, decode again so that OpenCV applies it.
        decoded = cv2.imdecode(data, cv2.IMREAD_ANYDEPTH | cv2.IMREAD_ANYCOLOR)
    if decoded.dtype not in (np.uint8, np.uint16):
        raise InputError(f"cannot read {path}: {decoded.dtype} samples; vsr reads 8- and 16-bit images")
    if decoded.ndim == 2:
        decoded = decoded[:, :, None]
    elif decoded.shape[2] == 3:
        decoded = decoded[:, :, ::-1]
    elif decoded.shape[2] == 4:
        decoded = decoded[:, :, [2, 1, 0, 3]]
    bit_depth = 8 if decoded.dtype == np.uint8 else 16
    pixels = decoded.astype(np.float32) / (2**bit_depth - 1)
    return Image(np.ascontiguousarray(pixels), bit_depth)


def write_image(path: str | os.PathLike, image: Image, *, replace: bool = True) -> None:
    """`image` to `path` in the format its suffix names, atomically; `replace=False`
    never replaces a file that appeared at `path` meanwhile (vsr.atomic)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in WRITABLE_SUFFIXES:
        raise OutputError(f"cannot write {path}: unknown image type; use one of {', '.join(WRITABLE_SUFFIXES)}")
    pixels = image.pixels
    if pixels.shape[2] == 4 and suffix in NO_ALPHA_SUFFIXES:
        pixels = pixels[:, :, :3]
    bit_depth = image.bit_depth if suffix in (".png", ".tif", ".tiff") else 8
    levels = 2**bit_depth - 1
    quantised = np.rint(np.clip(pixels, 0, 1) * levels).astype(np.uint8 if bit_depth == 8 else np.uint16)
    if quantised.shape[2] >= 3:
        quantised = quantised[:, :, [2, 1, 0, 3][: quantised.shape[2]]]
    params = {".jpg": [cv2.IMWRITE_JPEG_QUALITY, 95], ".jpeg": [cv2.IMWRITE_JPEG_QUALITY, 95], ".webp": [cv2.IMWRITE_WEBP_QUALITY, 95]}
    ok, encoded = cv2.imencode(suffix, np.ascontiguousarray(quantised), params.get(suffix, []))
    if not ok:
        raise OutputError(f"cannot encode {path} as {suffix}")
    write_atomically(path, encoded.tobytes(), replace=replace)


def upscale_image(model: SRModel, image: Image, tile: int = DEFAULT_TILE, overlap: int = DEFAULT_OVERLAP) -> Image:
    """The whole image through the model, tile by tile where it is large."""
    if min(image.width, image.height) < model.min_size:
        raise InputError(
            f"image is {image.width}x{image.height}; PlainUSR {model.variant} needs at least {model.min_size}x{model.min_size}"
        )
    pixels = image.pixels
    if pixels.shape[2] == 1:
        result = _upscale_grey(model, pixels, tile, overlap)
    else:
        result = _upscale_rgb(model, pixels[:, :, :3], tile, overlap)
    if pixels.shape[2] == 4:
        alpha = pixels[:, :, 3:]
        if alpha.min() == alpha.max():  # e.g. fully opaque: keep it exactly
            upscaled_alpha = np.full((*result.shape[:2], 1), alpha.flat[0], np.float32)
        else:
            upscaled_alpha = _upscale_grey(model, alpha, tile, overlap)
        result = np.concatenate([result, upscaled_alpha], axis=2)
    return Image(result, image.bit_depth)


def _upscale_grey(model: SRModel, grey: np.ndarray, tile: int, overlap: int) -> np.ndarray:
    return _upscale_rgb(model, np.repeat(grey, 3, axis=2), tile, overlap).mean(axis=2, keepdims=True)


def _upscale_rgb(model: SRModel, rgb: np.ndarray, tile: int, overlap: int) -> np.ndarray:
    x = torch.from_numpy(np.ascontiguousarray(rgb.transpose(2, 0, 1)))[None]
    try:
        sr = upscale_tiled(model, x, model.scale, tile, overlap)  # float32 on the CPU
    except torch.OutOfMemoryError:
        raise DeviceError(f"out of memory on {model.device} with {tile}px tiles", hint=f"try {{tile={max(tile // 2, MIN_IMAGE_TILE)}}}") from None
    return sr[0].clamp(0, 1).permute(1, 2, 0).numpy()
