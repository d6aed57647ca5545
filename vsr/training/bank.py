"""The degraded low-resolution bank of the `video` training recipe, built once and cached.

Encoding per training step would cost more than the step, so the bank is made once: N
pan clips over the training photos (vsr.clips), each downscaled, maybe blurred and noised,
and sent through a real libx264 round trip at a CRF drawn from the recipe, then decoded
the way `vsr upscale` decodes. The decoded LR frames are kept (float16 RGB, finer than an
8-bit step). Each clip pans over a "view": a random window of a photo shrunk by a random
zoom (area interpolation), so frames hold a scene's worth of detail as video frames do,
not a few hundred pixels of sky. The views are kept (uint8) and the HR side of a patch is
re-sampled from its view (`pan_crop` makes any crop of a frame bit for bit).

CRF is not damage: the same CRF leaves one clip 25 dB and another 45 dB from its clean
source. Each clip's damage (PSNR-Y of the decoded LR against the clean LR) is measured;
a clip outside `damage_band` is re-encoded at a CRF 4 steps toward the band (up to 3
times), and the bank reports the distribution it ended with.

The cache key covers everything that shapes the frames: the recipe, scale, seed, the
photos' bytes, PyAV/FFmpeg, torch and OpenCV versions, and the source text of the code
that makes and decodes the clips. Any change there (the chroma siting of vsr.video.io.colour,
say) builds a new bank.
"""

import dataclasses
import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import av
import cv2
import numpy as np
import torch
from torch import Tensor

from .. import clips
from ..atomic import atomic_path
from ..datasets import read_rgb_uint8
from ..errors import InputError
from ..metrics import psnr_y

BANK_FORMAT = "vsr-bank/1"
_PACKAGE = Path(__file__).resolve().parents[1]
SHAPING_CODE = (
    "clips.py", "clip_writer.py", "resize.py", "video/io/colour.py", "video/io/planes.py", "video/io/source.py", "video/io/timing.py",
    "video/stages/engine.py",
    "training/bank.py",
)  # fmt: skip


@dataclass(frozen=True)
class VideoRecipe:
    """How the bank's clips are made (all ranges drawn uniformly, per clip)."""

    clips: int = 1500  # 300 overfitted: fine-tunes scored 0.05 dB lower on the eval clips (docs/MODELS.md)
    frames: int = 8  # per clip
    size: int = 96  # LR clip side, pixels
    crf: tuple[int, int] = (18, 35)  # libx264, preset below, 4:2:0, default GOP with B-frames
    preset: str = "medium"
    near_clean_fraction: float = 0.1  # clips encoded at near_clean_crf instead
    near_clean_crf: int = 12
    blur_probability: float = 0.1  # rare: a network taught to undo blur over-sharpens sharp input
    blur_sigma: tuple[float, float] = (0.3, 1.0)  # LR pixels
    noise_probability: float = 0.1
    noise_sigma: tuple[float, float] = (0.5, 2.5)  # 8-bit levels
    max_speed: float = 3.0  # HR pixels per frame, each axis
    zoom: tuple[float, float] = (0.15, 0.5)  # photo pixels -> view pixels (whole scenes, as in video; closer
    # than 0.5 the HR targets carry the photos' own blur and JPEG noise)
    damage_band: tuple[float, float] = (26.0, 48.0)  # PSNR-Y dB of decoded vs clean LR


@dataclass(frozen=True)
class ClipRecord:
    photo: int
    zoom: float
    pan: clips.Pan
    crf: int
    blur: float
    noise: float
    damage_db: float  # mean PSNR-Y of the decoded frames against the clean LR


@dataclass
class Bank:
    lr: Tensor  # (clips * frames, 3, size, size) float16, decoded as vsr decodes
    views: np.ndarray  # (clips, V, V, 3) uint8: what each clip pans over, at HR
    records: list[ClipRecord]
    meta: dict

    def hr_crop(self, frame: int, top: int, left: int, size: int) -> np.ndarray:
        clip, t = divmod(frame, self.meta["recipe"]["frames"])
        return clips.pan_crop(self.views[clip], self.records[clip].pan, t, top, left, size, size)


def code_version() -> str:
    digest = hashlib.sha256()
    for name in SHAPING_CODE:
        digest.update(name.encode() + b"\0" + (_PACKAGE / name).read_bytes())
    return digest.hexdigest()[:16]


def cache_key(recipe: VideoRecipe, scale: int, seed: int, photo_paths: list[Path]) -> str:
    photos = [(p.name, hashlib.sha256(p.read_bytes()).hexdigest()) for p in photo_paths]
    ffmpeg = {k: list(v) for k, v in av.library_versions.items()}
    versions = {"av": av.__version__, "ffmpeg": ffmpeg, "torch": torch.__version__.split("+")[0], "cv2": cv2.__version__}
    key = {"format": BANK_FORMAT, "recipe": dataclasses.asdict(recipe), "scale": scale, "seed": seed, "photos": photos, "versions": versions}
    blob = json.dumps({**key, "code": code_version()}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


def default_cache_dir() -> Path:
    root = os.environ.get("VSR_CACHE") or os.path.join(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache", "vsr")
    return Path(root) / "banks"


def load_or_build(photo_paths: list[Path], scale: int, seed: int, recipe: VideoRecipe = VideoRecipe(), cache_dir: Path | None = None, notify=print) -> Bank:
    """The bank for these settings: read from the cache, or built and cached."""
    cache_dir = Path(cache_dir) if cache_dir else default_cache_dir()
    key = cache_key(recipe, scale, seed, photo_paths)
    path = cache_dir / f"bank-x{scale}-{key}.npz"
    if path.is_file():
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            lr, views = torch.from_numpy(data["lr"]), data["views"]
        records = [ClipRecord(**dict(r, pan=clips.Pan(**r["pan"]))) for r in meta["clips"]]
        notify(f"degraded bank: {path} (cached; built in {meta['build_seconds']:.0f} s, {path.stat().st_size / 2**20:.0f} MiB)")
        return Bank(lr, views, records, meta)
    notify(f"degraded bank: building {recipe.clips} clips x {recipe.frames} frames at x{scale} into {path} ...")
    started = time.perf_counter()
    lr, views, records = _build([read_rgb_uint8(p) for p in photo_paths], scale, seed, recipe)
    damage = np.array([r.damage_db for r in records])
    meta = {
        "format": BANK_FORMAT,
        "key": key,
        "scale": scale,
        "seed": seed,
        "recipe": dataclasses.asdict(recipe),
        "photos": [p.name for p in photo_paths],
        "code": code_version(),
        "build_seconds": round(time.perf_counter() - started, 1),
        "damage_db_percentiles": {str(q): round(float(np.percentile(damage, q)), 2) for q in (5, 25, 50, 75, 95)},
        "crf_counts": {str(c): int(n) for c, n in zip(*np.unique([r.crf for r in records], return_counts=True))},
        "clips": [dict(dataclasses.asdict(r), pan=dataclasses.asdict(r.pan)) for r in records],
    }
    cache_dir.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as temp:
        with open(temp, "wb") as f:
            np.savez(f, lr=lr.numpy(), views=views, meta=np.array(json.dumps(meta)))
    meta["bytes"] = path.stat().st_size
    notify(
        f"degraded bank: built in {meta['build_seconds']:.0f} s, {meta['bytes'] / 2**20:.0f} MiB; damage PSNR-Y "
        f"5/50/95%: {meta['damage_db_percentiles']['5']}/{meta['damage_db_percentiles']['50']}/{meta['damage_db_percentiles']['95']} dB"
    )
    return Bank(lr, views, records, meta)


def _build(photos: list[np.ndarray], scale: int, seed: int, recipe: VideoRecipe) -> tuple[Tensor, np.ndarray, list[ClipRecord]]:
    hr_size = recipe.size * scale
    view_size = hr_size + int(np.ceil(recipe.max_speed * (recipe.frames - 1))) + 8
    usable = [i for i, p in enumerate(photos) if min(p.shape[:2]) >= view_size / recipe.zoom[1]]
    if not usable:
        raise InputError(f"no training photo is large enough for {recipe.size}px LR clips at x{scale}")
    lr_frames, views, records = [], [], []
    for index in range(recipe.clips):
        rng = np.random.default_rng([seed, index])
        photo_index = usable[int(rng.integers(len(usable)))]
        photo = photos[photo_index]
        smallest = max(recipe.zoom[0], view_size / min(photo.shape[:2]))  # the whole view inside the photo
        zoom = round(float(rng.uniform(smallest, recipe.zoom[1])), 3)
        view = clips.scene_view(photo, zoom, view_size, view_size, rng)
        pan = clips.random_pan(rng, view.shape, hr_size, hr_size, recipe.frames, recipe.max_speed)
        blur = float(rng.uniform(*recipe.blur_sigma)) if rng.random() < recipe.blur_probability else 0.0
        noise = float(rng.uniform(*recipe.noise_sigma)) if rng.random() < recipe.noise_probability else 0.0
        near_clean = rng.random() < recipe.near_clean_fraction
        crf = recipe.near_clean_crf if near_clean else int(rng.integers(recipe.crf[0], recipe.crf[1] + 1))
        clean = clips.low_resolution(clips.pan_frames(view, pan, recipe.frames, hr_size, hr_size), scale)
        degraded = clips.blur_and_noise(clean, blur, noise, rng)
        decoded, crf, damage = _encode_within_band(degraded, clean, crf, recipe, calibrate=not near_clean)
        lr_frames.extend(decoded)
        views.append(view)
        records.append(ClipRecord(photo_index, zoom, pan, crf, blur, noise, damage))
    return torch.stack(lr_frames).half(), np.stack(views), records


def _encode_within_band(frames: list[np.ndarray], clean: list[np.ndarray], crf: int, recipe: VideoRecipe, calibrate: bool) -> tuple[list[Tensor], int, float]:
    low, high = recipe.damage_band
    for _ in range(4):
        decoded = clips.h264_round_trip(frames, crf, recipe.preset)
        damage = float(np.mean([psnr_y(clips.to_uint8(d), c, 0) for d, c in zip(decoded, clean)]))
        if not calibrate or low <= damage <= high:
            break
        step = -4 if damage < low else 4
        next_crf = min(51, max(0, crf + step))
        if next_crf == crf or not (recipe.crf[0] - 8 <= next_crf <= recipe.crf[1] + 8):
            break
        crf = next_crf
    return decoded, crf, damage


class BankSampler:
    """Random LR/HR patch pairs from a bank, with flips and 90-degree rotations; all
    randomness from one torch.Generator (its state is saved in training checkpoints)."""

    def __init__(self, bank: Bank, scale: int, patch: int, batch: int, seed: int) -> None:
        if patch > bank.lr.shape[-1]:
            raise InputError(f"a {patch}px patch does not fit the bank's {bank.lr.shape[-1]}px clips", hint="choose a smaller {patch}")
        self.bank, self.scale, self.patch, self.batch = bank, scale, patch, batch
        self.generator = torch.Generator().manual_seed(seed)

    def describe(self) -> str:
        frames = self.bank.lr.shape[0]
        return f"{frames} codec-degraded frames ({len(self.bank.records)} clips)"

    def _draw(self, high: int) -> int:
        return int(torch.randint(high, (1,), generator=self.generator))

    def next_batch(self) -> tuple[Tensor, Tensor]:
        """(lr, hr): (B, 3, p, p) and (B, 3, p*s, p*s) float32 in [0, 1]."""
        lrs, hrs = [], []
        p, s, side = self.patch, self.scale, self.bank.lr.shape[-1]
        for _ in range(self.batch):
            frame = self._draw(self.bank.lr.shape[0])
            y, x = self._draw(side - p + 1), self._draw(side - p + 1)
            lr = self.bank.lr[frame, :, y : y + p, x : x + p].float()
            hr = torch.from_numpy(self.bank.hr_crop(frame, y * s, x * s, p * s)).permute(2, 0, 1).float().div_(255)
            flip, mirror, transpose = (self._draw(2) for _ in range(3))
            lrs.append(_augment(lr, flip, mirror, transpose))
            hrs.append(_augment(hr, flip, mirror, transpose))
        return torch.stack(lrs), torch.stack(hrs)


def _augment(t: Tensor, flip: int, mirror: int, transpose: int) -> Tensor:
    if flip:
        t = t.flip(-2)
    if mirror:
        t = t.flip(-1)
    if transpose:
        t = t.transpose(-2, -1)
    return t.contiguous()
