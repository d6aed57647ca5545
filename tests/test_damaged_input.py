"""Damaged input at the source: the frames a threaded decoder still holds at a truncated end
are drained and kept, and timestamp repairs do what their warning says."""

import av
import pytest

import vsr
from media import make_clip, probe
from vsr.video.source import VideoSource


def ffmpeg_frame_times(path) -> list[float]:
    """The times of the frames FFmpeg's own decoder outputs: a plain PyAV loop in which an
    error ends only the packet that raised it (as the ffmpeg tool does), decoded without
    frame threads, so that an error cannot cut a drain short (see vsr/video/tail.py)."""
    times = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "SLICE"
        for packet in container.demux(stream):
            try:
                times += [float(f.pts * f.time_base) for f in stream.decode(packet)]
            except av.FFmpegError:
                continue
    return times


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
    expected = len(ffmpeg_frame_times(truncated_mp4))
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
    expected = ffmpeg_frame_times(truncated_mp4)
    assert result.frames == written.frames == len(expected)
    # the same times (mkv keeps whole milliseconds; the muxer may start all streams a
    # little later to keep the audio's priming samples)
    shift = written.times[0] - expected[0]
    assert [t - shift for t in written.times] == pytest.approx(expected, abs=0.0015)
    assert any("never arrived" in w for w in result.warnings)
