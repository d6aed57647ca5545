"""`vsr live` headless: frames flow from lavfi and file sources, a slow model drops frames
instead of queueing them (latency stays bounded), recordings are real and stay playable
when the source is lost, and every user mistake is one line."""

import subprocess
import sys
import threading
import time

import av
import numpy as np
import pytest
import torch

import vsr.live  # noqa: F401  (OpenCV before PyAV: see vsr.live.AV_LOADED_FIRST)
import vsr
from media import make_clip
from vsr.live.session import run_live
from vsr.live.sources import Captured, SourceLost, open_source
from vsr.model import SRModel

CPU = torch.device("cpu")
TESTSRC = "lavfi:testsrc2=size=96x64:rate=25"


def _recorded(path):
    with av.open(str(path)) as container:
        frames = list(container.decode(video=0))
    return frames


def test_lavfi_source_flows_through_at_its_own_rate():
    source = open_source(TESTSRC)
    report = run_live(source, ["ultra"], device=CPU, duration=2.0)
    assert report.stopped_by == "--duration 2 s"
    assert 40 <= report.frames_captured <= 60  # 25 fps for 2 s, paced
    assert report.frames_shown >= 0.8 * report.frames_captured
    assert report.frames_shown + report.dropped == report.frames_captured
    assert 0 < report.latency(0.5) < 200


class _SlowModule(torch.nn.Module):
    """ultra x2, but every call takes at least `seconds`: a model slower than the source."""

    def __init__(self, inner, seconds):
        super().__init__()
        self.inner, self.seconds = inner, seconds
        self.min_size = inner.min_size

    def forward(self, x, region=None):
        time.sleep(self.seconds)
        return self.inner(x, region)


def test_a_slow_model_drops_frames_instead_of_queueing_them():
    fast = vsr.load_model("ultra", scale=2)
    slow = SRModel(_SlowModule(fast.module, 0.2), "ultra", 2, "slow", CPU, torch.float32)
    report = run_live(open_source(TESTSRC), [slow], device=CPU, duration=3.0)
    assert report.frames_captured >= 60
    assert report.frames_shown <= 20 and report.dropped >= report.frames_captured - 20  # ~5 fps shown of 25
    # queueing would make latency grow by 0.16 s per frame (3 s behind at the end);
    # the newest-frame policy keeps it at about one model call plus one frame interval
    latencies = report.latencies_ms
    assert max(latencies) < 600 and np.mean(latencies[-3:]) < 600, latencies


def test_recording_is_timed_by_the_capture_clock_and_playable(tmp_path):
    out = tmp_path / "live.mkv"
    report = run_live(open_source(TESTSRC), ["ultra"], device=CPU, duration=2.0, record=out)
    frames = _recorded(out)
    assert len(frames) == report.recorded == report.frames_shown
    assert (frames[0].width, frames[0].height) == (192, 128)
    times = [f.time for f in frames]
    assert times[0] == 0 and all(b > a for a, b in zip(times, times[1:]))
    assert times[-1] == pytest.approx(1.95, abs=0.3)  # 25 fps capture for ~2 s
    assert not list(tmp_path.glob(".*.part"))


def test_a_file_plays_at_its_own_frame_rate_and_ends_the_session(tmp_path):
    clip = make_clip(tmp_path / "in.mp4", size=(64, 48), frames=20, rate=20)
    started = time.monotonic()
    report = run_live(open_source(str(clip)), ["ultra"], device=CPU)
    assert time.monotonic() - started >= 0.9  # 20 frames at 20 fps, not as fast as it decodes
    assert report.stopped_by == "end of source" and report.frames_captured == 20


class _LostAfter:
    """A camera that delivers `frames` frames and is then unplugged."""

    width, height, rate, description = 64, 48, 25.0, "camera 9"

    def __init__(self, frames):
        self.count = frames

    def frames(self, stop: threading.Event):
        for index in range(self.count):
            yield Captured(index, np.full((48, 64, 3), 40 + 10 * index, np.uint8), time.monotonic())
            stop.wait(0.04)
        raise SourceLost("camera 9 stopped delivering frames after 8 (unplugged?)")

    def close(self):
        pass


def test_a_lost_source_is_an_error_and_the_recording_stays_playable(tmp_path):
    out = tmp_path / "lost.mp4"
    with pytest.raises(SourceLost, match="stopped delivering"):
        run_live(_LostAfter(8), ["ultra"], device=CPU, record=out)
    frames = _recorded(out)  # an mp4 is unplayable without its trailer: it was written
    assert 1 <= len(frames) <= 8 and (frames[0].width, frames[0].height) == (128, 96)


def _cli(*args, env=None):
    import os

    environment = dict(os.environ, **(env or {}))
    return subprocess.run([sys.executable, "-m", "vsr", "live", *args], capture_output=True, text=True, timeout=120, env=environment)


def _one_line(result):
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode != 0 and len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--source", "7", "--no-window"], "no camera at 7"),
        (["--source", "/dev/video77", "--no-window"], "no camera at /dev/video77"),
        (["--source", "lavfi:nosuchfilter", "--no-window"], "cannot open lavfi graph"),
        (["--source", "missing.mp4", "--no-window"], "source not found"),
        (["--source", TESTSRC, "--no-window", "--duration", "0"], "--duration must be more than 0"),
        (["--source", TESTSRC, "--no-window", "--model", "nosuch"], "unknown model"),
    ],
)
def test_user_mistakes_are_one_line_and_a_non_zero_exit(tmp_path, args, message):
    assert message in _one_line(_cli(*args))


def test_no_display_is_one_line_that_suggests_no_window():
    line = _one_line(_cli("--source", TESTSRC, "--duration", "1", env={"DISPLAY": "", "WAYLAND_DISPLAY": ""}))
    assert "no display" in line and "--no-window" in line


def test_headless_run_prints_the_numbers_once_a_second_and_a_summary(tmp_path):
    out = tmp_path / "rec.mkv"
    result = _cli("--source", TESTSRC, "--no-window", "--duration", "2.5", "--record", str(out))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    status = [line for line in lines if "latency" in line and "dropped" in line and not line.startswith("vsr live:")]
    assert len(status) >= 2 and "96x64 -> 192x128" in status[0]
    assert lines[-1].startswith("vsr live:") and f"recorded" in lines[-1] and out.is_file()
    existing = _cli("--source", TESTSRC, "--no-window", "--duration", "1", "--record", str(out))
    assert "exists" in _one_line(existing)


def test_model_switching_cycles_and_keeps_the_recordings_scale():
    from vsr.live.session import ModelChoice

    notices = []
    choice = ModelChoice(["ultra-x2", "ultra-x4", "nosuch-x2", "ultra-x3"], device=CPU, half=None, scale=2, notify=notices.append, fixed_scale=False)
    assert choice.current().scale == 2
    choice.next()
    assert choice.current().scale == 4
    choice.next()  # cannot load: a notice, and the current model stays
    assert choice.current().scale == 4 and "nosuch-x2" in notices[-1]
    recording = ModelChoice(["ultra-x2", "ultra-x4", "ultra-x3"], device=CPU, half=None, scale=2, notify=notices.append, fixed_scale=True)
    recording.current()
    recording.next()  # x4 and x3 would change the recorded size: skipped, back to x2
    assert recording.current().scale == 2 and recording.index == 0


def test_ctrl_c_ends_a_session_normally_and_keeps_the_recording(tmp_path):
    import signal

    out = tmp_path / "rec.mp4"
    live = subprocess.Popen(
        [sys.executable, "-m", "vsr", "live", "--source", TESTSRC, "--no-window", "--record", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and "latency" not in live.stdout.readline():  # running, frames flowing
        pass
    live.send_signal(signal.SIGINT)
    stdout, stderr = live.communicate(timeout=60)
    assert live.returncode == 0, stderr
    assert "ended by Ctrl-C" in stdout and len(_recorded(out)) >= 10
