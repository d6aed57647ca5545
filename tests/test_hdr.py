"""HDR input (vsr.video.io.hdr): an HDR10 clip keeps its mastering display and content
light level, to the value, and is written as HEVC Main 10 by default; HLG keeps its
tags; a codec the caller names is kept, with a notice for the metadata it cannot write;
HDR10+ and a Dolby Vision RPU are dropped with one warning and the output is plain HDR10."""

from fractions import Fraction

import av
import pytest
from dynamic_hdr import make_dolby_vision, make_hdr10_plus
from source_media import make_hdr

import vsr
from vsr.video.io.hdr import MasteringDisplay, frame_side_data, read_hdr


@pytest.fixture(scope="module")
def ultra_x2():
    return vsr.load_model("ultra", scale=2, device="cpu")


def first_frame(path):
    with av.open(str(path)) as clip:
        video = clip.streams.video[0]
        frame = next(clip.decode(video))
        return frame, video.codec_context.profile, video.codec_context.name


def test_hdr10_metadata_is_kept_and_the_default_codec_is_hevc_main10(tmp_path, ultra_x2):
    src = tmp_path / "hdr10.mkv"
    make_hdr(src, transfer="pq")
    source_hdr = read_hdr(first_frame(src)[0])
    assert source_hdr.mastering == MasteringDisplay(
        red=(Fraction(34000, 50000), Fraction(16000, 50000)),
        green=(Fraction(13250, 50000), Fraction(34500, 50000)),
        blue=(Fraction(7500, 50000), Fraction(3000, 50000)),
        white=(Fraction(15635, 50000), Fraction(16450, 50000)),
        min_luminance=Fraction(1, 10000),
        max_luminance=Fraction(1000),
    )
    assert source_hdr.light_level == (1000, 400)
    for out in ("out.mkv", "out.mp4"):
        result = vsr.upscale_video(src, tmp_path / out, model=ultra_x2, preset="fast")
        frame, profile, codec = first_frame(result.output)
        assert (result.codec, codec, profile, result.pix_fmt) == ("libx265", "hevc", "Main 10", "yuv420p10le")
        assert (frame.color_primaries, frame.color_trc, frame.colorspace) == (9, 16, 9)
        kept = read_hdr(frame)
        assert (kept.mastering, kept.light_level) == (source_hdr.mastering, source_hdr.light_level)
        assert result.warnings == ["the input is PQ (SMPTE ST 2084) HDR: writing HEVC (libx265), which HDR players take, instead of libx264"]


DYNAMIC = {"DYNAMIC_HDR_PLUS", "DOVI_RPU_BUFFER", "DOVI_METADATA"}
"""Frame side data that a re-encode must not carry: HDR10+ and Dolby Vision RPUs."""


@pytest.mark.parametrize(
    ("make", "named", "name", "out", "cut"),
    [
        (make_hdr10_plus, "HDR10+ dynamic metadata", "in.mkv", "out.mp4", []),
        (make_hdr10_plus, "HDR10+ dynamic metadata", "in.mp4", "out.mkv", ["--segment-seconds", "0.1"]),
        (make_dolby_vision, "a Dolby Vision RPU", "in.mp4", "out.mp4", []),
    ],
    ids=["hdr10+", "hdr10+-segmented", "dolby-vision"],
)
def test_dynamic_metadata_is_dropped_with_one_warning_and_the_output_is_plain_hdr10(tmp_path, capsys, make, named, name, out, cut):
    from test_cli import run_cli

    src = tmp_path / name
    make(src, frames=12, gop=3)  # on every frame (the maker checks that FFmpeg reads it)
    source_hdr = read_hdr(first_frame(src)[0])
    assert source_hdr.dynamic == (named,)
    code, _, err = run_cli(capsys, "upscale", src, "-o", tmp_path / out, "--device", "cpu", *cut)
    assert code == 0, err
    dropped = (
        f"vsr upscale: warning: the input carries {named}, which cannot follow a rescale and re-encode; dropped, the output is plain static PQ (SMPTE ST 2084)"
    )
    assert [line for line in err.splitlines() if "HDR10+" in line or "Dolby Vision" in line] == [dropped]
    if cut:
        assert "4 segments done" in err  # the segmented path ran, and warned once, not per segment
    with av.open(str(tmp_path / out)) as clip:
        video = clip.streams.video[0]
        assert (video.codec_context.name, video.codec_context.profile) == ("hevc", "Main 10")
        frames = list(clip.decode(video))
    assert len(frames) == 12
    for frame in frames:
        assert (frame.color_primaries, frame.color_trc, frame.colorspace) == (9, 16, 9)
        assert not DYNAMIC & {side.type.name for side in frame_side_data(frame)}
        kept = read_hdr(frame)
        assert (kept.mastering, kept.light_level, kept.dynamic) == (source_hdr.mastering, source_hdr.light_level, ())
    written = (tmp_path / out).read_bytes()
    assert not any(box in written for box in (b"dvcC", b"dvvC", b"dvwC"))  # no Dolby Vision configuration record either


def test_a_named_codec_is_kept_with_a_notice_for_the_metadata_it_cannot_write(tmp_path, ultra_x2):
    src = tmp_path / "hdr10.mkv"
    make_hdr(src, transfer="pq")
    result = vsr.upscale_video(src, tmp_path / "out.mkv", model=ultra_x2, codec="libx264")
    frame, profile, _ = first_frame(result.output)
    assert result.codec == "libx264" and profile == "High 10" and frame.color_trc == 16
    assert read_hdr(frame).mastering is None
    assert any("libx264 cannot write the input's mastering-display" in w for w in result.warnings)


def test_hlg_keeps_its_tags_in_hevc(tmp_path, ultra_x2):
    src = tmp_path / "hlg.mp4"
    make_hdr(src, transfer="hlg", metadata=False)
    result = vsr.upscale_video(src, tmp_path / "out.mp4", model=ultra_x2)
    frame, profile, codec = first_frame(result.output)
    assert (codec, profile) == ("hevc", "Main 10")
    assert (frame.color_primaries, frame.color_trc, frame.colorspace, frame.color_range) == (9, 18, 9, 1)
    assert read_hdr(frame).name == "HLG (ARIB STD-B67)" and read_hdr(frame).mastering is None


def test_sdr_input_keeps_the_presets_codec(tmp_path, ultra_x2):
    from media import make_clip

    src = make_clip(tmp_path / "sdr.mp4", frames=3)
    assert vsr.upscale_video(src, tmp_path / "out.mp4", model=ultra_x2, preset="fast").codec == "libx264"


def test_vsr_presets_says_the_hdr_rule(capsys):
    from test_cli import run_cli

    code, out, _ = run_cli(capsys, "presets")
    assert code == 0 and "HDR (PQ or HLG) input is written as HEVC Main 10" in " ".join(out.split())
