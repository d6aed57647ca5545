"""Segments encoded here go through ONE pipeline that follows the cut plan
(vsr.video.segments.continuous): the next segment's decoder opens while the previous
segment's file is still being finished, nothing drains at a border, and a failure in the
middle keeps what was recorded and leaves no partial file."""

import pytest
from media import make_clip

import vsr
from vsr.errors import OutputError
from vsr.video.segments import continuous, segmented
from vsr.video.segments.segmented import upscale_in_segments, work_folder

SEGMENT = 0.5  # keyframes every 6 frames at 25 fps: segments of 12-18 frames


@pytest.fixture(scope="module")
def ultra_x2():
    return vsr.load_model("ultra", scale=2, device="cpu")


def test_the_next_segment_opens_before_the_last_one_is_closed_in_one_pipeline(tmp_path, ultra_x2, monkeypatch):
    events, pipelines = [], []
    items, record, pipeline_init = continuous.SegmentSource.items, segmented._SegmentedRun.record, continuous.Pipeline.__init__

    def opening(self):
        events.append(("open", self.segment.number))
        yield from items(self)

    def recording(self, segment):
        events.append(("recorded", segment.number))
        record(self, segment)

    def counting(self, *args, **kwargs):
        pipelines.append(self)
        pipeline_init(self, *args, **kwargs)

    monkeypatch.setattr(continuous.SegmentSource, "items", opening)
    monkeypatch.setattr(segmented._SegmentedRun, "record", recording)
    monkeypatch.setattr(continuous.Pipeline, "__init__", counting)
    src = make_clip(tmp_path / "in.mkv", frames=50, gop=6)
    segments_seen = []
    result = upscale_in_segments(
        src, tmp_path / "out.mkv", model=ultra_x2, codec="ffv1", segment_seconds=SEGMENT, on_segments=lambda done, total: segments_seen.append((done, total))
    )
    count = len([e for e in events if e[0] == "open"])
    assert result.frames == 50 and count >= 3 and len(pipelines) == 1
    assert [n for kind, n in events if kind == "recorded"] == list(range(count))
    for n in range(1, count):  # segment n was being decoded before segment n - 1 was recorded
        assert events.index(("open", n)) < events.index(("recorded", n - 1)), events
    assert segments_seen[0] == (0, count) and segments_seen[-1] == (count, count)
    assert set(result.stage_busy) == {"decode", "model", "encode"}


def test_a_failure_in_a_later_segment_keeps_the_recorded_ones_and_no_partial_file(tmp_path, ultra_x2, monkeypatch):
    record = segmented._SegmentedRun.record

    def fail_on_the_third(self, segment):
        if segment.number == 2:
            raise OutputError("the disk went away")
        record(self, segment)

    monkeypatch.setattr(segmented._SegmentedRun, "record", fail_on_the_third)
    src = make_clip(tmp_path / "in.mkv", frames=50, gop=6)
    out = tmp_path / "out.mkv"
    with pytest.raises(OutputError, match="the disk went away"):
        upscale_in_segments(src, out, model=ultra_x2, codec="ffv1", segment_seconds=SEGMENT)
    work = work_folder(out)
    # 0 and 1 recorded; 2 complete but not recorded (a resume redoes it); nothing after it renamed
    assert sorted(p.stem for p in work.glob("seg-*")) == ["seg-00000", "seg-00001", "seg-00002"]
    assert not list(work.glob(".*.part")) and not out.exists()
    monkeypatch.setattr(segmented._SegmentedRun, "record", record)
    resumed = upscale_in_segments(src, out, model=ultra_x2, codec="ffv1", segment_seconds=SEGMENT)
    assert resumed.frames == 50 and any("resuming" in w and "2 of" in w for w in resumed.warnings), resumed.warnings


def test_a_full_disk_while_closing_a_segment_is_one_line_and_leaves_no_partial_file(tmp_path, ultra_x2, monkeypatch):
    def full(path):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(continuous, "fsync_file", full)
    src = make_clip(tmp_path / "in.mkv", frames=30, gop=6)
    out = tmp_path / "out.mkv"
    with pytest.raises(OutputError, match=r"cannot write .*seg-00000.*: No space left on device"):
        upscale_in_segments(src, out, model=ultra_x2, codec="ffv1", segment_seconds=SEGMENT)
    assert not list(work_folder(out).glob(".*.part")) and not list(work_folder(out).glob("seg-*")) and not out.exists()
