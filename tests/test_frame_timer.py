"""FrameTimer alone (no ../shared): which timestamps it trusts, and how it repairs the rest."""

import av

from vsr.video.io.timing import LOOKAHEAD, FrameTimer


def _frames(pts, dts):
    frames = []
    for p, d in zip(pts, dts, strict=True):
        frame = av.VideoFrame(16, 16, "yuv420p")
        frame.pts, frame.dts = p, d
        frames.append(frame)
    return frames


def _timed(timer, frames):
    out = []
    for frame in frames:
        out += [pts for _, pts in timer.push(frame)]
    return out + [pts for _, pts in timer.flush()]


def test_good_timestamps_pass_through_unchanged():
    timer = FrameTimer(default_duration=10)
    assert _timed(timer, _frames([0, 10, 20, 30], [None] * 4)) == [0, 10, 20, 30] and timer.repairs.total == 0


def test_packed_b_frames_take_the_packets_times_when_the_frames_times_go_backwards():
    """An AVI with packed B-frames: each frame carries a neighbouring packet's pts."""
    pts = [1, 2, 3, 5, 4, 6, 8, 7, 9, 11, 10, 12]
    dts = list(range(1, len(pts) + 1))
    timer = FrameTimer(default_duration=1)
    assert _timed(timer, _frames(pts, dts)) == dts and timer.repairs.total == 0
    assert timer.faulty_pts > timer.faulty_dts


def test_the_decision_waits_for_the_lookahead_so_the_first_fault_is_not_written():
    pts = [1, 2, 3, 5, 4, 6, 8, 7, 9, 11]
    timer = FrameTimer(default_duration=1)
    first = []
    for frame in _frames(pts, range(10)):  # packet times one tick earlier than the frames'
        first += [p for _, p in timer.push(frame)]
    # pts only goes backwards at the 5th frame; deciding at once would have written 1, 2
    assert len(first) == len(pts) - LOOKAHEAD and first == [0, 1]


def test_missing_times_are_one_frame_on_and_a_repeat_goes_half_way_counted_as_repaired():
    timer = FrameTimer(default_duration=40)
    assert _timed(timer, _frames([None, None, None], [None] * 3)) == [0, 40, 80] and timer.repairs.total == 3
    repeats = FrameTimer(default_duration=40)
    assert _timed(repeats, _frames([0, 40, 40, 120], [None] * 4)) == [0, 40, 80, 120]
    assert repeats.repairs.total == repeats.repairs.between == 1
