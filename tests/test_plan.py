"""plan_output: every output decision, from descriptions only (no file is opened)."""

from fractions import Fraction
from pathlib import Path

import pytest

from vsr.errors import UsageError
from vsr.video.io.audio import AudioEncoding
from vsr.video.io.codecs import EncoderSettings, choose_pix_fmt
from vsr.video.io.colour import ColourSpec
from vsr.video.io.plan import plan_output, rgb_frames
from vsr.video.io.planes import PlaneLayout
from vsr.video.io.selection import StreamChoice
from vsr.video.io.source import StreamInfo, VideoInfo

UNTAGGED = {"color_primaries": 2, "color_trc": 2, "colorspace": 2, "color_range": 0}


LIMITED_601 = ColourSpec("bt601", False, 8)


def video(width=64, height=48, fmt="yuv420p", colour=LIMITED_601, tags=UNTAGGED) -> VideoInfo:
    return VideoInfo(PlaneLayout(fmt, width, height), colour, dict(tags), Fraction(1, 25), Fraction(25), 0.0, None, 10, fmt)


AUDIO = StreamInfo(1, "audio", "aac")
PCM = StreamInfo(2, "audio", "pcm_s16le")
SUBS = StreamInfo(3, "subtitle", "subrip")
FONT = StreamInfo(4, "attachment", None, "font.ttf")
DATA = StreamInfo(5, "data", "bin_data")
CHAPTER_TRACK = StreamInfo(6, "data", None)


def test_the_plan_copies_what_the_container_holds_and_names_what_it_drops(tmp_path):
    plan = plan_output(video(), [AUDIO, SUBS, FONT, DATA, CHAPTER_TRACK], 2, EncoderSettings(), tmp_path / "out.mp4")
    assert (plan.container, plan.codec, plan.size) == ("mp4", "libx264", (128, 96))
    assert plan.copied == (1,)  # mp4 holds aac, not subrip
    assert plan.attachments == ()
    assert plan.dropped == ("subtitle stream #3 (subrip)", "attachment font.ttf", "data track #5 (bin_data)")
    assert not (tmp_path / "out.mp4").exists()  # planning writes nothing

    mkv = plan_output(video(), [AUDIO, PCM, SUBS, FONT], 2, EncoderSettings(), tmp_path / "out.mkv")
    assert (mkv.container, mkv.copied, mkv.attachments, mkv.dropped) == ("matroska", (1, 2, 3), (4,), ())


def test_audio_the_container_cannot_hold_is_re_encoded_with_a_notice_or_refused_never_lost(tmp_path):
    plan = plan_output(video(), [PCM], 2, EncoderSettings("libvpx-vp9"), tmp_path / "out.webm")
    assert plan.copied == (2,) and plan.encoded_audio == (AudioEncoding(2, "libopus"),)
    assert plan.notices == ("webm cannot hold the input's audio stream #2 (pcm_s16le); re-encoding it with libopus",)
    with pytest.raises(UsageError, match="cannot hold the input's audio stream #2 \\(pcm_s16le\\)") as raised:
        plan_output(video(), [PCM], 2, EncoderSettings("libvpx-vp9"), tmp_path / "out.webm", choice=StreamChoice(audio_codec="copy"))
    assert raised.value.hint == "name the output .mkv so no audio is lost, or pick an {audio_codec}"


def test_streams_are_chosen_as_ffmpeg_maps_them(tmp_path):
    second = StreamInfo(7, "audio", "aac")
    streams = [AUDIO, PCM, SUBS, FONT, second]
    mkv = tmp_path / "out.mkv"

    def kept(**choice):
        plan = plan_output(video(), streams, 2, EncoderSettings(), mkv, choice=StreamChoice(**choice))
        return plan.copied + plan.attachments

    assert kept() == (1, 2, 3, 7, 4)
    assert kept(audio=False) == (3, 4) and kept(subtitles=False) == (1, 2, 7, 4)
    assert kept(maps=("a:1",)) == (2,) and kept(maps=("0:a:2", "s")) == (3, 7)
    assert kept(maps=("a", "-a:0")) == (2, 7) and kept(maps=("-s",)) == (1, 2, 7, 4) and kept(maps=("4",)) == (4,)
    assert kept(maps=("v", "a:0")) == (1,)  # the video is always the upscaled one
    encoded = plan_output(video(), streams, 2, EncoderSettings(), mkv, choice=StreamChoice(audio_codec="flac"))
    assert [e.encoder for e in encoded.encoded_audio] == ["flac"] * 3
    for bad in ("x", "a:b", "a:9"):
        with pytest.raises(UsageError, match="stream specifier"):
            plan_output(video(), streams, 2, EncoderSettings(), mkv, choice=StreamChoice(maps=(bad,)))


def test_a_codec_the_container_cannot_hold_names_the_setting(tmp_path):
    with pytest.raises(UsageError) as raised:
        plan_output(video(), [], 2, EncoderSettings("libx264"), tmp_path / "out.webm")
    assert str(raised.value) == ".webm cannot hold libx264 video; name the output .mkv or pick another codec"
    assert raised.value.worded(lambda name, value: f"--{name}").endswith("pick another --codec")


def test_colour_follows_the_input_and_untagged_primaries_follow_the_matrix(tmp_path):
    tagged = video(colour=ColourSpec("bt709", True, 8), tags={**UNTAGGED, "color_primaries": 9, "color_trc": 16})
    plan = plan_output(tagged, [], 2, EncoderSettings(), tmp_path / "out.mkv")
    assert plan.colour == ColourSpec("bt709", True, 8)
    assert plan.frame_tags == {"colorspace": 1, "color_range": 2, "color_primaries": 9, "color_trc": 16}
    untagged = plan_output(video(), [], 2, EncoderSettings(), tmp_path / "out.mkv")
    assert untagged.frame_tags == {"colorspace": 6, "color_range": 1, "color_primaries": 6, "color_trc": 6}


def test_rgb_frames_are_written_limited_range_with_the_matrix_for_their_height(tmp_path):
    small = plan_output(rgb_frames(320, 180, 30, Fraction(1, 1000)), [], 2, EncoderSettings(), tmp_path / "a.mkv")
    large = plan_output(rgb_frames(640, 360, 30, Fraction(1, 1000)), [], 2, EncoderSettings(), tmp_path / "a.mkv")
    assert (small.layout.format, small.colour) == ("yuv420p", ColourSpec("bt601", False, 8))  # 360 lines
    assert large.colour.matrix == "bt709"  # 720 lines
    assert small.video.frame_rate == 30


def test_ten_bit_input_stays_ten_bit_and_odd_sizes_become_444(tmp_path):
    deep = plan_output(video(fmt="yuv420p10le", colour=ColourSpec("bt709", False, 10)), [], 2, EncoderSettings("libx265"), Path("o.mkv"))
    assert (deep.layout.format, deep.colour.bits) == ("yuv420p10le", 10)
    odd = plan_output(video(width=63), [], 3, EncoderSettings(), Path("o.mkv"))
    assert odd.layout.format == "yuv444p"
    assert odd.notices == ("the 189x144 output is odd-sized, which 4:2:0/4:2:2 cannot hold; writing 4:4:4",)


def test_nvenc_that_does_not_open_falls_back_with_a_notice_and_without_its_options(monkeypatch):
    from vsr.video.io import codecs

    monkeypatch.setattr(codecs, "encoder_opens", lambda *args: False)
    plan = plan_output(video(), [], 2, EncoderSettings("hevc_nvenc", 20, "p5"), Path("o.mkv"))
    assert plan.settings == EncoderSettings("libx265", 20, None)
    assert plan.notices == ("hevc_nvenc does not open on this machine (no NVENC); encoding with libx265",)


@pytest.mark.parametrize(
    ("codec", "source", "size", "expected"),
    [
        ("libx264", "yuv422p10le", (64, 48), ("yuv422p10le", None)),
        ("libx264", "yuv420p12le", (64, 48), ("yuv420p10le", "libx264 cannot keep yuv420p12le; writing yuv420p10le")),
        ("libvpx-vp9", "yuv422p12le", (64, 48), ("yuv422p", "libvpx-vp9 cannot keep yuv422p12le; writing yuv422p")),
        ("libsvtav1", "yuv444p", (64, 48), ("yuv420p", "libsvtav1 cannot keep yuv444p; writing yuv420p")),
        ("libsvtav1", "yuv420p10le", (64, 48), ("yuv420p10le", None)),
        ("libx264", "gbrp", (64, 48), ("yuv420p", None)),
        ("libx264", "yuvj420p", (64, 48), ("yuv420p", None)),
    ],
)
def test_choose_pix_fmt_keeps_depth_and_chroma_or_says_what_it_gave_up(codec, source, size, expected):
    assert choose_pix_fmt(codec, None, source, *size) == expected


def test_choose_pix_fmt_refuses_a_format_the_encoder_cannot_take():
    with pytest.raises(UsageError, match="libsvtav1 cannot encode the pixel format yuv444p") as raised:
        choose_pix_fmt("libsvtav1", "yuv444p", "yuv420p", 64, 48)
    assert "{pix_fmt}" in raised.value.hint
    with pytest.raises(UsageError, match="yuv420p needs even sizes but the output is 63x48"):
        choose_pix_fmt("libx264", "yuv420p", "yuv420p", 63, 48)
