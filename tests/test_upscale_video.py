"""`vsr.upscale_video` end to end on clips made with PyAV: every frame with its timestamp,
every audio/subtitle packet byte for byte, metadata, chapters, rotation, colour, odd sizes,
10-bit, encoders, and nothing left behind when something fails."""

import os
import threading
from fractions import Fraction

import av
import numpy as np
import pytest

import vsr
from media import make_clip, probe, reference_frame, video_frames_rgb
from vsr.errors import InputError, OutputError, UsageError


@pytest.fixture(scope="module")
def ultra_x2():
    return vsr.load_model("ultra", scale=2, device="cpu")


def _leftovers(folder):
    return [p.name for p in folder.iterdir() if p.name.endswith(".part")]


def test_cfr_clip_keeps_frames_timestamps_audio_and_metadata(tmp_path, ultra_x2):
    src = make_clip(tmp_path / "in.mp4", size=(64, 48), frames=12, audio_tracks=1, metadata={"title": "a test"})
    result = vsr.upscale_video(src, tmp_path / "out.mp4", model=ultra_x2)
    before, after = probe(src), probe(result.output)
    assert result.frames == 12 and (after.width, after.height) == (128, 96)
    assert after.times == pytest.approx(before.times, abs=1e-6)
    assert after.audio[0].packets == before.audio[0].packets
    assert after.metadata["title"] == "a test"
    assert abs(after.duration - before.duration) < 0.05
    assert set(result.stage_busy) == {"decode", "model", "encode"} and result.warnings == []
    # frame order: frame i looks most like reference frame i
    for i, frame in enumerate(video_frames_rgb(result.output)):
        small = frame[::2, ::2].astype(float)
        errors = [np.abs(small - reference_frame(j, (64, 48))).mean() for j in range(12)]
        assert int(np.argmin(errors)) == i


@pytest.mark.parametrize("suffix", [".mkv", ".mp4"])
def test_variable_frame_rate_timestamps_survive(tmp_path, ultra_x2, suffix):
    pts = [0, 40, 100, 110, 200, 380, 400, 460]
    src = make_clip(tmp_path / f"vfr{suffix}", pts=pts, frames=len(pts), audio_tracks=1)
    result = vsr.upscale_video(src, tmp_path / f"out{suffix}", model=ultra_x2)
    out = result.output
    assert result.warnings == []
    assert probe(out).times == pytest.approx([p / 1000 for p in pts], abs=1e-6)
    assert probe(out).audio[0].packets == probe(src).audio[0].packets


def test_two_audio_tracks_subtitles_chapters_and_languages_are_copied(tmp_path, ultra_x2):
    src = make_clip(tmp_path / "multi.mkv", frames=12, audio_tracks=2, audio_languages=["eng", "ger"], subtitles=True, chapters=True, metadata={"title": "t"})
    result = vsr.upscale_video(src, tmp_path / "multi_x2.mkv", model=ultra_x2)
    before, after = probe(src), probe(result.output)
    assert [t.language for t in after.audio] == ["eng", "ger"]
    assert [t.packets for t in after.audio] == [t.packets for t in before.audio]
    assert [t.packets for t in after.subtitles] == [t.packets for t in before.subtitles] and after.subtitles[0].packets
    assert [title for _, _, title in after.chapters] == [title for _, _, title in before.chapters] and len(after.chapters) == 2
    assert [t for start, end, _ in after.chapters for t in (start, end)] == pytest.approx([t for start, end, _ in before.chapters for t in (start, end)])
    assert after.metadata.get("title") == "t"
    assert result.warnings == []


def test_subtitles_the_output_container_cannot_hold_are_reported(tmp_path, ultra_x2):
    src = make_clip(tmp_path / "subs.mkv", frames=6, audio_tracks=1, subtitles=True)
    result = vsr.upscale_video(src, tmp_path / "subs.mp4", model=ultra_x2)
    assert any("subtitle" in w and "left out" in w for w in result.warnings)
    assert probe(result.output).audio[0].packets == probe(src).audio[0].packets


def test_rotation_aspect_ratio_and_colour_tags_are_kept(tmp_path, ultra_x2):
    tags = {"color_primaries": 1, "color_trc": 1, "colorspace": 1, "color_range": 1}
    src = make_clip(tmp_path / "rot.mp4", frames=6, rotation=90, colour=tags, sar=Fraction(4, 3))
    after = probe(vsr.upscale_video(src, tmp_path / "rot_x2.mp4", model=ultra_x2).output)
    assert after.rotation == 90 and after.sar == Fraction(4, 3) and after.colour == tags


def test_untagged_sd_input_is_tagged_with_the_matrix_it_was_converted_with(tmp_path, ultra_x2):
    src = make_clip(tmp_path / "plain.mp4", frames=4)
    after = probe(vsr.upscale_video(src, tmp_path / "plain_x2.mp4", model=ultra_x2).output)
    assert after.colour["colorspace"] == 6 and after.colour["color_range"] == 1  # BT.601 limited


def test_odd_sizes_come_out_whole_in_a_format_the_encoder_takes(tmp_path):
    src = make_clip(tmp_path / "odd.mkv", size=(63, 37), frames=5, codec="ffv1")  # odd 4:2:0 in
    assert probe(src).pix_fmt == "yuv420p"
    result = vsr.upscale_video(src, tmp_path / "odd_x3.mkv", scale=3, device="cpu")
    after = probe(result.output)
    assert (after.width, after.height, after.frames) == (189, 111, 5) and after.pix_fmt == "yuv444p"
    assert any("odd-sized" in w for w in result.warnings)
    even = vsr.upscale_video(src, tmp_path / "odd_x2.mkv", scale=2, device="cpu")  # 126x74: 4:2:0 fits
    assert probe(even.output).pix_fmt == "yuv420p" and (probe(even.output).width, probe(even.output).height) == (126, 74)


def test_ten_bit_input_gives_ten_bit_output(tmp_path, ultra_x2):
    src = make_clip(tmp_path / "deep.mkv", frames=5, pix_fmt="yuv420p10le")
    result = vsr.upscale_video(src, tmp_path / "deep_x2.mkv", model=ultra_x2)
    assert result.pix_fmt == "yuv420p10le" and probe(result.output).pix_fmt == "yuv420p10le"


@pytest.fixture
def keeps_scheduling():
    """SVT-AV1, opened as root, makes the calling thread SCHED_FIFO 99 (real time); put the
    test's thread back, or every process a later test starts inherits it."""
    policy, param = os.sched_getscheduler(0), os.sched_getparam(0)
    yield
    if (os.sched_getscheduler(0), os.sched_getparam(0)) != (policy, param):
        os.sched_setscheduler(0, policy, param)


@pytest.mark.parametrize("codec,suffix", [("libx265", ".mp4"), ("libvpx-vp9", ".webm"), ("libsvtav1", ".mkv"), ("ffv1", ".mkv")])
def test_each_software_encoder_writes_a_playable_file(tmp_path, ultra_x2, codec, suffix, keeps_scheduling):
    src = make_clip(tmp_path / "in.mkv", frames=4, audio_tracks=1 if suffix != ".webm" else 0)
    result = vsr.upscale_video(src, tmp_path / f"out{suffix}", model=ultra_x2, codec=codec, crf=30 if codec != "ffv1" else None)
    assert probe(result.output).frames == 4 and result.codec == codec


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="SVT-AV1 raises a thread's priority only for root")
def test_an_svt_av1_run_leaves_the_callers_thread_at_its_own_priority(tmp_path, ultra_x2, keeps_scheduling):
    before = os.sched_getscheduler(0), os.sched_getparam(0)
    src = make_clip(tmp_path / "in.mkv", frames=2, audio_tracks=0)
    vsr.upscale_video(src, tmp_path / "out.mkv", model=ultra_x2, codec="libsvtav1", crf=30)
    assert (os.sched_getscheduler(0), os.sched_getparam(0)) == before


def test_nvenc_that_does_not_open_falls_back_with_a_notice(tmp_path, ultra_x2):
    from vsr.video.io.codecs import encoder_opens

    if encoder_opens("h264_nvenc", 128, 96, "yuv420p"):
        pytest.skip("this machine has NVENC")
    src = make_clip(tmp_path / "in.mp4", frames=3)
    result = vsr.upscale_video(src, tmp_path / "out.mp4", model=ultra_x2, codec="h264_nvenc", crf=23, encoder_preset="p4")
    assert result.codec == "libx264" and any("h264_nvenc" in w for w in result.warnings)  # x264 never sees "p4"


def test_default_output_is_beside_the_input_in_its_container(tmp_path, ultra_x2):
    src = make_clip(tmp_path / "clip.mov", frames=3)
    assert vsr.upscale_video(src, model=ultra_x2).output == tmp_path / "clip_x2.mov"
    avi_like = make_clip(tmp_path / "webm.webm", frames=3, codec="libvpx-vp9")
    assert vsr.upscale_video(avi_like, model=ultra_x2).output == tmp_path / "webm_x2.mkv"  # webm cannot hold H.264


def test_existing_output_is_kept_unless_overwrite(tmp_path, ultra_x2):
    src = make_clip(tmp_path / "in.mp4", frames=3)
    target = tmp_path / "out.mp4"
    target.write_bytes(b"precious")
    with pytest.raises(OutputError, match="overwrite=True"):
        vsr.upscale_video(src, target, model=ultra_x2)
    assert target.read_bytes() == b"precious"
    vsr.upscale_video(src, target, model=ultra_x2, overwrite=True)
    assert probe(target).frames == 3
    with pytest.raises(UsageError, match="overwrite the input"):
        vsr.upscale_video(src, src, model=ultra_x2, overwrite=True)


def test_bad_inputs_are_one_clear_line(tmp_path, ultra_x2):
    (tmp_path / "empty.mp4").write_bytes(b"")
    (tmp_path / "notes.mp4").write_text("these are not the frames you are looking for\n" * 20)
    audio_only = make_clip(tmp_path / "a.mkv", frames=3, audio_tracks=1)
    with av.open(str(audio_only)) as c, av.open(str(tmp_path / "audio.mka"), "w") as out:
        stream = out.add_stream_from_template(c.streams.audio[0])
        for packet in c.demux(c.streams.audio[0]):
            if packet.size:
                packet.stream = stream
                out.mux(packet)
    cases = {
        tmp_path / "missing.mp4": "not found",
        tmp_path: "not a file",
        tmp_path / "empty.mp4": "empty",
        tmp_path / "notes.mp4": "not a video",
        tmp_path / "audio.mka": "no video stream",
    }
    for path, words in cases.items():
        with pytest.raises(InputError, match=words) as raised:
            vsr.upscale_video(path, tmp_path / "out.mkv", model=ultra_x2)
        assert "\n" not in str(raised.value)
    assert not (tmp_path / "out.mkv").exists() and not _leftovers(tmp_path)


def test_truncated_input_keeps_every_frame_that_decodes_and_says_what_was_lost(tmp_path, ultra_x2):
    src = make_clip(tmp_path / "whole.mkv", frames=40, audio_tracks=1)
    data = src.read_bytes()
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(data[: len(data) * 6 // 10])
    result = vsr.upscale_video(cut, tmp_path / "cut_x2.mkv", model=ultra_x2)
    decodable = len(video_frames_rgb(cut))
    assert 0 < result.frames == decodable < 40
    assert probe(result.output).frames == decodable
    assert any("truncated" in w for w in result.warnings)


def test_corrupt_packets_in_the_middle_are_skipped_and_counted(tmp_path, ultra_x2):
    src = make_clip(tmp_path / "whole.mp4", size=(96, 64), frames=40)
    data = bytearray(src.read_bytes())
    with av.open(str(src)) as c:  # damage the payload of packets 15..20, keep the container intact
        spans = [(p.pos, p.size) for p in c.demux(video=0) if p.size and p.pos is not None][15:21]
    rng = np.random.default_rng(0)
    for pos, size in spans:
        data[pos + 4 : pos + size] = rng.integers(0, 256, size - 4, dtype=np.uint8).tobytes()
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(bytes(data))
    result = vsr.upscale_video(bad, tmp_path / "bad_x2.mp4", model=ultra_x2)
    assert result.frames == probe(result.output).frames >= 30
    if result.frames < 40:
        assert any("damaged input" in w for w in result.warnings)


def _vsr_threads():
    return [t for t in threading.enumerate() if t.name.startswith("vsr-")]


@pytest.mark.parametrize("stage", ["decode", "model", "encode"])
def test_a_failure_in_any_stage_stops_the_run_and_leaves_no_output(tmp_path, ultra_x2, monkeypatch, stage):
    from vsr.video.io import sink, source
    from vsr.video.stages import engine

    calls = {"n": 0}

    def fail_on_third(original):
        def wrapped(*args, **kwargs):
            calls["n"] += 1
            if calls["n"] == 3:
                raise RuntimeError(f"injected {stage} failure")
            return original(*args, **kwargs)

        return wrapped

    target = {"decode": (source.VideoSource, "_pack"), "model": (engine.FrameUpscaler, "upscale"), "encode": (sink.VideoSink, "write_frame")}[stage]
    monkeypatch.setattr(target[0], target[1], fail_on_third(getattr(*target)))
    src = make_clip(tmp_path / "in.mp4", frames=30, audio_tracks=1)
    outcome = []

    def run():
        try:
            vsr.upscale_video(src, tmp_path / "out.mp4", model=ultra_x2, batch=2)
        except BaseException as exc:
            outcome.append(exc)

    runner = threading.Thread(target=run)
    runner.start()
    runner.join(timeout=60)  # a hang fails the test instead of hanging CI
    assert not runner.is_alive(), "the run did not stop within 60 s"
    with pytest.raises(RuntimeError, match=f"injected {stage}") as raised:
        raise outcome[0]
    assert any(stage in note for note in raised.value.__notes__)
    assert not (tmp_path / "out.mp4").exists() and not _leftovers(tmp_path)
    assert not _vsr_threads()


def test_interrupt_leaves_no_output_and_no_threads(tmp_path, ultra_x2):
    src = make_clip(tmp_path / "in.mp4", frames=60)

    def interrupt(done, expected):
        if done >= 4:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        vsr.upscale_video(src, tmp_path / "out.mp4", model=ultra_x2, batch=2, on_progress=interrupt)
    assert not (tmp_path / "out.mp4").exists() and not _leftovers(tmp_path)
    assert not _vsr_threads()


def test_frame_iterator_takes_numpy_and_pyav_frames(tmp_path, ultra_x2):
    arrays = [reference_frame(i, (30, 20)) for i in range(5)]
    out = list(vsr.upscale_frames(arrays, model=ultra_x2, batch=2))
    assert [o.shape for o in out] == [(40, 60, 3)] * 5
    assert np.abs(out[3][::2, ::2].astype(int) - arrays[3]).mean() < 6
    src = make_clip(tmp_path / "in.mp4", frames=3)
    with av.open(str(src)) as c:
        frames = list(c.decode(video=0))
    upscaled = list(vsr.upscale_frames(frames, model=ultra_x2))
    assert [(f.width, f.height, f.pts) for f in upscaled] == [(128, 96, f.pts) for f in frames]


def test_attachments_are_copied_into_mkv_and_reported_when_mp4_cannot_hold_them(tmp_path, ultra_x2):
    plain = make_clip(tmp_path / "plain.mkv", frames=3)
    src = tmp_path / "fonts.mkv"
    with av.open(str(plain)) as inp, av.open(str(src), "w") as out:
        video = out.add_stream_from_template(inp.streams.video[0])
        out.add_attachment("subs-font.ttf", "font/ttf", b"\x00\x01 not really a font")
        for packet in inp.demux(inp.streams.video[0]):
            if packet.size:
                packet.stream = video
                out.mux(packet)
    result = vsr.upscale_video(src, tmp_path / "out.mkv", model=ultra_x2)
    with av.open(str(result.output)) as out:
        attachments = [s for s in out.streams if s.type == "attachment"]
        assert [(s.name, s.mimetype, bytes(s.data)) for s in attachments] == [("subs-font.ttf", "font/ttf", b"\x00\x01 not really a font")]
    result = vsr.upscale_video(src, tmp_path / "out.mp4", model=ultra_x2)
    assert any("attachment subs-font.ttf" in w for w in result.warnings)


def test_copied_packets_with_backward_timestamps_do_not_end_the_run(tmp_path, ultra_x2):
    src = make_clip(tmp_path / "a.mkv", frames=25, audio_tracks=1)
    damaged = tmp_path / "dup.mkv"
    with av.open(str(src)) as inp, av.open(str(damaged), "w") as out:
        streams = {s.index: out.add_stream_from_template(s) for s in inp.streams}
        audio_seen, previous = 0, None
        for packet in inp.demux():
            if not packet.size:
                continue
            if packet.stream.type == "audio":
                audio_seen += 1
                if audio_seen == 10:
                    packet.pts = packet.dts = previous  # the same time twice
                previous = packet.dts
            packet.stream = streams[packet.stream.index]
            out.mux(packet)
    result = vsr.upscale_video(damaged, tmp_path / "dup_x2.mp4", model=ultra_x2)  # mp4 refuses equal dts
    assert result.frames == 25 and any("moved one tick on" in w for w in result.warnings)
    assert len(probe(result.output).audio[0].packets) == len(probe(damaged).audio[0].packets)


def test_containers_accept_codecs_by_their_canonical_names():
    from vsr.video.io.codecs import codec_fits

    assert codec_fits("matroska", "dts") and codec_fits("matroska", "hdmv_pgs_subtitle") and codec_fits("matroska", "truehd")
    assert not codec_fits("mp4", "subrip") and not codec_fits("webm", "libx264")
