"""Scoring upscalers on compressed video (`vsr eval --video`).

Clips are made reproducibly from photos (the validation set, never the training one): a
camera pan at sub-pixel speed over a whole-scene view of each photo (vsr.clips), the
frames downscaled by `scale` with vsr.resize, encoded with libx264 (preset medium, 4:2:0,
default GOP with B-frames) at each CRF. Each model upscales the clip through the real
`upscale_video` path into lossless FFV1 (4:4:4, 12-bit, so the output's own rounding is
far below what is measured); bicubic upscales the same decoded frames. PSNR-Y and SSIM-Y
(vsr.metrics: BT.601 Y, `scale` pixels shaved) are taken against the lossless
high-resolution frames, averaged over frames, then over clips.
"""

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import clips
from .datasets import read_rgb_uint8
from .metrics import psnr_y, ssim_y
from .model import SRModel
from .output_size import resize_bicubic

HR_WIDTH, HR_HEIGHT = 512, 288  # 16:9, as video is
CRFS = (23, 30)
MAX_SPEED = 1.5  # HR pixels per frame


@dataclass(frozen=True)
class EvalClip:
    name: str
    hr: list[np.ndarray]  # (H, W, 3) uint8 frames
    lr: list[np.ndarray]


@dataclass
class VideoScore:
    method: str
    crf: int
    psnr_y: float
    ssim_y: float
    per_clip: list[dict] = field(default_factory=list)


def hr_size(scale: int) -> tuple[int, int]:
    """HR width, height: 512x288 cut down to what gives an even-sized LR clip."""
    step = 2 * scale
    return HR_WIDTH - HR_WIDTH % step, HR_HEIGHT - HR_HEIGHT % step


def make_clips(photo_paths: list[Path], scale: int, frames: int = 30, seed: int = 0) -> list[EvalClip]:
    """One pan clip per photo; the same photos, scale, frames and seed give the same clips."""
    width, height = hr_size(scale)
    margin = int(np.ceil(MAX_SPEED * (frames - 1))) + 8
    made = []
    for index, path in enumerate(photo_paths):
        rng = np.random.default_rng([seed, index])
        photo = read_rgb_uint8(path)
        zoom = min(1.0, max((width + margin) / photo.shape[1], (height + margin) / photo.shape[0]))  # the whole scene, shrunk
        view = clips.scene_view(photo, zoom, width + margin, height + margin, rng)
        pan = clips.random_pan(rng, view.shape, width, height, frames, MAX_SPEED)
        hr = clips.pan_frames(view, pan, frames, width, height)
        made.append(EvalClip(path.stem, hr, clips.low_resolution(hr, scale)))
    return made


def bicubic_frames(path: Path, scale: int) -> list[np.ndarray]:
    """The decoded clip, each frame upscaled with bicubic (vsr.resize) and rounded."""
    out = []
    for rgb in clips.decode_rgb(path):
        big = resize_bicubic(rgb.double(), rgb.shape[1] * scale, rgb.shape[2] * scale)
        out.append(clips.to_uint8(big.float()))
    return out


def model_frames(path: Path, model: SRModel, folder: Path) -> list[np.ndarray]:
    """The clip through `upscale_video` into lossless FFV1, decoded back and rounded."""
    from .video.stages.upscale import upscale_video

    out = folder / f"{path.stem}-upscaled.mkv"
    upscale_video(path, out, model=model, codec="ffv1", pix_fmt="yuv444p12le", overwrite=True)
    frames = [clips.to_uint8(f) for f in clips.decode_rgb(out)]
    out.unlink()
    return frames


def evaluate(
    eval_clips: list[EvalClip],
    scale: int,
    models: list[tuple[str, SRModel]],
    crfs: tuple[int, ...] = CRFS,
    progress: Callable[[str], None] = lambda message: None,
) -> list[VideoScore]:
    """Scores of bicubic and each (label, model) at each CRF."""
    results = []
    with tempfile.TemporaryDirectory(prefix="vsr-eval-") as tmp:
        folder = Path(tmp)
        for crf in crfs:
            encoded = {clip.name: clips.encode_h264(clip.lr, folder / f"{clip.name}-crf{crf}.mkv", crf) for clip in eval_clips}
            methods: list[tuple[str, Callable[[Path], list[np.ndarray]]]] = [("bicubic", lambda p: bicubic_frames(p, scale))]
            methods += [(label, lambda p, m=model: model_frames(p, m, folder)) for label, model in models]
            for label, upscale in methods:
                progress(f"x{scale} CRF {crf}: {label}")
                per_clip = []
                for clip in eval_clips:
                    sr = upscale(encoded[clip.name])
                    if len(sr) != len(clip.hr):
                        raise RuntimeError(f"{label} gave {len(sr)} frames for {len(clip.hr)} in {clip.name}")
                    psnr = float(np.mean([psnr_y(s, h, scale) for s, h in zip(sr, clip.hr)]))
                    ssim = float(np.mean([ssim_y(s, h, scale) for s, h in zip(sr, clip.hr)]))
                    per_clip.append({"clip": clip.name, "psnr_y": psnr, "ssim_y": ssim})
                results.append(
                    VideoScore(label, crf, float(np.mean([c["psnr_y"] for c in per_clip])), float(np.mean([c["ssim_y"] for c in per_clip])), per_clip)
                )
    return results


def damage_of(eval_clips: list[EvalClip], crf: int) -> float:
    """Mean PSNR-Y of the decoded LR clips against the clean LR: how much the codec hurt."""
    with tempfile.TemporaryDirectory(prefix="vsr-eval-") as tmp:
        scores = []
        for clip in eval_clips:
            decoded = clips.decode_rgb(clips.encode_h264(clip.lr, Path(tmp) / f"{clip.name}.mkv", crf))
            scores.append(np.mean([psnr_y(clips.to_uint8(d), c, 0) for d, c in zip(decoded, clip.lr)]))
    return float(np.mean(scores))

