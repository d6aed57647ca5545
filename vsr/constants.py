"""Names and numbers more than one part of vsr needs, in one place. Imports nothing heavy
(no torch, no av), so the CLI, the presets and the planners can use it at once.

Where the same list was written in two modules it drifted apart; a test checks that
vsr.archs.VARIANTS (the networks' hyper-parameters) has exactly VARIANT_NAMES.
"""

VARIANT_NAMES = ("ultra", "tiny", "small", "medium", "base", "large")
"""The PlainUSR sizes, smallest first (their hyper-parameters are vsr.archs.VARIANTS)."""

DEFAULT_VARIANTS = ("small", "base", "ultra", "tiny", "medium", "large")
"""Preference order for the default model when the user names none: the first one whose
weights are shipped at the scale asked for."""

PURPOSES = ("video", "clean")
"""What a weights file was trained for, and so the kind of input a caller asks weights for.
video: low-resolution frames that went through a lossy codec (x264 and the like: blocking,
ringing, smeared chroma), which is what nearly every video is; clean: exact bicubic
downscales (lossless frames, PNG renders). video is the default: no model, or a variant
name (`--model small`), means the video weights where they are shipped. For clean input a
variant means whichever of its weights measured best on clean input (registry psnr_y_val):
its clean weights, or its video weights where those score higher there too."""

PRECISIONS = ("auto", "fp32", "fp16", "bf16")
"""`--precision` and `precision=`: auto is vsr.precision_policy's choice per device and file."""

SCALES = (2, 3, 4)
DEFAULT_SCALE = 2

SOFTWARE_FALLBACK = {"h264_nvenc": "libx264", "hevc_nvenc": "libx265", "av1_nvenc": "libsvtav1"}
"""Each NVENC encoder, and the software encoder used where it does not open."""

ENCODERS = ("libx264", "libx265", "libsvtav1", "libvpx-vp9", "ffv1", "wrapped_avframe", "gif", "png", "mjpeg", "tiff", "bmp", *SOFTWARE_FALLBACK)
"""Encoders vsr writes with (FFmpeg encoder names); wrapped_avframe: raw frames, for .y4m;
gif: 256 colours a frame, through FFmpeg's palette filters (vsr.video.io.palette); png,
mjpeg, tiff, bmp: image sequences (vsr.video.io.sequences)."""

CRF_MAX: dict[str, int | None] = {
    "libx264": 51,
    "libx265": 51,
    "libsvtav1": 63,
    "libvpx-vp9": 63,
    "h264_nvenc": 51,  # passed as -cq
    "hevc_nvenc": 51,
    "av1_nvenc": 63,
    "ffv1": None,  # lossless: crf is ignored
    "wrapped_avframe": None,  # raw frames
    "gif": None,  # a palette per frame
    "png": None,
    "mjpeg": None,
    "tiff": None,
    "bmp": None,
}
"""The highest CRF each encoder accepts (its lowest is 0)."""

DEINTERLACE_MODES = ("auto", "off", "field", "frame", "ivtc")
"""What `deinterlace` may say (vsr.video.io.deinterlace): auto (bwdif at field rate on
frames flagged interlaced), off, field or frame (every frame, at field or frame rate), ivtc."""
SIZE_CHANGE_POLICIES = ("scale", "error")
"""What a mid-stream frame size change does (vsr.video.io.size_change)."""

OUTPUT_CONTAINERS = {
    ".mp4": "mp4",
    ".m4v": "mp4",
    ".mov": "mov",
    ".mkv": "matroska",
    ".webm": "webm",
    ".avi": "avi",
    ".ts": "mpegts",
    ".y4m": "yuv4mpegpipe",
    ".gif": "gif",
}
"""Output suffixes vsr writes, and FFmpeg's muxer for each."""

SUFFIX_CODECS = {".webm": "libvpx-vp9", ".y4m": "wrapped_avframe", ".gif": "gif"}
"""The encoder an output's suffix picks when no codec is named and the preset's cannot go
into that container (WebM holds VP9 and AV1; Y4M holds raw frames only)."""

DEFAULT_TILE = 512
"""Largest tile side (input pixels) for images, and the first tile size after the video
model stage runs out of memory on whole frames."""
MIN_TILE = 128
"""The smallest tile the video model stage shrinks to before giving up."""
TILE_OVERLAP = 32
"""Pixels each tile overlaps its neighbours by (vsr.tiling)."""
MIN_IMAGE_TILE = 96
"""The smallest tile `vsr image` accepts: twice the overlap plus room to advance."""


def default_matrix(height: int) -> str:
    """The Y'CbCr matrix of an untagged stream, as players assume it: BT.709 from 720
    lines up, BT.601 below."""
    return "bt709" if height >= 720 else "bt601"
