"""`vsr upscale` with the habits of FFmpeg users: -an, -sn, --map, --audio-codec, audio
WebM cannot hold re-encoded with one notice, containers from the output's suffix, and
--start/--duration (-ss/-t) trimming the video and every passed-through stream alike."""

import cv2
import numpy as np
import pytest

from media import make_clip, probe, reference_frame, video_frames_rgb
from vsr import upscale_video
from vsr.cli import main
from vsr.errors import UsageError


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """Two AAC tracks and subtitles, 1 s at 25 fps (a keyframe every 10 frames)."""
    return make_clip(tmp_path_factory.mktemp("clips") / "clip.mkv", size=(32, 24), frames=25, audio_tracks=2, subtitles=True)


def run_cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def upscale(capsys, clip, out, *flags):
    code, _, err = run_cli(capsys, "upscale", clip, "-o", out, "--device", "cpu", *flags)
    assert code == 0, err
    return probe(out), err


def test_an_sn_and_map_choose_what_is_kept(tmp_path, capsys, clip):
    source = probe(clip)
    no_audio, _ = upscale(capsys, clip, tmp_path / "an.mkv", "-an")
    assert no_audio.audio == [] and len(no_audio.subtitles) == 1 and no_audio.frames == 25
    no_subs, _ = upscale(capsys, clip, tmp_path / "sn.mkv", "--no-subtitles")
    assert len(no_subs.audio) == 2 and no_subs.subtitles == []
    second, _ = upscale(capsys, clip, tmp_path / "map.mkv", "--map", "0:a:1")
    assert [t.packets for t in second.audio] == [source.audio[1].packets] and second.subtitles == []
    code, _, err = run_cli(capsys, "upscale", clip, "-o", tmp_path / "bad.mkv", "--map", "a:5", "--device", "cpu")
    assert code == 2 and "'a:5' matches none of the input's streams; change --map" in err
    assert not (tmp_path / "bad.mkv").exists()


def test_webm_picks_vp9_and_re_encodes_aac_to_opus_with_one_notice(tmp_path, capsys, clip):
    written, err = upscale(capsys, clip, tmp_path / "out.webm")
    assert written.video[0].codec == "vp9" and written.frames == 25
    assert [t.codec for t in written.audio] == ["opus", "opus"]
    assert err.count("re-encoding it with libopus") == 2  # one notice per stream
    assert "subtitle stream" in err  # subrip does not go into WebM: named, not silent


def test_audio_codec_re_encodes_on_request_in_any_container(tmp_path, capsys, clip):
    written, _ = upscale(capsys, clip, tmp_path / "flac.mkv", "--audio-codec", "flac", "-sn")
    assert [t.codec for t in written.audio] == ["flac", "flac"]
    code, _, err = run_cli(capsys, "upscale", clip, "-o", tmp_path / "x.webm", "--audio-codec", "copy", "--device", "cpu")
    assert code == 2 and "cannot hold the input's audio stream" in err and "--audio-codec" in err
    code, _, err = run_cli(capsys, "upscale", clip, "-o", tmp_path / "y.mkv", "--audio-codec", "libx264", "--device", "cpu")
    assert code == 2 and "not an audio one" in err


@pytest.mark.parametrize("suffix,codec", [(".avi", "h264"), (".ts", "h264"), (".y4m", "rawvideo")])
def test_avi_ts_and_y4m_are_written(tmp_path, capsys, suffix, codec):
    src = make_clip(tmp_path / "in.mp4", size=(32, 24), frames=5, audio_tracks=1)
    written, err = upscale(capsys, src, tmp_path / f"out{suffix}")
    assert (written.video[0].codec, written.frames, written.width, written.height) == (codec, 5, 64, 48)
    times = sorted(written.times)  # AVI stores no pts: B-frames read back one frame late, in decode order
    assert [t - times[0] for t in times] == pytest.approx([i / 25 for i in range(5)], abs=1e-3)
    if suffix == ".y4m":  # Y4M holds one video stream: the audio is named as left out
        assert written.audio == [] and "cannot hold the input's audio stream #1 (aac); it was left out" in " ".join(err.split())
    else:  # the audio copied as it was (MPEG-TS puts each AAC packet behind an ADTS header)
        copied, original = written.audio[0].packets, probe(src).audio[0].packets
        assert len(copied) == len(original) and all(c.endswith(o) for c, o in zip(copied, original, strict=True))


def frame_numbers(path, size=(32, 24), frames=50) -> list[int]:
    """Which source frame each output frame shows (the moving square and the blue level
    tell them apart): the reference frame nearest to it, brought back to the source size."""
    references = np.stack([reference_frame(i, size).astype(np.float32) for i in range(frames)])
    shown = []
    for rgb in video_frames_rgb(path):
        small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA).astype(np.float32)
        shown.append(int(np.argmin(((references - small) ** 2).mean(axis=(1, 2, 3)))))
    return shown


@pytest.mark.parametrize("suffix", [".mkv", ".mp4"])
def test_start_and_duration_keep_exact_frames_and_cut_the_other_streams_alike(tmp_path, capsys, suffix):
    """2 s at 25 fps, a keyframe every 10 frames: -ss 0.5 lands between keyframes (0.4 and
    0.8), so the seek goes to 0.4 and the frames before 0.5 are decoded, not kept."""
    src = make_clip(tmp_path / f"in{suffix}", size=(32, 24), frames=50, audio_tracks=1, gop=10)
    source = probe(src)
    written, err = upscale(capsys, src, tmp_path / f"out{suffix}", "-ss", "0.5", "-t", "0:01")
    assert frame_numbers(tmp_path / f"out{suffix}") == list(range(13, 38))  # 0.52 s ... 1.48 s, exactly
    assert written.times[0] == pytest.approx(0.02, abs=1e-3) and written.times[-1] == pytest.approx(0.98, abs=1e-3)
    kept = [p for p, t in zip(source.audio[0].packets, source.audio[0].times, strict=True) if 0.5 <= t < 1.5]
    assert written.audio[0].packets == kept  # copied whole, from the start to the end
    assert written.audio[0].times[0] == pytest.approx(source.audio[0].times[source.audio[0].packets.index(kept[0])] - 0.5, abs=2e-3)


def test_a_start_alone_runs_to_the_end_and_a_duration_alone_from_the_top(tmp_path, capsys):
    src = make_clip(tmp_path / "in.mkv", size=(32, 24), frames=50, audio_tracks=1, subtitles=True, gop=10)
    upscale(capsys, src, tmp_path / "tail.mkv", "--start", "1.3")
    assert frame_numbers(tmp_path / "tail.mkv") == list(range(33, 50))
    head, _ = upscale(capsys, src, tmp_path / "head.mkv", "--duration", "0.2")
    assert frame_numbers(tmp_path / "head.mkv") == [0, 1, 2, 3, 4]
    assert head.subtitles[0].packets == [b"hello"]  # the cue at 0 s is inside, the one at 0.24 s is not


def test_a_ts_trim_keeps_every_frame_though_its_seek_lands_past_the_keyframe(tmp_path, capsys):
    """MPEG-TS seeks by bytes: FFmpeg lands on the packet after the target, not on a
    keyframe before it. The seek goes back until it finds one: no frame of the part is lost."""
    src = make_clip(tmp_path / "in.ts", size=(32, 24), frames=50, audio_tracks=1, gop=12)
    upscale(capsys, src, tmp_path / "out.mkv", "-ss", "1", "-t", "0.4")
    assert frame_numbers(tmp_path / "out.mkv") == list(range(25, 35))
    upscale(capsys, src, tmp_path / "early.mkv", "-ss", "0.3", "-t", "0.2")
    assert frame_numbers(tmp_path / "early.mkv") == list(range(8, 13))  # 0.32 ... 0.48 s


def test_a_part_with_no_frame_is_one_line_and_leaves_no_output(tmp_path, capsys, clip):
    code, _, err = run_cli(capsys, "upscale", clip, "-o", tmp_path / "z.mkv", "--device", "cpu", "-ss", "5")
    errors = [line for line in err.splitlines() if "error" in line]
    assert code == 1 and errors == ["vsr upscale: error: clip.mkv has no video frame from 5 s to the end; change --start"], err
    assert list(tmp_path.iterdir()) == []


def test_bad_times_are_one_line(tmp_path, capsys, clip):
    with pytest.raises(SystemExit) as parsing:
        main(["upscale", str(clip), "-ss", "soon"])
    assert parsing.value.code == 2 and "not a time: 'soon'" in capsys.readouterr().err
    for flags, words in ((["-t", "0"], "duration must be more than 0"), (["-ss", "1", "--resume"], "in one piece")):
        code, _, err = run_cli(capsys, "upscale", clip, "-o", tmp_path / "x.mkv", "--device", "cpu", *flags)
        assert code == 2 and words in err and err.count("\n") == 1, err
    with pytest.raises(UsageError, match="start must be 0 s or later"):
        upscale_video(clip, tmp_path / "y.mkv", start=-1)


def test_gif_is_written_with_a_palette_per_frame(tmp_path, capsys):
    src = make_clip(tmp_path / "in.mp4", size=(32, 24), frames=6, audio_tracks=1)
    written, err = upscale(capsys, src, tmp_path / "out.gif")
    assert (written.video[0].codec, written.frames, written.width, written.height) == ("gif", 6, 64, 48)
    assert written.times == pytest.approx([i / 25 for i in range(6)], abs=1e-3)
    assert frame_numbers(tmp_path / "out.gif", frames=6) == list(range(6))  # every frame, in order
    first = cv2.resize(video_frames_rgb(tmp_path / "out.gif")[0], (32, 24), interpolation=cv2.INTER_AREA).astype(float)
    assert np.abs(first - reference_frame(0, (32, 24))).mean() < 6  # 256 colours of its own: close to the source
    assert "it was left out" in err  # GIF holds no audio: named


def write_sequence(folder, frames=6, name="f{:04d}.png"):
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(frames):
        cv2.imwrite(str(folder / name.format(i + 1)), reference_frame(i, (32, 24))[:, :, ::-1])
    return folder


def test_an_image_sequence_is_an_input_by_pattern_or_as_a_folder_with_a_framerate(tmp_path, capsys):
    shots = write_sequence(tmp_path / "shots")
    code, _, err = run_cli(capsys, "upscale", shots / "f%04d.png", "--device", "cpu", "--quiet")
    assert code == 0, err
    written = probe(tmp_path / "shots_x2.mkv")  # named after the folder, beside it
    assert written.frames == 6 and written.times == pytest.approx([i / 25 for i in range(6)], abs=1e-3)
    assert frame_numbers(tmp_path / "shots_x2.mkv", frames=6) == list(range(6))
    paced, _ = upscale(capsys, shots, tmp_path / "paced.mp4", "--framerate", "10")
    assert paced.frames == 6 and paced.times == pytest.approx([i / 10 for i in range(6)], abs=1e-3)
    clip = make_clip(tmp_path / "c.mp4", size=(32, 24), frames=2)
    code, _, err = run_cli(capsys, "upscale", clip, "--framerate", "10", "--device", "cpu")
    assert code == 2 and "--framerate is for image sequences" in err


def test_an_image_sequence_is_an_output(tmp_path, capsys):
    src = make_clip(tmp_path / "in.mp4", size=(32, 24), frames=5)
    code, _, err = run_cli(capsys, "upscale", src, "-o", tmp_path / "out" / "%04d.png", "--device", "cpu", "--quiet")
    assert code == 0, err
    files = sorted((tmp_path / "out").iterdir())
    assert [f.name for f in files] == [f"{i:04d}.png" for i in range(1, 6)]
    for i, file in enumerate(files):
        rgb = cv2.imread(str(file))[:, :, ::-1]
        assert rgb.shape == (48, 64, 3)
        small = cv2.resize(rgb, (32, 24), interpolation=cv2.INTER_AREA).astype(float)
        assert np.abs(small - reference_frame(i, (32, 24))).mean() < 6
    code, _, err = run_cli(capsys, "upscale", src, "-o", tmp_path / "out" / "%04d.png", "--device", "cpu")
    assert code == 1 and "0001.png exists" in err and "--overwrite" in err
    assert run_cli(capsys, "upscale", src, "-o", tmp_path / "out" / "%04d.png", "-y", "--device", "cpu", "--quiet")[0] == 0


def test_a_failed_sequence_output_leaves_none_of_its_files(tmp_path):
    src = make_clip(tmp_path / "in.mp4", size=(32, 24), frames=30)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "notes.txt").write_text("mine")

    def fail_midway(done, expected):
        if done >= 3:
            raise RuntimeError("stop here")

    with pytest.raises(RuntimeError, match="stop here"):
        upscale_video(src, str(tmp_path / "out" / "%04d.png"), device="cpu", on_progress=fail_midway)
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["notes.txt"]
