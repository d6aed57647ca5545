"""Damaged input at the source: the frames a threaded decoder still holds at a truncated end
are drained and kept, and timestamp repairs do what their warning says."""

import av
import pytest

import vsr
from media import decodable_frame_times, make_clip, probe
from vsr.video.io.source import VideoSource
from vsr.video.io.timing import FrameTimer, Repairs


def plain_threaded_count(path) -> int:
    with av.open(str(path)) as container:
        container.streams.video[0].thread_type = "AUTO"
        return sum(1 for _ in container.decode(video=0))


@pytest.fixture(scope="module")
def truncated_mp4(tmp_path_factory):
    """H.264 with B-frames (x264's default) in an mp4 with its index first, cut in the middle
    of the third packet from the end: the decoder's frame threads and reorder buffer hold
    the last frames when the damaged packet arrives."""
    folder = tmp_path_factory.mktemp("truncated")
    whole = make_clip(folder / "whole.mp4", size=(320, 240), frames=60, audio_tracks=1, container_options={"movflags": "faststart"})
    with av.open(str(whole)) as container:
        pos, size = [(p.pos, p.size) for p in container.demux(video=0) if p.size][-3]
    cut = folder / "cut.mp4"
    cut.write_bytes(whole.read_bytes()[: pos + size // 2])
    return cut


def test_a_truncated_end_gives_every_frame_ffmpeg_decodes(truncated_mp4):
    expected = len(decodable_frame_times(truncated_mp4))
    assert expected == 57  # every whole packet; only the cut one is lost
    assert plain_threaded_count(truncated_mp4) < expected  # the drain PyAV stops at the error
    source = VideoSource(truncated_mp4)
    try:
        frames = [item for item in source.items() if not isinstance(item, av.Packet)]
    finally:
        source.close()
    assert len(frames) == expected
    pts = [f.pts for f in frames]
    assert pts == sorted(set(pts))  # each with its own timestamp, in order


def test_upscaling_a_truncated_file_writes_those_frames_with_their_times(tmp_path, truncated_mp4):
    result = vsr.upscale_video(truncated_mp4, tmp_path / "out.mkv", model="ultra", device="cpu")
    written = probe(result.output)
    expected = decodable_frame_times(truncated_mp4)
    assert result.frames == written.frames == len(expected)
    # the same times (mkv keeps whole milliseconds; the muxer may start all streams a
    # little later to keep the audio's priming samples)
    shift = written.times[0] - expected[0]
    assert [t - shift for t in written.times] == pytest.approx(expected, abs=0.0015)
    assert any("never arrived" in w for w in result.warnings)


def _frames(times, dts=None):
    frames = []
    for k, pts in enumerate(times):
        frame = av.VideoFrame(16, 16, "yuv420p")
        frame.pts, frame.dts, frame.duration = pts, None if dts is None else dts[k], 40
        frames.append(frame)
    return frames


def _timed(times, dts=None):
    timer = FrameTimer(default_duration=40)
    out = [pts for frame in _frames(times, dts) for _, pts in timer.push(frame)]
    return out + [pts for _, pts in timer.flush()], timer.repairs


@pytest.mark.parametrize(
    "times,expected,between,one_tick,one_frame",
    [
        ([0, 40, None, 120, 160], [0, 40, 80, 120, 160], 1, 0, 0),  # missing: half-way
        ([0, 40, 40, 120, 160], [0, 40, 80, 120, 160], 1, 0, 0),  # a repeat: half-way
        ([0, 40, 80, 20, 160, 200], [0, 40, 80, 120, 160, 200], 1, 0, 0),  # backwards: half-way
        ([0, 40, None, None, None, 200], [0, 40, 80, 120, 160, 200], 3, 0, 0),  # a run: spread evenly
        ([0, 40, 40, 41, 120], [0, 40, 41, 80, 120], 1, 1, 0),  # no room: one tick after (then 41 repeats)
        ([0, 40, 80, None], [0, 40, 80, 120], 0, 0, 1),  # nothing after: one frame on
        ([0, 40, 80, 80], [0, 40, 80, 81], 0, 1, 0),  # a repeat at the end: one tick on
    ],
)
def test_a_missing_or_backwards_time_goes_half_way_when_there_is_room(times, expected, between, one_tick, one_frame):
    timed, repairs = _timed(times)
    assert timed == expected
    assert (repairs.between, repairs.one_tick, repairs.one_frame) == (between, one_tick, one_frame)


def test_good_times_are_never_touched_and_a_bad_one_does_not_shift_the_rest():
    times = [0, 40, 80, 120, 160, 200, 240, 280, 320, 360, 400]
    assert _timed(times) == (times, Repairs())
    bad = times[:5] + [100] + times[6:]  # one time from an earlier frame
    timed, repairs = _timed(bad)
    assert timed == times and repairs.total == 1


def test_pts_that_often_go_backwards_lose_to_dts():
    """An AVI with packed B-frames: pts follow the packets (1, 2, 3, 5, 4, ...); dts do not."""
    pts = [0, 40, 80, 160, 120, 200, 280, 240, 320, 360, 400, 440]
    dts = [40 * k for k in range(12)]
    timed, repairs = _timed(pts, dts)
    assert timed == dts and repairs.total == 0


def test_the_warning_says_what_was_done_to_how_many_frames():
    _, repairs = _timed([0, 40, None, 120, 120, None])
    assert repairs.note() == (
        "3 frame(s) had a missing or backwards timestamp (common in AVI files): "
        "1 placed half-way between the frames around them, "
        "1 placed one tick after the frame before (no room between), "
        "1 placed one frame duration after the frame before (none after to go by)"
    )
    assert Repairs().note() is None


@pytest.fixture(scope="module")
def repeated_time_mkv(tmp_path_factory):
    """An mkv whose 11th frame carries the 10th frame's time (dts may repeat in mkv, so
    the muxer takes it); a CFR clip otherwise."""
    folder = tmp_path_factory.mktemp("times")
    good = make_clip(folder / "good.mkv", frames=20, codec="mjpeg", pix_fmt="yuvj420p")
    bad = folder / "repeat.mkv"
    with av.open(str(good)) as source, av.open(str(bad), "w") as out:
        stream = out.add_stream_from_template(source.streams.video[0])
        packets = [p for p in source.demux(video=0) if p.size]
        for k, packet in enumerate(packets):
            if k == 10:
                packet.pts = packet.dts = packets[9].pts
            packet.stream = stream
            out.mux(packet)
    return good, bad


def test_a_repeated_time_in_a_file_is_put_back_half_way_and_the_warning_says_so(tmp_path, repeated_time_mkv):
    good, bad = repeated_time_mkv
    result = vsr.upscale_video(bad, tmp_path / "out.mkv", model="ultra", device="cpu")
    assert probe(result.output).times == pytest.approx(probe(good).times, abs=0.001)
    (note,) = [w for w in result.warnings if "timestamp" in w]
    assert note.startswith("1 frame(s) had a missing or backwards timestamp") and "1 placed half-way between" in note


def test_without_a_frame_index_progress_is_estimated_from_the_duration(tmp_path):
    """mkv has no frame count: the ETA comes from its duration times its frame rate."""
    src = make_clip(tmp_path / "in.mkv", frames=30, rate=25)
    with av.open(str(src)) as container:
        assert container.streams.video[0].frames == 0  # (no index to count)
    seen = []
    vsr.upscale_video(src, tmp_path / "out.mkv", model="ultra", device="cpu", on_progress=lambda done, expected: seen.append(expected))
    assert seen and set(seen) == {30}


@pytest.mark.parametrize("suffix,named", [(".mkv", True), (".mp4", False)])
def test_a_timecode_track_is_named_when_dropped_and_its_start_is_kept(tmp_path, suffix, named):
    clip = make_clip(tmp_path / "plain.mov", frames=5)
    src = tmp_path / "timecode.mov"
    with av.open(str(clip)) as plain, av.open(str(src), "w") as out:
        stream = out.add_stream_from_template(plain.streams.video[0])
        stream.metadata["timecode"] = "01:00:00:00"  # the mov muxer writes a timecode track
        for packet in plain.demux(video=0):
            if packet.size:
                packet.stream = stream
                out.mux(packet)
    result = vsr.upscale_video(src, tmp_path / f"out{suffix}", model="ultra", device="cpu")
    notes = [w for w in result.warnings if "timecode track #" in w]
    assert bool(notes) == named, result.warnings
    with av.open(str(result.output)) as written:
        tags = {k.lower(): v for k, v in written.streams.video[0].metadata.items()}  # (mkv: upper case)
        assert tags["timecode"] == "01:00:00:00"
