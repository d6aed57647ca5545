"""HDR clips with dynamic metadata, for tests: HDR10+ (SMPTE ST 2094-40 in an ITU-T T.35
SEI) and a Dolby Vision RPU (profile 8.1 style: a base layer that is plain HDR10).

This libx265 build writes neither (no `dhdr10-info`, no `dolby-vision-rpu`), so each maker
takes `make_hdr`'s x265 HDR10 clip and rewrites its packets: every access unit gets one
more NAL unit, laid out as FFmpeg's parsers read it (libavutil/hdr_dynamic_metadata.c
av_dynamic_hdr_plus_from_t35; libavcodec/dovi_rpudec.c ff_dovi_rpu_parse), and is muxed
again with its timestamps. Each maker then decodes its clip and asserts that FFmpeg
attached the metadata to every frame, so a clip that FFmpeg would not read fails here.

The Dolby Vision clip has no DOVI configuration record in the container (PyAV cannot
write one): FFmpeg reads the RPU regardless and guesses the profile (8) from its header.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import av

from source_media import make_hdr

from vsr.video.io.hdr import frame_side_data

PREFIX_SEI, UNSPEC62 = 39, 62  # HEVC nal_unit_type: SEI before a picture; Dolby Vision's RPU


def make_hdr10_plus(path: Path, *, frames: int = 8, size: tuple[int, int] = (64, 48), gop: int | None = None) -> None:
    """`make_hdr`'s PQ HDR10 clip (mastering display, MaxCLL 1000 / MaxFALL 400) with
    HDR10+ on every frame: a prefix SEI before its slices, its average_maxrgb changing
    from frame to frame as a grade does."""
    _rewrite(path, lambda n: (hdr10_plus_sei(average_maxrgb=1000 + 50 * n), b""), frames=frames, size=size, gop=gop)
    sides = _side_data(path, {})
    # AVDynamicHDRPlus starts with itu_t_t35_country_code, application_version, num_windows
    assert len(sides) == frames and all(side.get("DYNAMIC_HDR_PLUS", b"")[1:3] == b"\x01\x01" for side in sides), "FFmpeg did not read the HDR10+ SEI"


def make_dolby_vision(path: Path, *, frames: int = 8, size: tuple[int, int] = (64, 48), gop: int | None = None) -> None:
    """`make_hdr`'s PQ HDR10 clip with a Dolby Vision RPU as the last NAL unit of every
    access unit (where the format puts it), its L1 average brightness changing per frame."""
    _rewrite(path, lambda n: (b"", dolby_vision_rpu_nal(average_pq=1200 + 50 * n)), frames=frames, size=size, gop=gop)
    sides = _side_data(path, {"err_detect": "crccheck+explode"})  # an RPU whose CRC is wrong is dropped
    assert len(sides) == frames and all({"DOVI_RPU_BUFFER", "DOVI_METADATA"} <= side.keys() for side in sides), "FFmpeg did not read the RPU"


def _rewrite(path: Path, added: Callable[[int], tuple[bytes, bytes]], *, frames: int, size: tuple[int, int], gop: int | None) -> None:
    """Write `make_hdr`'s clip at `path` with `added(n)`, a NAL unit (or b"") to put
    before and one to put after access unit n's own, in every packet."""
    plain = path.with_name(f"{path.stem}-hdr10{path.suffix}")
    make_hdr(plain, frames=frames, size=size, gop=gop)
    with av.open(str(plain)) as source, av.open(str(path), "w") as out:
        video = source.streams.video[0]
        length_size = (video.codec_context.extradata[21] & 3) + 1  # hvcC lengthSizeMinusOne
        stream = out.add_stream_from_template(video)
        for n, packet in enumerate(p for p in source.demux(video) if p.size):
            before, after = (b"" if not nal else len(nal).to_bytes(length_size, "big") + nal for nal in added(n))
            rewritten = av.Packet(before + bytes(packet) + after)
            rewritten.pts, rewritten.dts, rewritten.time_base = packet.pts, packet.dts, packet.time_base
            rewritten.is_keyframe, rewritten.stream = packet.is_keyframe, stream
            out.mux(rewritten)
    plain.unlink()


def _side_data(path: Path, options: dict[str, str]) -> list[dict[str, bytes]]:
    """Each decoded frame's side data, by type name."""
    with av.open(str(path)) as clip:
        clip.streams.video[0].codec_context.options = options
        return [{side.type.name: bytes(side) for side in frame_side_data(frame)} for frame in clip.decode(video=0)]


def hdr10_plus_sei(*, average_maxrgb: int, peak_nits: int = 400) -> bytes:
    """An HEVC prefix SEI NAL unit with one user_data_registered_itu_t_t35 message (payload
    type 4) holding SMPTE ST 2094-40 metadata for one window. RGB values are in units of
    0.00001 of 10000 cd/m2 (`average_maxrgb` 1000 is 100 cd/m2)."""
    bits = BitWriter()
    for byte in (0xB5, 0x00, 0x3C, 0x00, 0x01, 0x04):  # USA; SMPTE; ST 2094-40; application_identifier 4
        bits.u(8, byte)
    bits.u(8, 1)  # application_version
    bits.u(2, 1)  # num_windows
    bits.u(27, peak_nits)  # targeted_system_display_maximum_luminance
    bits.u(1, 0)  # no targeted_system_display_actual_peak_luminance table
    for maxscl in (9000, 8000, 7000):
        bits.u(17, maxscl)
    bits.u(17, average_maxrgb)
    percentiles = [(1, 10), (50, average_maxrgb // 2), (99, 8500)]
    bits.u(4, len(percentiles))
    for percentage, percentile in percentiles:
        bits.u(7, percentage)
        bits.u(17, percentile)
    bits.u(10, 5)  # fraction_bright_pixels, in 0.001
    bits.u(1, 0)  # no mastering_display_actual_peak_luminance table
    bits.u(1, 0)  # tone_mapping_flag
    bits.u(1, 0)  # color_saturation_mapping_flag
    bits.align()
    t35 = bits.bytes()
    message = bytes([4, *[0xFF] * (len(t35) // 255), len(t35) % 255]) + t35  # payload type, payload size
    return _nal_unit(PREFIX_SEI, message + b"\x80")  # rbsp_trailing_bits


def dolby_vision_rpu_nal(*, average_pq: int) -> bytes:
    """An HEVC NAL unit of type 62 holding a Dolby Vision RPU (rpu_type 2): a 10-bit base
    layer mapped to 12 bits by an identity polynomial in each component, no residual (the
    profile 8.1 layout), the colour metadata of a BT.2020 PQ 1000 cd/m2 grade, one L1
    extension block (the frame's min, max and `average_pq`, as 12-bit PQ codes), and the
    CRC-32 that ends an RPU."""
    bits = BitWriter()
    bits.u(6, 2)  # rpu_type
    bits.u(11, 0)  # rpu_format
    bits.u(4, 1).u(4, 0)  # vdr_rpu_profile, vdr_rpu_level
    bits.u(1, 1)  # vdr_seq_info_present_flag
    bits.u(1, 0)  # chroma_resampling_explicit_filter_flag
    bits.u(2, 0).ue(23)  # fixed-point coefficients, coef_log2_denom
    bits.u(2, 1).u(1, 0)  # vdr_rpu_normalized_idc, bl_video_full_range_flag
    bits.ue(2).ue(2).ue(4)  # base layer, enhancement layer, VDR bit depth - 8
    bits.u(1, 0).u(3, 0).u(1, 0)  # spatial_resampling_filter_flag, reserved, el_spatial_resampling_filter_flag
    bits.u(1, 1)  # disable_residual_flag
    bits.u(1, 1)  # vdr_dm_metadata_present_flag
    bits.u(1, 0).ue(0)  # use_prev_vdr_rpu_flag, vdr_rpu_id
    bits.ue(0).ue(0)  # mapping_color_space, mapping_chroma_format_idc
    for _ in range(3):
        bits.ue(0).u(10, 0).u(10, 1023)  # num_pivots_minus_2; pivots (deltas)
    bits.ue(0).ue(0)  # num_x_partitions_minus1, num_y_partitions_minus1
    for _ in range(3):
        bits.ue(0).ue(0).u(1, 0)  # polynomial, order 1, linear_interp_flag
        bits.se(0).u(23, 0).se(1).u(23, 0)  # coefficients 0 and 1: y = x
    bits.ue(0).ue(0).ue(0)  # affected_dm_metadata_id, current_dm_metadata_id, scene_refresh_flag
    for coefficient in (9575, 0, 14742, 9575, -1754, -4383, 9575, 17372, 0):  # BT.2020 YCbCr to RGB, / 2^13
        bits.s(16, coefficient)
    for offset in (1 << 24, 1 << 27, 1 << 27):
        bits.u(32, offset)
    for coefficient in (7222, 8771, 390, 2654, 12430, 1300, 0, 422, 15962):  # RGB to LMS, / 2^14
        bits.s(16, coefficient)
    bits.u(16, 65535).u(16, 0).u(16, 0).u(32, 0)  # signal_eotf (PQ), its parameters
    bits.u(5, 12).u(2, 0).u(2, 0).u(2, 1)  # signal bit depth, colour space, chroma format, range
    bits.u(12, 62).u(12, 3079).u(10, 42)  # source_min_pq, source_max_pq (1000 cd/m2), source_diagonal
    bits.ue(1)  # num_ext_blocks
    bits.align()
    bits.ue(5).u(8, 1)  # ext_block_length (bytes), ext_block_level
    bits.u(12, 0).u(12, 2081).u(12, average_pq).u(4, 0)  # L1: min_pq, max_pq, avg_pq; padding
    bits.align()
    body = bits.bytes()
    return _nal_unit(UNSPEC62, bytes([25]) + body + _crc32_mpeg2(body).to_bytes(4, "big") + b"\x80")  # 25: RPU prefix


class BitWriter:
    """Bits, most significant first, as H.265 writes them: u(n), s(n), ue(v), se(v); each
    returns the writer, so that the fields of one syntax line chain."""

    def __init__(self):
        self.value = self.length = 0

    def u(self, width: int, value: int) -> BitWriter:
        assert 0 <= value < 1 << width, (width, value)
        self.value, self.length = self.value << width | value, self.length + width
        return self

    def s(self, width: int, value: int) -> BitWriter:
        """Two's complement."""
        assert -(1 << (width - 1)) <= value < 1 << (width - 1), (width, value)
        return self.u(width, value & ((1 << width) - 1))

    def ue(self, value: int) -> BitWriter:
        """Exp-Golomb: value + 1 in binary, after as many zeros as it has bits less one."""
        return self.u(2 * (value + 1).bit_length() - 1, value + 1)

    def se(self, value: int) -> BitWriter:
        return self.ue(2 * value - 1 if value > 0 else -2 * value)

    def align(self) -> BitWriter:
        return self.u(-self.length % 8, 0)

    def bytes(self) -> bytes:
        assert self.length % 8 == 0, "not byte-aligned"
        return self.value.to_bytes(self.length // 8, "big")


def _nal_unit(nal_type: int, rbsp: bytes) -> bytes:
    """An HEVC NAL unit (layer 0, temporal id 0) around `rbsp`, with an
    emulation_prevention_three_byte after each two zero bytes that a byte of 3 or less
    follows, so that no start code appears inside it."""
    out, zeros = bytearray([nal_type << 1, 1]), 0
    for byte in rbsp:
        if zeros >= 2 and byte <= 3:
            out.append(3)
            zeros = 0
        out.append(byte)
        zeros = zeros + 1 if byte == 0 else 0
    return bytes(out)


def _crc32_mpeg2(data: bytes) -> int:
    """CRC-32/MPEG-2 (polynomial 0x04C11DB7, initial all ones, not reflected), the RPU's."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte << 24
        for _ in range(8):
            crc = (crc << 1 ^ 0x04C11DB7 if crc & 0x80000000 else crc << 1) & 0xFFFFFFFF
    return crc
