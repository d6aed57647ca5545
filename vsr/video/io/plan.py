"""What to write, decided before anything is written: `plan_output`.

From the input's description (its VideoInfo and a StreamInfo per other stream) and the
settings, `plan_output` decides the container, the encoder (NVENC falls back to the
software encoder, with a notice), its options, the pixel format, the colour, the tags and
which streams are copied, dropped or refused. It opens no file: `vsr upscale`, `vsr bench`
and `vsr live` all call it, then tell the source what to copy and give the plan to
VideoSink, which writes what it says.

    VideoSource.info, .streams --plan_output--> OutputPlan --> VideoSource.select_copied
                                                           --> VideoSink(path, plan)
"""

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from ...constants import default_matrix
from ...errors import UsageError
from .codecs import EncoderSettings, choose_encoder, choose_pix_fmt, codec_fits, container_for
from .audio import AudioEncoding, audio_encoder_for
from .hdr import hdr_encoder, unwritten_metadata, x265_options
from .colour import DEFAULT_PRIMARIES_TRC, MATRIX_CODES, RANGE_FULL, RANGE_LIMITED, ColourSpec
from .planes import PlaneLayout
from .selection import KEEP_ALL, StreamChoice, choose_streams
from .output_size import NATIVE, TargetSize, resized
from .sequences import IMAGE_ENCODERS
from .source import StreamInfo, VideoInfo

OUTPUT_CHROMA_LOCATION = "left"
"""Where subsampled output chroma sits (and is tagged so): what H.264/HEVC/AV1 players
assume when a stream does not say, whatever the input's siting was."""

VIDEO_ONLY = frozenset({"yuv4mpegpipe", "gif", "image2"})
"""Containers that hold one video stream and nothing else."""

CONSTANT_RATE = frozenset({"yuv4mpegpipe", "gif", "avi", "image2"})
"""Containers whose clock is the frame rate itself (a frame's place is its time)."""

PALETTE_CODEC = "gif"
"""The encoder of paletted frames: the pipeline writes 4:4:4 frames and FFmpeg's palette
filters turn each into 256 colours (vsr.video.io.palette)."""

UNSPECIFIED = 2
"""FFmpeg's code for "unspecified" colour primaries, transfer and matrix (and 0 is both
"reserved" for those and the unspecified range)."""


@dataclass(frozen=True)
class OutputPlan:
    """Everything VideoSink needs to know; built by `plan_output`."""

    output: Path  # the final name (the sink may write a temporary file for it)
    container: str  # FFmpeg's muxer
    settings: EncoderSettings  # what really runs: the codec after any fallback
    layout: PlaneLayout  # the encoded frames' pixel format and size
    colour: ColourSpec  # the encoded frames' matrix, range and depth
    frame_tags: dict[str, int]  # colorspace, color_range, color_primaries, color_trc codes
    options: dict[str, str]  # the encoder's FFmpeg options
    video: VideoInfo  # the input's video: timing, rotation, aspect, stream tags
    copied: tuple[int, ...] = ()  # input stream indices passed through: copied packet for packet, or re-encoded (below)
    encoded_audio: tuple[AudioEncoding, ...] = ()  # the passed-through audio streams that are re-encoded, and how
    attachments: tuple[int, ...] = ()  # input attachment streams kept
    dropped: tuple[str, ...] = ()  # what the container cannot hold, described
    notices: tuple[str, ...] = ()  # choices the user did not ask for (an encoder fallback)
    clock: Fraction | None = None  # the encoder's time base where the container needs one (y4m: 1/frame rate); None: the input's
    palette: bool = False  # GIF: `layout`'s frames go through a palette per frame (vsr.video.io.palette) into pal8
    resize: tuple[int, int] | None = None  # the encoded size where the network's is resized to it (vsr.video.io.output_size)
    sample_aspect_ratio: Fraction | None = None  # of the encoded frames (None: square pixels)
    encoder_pix_fmt: str | None = None  # what the encoder takes where `layout`'s frames are converted first (an image sequence's RGB)

    @property
    def codec(self) -> str:
        return self.settings.codec

    @property
    def size(self) -> tuple[int, int]:
        """The encoded size: the network's, or the one it is resized to."""
        return self.resize or (self.layout.width, self.layout.height)


def plan_output(
    video: VideoInfo,
    streams: Sequence[StreamInfo],
    scale: int,
    settings: EncoderSettings,
    output: Path,
    container: str | None = None,
    choice: StreamChoice = KEEP_ALL,
    size: TargetSize = NATIVE,
) -> OutputPlan:
    """The plan for writing `video` upscaled `scale` times (and `streams` copied) to
    `output` with `settings`. Raises UsageError when the output cannot be written as asked
    (a container that cannot hold the codec, or would lose an audio stream). `container`:
    the muxer of an output already open (a pipe or URL, vsr.video.io.endpoints); by default
    the one `output`'s suffix names. `choice`: which other streams to keep and how audio is
    written (vsr.video.io.selection); `size`: the exact size to resize the network's frames
    to (vsr.video.io.output_size)."""
    output = Path(output)
    container = container or container_for(output)
    encoder_pix_fmt = None
    if container == "image2":  # an image sequence: the suffix names the encoder, frames are 8-bit RGB
        if output.suffix.lower() not in IMAGE_ENCODERS:
            what = output.suffix or "files without a suffix"
            raise UsageError(f"cannot write an image sequence as {what}", hint="name it like out/%04d.png (.png .jpg .tif .bmp)")
        codec, encoder_pix_fmt = IMAGE_ENCODERS[output.suffix.lower()]
        settings = dataclasses.replace(settings, codec=codec, crf=None, encoder_preset=None, pix_fmt=None)
    net_width, net_height = video.layout.width * scale, video.layout.height * scale
    width, height, aspect = resized(net_width, net_height, size, video.sample_aspect_ratio)
    notices = []
    settings, notice = hdr_encoder(settings, video.hdr)
    notices += [n for n in (notice, video.hdr and video.hdr.notice()) if n]
    codec, notice = choose_encoder(settings, width, height)
    if notice:
        notices.append(notice)
    if codec != settings.codec:  # NVENC's p1..p7 and rc options mean nothing to the fallback
        settings = dataclasses.replace(settings, codec=codec, encoder_preset=None)
    notices += [n for n in (unwritten_metadata(settings, video.hdr),) if n]
    if not codec_fits(container, codec):
        raise UsageError(f"{output.suffix} cannot hold {codec} video", hint="name the output .mkv or pick another {codec}")
    palette = codec == PALETTE_CODEC
    if encoder_pix_fmt:
        pix_fmt, notice = "gbrp", None
    else:
        pix_fmt, notice = ("yuv444p", None) if palette else choose_pix_fmt(codec, settings.pix_fmt, video.layout.format, width, height)
    if notice:
        notices.append(notice)
    layout = PlaneLayout(pix_fmt, net_width, net_height)  # what the pipeline packs; the sink resizes it
    colour = ColourSpec(None, True, 8) if encoder_pix_fmt else output_colour(video.colour, layout)
    copied, encoded, attachments, dropped, stream_notices = _streams(container, choose_streams(streams, choice), choice.audio_codec)
    notices.extend(stream_notices)
    return OutputPlan(
        output=output,
        container=container,
        settings=settings,
        layout=layout,
        colour=colour,
        frame_tags=_frame_tags(colour, video.colour_tags),
        options=x265_options(_encoder_options(settings, layout, colour), video.hdr),
        video=video,
        copied=copied,
        encoded_audio=encoded,
        attachments=attachments,
        dropped=dropped,
        notices=tuple(notices),
        clock=1 / Fraction(video.frame_rate or 25) if container in CONSTANT_RATE else None,
        palette=palette,
        resize=(width, height) if (width, height) != (net_width, net_height) else None,
        sample_aspect_ratio=aspect,
        encoder_pix_fmt=encoder_pix_fmt,
    )


def output_colour(source: ColourSpec, layout: PlaneLayout) -> ColourSpec:
    """The input's matrix and range at the output's depth, chroma left-sited. RGB input
    is written as limited-range Y'CbCr with the matrix players assume at its height."""
    rgb_source = source.matrix is None
    return ColourSpec(source.matrix or default_matrix(layout.height), source.full_range and not rgb_source, layout.bits, OUTPUT_CHROMA_LOCATION)


def _encoder_options(settings: EncoderSettings, layout: PlaneLayout, colour: ColourSpec) -> dict[str, str]:
    options = settings.options()
    if layout.subsampled:
        options["chroma_sample_location"] = colour.chroma_location
    return options


def _frame_tags(colour: ColourSpec, input_tags: dict[str, int]) -> dict[str, int]:
    """The output's colour tags: its own matrix and range; the input's primaries and
    transfer where it tagged them, else the ones that go with the matrix (RGB: sRGB's)."""
    if colour.matrix is None:
        return {"colorspace": 0, "color_range": RANGE_FULL, "color_primaries": 1, "color_trc": 13}
    primaries, trc = DEFAULT_PRIMARIES_TRC[colour.matrix]
    return {
        "colorspace": MATRIX_CODES[colour.matrix],
        "color_range": RANGE_FULL if colour.full_range else RANGE_LIMITED,
        "color_primaries": input_tags["color_primaries"] if input_tags["color_primaries"] not in (0, UNSPECIFIED) else primaries,
        "color_trc": input_tags["color_trc"] if input_tags["color_trc"] not in (0, UNSPECIFIED) else trc,
    }


def _streams(container: str, streams: Sequence[StreamInfo], audio_codec: str | None):
    """(copied, encoded_audio, attachments, dropped, notices): every audio and subtitle
    stream the container can hold is copied; audio it cannot hold is re-encoded (with a
    notice) into the container's usual codec, and with `audio_codec` every audio stream
    is ("copy": none, and audio that does not fit is refused); audio is never silently
    lost (but a container that holds video only, Y4M or GIF, leaves it out, named);
    a subtitle stream it cannot hold is dropped (named); attachments only fit
    Matroska; data streams are not copied."""
    copied, encoded, attachments, dropped, notices = [], [], [], [], []
    for stream in streams:
        if stream.type == "audio":
            if container in VIDEO_ONLY:
                dropped.append(stream.described)
            elif audio_codec not in (None, "copy"):
                copied.append(stream.index)
                encoded.append(AudioEncoding(stream.index, audio_encoder_for(container, audio_codec)))
            elif codec_fits(container, stream.codec):
                copied.append(stream.index)
            elif audio_codec is None and codec_fits(container, encoder := audio_encoder_for(container, None)):
                copied.append(stream.index)
                encoded.append(AudioEncoding(stream.index, encoder))
                notices.append(f"{container} cannot hold the input's {stream.described}; re-encoding it with {encoder}")
            else:
                hint = "name the output .mkv so no audio is lost, or pick an {audio_codec}"
                raise UsageError(f"{container} cannot hold the input's {stream.described}", hint=hint)
        elif stream.type == "subtitle":
            if codec_fits(container, stream.codec):
                copied.append(stream.index)
            else:
                dropped.append(stream.described)
        elif stream.type == "attachment":
            if container == "matroska":
                attachments.append(stream.index)
            else:
                dropped.append(f"attachment {stream.name or stream.index}")
        elif stream.type == "data" and stream.timecode:  # mp4/mov write it again from the video stream's timecode tag
            if container not in ("mp4", "mov"):
                dropped.append(f"timecode track #{stream.index} (starting {stream.timecode}; that stays as the video stream's timecode tag)")
        elif stream.type == "data" and stream.codec is not None:  # (mp4 chapter tracks have none: chapters are copied)
            dropped.append(f"data track #{stream.index} ({stream.codec})")
    return tuple(copied), tuple(encoded), tuple(attachments), tuple(dropped), notices


def rgb_frames(width: int, height: int, rate: float | None, time_base: Fraction) -> VideoInfo:
    """The description of 8-bit RGB frames from elsewhere than a file (a live capture):
    full range, no colour tags, no rotation, no count."""
    return VideoInfo(
        layout=PlaneLayout("gbrp", width, height),  # written as 4:2:0 (4:4:4 if odd-sized)
        colour=ColourSpec(None, True, 8),
        colour_tags={"color_primaries": UNSPECIFIED, "color_trc": UNSPECIFIED, "colorspace": UNSPECIFIED, "color_range": 0},
        time_base=time_base,
        frame_rate=Fraction(rate).limit_denominator(1001) if rate else None,
        rotation=0.0,
        sample_aspect_ratio=None,
        frames_expected=None,
        source_format="rgb24",
    )
