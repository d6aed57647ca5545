"""Image sets for training and evaluation: a folder of images or a list file of names.

A list file (one name per line, `#` comments) names images relative to `image_dir`;
without one, relative to the list's own folder or to a `photos/` folder beside it. Where
the project's own split lives is the command line's business (vsr.commands.flags).
"""

import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from .errors import InputError
from .output_size import crop_to_multiple, downscale_uint8

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")


def list_images(spec: str | os.PathLike, image_dir: str | os.PathLike | None = None) -> list[Path]:
    spec = Path(spec)
    if spec.is_dir():
        paths = sorted(p for p in spec.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    elif spec.is_file():
        names = [line.split("#")[0].strip() for line in spec.read_text().splitlines()]
        names = [name for name in names if name]
        bases = [Path(image_dir)] if image_dir else [spec.parent, spec.parent / "photos"]
        candidates = [[base / name for name in names] for base in bases]
        paths = next((c for c in candidates if all(p.is_file() for p in c)), candidates[0])
        missing = [p for p in paths if not p.is_file()]
        if missing:
            raise InputError(f"{spec} names {len(missing)} missing images, e.g. {missing[0]}", hint="set the image folder with {image_dir}")
    else:
        raise InputError(f"image set not found: {spec} (a folder of images or a list file)")
    if not paths:
        raise InputError(f"no images in {spec}")
    return paths


def read_rgb_uint8(path: Path) -> np.ndarray:
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise InputError(f"cannot read image {path}")
    return np.ascontiguousarray(bgr[:, :, ::-1])


@dataclass
class ImagePair:
    name: str
    hr: np.ndarray  # (H, W, 3) uint8, H and W multiples of the scale
    lr: np.ndarray  # (H/s, W/s, 3) uint8, bicubic (vsr.resize)


def jpeg_pairs(pairs: list[ImagePair], quality: int) -> list[ImagePair]:
    """The same pairs with each LR image through a JPEG round trip at `quality` (OpenCV's
    encoder, 4:2:0, and its decoder, which is what `vsr image` reads JPEG files with)."""
    out = []
    for pair in pairs:
        ok, data = cv2.imencode(".jpg", np.ascontiguousarray(pair.lr[:, :, ::-1]), [cv2.IMWRITE_JPEG_QUALITY, quality])
        assert ok, "OpenCV failed to encode a JPEG"
        lr = cv2.imdecode(data, cv2.IMREAD_COLOR)[:, :, ::-1]
        out.append(ImagePair(pair.name, pair.hr, np.ascontiguousarray(lr)))
    return out


def load_pairs(paths: list[Path], scale: int) -> list[ImagePair]:
    pairs = []
    for path in paths:
        hr = crop_to_multiple(read_rgb_uint8(path), scale)
        pairs.append(ImagePair(path.name, np.ascontiguousarray(hr), downscale_uint8(hr, scale)))
    return pairs
