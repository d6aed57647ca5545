"""Choosing what to write: container, encoder (with the NVENC fallback), its options and a
pixel format it accepts."""

import contextlib
import functools
import io
import os
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av

from ...constants import ENCODERS, SOFTWARE_FALLBACK, SUFFIX_CODECS
from ...constants import OUTPUT_CONTAINERS as CONTAINERS
from ...errors import UsageError
from .planes import NATIVE_FORMATS


@dataclass(frozen=True)
class EncoderSettings:
    codec: str = "libx264"
    crf: int | None = None
    encoder_preset: str | None = None  # the encoder's own speed preset (x264 "veryfast", svt-av1 "8", nvenc "p5")
    pix_fmt: str | None = None  # None: follow the input
    codec_named: bool = field(default=False, compare=False)  # the caller named the codec: HDR input keeps it (vsr.video.io.hdr)

    def __post_init__(self):
        if self.codec not in ENCODERS:
            raise UsageError(f"unknown codec {self.codec!r}", hint=f"choose one of {', '.join(ENCODERS)}")
        if self.crf is not None and self.crf < 0:
            raise UsageError(f"the crf must be 0 or more, got {self.crf}", hint="change {crf}")

    def options(self) -> dict[str, str]:
        """FFmpeg private options for this encoder."""
        codec, crf, preset = self.codec, self.crf, self.encoder_preset
        opts: dict[str, str] = {}
        if codec in ("libx264", "libx265", "libsvtav1"):
            opts.update({"crf": str(crf)} if crf is not None else {})
            opts.update({"preset": preset} if preset else {})
            if codec == "libx265":
                opts["x265-params"] = "log-level=error"
        elif codec == "libvpx-vp9":
            opts.update({"crf": str(crf if crf is not None else 32), "b": "0", "row-mt": "1"})
            opts.update({"cpu-used": preset} if preset else {})
        elif codec.endswith("_nvenc"):
            opts.update({"rc": "vbr", "cq": str(crf)} if crf is not None else {})
            opts.update({"preset": preset} if preset else {})
        return opts


def container_for(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in CONTAINERS:
        raise UsageError(f"cannot write {suffix or 'files without a suffix'}", hint=f"name the output {', '.join(CONTAINERS)}")
    return CONTAINERS[suffix]


def codec_for_suffix(output: Path, codec: str) -> str | None:
    """The encoder to use in place of `codec` (the preset's: none was named) for an
    output whose container cannot hold it (SUFFIX_CODECS: VP9 for .webm); None: keep it."""
    suffix = output.suffix.lower()
    if suffix in SUFFIX_CODECS and not codec_fits(CONTAINERS[suffix], codec):
        return SUFFIX_CODECS[suffix]
    return None


def codec_fits(container: str, codec: str) -> bool:
    """Whether the container can hold this codec (an encoder name or a codec name)."""
    return _canonical(codec) in _container_codecs(container)


MPEGTS_CODECS = frozenset(
    "mpeg1video mpeg2video mpeg4 h264 hevc vc1 mp2 mp3 aac aac_latm ac3 eac3 dts truehd opus dvb_subtitle dvb_teletext".split()
)
"""FFmpeg's mpegts muxer lists no codecs of its own; these are the ones it maps to stream
types (libavformat/mpegtsenc.c)."""


@functools.cache
def _container_codecs(container: str) -> frozenset[str]:
    """FFmpeg lists a muxer's codecs by implementation name (dca, pgssub, mp3float);
    turn each into its codec's canonical name (dts, hdmv_pgs_subtitle, mp3) as well."""
    if container in ("mpegts", "rtp_mpegts"):
        return MPEGTS_CODECS
    with av.open(io.BytesIO(), "w", format=container) as probe:
        names = set(probe.supported_codecs)
    return frozenset(names | {_canonical(name) for name in names})


def _canonical(name: str) -> str:
    for mode in ("w", "r"):
        try:
            return av.codec.Codec(name, mode).canonical_name
        except (ValueError, av.FFmpegError):
            continue
    return name


def default_output(source: Path, scale: int, codec: str) -> Path:
    """NAME_xS beside the input, in the input's container when the codec fits it, else .mkv."""
    suffix = source.suffix.lower()
    if suffix not in CONTAINERS or not codec_fits(CONTAINERS[suffix], codec):
        suffix = ".mkv"
    return source.with_name(f"{source.stem}_x{scale}{suffix}")


@contextlib.contextmanager
def keeping_thread_scheduling():
    """Put the calling thread's scheduling policy back after opening an encoder. SVT-AV1,
    opened by root, makes the thread that opens it SCHED_FIFO 99 (real time), and every
    thread started after it inherits that: the model thread would run at real-time
    priority. Where the OS has no such call (not Linux) this does nothing."""
    if not hasattr(os, "sched_getscheduler"):
        yield
        return
    policy, param = os.sched_getscheduler(0), os.sched_getparam(0)
    try:
        yield
    finally:
        if (os.sched_getscheduler(0), os.sched_getparam(0)) != (policy, param):
            os.sched_setscheduler(0, policy, param)


def encoder_opens(codec: str, width: int, height: int, pix_fmt: str) -> bool:
    """Whether FFmpeg can open this encoder here (NVENC needs a GPU that has it)."""
    if codec not in av.codecs_available:
        return False
    try:
        ctx = av.CodecContext.create(codec, "w")
        ctx.width, ctx.height, ctx.pix_fmt, ctx.time_base = width, height, pix_fmt, Fraction(1, 25)
        with keeping_thread_scheduling():
            ctx.open()
        return True
    except (av.FFmpegError, ValueError, OSError):
        return False


def choose_encoder(settings: EncoderSettings, width: int, height: int) -> tuple[str, str | None]:
    """The encoder to use and a notice when it is not the one asked for."""
    codec = settings.codec
    if codec in SOFTWARE_FALLBACK and not encoder_opens(codec, width, height, "yuv420p"):
        fallback = SOFTWARE_FALLBACK[codec]
        return fallback, f"{codec} does not open on this machine (no NVENC); encoding with {fallback}"
    if codec not in av.codecs_available:
        raise UsageError(f"this FFmpeg build has no {codec} encoder")
    return codec, None


def choose_pix_fmt(codec: str, requested: str | None, source_format: str, width: int, height: int) -> tuple[str, str | None]:
    """A planar YUV format the encoder accepts at width x height, and a notice if the input's
    depth or chroma resolution could not be kept. `source_format` is a NATIVE_FORMATS name."""
    listed = av.codec.Codec(codec, "w").video_formats  # None: any (raw frames)
    accepted = ({f.name for f in listed} if listed else set(_RAW_FORMATS)) & NATIVE_FORMATS
    accepted = {f for f in accepted if f.startswith("yuv") and not f.startswith("yuvj")}
    odd = width % 2 or height % 2
    if requested:
        if requested not in accepted:
            raise UsageError(f"{codec} cannot encode the pixel format {requested}", hint=f"choose a {{pix_fmt}} it takes: {', '.join(sorted(accepted))}")
        if odd and "444" not in requested:
            raise UsageError(f"{requested} needs even sizes but the output is {width}x{height}", hint="choose a 4:4:4 {pix_fmt}")
        return requested, None
    sub, depth = _split(source_format)
    odd_notice = f"the {width}x{height} output is odd-sized, which 4:2:0/4:2:2 cannot hold; writing 4:4:4" if odd and sub != "444" else None
    if odd:
        sub = "444"
    for candidate_depth in dict.fromkeys((depth, "10le" if depth == "12le" else depth, "")):
        for candidate_sub in dict.fromkeys((sub, "444" if odd else "420")):
            name = f"yuv{candidate_sub}p{candidate_depth}"
            if name in accepted:
                notice = odd_notice if (candidate_sub, candidate_depth) == (sub, depth) else f"{codec} cannot keep {source_format}; writing {name}"
                return name, notice
    raise UsageError(f"{codec} cannot encode a {width}x{height} output from {source_format}", hint="try {codec=libx265} or an even-sized input")


_RAW_FORMATS = ("yuv420p", "yuv422p", "yuv444p", "yuv420p10le", "yuv422p10le", "yuv444p10le", "yuv420p12le", "yuv444p12le")
"""What raw frames (wrapped_avframe, for .y4m) are written in: the formats Y4M holds."""


def _split(native: str) -> tuple[str, str]:
    """'yuv420p10le' -> ('420', '10le'); RGB sources (gbrp*) are written as 4:2:0."""
    if native.startswith("gbrp"):
        return "420", native.removeprefix("gbrp")
    body = native.removeprefix("yuvj").removeprefix("yuv")
    return body[:3], body[4:]
