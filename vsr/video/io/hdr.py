"""HDR input: PQ (SMPTE ST 2084) and HLG (ARIB STD-B67), their static metadata, and the
encoder that keeps them.

Static metadata, the mastering display's colour volume (SMPTE ST 2086) and the content
light level (MaxCLL, MaxFALL), is read off the first decoded frame's side data, where
FFmpeg puts it wherever the input carried it: the codec's SEI, or the container's own
fields (Matroska MasteringMetadata, MP4 mdcv/clli), which FFmpeg's decoders attach to every
frame. It is written back as libx265's SEI (`master-display`, `max-cll`), which players
and FFmpeg's demuxers read. The container's own fields are not written: PyAV 18.1 can set
no output-stream side data but a display matrix, nor the encoder's `decoded_side_data`
(which FFmpeg's encode.c would pass to the muxer). `add_stream_from_template(input)` does
carry an input container's fields, but was rejected: nothing for SEI-only input, the
encoder tied to the input's codec, and every other stream side data copied too (a Dolby
Vision configuration would claim DV with no RPU). The SEI is in every keyframe.

Dynamic metadata (HDR10+, Dolby Vision RPU) describes each frame as it was graded; it
cannot follow a rescale and re-encode correctly, so it is dropped with one notice and the
output is plain HDR10 (or HLG).

Default codec: H.264 High 10 is what few HDR players take, so PQ and HLG input is written
as HEVC (libx265; Main 10 from the usual 10-bit input, as the pixel format follows the
input) where the codec is the preset's H.264 rather than one the caller named
(`EncoderSettings.codec_named`) and the FFmpeg build has libx265.
"""

import dataclasses
import struct
from dataclasses import dataclass
from fractions import Fraction

import av
from av.sidedata.sidedata import SideData

from .codecs import EncoderSettings

PQ, HLG = 16, 18  # FFmpeg's AVColorTransferCharacteristic codes
HDR_TRANSFERS = {PQ: "PQ (SMPTE ST 2084)", HLG: "HLG (ARIB STD-B67)"}
HEVC_FOR = {"libx264": "libx265", "h264_nvenc": "hevc_nvenc"}
"""The HEVC encoder that replaces an H.264 one for HDR input."""
DYNAMIC = {"DYNAMIC_HDR_PLUS": "HDR10+ dynamic metadata", "DOVI_RPU_BUFFER": "a Dolby Vision RPU", "DOVI_METADATA": "a Dolby Vision RPU"}


@dataclass(frozen=True)
class MasteringDisplay:
    """SMPTE ST 2086: CIE 1931 xy of the red, green, blue primaries and the white point;
    luminance in cd/m2."""

    red: tuple[Fraction, Fraction]
    green: tuple[Fraction, Fraction]
    blue: tuple[Fraction, Fraction]
    white: tuple[Fraction, Fraction]
    min_luminance: Fraction
    max_luminance: Fraction

    def x265(self) -> str:
        """x265's `master-display`: chromaticities in 0.00002 units, luminance in 0.0001 cd/m2."""

        def xy(point):
            return f"({round(point[0] * 50000)},{round(point[1] * 50000)})"

        lum = f"L({round(self.max_luminance * 10000)},{round(self.min_luminance * 10000)})"
        return f"G{xy(self.green)}B{xy(self.blue)}R{xy(self.red)}WP{xy(self.white)}{lum}"


@dataclass(frozen=True)
class HdrInfo:
    """An input's HDR: its transfer, static metadata (either may be None) and the dynamic
    metadata it carried (named, for the notice)."""

    transfer: int
    mastering: MasteringDisplay | None = None
    light_level: tuple[int, int] | None = None  # (MaxCLL, MaxFALL) in cd/m2
    dynamic: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return HDR_TRANSFERS[self.transfer]

    def x265_params(self) -> list[str]:
        params = []
        if self.mastering is not None:
            params.append(f"master-display={self.mastering.x265()}")
        if self.light_level is not None:
            params.append(f"max-cll={self.light_level[0]},{self.light_level[1]}")
        if params:
            params.append("hdr10=1")  # signal them in SEI
        return params

    def notice(self) -> str | None:
        if not self.dynamic:
            return None
        return f"the input carries {' and '.join(self.dynamic)}, which cannot follow a rescale and re-encode; dropped, the output is plain static {self.name}"


def read_hdr(frame: av.VideoFrame) -> HdrInfo | None:
    """The HDR of a stream whose first decoded frame is `frame`; None for SDR."""
    transfer = int(frame.color_trc)
    if transfer not in HDR_TRANSFERS:
        return None
    mastering = light = None
    dynamic: list[str] = []
    for side in frame_side_data(frame):
        name = side.type.name
        if name == "MASTERING_DISPLAY_METADATA":
            mastering = _mastering(bytes(side))
        elif name == "CONTENT_LIGHT_LEVEL":
            light = struct.unpack("<II", bytes(side)[:8])
        elif name in DYNAMIC and DYNAMIC[name] not in dynamic:
            dynamic.append(DYNAMIC[name])
    return HdrInfo(transfer, mastering, light, tuple(dynamic))


def frame_side_data(frame: av.VideoFrame) -> list[SideData]:
    """The frame's side data. `frame.side_data` iterates its SideData up to PyAV 18.1.0, and
    its keys (the side-data types) from 18.1.1 on, as a Mapping should; both are read."""
    return [entry if isinstance(entry, SideData) else frame.side_data[entry] for entry in frame.side_data]


def _mastering(raw: bytes) -> MasteringDisplay | None:
    """AVMasteringDisplayMetadata: display_primaries[3][2] (R, G, B), white_point[2],
    min_luminance, max_luminance (AVRationals of two int32), has_primaries, has_luminance."""
    values = struct.unpack("<20i2i", raw[:88])
    rationals = [Fraction(values[i], values[i + 1]) if values[i + 1] else Fraction(0) for i in range(0, 20, 2)]
    has_primaries, has_luminance = values[20], values[21]
    if not (has_primaries and has_luminance):
        return None
    r, g, b, w = (tuple(rationals[i : i + 2]) for i in range(0, 8, 2))
    return MasteringDisplay(r, g, b, w, rationals[8], rationals[9])


def hdr_encoder(settings: EncoderSettings, hdr: HdrInfo | None) -> tuple[EncoderSettings, str | None]:
    """The encoder for `hdr` input: HEVC Main 10 in place of the preset's H.264 (a codec the
    caller named is kept), and a notice saying so."""
    if hdr is None or settings.codec_named or settings.codec not in HEVC_FOR or "libx265" not in av.codecs_available:
        return settings, None
    hevc = HEVC_FOR[settings.codec]  # hevc_nvenc falls back to libx265 where it does not open
    chosen = dataclasses.replace(settings, codec=hevc)  # the input's depth: Main 10 from 10-bit HDR
    return chosen, f"the input is {hdr.name} HDR: writing HEVC ({hevc}), which HDR players take, instead of {settings.codec}"


def x265_options(options: dict[str, str], hdr: HdrInfo | None) -> dict[str, str]:
    """`options` (an encoder's) with the static metadata added to x265-params."""
    params = hdr.x265_params() if hdr is not None else []
    if not params or "x265-params" not in options:
        return options
    return {**options, "x265-params": ":".join([options["x265-params"], *params])}


def unwritten_metadata(settings: EncoderSettings, hdr: HdrInfo | None) -> str | None:
    """A notice when static metadata cannot be written by the encoder that runs."""
    if hdr is None or not (hdr.mastering or hdr.light_level) or settings.codec == "libx265":
        return None
    dropped = "the input's mastering-display and content-light-level metadata"
    return f"{settings.codec} cannot write {dropped} (libx265 does): the output carries the {hdr.name} tags without it"
