"""Short video clips made from photos, for training and evaluating on compressed video.

A clip is a camera pan over a photo: frame t samples the photo at a sub-pixel offset that
moves by a fixed velocity each frame (bicubic interpolation), so an encoder sees real
motion and writes P- and B-frames, not only intra blocks. The low-resolution clip is the
vsr.resize bicubic downscale of each high-resolution frame, optionally blurred and noised,
then sent through a real libx264 round trip (4:2:0) and decoded exactly as `vsr upscale`
decodes: vsr.video.io.source and vsr.video.io.colour, never swscale's RGB conversion.

Velocities and offsets are multiples of 1/32 pixel (OpenCV's sub-pixel grid), so any crop
of a frame can be re-made from the photo alone, bit for bit (`pan_crop`).
"""

import tempfile
from dataclasses import dataclass
from pathlib import Path

import av
import cv2
import numpy as np
import torch

from .clip_writer import BT709_TAGS, ClipContainer, VideoEncoding, open_clip
from .output_size import downscale_uint8
from .video.io.colour import ColourSpec, rgb_to_yuv
from .video.stages.engine import packed_to_rgb
from .video.io.planes import PlaneLayout
from .video.io.source import VideoSource

SUBPIXEL = 32  # cv2.warpAffine's sub-pixel grid (INTER_BITS = 5)
ENCODE_COLOUR = ColourSpec("bt709", False, 8, "left")  # what BT709_TAGS and "left" siting declare


@dataclass(frozen=True)
class Pan:
    """Where frame t of a clip lies in its photo: top-left at start + t * velocity, in HR
    pixels (both multiples of 1/SUBPIXEL)."""

    start_x: float
    start_y: float
    velocity_x: float
    velocity_y: float

    def offset(self, t: int) -> tuple[float, float]:
        return self.start_x + t * self.velocity_x, self.start_y + t * self.velocity_y


def random_pan(rng: np.random.Generator, view_shape: tuple[int, ...], width: int, height: int, frames: int, max_speed: float = 3.0) -> Pan:
    """A pan of `frames` frames of width x height HR pixels that stays inside the view."""
    vx, vy = (round(rng.uniform(-max_speed, max_speed) * SUBPIXEL) / SUBPIXEL for _ in range(2))
    travel_x, travel_y = abs(vx) * (frames - 1), abs(vy) * (frames - 1)
    room_x, room_y = view_shape[1] - width - travel_x - 4, view_shape[0] - height - travel_y - 4
    if room_x < 0 or room_y < 0:
        raise ValueError(f"a {view_shape[1]}x{view_shape[0]} view is too small for a {width}x{height} pan of {frames} frames")
    x = 2 + rng.uniform(0, room_x) + (travel_x if vx < 0 else 0)
    y = 2 + rng.uniform(0, room_y) + (travel_y if vy < 0 else 0)
    return Pan(round(x * SUBPIXEL) / SUBPIXEL, round(y * SUBPIXEL) / SUBPIXEL, vx, vy)


def scene_view(photo: np.ndarray, zoom: float, width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    """A width x height window of the photo shrunk by `zoom` (area interpolation): a scene's
    worth of detail per pixel, as in video, rather than a few hundred pixels of sky."""
    window_w = min(int(np.ceil(width / zoom)), photo.shape[1])
    window_h = min(int(np.ceil(height / zoom)), photo.shape[0])
    top = int(rng.integers(photo.shape[0] - window_h + 1))
    left = int(rng.integers(photo.shape[1] - window_w + 1))
    crop = photo[top : top + window_h, left : left + window_w]
    if (window_w, window_h) == (width, height):
        return np.ascontiguousarray(crop)
    return cv2.resize(crop, (width, height), interpolation=cv2.INTER_AREA)


def pan_crop(photo: np.ndarray, pan: Pan, t: int, top: int, left: int, height: int, width: int) -> np.ndarray:
    """Rows top..top+height, columns left..left+width of frame t, sampled from the photo."""
    x, y = pan.offset(t)
    matrix = np.array([[1, 0, x + left], [0, 1, y + top]], dtype=np.float64)
    return cv2.warpAffine(photo, matrix, (width, height), flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REFLECT)


def pan_frames(view: np.ndarray, pan: Pan, frames: int, width: int, height: int) -> list[np.ndarray]:
    return [pan_crop(view, pan, t, 0, 0, height, width) for t in range(frames)]


def low_resolution(hr_frames: list[np.ndarray], scale: int) -> list[np.ndarray]:
    """Each frame's bicubic downscale (vsr.resize, as in clean training)."""
    return [downscale_uint8(hr, scale) for hr in hr_frames]


def blur_and_noise(frames: list[np.ndarray], blur_sigma: float, noise_sigma: float, rng: np.random.Generator) -> list[np.ndarray]:
    """An optional Gaussian blur (sigma in pixels), then Gaussian noise (sigma in 8-bit
    levels, fresh every frame), as a camera or an earlier resize would leave them."""
    out = []
    for frame in frames:
        if blur_sigma > 0:
            frame = cv2.GaussianBlur(frame, (0, 0), blur_sigma, borderType=cv2.BORDER_REFLECT)
        if noise_sigma > 0:
            frame = np.clip(np.round(frame + rng.normal(0, noise_sigma, frame.shape)), 0, 255).astype(np.uint8)
        out.append(frame)
    return out


def encode_h264(frames: list[np.ndarray], path: Path, crf: int, preset: str = "medium", rate: int = 25) -> Path:
    """RGB uint8 frames -> an H.264 4:2:0 BT.709 clip (libx264, default GOP with B-frames),
    converted to Y'CbCr by vsr.video.io.colour (left chroma siting), not swscale.
    The bytes depend only on the input: one thread, and no macroblock-tree rate control,
    which gave run-to-run differences on these small frames even with one thread (3
    distinct outputs in 6 encodes of a 96x96 clip; none in 60 without it)."""
    height, width = frames[0].shape[:2]
    layout = PlaneLayout("yuv420p", width, height)
    options = {"crf": str(crf), "preset": preset, "threads": "1", "x264-params": "mbtree=0", "chroma_sample_location": "left"}
    encoding = VideoEncoding("libx264", "yuv420p", options, BT709_TAGS, threads=1)
    with open_clip(path, width, height, encoding, rate=rate, container=ClipContainer("matroska")) as clip:
        for t, rgb in enumerate(frames):
            planes = rgb_to_yuv(torch.from_numpy(rgb).permute(2, 0, 1)[None].float() / 255, ENCODE_COLOUR, *layout.chroma_shape)
            packed = torch.cat([p.flatten(1) for p in planes], 1)[0].byte().numpy()
            clip.write(layout.write(packed), pts=t)
    return path


def decode_rgb(path: Path) -> list[torch.Tensor]:
    """Every frame of a clip as vsr upscale sees it: (3, H, W) float32 RGB in [0, 1]."""
    source = VideoSource(path)
    try:
        layout, colour = source.info.layout, source.info.colour
        frames = []
        for item in source.items():
            if isinstance(item, av.Packet):
                continue
            dtype = torch.uint8 if layout.dtype == np.uint8 else torch.int16
            packed = torch.from_numpy(item.packed.view(np.int16) if dtype == torch.int16 else item.packed)[None]
            frames.append(packed_to_rgb(packed, layout, colour)[0])
        return frames
    finally:
        source.close()


def h264_round_trip(frames: list[np.ndarray], crf: int, preset: str = "medium") -> list[torch.Tensor]:
    """`frames` through libx264 at `crf` and back through vsr's decode."""
    with tempfile.TemporaryDirectory(prefix="vsr-clip-") as folder:
        return decode_rgb(encode_h264(frames, Path(folder) / "clip.mkv", crf, preset))


def to_uint8(rgb: torch.Tensor) -> np.ndarray:
    """(3, H, W) float in [0, 1] -> (H, W, 3) uint8, rounded."""
    return (rgb.clamp(0, 1) * 255).round().byte().permute(1, 2, 0).numpy()
