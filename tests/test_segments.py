"""Segmented, resumable `vsr upscale`: the joined output equals a single run (frames,
timestamps, copied streams), a run killed with -9 resumes to the same file, a changed input
or changed settings are refused, a damaged segment is redone, and inputs that cannot be cut
exactly run in one piece."""

import json
import os
import signal
import subprocess
import sys
import time

import av
import numpy as np
import pytest
from media import make_clip, probe, video_frames_rgb
from test_cli import ROOT, run_cli

import vsr
from vsr.errors import InputError, UsageError
from vsr.video.segments.segmented import upscale_in_segments, work_folder
from vsr.video.segments.cutting import plan_segments

VFR = [0, 40, 100, 110, 200, 380, 400, 460, 470, 600, 640, 700, 900, 910, 960, 1000, 1100, 1180]  # ms
SEGMENT = 0.5  # seconds; clips are made with a keyframe every 6 frames (0.24 s at 25 fps)


@pytest.fixture(scope="module")
def ultra_x2():
    return vsr.load_model("ultra", scale=2, device="cpu")


def _same_output(single, joined, *, pixels: bool) -> None:
    a, b = probe(single), probe(joined)
    assert b.frames == a.frames and b.times == a.times
    assert [t.packets for t in b.audio] == [t.packets for t in a.audio]
    assert [t.times for t in b.audio] == [t.times for t in a.audio]
    assert [t.packets for t in b.subtitles] == [t.packets for t in a.subtitles]
    assert b.chapters == a.chapters and b.metadata == a.metadata
    if pixels:
        assert all(np.array_equal(x, y) for x, y in zip(video_frames_rgb(single), video_frames_rgb(joined), strict=True))


@pytest.mark.parametrize(
    "suffix, codec, clip",
    [
        (".mp4", "libx264", {"frames": 40, "audio_tracks": 1, "subtitles": True, "chapters": True, "metadata": {"title": "t"}}),
        (".mkv", "ffv1", {"frames": 30, "audio_tracks": 1}),
        (".mkv", "libx264", {"pts": VFR}),
        (".mp4", "libx264", {"pts": VFR}),
    ],
    ids=["mp4-x264-streams", "mkv-ffv1", "mkv-vfr", "mp4-vfr"],
)
def test_segments_join_to_what_a_single_run_writes(tmp_path, ultra_x2, suffix, codec, clip):
    src = make_clip(tmp_path / f"in{suffix}", gop=6, **clip)  # x264 default: B-frames
    assert len(plan_segments(src, SEGMENT)) >= 2
    single = vsr.upscale_video(src, tmp_path / f"single{suffix}", model=ultra_x2, codec=codec)
    joined = upscale_in_segments(src, tmp_path / f"joined{suffix}", model=ultra_x2, codec=codec, segment_seconds=SEGMENT)
    assert joined.frames == single.frames and joined.warnings == []
    _same_output(single.output, joined.output, pixels=codec == "ffv1")
    assert not work_folder(joined.output).exists()


def test_a_damaged_segment_is_found_and_redone(tmp_path, ultra_x2):
    src = make_clip(tmp_path / "in.mkv", frames=30, gop=6, codec="ffv1")
    out = tmp_path / "out.mkv"
    first = upscale_in_segments(src, out, model=ultra_x2, codec="ffv1", segment_seconds=SEGMENT, keep_work=True)
    reference = video_frames_rgb(first.output)
    work = work_folder(out)
    damaged = sorted(work.glob("seg-*"))[1]
    damaged.write_bytes(damaged.read_bytes()[: damaged.stat().st_size // 2])
    out.unlink()
    notices = []
    again = upscale_in_segments(src, out, model=ultra_x2, codec="ffv1", segment_seconds=SEGMENT, notify=notices.append)
    assert any("resuming" in n for n in notices) and any(f"{damaged.stem} in" in n and "redone" in n for n in notices)
    assert all(np.array_equal(x, y) for x, y in zip(reference, video_frames_rgb(again.output), strict=True))
    assert not work.exists()


def test_changed_settings_or_input_are_refused_in_one_line(tmp_path, capsys):
    src = make_clip(tmp_path / "in.mp4", frames=30, gop=6)
    out = tmp_path / "out.mp4"
    common = ["-o", out, "--device", "cpu", "--segment-seconds", str(SEGMENT), "--keep-work", "--quiet"]
    assert run_cli(capsys, "upscale", src, *common, "--crf", "20")[0] == 0
    out.unlink()
    code, _, stderr = run_cli(capsys, "upscale", src, *common, "--crf", "30")
    assert code == 2 and "crf" in stderr and "--restart" in stderr and stderr.count("\n") == 1, stderr
    os.utime(src, ns=(time.time_ns(), time.time_ns()))
    code, _, stderr = run_cli(capsys, "upscale", src, *common, "--crf", "20")
    assert code == 2 and "input changed (mtime_ns)" in stderr and stderr.count("\n") == 1, stderr
    assert run_cli(capsys, "upscale", src, *common, "--crf", "20", "--restart")[0] == 0 and out.exists()


def test_pipes_and_urls_cannot_resume(tmp_path, capsys):
    src = make_clip(tmp_path / "in.mp4", frames=6)
    for argv in (["-o", "-"], ["-o", str(tmp_path / "o.mp4")]):
        source = "https://example.invalid/a.mp4" if argv[1] != "-" else src
        code, _, stderr = run_cli(capsys, "upscale", source, *argv, "--resume")
        assert code == 2 and "cannot be split or resumed" in stderr and stderr.count("\n") == 1


def test_an_input_that_cannot_be_cut_exactly_runs_in_one_piece(tmp_path, ultra_x2):
    src = make_clip(tmp_path / "in.avi", frames=20, codec="mpeg4", gop=6)
    notices = []
    result = upscale_in_segments(src, tmp_path / "out.mkv", model=ultra_x2, segment_seconds=SEGMENT, notify=notices.append)
    assert result.frames == 20 and any("in one piece" in n for n in notices)
    assert not work_folder(result.output).exists()


def _done(work):
    try:
        return len(json.loads((work / "manifest.json").read_text())["done"])
    except (OSError, ValueError):
        return 0


def _interrupt_after(argv, work, segments: int, sig: int):
    """Run `vsr upscale ARGV`, send `sig` once `segments` segments are recorded as done."""
    process = subprocess.Popen([sys.executable, "-m", "vsr", "upscale", *argv], cwd=ROOT, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while _done(work) < segments and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert process.poll() is None, "the run ended before it could be stopped: make the clip longer"
        process.send_signal(sig)
        _, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
    return process, stderr


@pytest.mark.parametrize("codec", ["ffv1", "libx264"])
def test_kill_9_half_way_then_resume_gives_the_uninterrupted_output(tmp_path, capsys, ultra_x2, codec):
    suffix = ".mkv" if codec == "ffv1" else ".mp4"
    src = make_clip(tmp_path / f"in{suffix}", size=(96, 64), frames=75, gop=6, audio_tracks=1, subtitles=True)
    out = tmp_path / f"out{suffix}"
    argv = [str(src), "-o", str(out), "--device", "cpu", "--codec", codec, "--segment-seconds", str(SEGMENT), "--quiet"]
    work = work_folder(out)
    _interrupt_after(argv, work, 3, signal.SIGKILL)
    done = _done(work)
    assert 3 <= done < len(plan_segments(src, SEGMENT)) and not out.exists()
    code, _, stderr = run_cli(capsys, "upscale", *argv[:-1], "--resume")
    assert code == 0, stderr
    assert not work.exists()
    single = vsr.upscale_video(src, tmp_path / f"single{suffix}", model=ultra_x2, codec=codec)
    _same_output(single.output, out, pixels=codec == "ffv1")


def test_resume_flags_are_exclusive_and_checked():
    with pytest.raises(UsageError, match="segment_seconds"):
        upscale_in_segments("x.mp4", segment_seconds=0)


def test_ctrl_c_exits_130_and_keeps_the_work_folder(tmp_path):
    src = make_clip(tmp_path / "in.mkv", size=(96, 64), frames=75, gop=6)
    out = tmp_path / "out.mkv"
    argv = [str(src), "-o", str(out), "--device", "cpu", "--segment-seconds", str(SEGMENT), "--quiet"]
    work = work_folder(out)
    process, stderr = _interrupt_after(argv, work, 2, signal.SIGINT)
    assert process.returncode == 130 and "Traceback" not in stderr, stderr
    assert "the same command resumes" in stderr and _done(work) >= 2 and not out.exists()
    assert not [p for p in work.iterdir() if p.name.endswith(".part")]


def test_in_a_batch_each_file_is_segmented_in_its_own_work_folder_and_resumes(tmp_path, capsys):
    inputs = [make_clip(tmp_path / name, gop=6, frames=30) for name in ("a.mkv", "b.mkv")]
    out = tmp_path / "out"
    flags = ["--segment-seconds", str(SEGMENT), "--codec", "ffv1", "--device", "cpu"]
    code, _, err = run_cli(capsys, "upscale", *inputs, "-o", out, *flags, "--keep-work", "--quiet")
    assert code == 0, err
    outputs = sorted(out.glob("*.mkv"))
    assert [p.name for p in outputs] == ["a_x2.mkv", "b_x2.mkv"]
    for output in outputs:
        manifest = json.loads((work_folder(output) / "manifest.json").read_text())
        assert len(manifest["done"]) >= 2  # segments, each its own file in this output's folder
        assert probe(output).frames == 30
    before = video_frames_rgb(outputs[0])
    outputs[0].unlink()  # as if the batch had stopped before writing a's output: its segments are reused
    code, _, err = run_cli(capsys, "upscale", *inputs, "-o", out, *flags)
    assert code == 0, err
    assert "resuming from" in err and "segments done" in err  # a plain rerun finds a's folder and says so
    assert "outputs that exist were skipped" in err  # b was finished: skipped, its work folder left as it was
    assert all(np.array_equal(x, y) for x, y in zip(video_frames_rgb(outputs[0]), before, strict=True)) and len(before) == 30
    assert not work_folder(outputs[0]).exists()  # joined again from its segments; without --keep-work the folder goes


def _clip_that_grows(tmp_path):
    """An mkv whose video is 64x48 for 24 frames, then 96x64 (H.264 with its headers in
    every keyframe, so that the decoder follows the change), keyframes every 6 frames."""
    options = {"x264-params": "repeat-headers=1", "bf": "0"}
    small = make_clip(tmp_path / "small.mkv", size=(64, 48), frames=24, gop=6, codec_options=options)
    large = make_clip(tmp_path / "large.mkv", size=(96, 64), frames=24, gop=6, codec_options=options)
    path = tmp_path / "grows.mkv"
    with av.open(str(small)) as first, av.open(str(large)) as second, av.open(str(path), "w") as out:
        stream = out.add_stream_from_template(first.streams.video[0])
        head = [p for p in first.demux(first.streams.video[0]) if p.dts is not None]
        tail = [p for p in second.demux(second.streams.video[0]) if p.dts is not None]
        offset = max(p.pts for p in head) + 40  # ms: one frame at 25 fps after the last
        for packet in head:
            packet.stream = stream
            out.mux(packet)
        for packet in tail:
            packet.pts, packet.dts, packet.stream = packet.pts + offset, packet.dts + offset, stream
            out.mux(packet)
    return path


def test_a_frame_size_change_treats_the_segmented_run_as_a_single_run(tmp_path, ultra_x2):
    """A segment cannot scale the frames after a change as the whole run does (or refuse
    them where it would): the segmented run goes on in one piece, and does what it does."""
    src = _clip_that_grows(tmp_path)
    assert len(plan_segments(src, SEGMENT)) >= 2
    with pytest.raises(InputError, match="frame size changes from 64x48 to 96x64 at frame 24 of"):
        vsr.upscale_video(src, tmp_path / "single.mkv", model=ultra_x2, codec="ffv1", on_size_change="error")
    with pytest.raises(InputError, match="frame size changes from 64x48 to 96x64 at frame 24 of"):
        upscale_in_segments(src, tmp_path / "joined.mkv", model=ultra_x2, codec="ffv1", segment_seconds=SEGMENT, on_size_change="error")
    assert not (tmp_path / "joined.mkv").exists()
    single = vsr.upscale_video(src, tmp_path / "single.mkv", model=ultra_x2, codec="ffv1")
    joined = upscale_in_segments(src, tmp_path / "joined.mkv", model=ultra_x2, codec="ffv1", segment_seconds=SEGMENT)
    assert joined.frames == single.frames == 48
    assert any("scaled to the first frame's 64x48" in w for w in joined.warnings)
    assert any("the frame size changes mid-stream" in w and "in one piece" in w for w in joined.warnings), joined.warnings
    assert [f.tobytes() for f in video_frames_rgb(joined.output)] == [f.tobytes() for f in video_frames_rgb(single.output)]
