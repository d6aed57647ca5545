"""The synthetic clip factory in media.py makes what it says, in every container we test with."""

from fractions import Fraction

import numpy as np
import pytest
from media import CUES, make_clip, probe, reference_frame, video_frames_rgb

VFR_MS = [0, 40, 100, 110, 200, 240, 280, 320, 360, 400, 440, 480]


def test_cfr_clip_with_audio_has_ordered_frames(tmp_path):
    clip = make_clip(tmp_path / "cfr.mp4", audio_tracks=1)
    info = probe(clip)
    assert (info.width, info.height, info.pix_fmt, info.frames) == (64, 48, "yuv420p", 12)
    assert info.times == pytest.approx([i / 25 for i in range(12)])
    assert [t.codec for t in info.video] == ["h264"]
    assert [t.codec for t in info.audio] == ["aac"] and len(info.audio[0].packets) > 10
    assert info.duration == pytest.approx(0.48, abs=0.03)
    # Every decoded frame is closest to its own reference picture, so frame order is checkable.
    refs = np.stack([reference_frame(i) for i in range(12)]).astype(float)
    for i, rgb in enumerate(video_frames_rgb(clip)):
        errors = np.abs(refs - rgb).mean(axis=(1, 2, 3))
        assert errors.argmin() == i and errors[i] < 6


@pytest.mark.parametrize("suffix", [".mkv", ".mp4"])
def test_variable_frame_rate_timestamps_survive(tmp_path, suffix):
    # mkv stores whole milliseconds, mp4 rescales 1/1000 to a 1/16000 timescale: both exact here.
    info = probe(make_clip(tmp_path / f"vfr{suffix}", pts=VFR_MS))
    assert info.frames == len(VFR_MS)
    assert info.times == pytest.approx([p / 1000 for p in VFR_MS])


def test_mkv_with_two_languages_and_subtitles(tmp_path):
    clip = make_clip(tmp_path / "multi.mkv", audio_tracks=2, audio_languages=["eng", "fra"], subtitles=True)
    info = probe(clip)
    assert [(t.codec, t.language) for t in info.audio] == [("aac", "eng"), ("aac", "fra")]
    assert info.audio[0].packets != info.audio[1].packets  # different sine frequencies
    (subs,) = info.subtitles
    assert subs.codec == "subrip"
    assert subs.packets == [text.encode() for _, _, text in CUES]
    assert subs.times == pytest.approx([start / 1000 for start, _, _ in CUES])


def test_mp4_subtitles_are_mov_text_with_a_gap_sample(tmp_path):
    (subs,) = probe(make_clip(tmp_path / "subs.mp4", subtitles=True)).subtitles
    # mov_text samples are a 16-bit length + UTF-8; the muxer fills the gap between cues.
    assert subs.codec == "mov_text"
    assert subs.packets == [b"\x00\x05hello", b"\x00\x00", b"\x00\x05world"]


@pytest.mark.parametrize("codec,pix_fmt", [("libx264", "yuv444p"), ("libx265", "yuv444p"), ("ffv1", "yuv420p")])
def test_odd_size_is_encoded_as_444_unless_ffv1_can_keep_420(tmp_path, codec, pix_fmt):
    clip = make_clip(tmp_path / "odd.mkv", size=(63, 37), frames=3, codec=codec)
    info = probe(clip)
    assert (info.width, info.height, info.pix_fmt, info.frames) == (63, 37, pix_fmt, 3)
    assert video_frames_rgb(clip)[0].shape == (37, 63, 3)


@pytest.mark.parametrize("suffix", [".mkv", ".mp4"])
def test_rotation_round_trips_on_decoded_frames(tmp_path, suffix):
    assert probe(make_clip(tmp_path / f"rot{suffix}", frames=2, rotation=90)).rotation == 90
    assert probe(make_clip(tmp_path / f"none{suffix}", frames=2)).rotation == 0


@pytest.mark.parametrize("codec", ["libx264", "libx265"])
def test_ten_bit_clip_decodes_as_ten_bit(tmp_path, codec):
    info = probe(make_clip(tmp_path / "ten.mp4", frames=3, pix_fmt="yuv420p10le", codec=codec))
    assert info.pix_fmt == "yuv420p10le"


def test_colour_tags_and_sar_round_trip(tmp_path):
    bt709 = {"color_primaries": 1, "color_trc": 1, "colorspace": 1, "color_range": 1}
    info = probe(make_clip(tmp_path / "tags.mp4", frames=2, colour=bt709, sar=Fraction(4, 3)))
    assert info.colour == bt709
    assert info.sar == Fraction(4, 3)


@pytest.mark.parametrize("suffix", [".mkv", ".mp4"])
def test_chapters_and_metadata_round_trip(tmp_path, suffix):
    info = probe(make_clip(tmp_path / f"ch{suffix}", chapters=True, metadata={"title": "t", "comment": "c"}))
    assert info.chapters == [(0.0, 0.24, "one"), (0.24, 0.48, "two")]
    metadata = {key.lower(): value for key, value in info.metadata.items()}  # mkv upper-cases "COMMENT"
    assert metadata["title"] == "t" and metadata["comment"] == "c"
    # mp4 keeps chapters in a QuickTime text track, which reads back as a data stream.
    assert [t.type for t in info.other] == (["data"] if suffix == ".mp4" else [])


def test_webm_with_opus_and_webvtt(tmp_path):
    clip = make_clip(tmp_path / "clip.webm", frames=3, codec="libvpx-vp9", audio_tracks=1, audio_codec="libopus", subtitles=True)
    info = probe(clip)
    assert [t.codec for t in info.video + info.audio + info.subtitles] == ["vp9", "opus", "webvtt"]
    assert info.subtitles[0].packets == [b"hello", b"world"]
