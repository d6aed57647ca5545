"""Interlaced and telecined input (vsr.video.io.deinterlace) on clips made with PyAV from a
known progressive pan: deinterlaced at field rate by default, each field at its time, as
close to the truth as FFmpeg's bwdif; at frame rate; left woven with one warning;
inverse-telecined; mixed content frame by frame; the segmented path as the single run."""

import av
import cv2
import numpy as np
import pytest
from source_media import bwdif_reference, make_interlaced, make_mixed, make_soft_telecined, make_telecined
from test_cli import run_cli

import vsr
from vsr.errors import UsageError
from vsr.presets import load_preset_file
from vsr.video.segments.cutting import plan_segments
from vsr.video.segments.segmented import upscale_in_segments

SIZE = (128, 96)


@pytest.fixture(scope="module")
def ultra_x2():
    return vsr.load_model("ultra", scale=2, device="cpu")


def psnr_y(a: np.ndarray, b: np.ndarray) -> float:
    ya, yb = (cv2.cvtColor(x, cv2.COLOR_RGB2YUV)[..., 0].astype(np.float64) for x in (a, b))
    return float(10 * np.log10(255**2 / np.mean((ya - yb) ** 2)))


def decoded(path):
    """(RGB pictures area-downscaled to SIZE, times in seconds, the stream's field order)."""
    with av.open(str(path)) as clip:
        video = clip.streams.video[0]
        frames = list(clip.decode(video))
        order = video.codec_context.field_order
    pictures = [cv2.resize(f.to_ndarray(format="rgb24"), SIZE, interpolation=cv2.INTER_AREA) for f in frames]
    return pictures, [float(f.time) for f in frames], order


@pytest.mark.parametrize("top_field_first", [True, False], ids=["tff", "bff"])
def test_a_woven_pan_comes_out_progressive_at_field_rate_as_good_as_bwdif(tmp_path, ultra_x2, top_field_first):
    src = tmp_path / "woven.mp4"
    truth = make_interlaced(src, frames=8, size=SIZE, top_field_first=top_field_first)
    result = vsr.upscale_video(src, tmp_path / "out.mkv", model=ultra_x2, codec="ffv1")
    pictures, times, order = decoded(result.output)
    assert result.frames == len(pictures) == 16  # 25i -> 50p
    assert times == pytest.approx([k * 0.02 for k in range(16)], abs=1e-3)  # each frame at its field's time
    assert order == 1  # tagged progressive
    assert [w for w in result.warnings if "flagged interlaced" in w] == [
        f"8 of 8 frame(s) flagged interlaced ({'top' if top_field_first else 'bottom'} field first); "
        "deinterlaced with bwdif at field rate: 8 frame(s) in, 16 progressive frame(s) out"
    ]
    ours = np.mean([psnr_y(p, t) for p, t in zip(pictures, truth, strict=True)])
    bwdif = np.mean([psnr_y(p, t) for p, t in zip(bwdif_reference(src), truth, strict=True)])
    assert ours > bwdif - 1.0, (ours, bwdif)
    # upscaled woven, the same frames are far from the truth: the comparison can fail
    woven = vsr.upscale_video(src, tmp_path / "woven.mkv", model=ultra_x2, codec="ffv1", deinterlace="off")
    combed, _, _ = decoded(woven.output)
    assert np.mean([psnr_y(p, t) for p, t in zip(combed, truth[::2], strict=True)]) < ours - 5


def test_audio_is_copied_as_it_was_beside_the_field_rate_video(tmp_path, ultra_x2):
    from media import probe

    src = tmp_path / "woven.mkv"
    make_interlaced(src, frames=10, size=SIZE, audio=True)
    result = vsr.upscale_video(src, tmp_path / "out.mkv", model=ultra_x2)
    before, after = probe(src), probe(result.output)
    assert after.audio[0].packets == before.audio[0].packets
    assert after.frames == 2 * before.frames and after.times[0] == before.times[0]
    assert after.times[-1] == pytest.approx(before.times[-1] + 0.02, abs=1e-3)  # the last field, half a frame on
    assert after.duration == pytest.approx(before.duration, abs=0.03)


def test_frame_mode_keeps_the_rate_and_off_warns_once(tmp_path, ultra_x2):
    src = tmp_path / "woven.mp4"
    make_interlaced(src, frames=6, size=SIZE)
    kept = vsr.upscale_video(src, tmp_path / "frame.mp4", model=ultra_x2, deinterlace="frame")
    _, times, order = decoded(kept.output)
    assert kept.frames == 6 and order == 1
    assert times == pytest.approx([k * 0.04 for k in range(6)], abs=1e-3)
    woven = vsr.upscale_video(src, tmp_path / "off.mp4", model=ultra_x2, deinterlace="off")
    assert woven.frames == 6
    assert [w for w in woven.warnings if "interlaced" in w] == [
        "6 of 6 frame(s) flagged interlaced (top field first) were upscaled woven, combing and all: deinterlacing is off"
    ]


def test_hard_telecine_comes_back_as_the_film_frames(tmp_path, ultra_x2):
    src = tmp_path / "telecined.mkv"
    film = make_telecined(src, film_frames=12, size=SIZE)
    with av.open(str(src)) as clip:
        assert len(list(clip.decode(video=0))) == 15  # 2:3 pulldown: 4 film frames -> 5 video frames
    result = vsr.upscale_video(src, tmp_path / "film.mkv", model=ultra_x2, codec="ffv1", deinterlace="ivtc")
    pictures, times, order = decoded(result.output)
    assert result.frames == len(pictures) == 12 and order == 1
    assert times == pytest.approx([k * 1001 / 24000 for k in range(12)], abs=1e-3)
    for k, picture in enumerate(pictures):
        scores = [psnr_y(picture, f) for f in film]
        assert int(np.argmax(scores)) == k and max(scores) > 35, (k, scores)


@pytest.mark.parametrize("suffix", [".mkv", ".ts"])
def test_soft_telecine_comes_out_as_the_film_frames_at_exact_times(tmp_path, ultra_x2, suffix):
    src = tmp_path / f"soft{suffix}"
    film = make_soft_telecined(src, film_frames=10, size=SIZE)
    with av.open(str(src)) as clip:
        start = float(clip.streams.video[0].start_time * clip.streams.video[0].time_base)
    result = vsr.upscale_video(src, tmp_path / "film.mkv", model=ultra_x2, codec="ffv1")
    pictures, times, order = decoded(result.output)
    assert result.frames == len(pictures) == 10 and order == 1
    assert times == pytest.approx([start + k * 1001 / 24000 for k in range(10)], abs=1e-3)
    for k, picture in enumerate(pictures):
        scores = [psnr_y(picture, f) for f in film]
        assert int(np.argmax(scores)) == k and max(scores) > 35, (k, scores)


def test_mixed_content_is_deinterlaced_frame_by_frame(tmp_path, ultra_x2):
    src = tmp_path / "mixed.mkv"
    make_mixed(src, progressive=4, interlaced=4, size=SIZE)
    result = vsr.upscale_video(src, tmp_path / "out.mkv", model=ultra_x2)
    _, times, order = decoded(result.output)
    assert result.frames == 12 and order == 1  # 4 progressive, then 4 interlaced at field rate
    assert times == pytest.approx([0, 0.04, 0.08, 0.12, *(0.16 + 0.02 * k for k in range(8))], abs=1e-3)
    assert any(w.startswith("4 of 8 frame(s) flagged interlaced") for w in result.warnings)


def test_a_progressive_input_is_untouched(tmp_path, ultra_x2):
    from media import make_clip

    src = make_clip(tmp_path / "p.mp4", size=(64, 48), frames=6)
    result = vsr.upscale_video(src, tmp_path / "out.mp4", model=ultra_x2)
    assert result.frames == 6 and not [w for w in result.warnings if "interlaced" in w]


@pytest.mark.parametrize("top_field_first", [True, False], ids=["tff", "bff"])
def test_segment_borders_change_no_frame(tmp_path, ultra_x2, top_field_first):
    """bwdif reads the frame before and after each one: a segment decodes its neighbours
    too, so the joined segments equal the single run frame for frame."""
    src = tmp_path / "woven.mp4"
    make_interlaced(src, frames=12, size=SIZE, top_field_first=top_field_first, gop=3)
    assert len(plan_segments(src, 0.1)) >= 3
    single_progress, joined_progress = [], []
    single = vsr.upscale_video(src, tmp_path / "single.mkv", model=ultra_x2, codec="ffv1", on_progress=lambda *a: single_progress.append(a))
    joined = upscale_in_segments(
        src, tmp_path / "joined.mkv", model=ultra_x2, codec="ffv1", segment_seconds=0.1, on_progress=lambda *a: joined_progress.append(a)
    )
    assert joined.frames == single.frames == 24
    assert single_progress[-1] == joined_progress[-1] == (24, 24)  # both count output frames (vsr serve's progress reads them)
    assert not [w for w in joined.warnings if "one piece" in w]
    with av.open(str(joined.output)) as a, av.open(str(single.output)) as b:
        ours, theirs = list(a.decode(video=0)), list(b.decode(video=0))
    assert [f.time for f in ours] == [f.time for f in theirs]
    assert all(np.array_equal(x.to_ndarray(), y.to_ndarray()) for x, y in zip(ours, theirs, strict=True))


def test_an_interlaced_segmented_run_resumes(tmp_path, ultra_x2):
    from vsr.video.segments.segmented import work_folder

    src = tmp_path / "woven.mp4"
    make_interlaced(src, frames=9, size=SIZE, gop=3)
    out = tmp_path / "joined.mkv"
    first = upscale_in_segments(src, out, model=ultra_x2, codec="ffv1", segment_seconds=0.1, keep_work=True)
    segments = sorted(work_folder(out).glob("seg-*"))
    assert first.frames == 18 and len(segments) == 3
    segments[1].unlink()
    out.unlink()
    again = upscale_in_segments(src, out, model=ultra_x2, codec="ffv1", segment_seconds=0.1, resume="resume")
    assert again.frames == 18 and any("seg-00001" in w and "redone" in w for w in again.warnings)
    single = vsr.upscale_video(src, tmp_path / "single.mkv", model=ultra_x2, codec="ffv1")
    with av.open(str(out)) as a, av.open(str(single.output)) as b:
        assert all(np.array_equal(x.to_ndarray(), y.to_ndarray()) for x, y in zip(a.decode(video=0), b.decode(video=0), strict=True))


def test_ivtc_runs_in_one_piece_with_a_notice(tmp_path, ultra_x2):
    src = tmp_path / "telecined.mkv"
    make_telecined(src, film_frames=8, size=SIZE)
    joined = upscale_in_segments(src, tmp_path / "joined.mkv", model=ultra_x2, codec="ffv1", segment_seconds=0.1, deinterlace="ivtc")
    assert joined.frames == 8
    assert any("inverse telecine matches fields across segment borders" in w for w in joined.warnings)


def test_the_flag_the_api_and_presets_take_deinterlace(tmp_path, capsys):
    with pytest.raises(UsageError, match="deinterlace must be one of auto, off, field, frame, ivtc"):
        vsr.upscale_video(tmp_path / "x.mp4", tmp_path / "y.mp4", deinterlace="yadif")
    preset = tmp_path / "film.toml"
    preset.write_text('description = "film sources"\ndeinterlace = "ivtc"\n')
    assert load_preset_file(preset).deinterlace == "ivtc"
    preset.write_text('description = "film sources"\ndeinterlace = "weave"\n')
    with pytest.raises(UsageError, match="deinterlace must be one of"):
        load_preset_file(preset)
    with pytest.raises(SystemExit) as exit_info:
        run_cli(capsys, "upscale", tmp_path / "x.mp4", "--deinterlace", "weave")
    assert exit_info.value.code == 2


def test_vsr_live_reads_an_interlaced_file_deinterlaced_at_field_rate(tmp_path):
    import threading

    from vsr.live.sources import open_source

    src = tmp_path / "woven.mp4"
    make_interlaced(src, frames=4, size=SIZE)
    source = open_source(str(src))
    try:
        source.paced = False
        frames = list(source.frames(threading.Event()))
    finally:
        source.close()
    assert len(frames) == 8 and source.rate == pytest.approx(50)
    assert frames[0].image.shape == (96, 128, 3)


def test_frames_ffmpeg_cannot_deinterlace_are_one_line_with_a_hint():
    from fractions import Fraction

    from vsr.errors import InputError
    from vsr.video.io.deinterlace import Deinterlacer, plan_deinterlace

    flat = av.VideoFrame(8, 2, "yuv420p")  # two lines: bwdif needs more
    plan = plan_deinterlace("field", 0, flat, Fraction(1, 25), Fraction(25))
    with pytest.raises(InputError, match=r"FFmpeg's bwdif cannot deinterlace yuv420p 8x2 frames .*; pass deinterlace=off"):
        Deinterlacer(plan, Fraction(1, 25), Fraction(25)).push(flat, 0)


def test_mixed_content_in_segments_runs_in_one_piece_as_the_single_run(tmp_path, ultra_x2):
    src = tmp_path / "mixed.mkv"
    make_mixed(src, progressive=4, interlaced=4, size=SIZE)
    assert len(plan_segments(src, 0.1)) == 2
    joined = upscale_in_segments(src, tmp_path / "joined.mkv", model=ultra_x2, segment_seconds=0.1)
    assert joined.frames == 12
    assert any("interlaced frames after progressive ones" in w and "in one piece" in w for w in joined.warnings), joined.warnings
