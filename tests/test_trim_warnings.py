"""The reading warnings of a trimmed run (--start/--duration) count the kept part only.

The input is decoded from the keyframe before the start, past the end by a frame (and by
a second where audio is copied), and bwdif takes neighbours from outside the part: none of
those frames may be counted, as interlaced, as deinterlaced or as of another size."""

import pytest
from source_media import make_interlaced, make_mixed, make_size_change_ts
from test_cli import run_cli

import vsr

SIZE = (128, 96)


@pytest.fixture(scope="module")
def ultra_x2():
    return vsr.load_model("ultra", scale=2, device="cpu")


@pytest.fixture(scope="module")
def woven(tmp_path_factory):
    """20 frames at 25i, top field first, a keyframe every 5, with audio (so the input is
    read a second past the end of a part, for the audio packets around it)."""
    path = tmp_path_factory.mktemp("woven") / "woven.mkv"
    make_interlaced(path, frames=20, size=SIZE, audio=True, gop=5)
    return path


def interlace_warnings(result) -> list[str]:
    return [w for w in result.warnings if "interlaced" in w]


def test_a_trimmed_interlaced_run_counts_the_kept_frames_in_and_out(tmp_path, ultra_x2, woven):
    """-ss 0.48 lies between the keyframes at 0.4 and 0.6: frames 10 and 11 are decoded for
    the seek, frames 18 and 19 for the audio, and bwdif sees frame 11 and 18 as neighbours."""
    result = vsr.upscale_video(woven, tmp_path / "out.mkv", model=ultra_x2, start=0.48, duration=0.24)
    assert result.frames == 12  # input frames 12 ... 17, at field rate
    assert interlace_warnings(result) == [
        "6 of 6 frame(s) flagged interlaced (top field first); deinterlaced with bwdif at field rate: 6 frame(s) in, 12 progressive frame(s) out"
    ]
    off = vsr.upscale_video(woven, tmp_path / "off.mkv", model=ultra_x2, start=0.48, duration=0.24, deinterlace="off")
    assert off.frames == 6
    assert interlace_warnings(off) == ["6 of 6 frame(s) flagged interlaced (top field first) were upscaled woven, combing and all: deinterlacing is off"]


def test_the_cli_warns_with_the_kept_counts(tmp_path, capsys, woven):
    code, _, err = run_cli(capsys, "upscale", woven, "-o", tmp_path / "cli.mkv", "--model", "ultra", "--device", "cpu", "-ss", "0.2", "-t", "0.4")
    said = " ".join(err.split())  # the warning may be wrapped on a terminal
    assert code == 0, err
    assert "10 of 10 frame(s) flagged interlaced (top field first); deinterlaced with bwdif at field rate: 10 frame(s) in, 20 progressive" in said, err


def test_a_trim_of_the_progressive_part_of_mixed_content_warns_of_no_interlacing(tmp_path, ultra_x2):
    """The interlaced frame just after the part is decoded (the read stops at it) but not kept."""
    src = tmp_path / "mixed.mkv"
    make_mixed(src, progressive=4, interlaced=4, size=SIZE)
    result = vsr.upscale_video(src, tmp_path / "out.mkv", model=ultra_x2, duration=0.16)
    assert result.frames == 4 and interlace_warnings(result) == []


@pytest.fixture(scope="module")
def dvb(tmp_path_factory):
    """A TS of 6 frames at 320x180, then 6 at 480x270 (from 0.24 s), at 25 fps."""
    path = tmp_path_factory.mktemp("dvb") / "dvb.ts"
    make_size_change_ts(path, sizes=((320, 180), (480, 270)), frames=6)
    return path


def size_warnings(result) -> list[str]:
    return [w for w in result.warnings if "mid-stream" in w]


def test_a_size_change_after_the_kept_part_is_not_warned_of_nor_refused(tmp_path, ultra_x2, dvb):
    """The first 480x270 frame (0.24 s) is decoded to find the end of the part, then dropped."""
    result = vsr.upscale_video(dvb, tmp_path / "out.mkv", model=ultra_x2, start=0.04, duration=0.2)
    assert result.frames == 5 and size_warnings(result) == []
    strict = vsr.upscale_video(dvb, tmp_path / "strict.mkv", model=ultra_x2, start=0.04, duration=0.2, on_size_change="error")
    assert strict.frames == 5


def test_a_size_change_inside_the_kept_part_counts_only_its_changed_frames(tmp_path, ultra_x2, dvb):
    result = vsr.upscale_video(dvb, tmp_path / "out.mkv", model=ultra_x2, start=0.16, duration=0.16)
    assert result.frames == 4  # 0.16 ... 0.28 s: two frames of each size
    assert size_warnings(result) == ["the input changes mid-stream: 2 frame(s) of another size (480x270) were scaled to the first frame's 320x180"]
