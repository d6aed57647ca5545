"""`--ray`: segments encoded by Ray actors on a local Ray (2 CPU workers, loopback only,
usage statistics off) give the same output as one process, and a worker killed in the
middle of a segment costs a retry, not a frame. One local Ray serves the whole module:
it takes ~30 s to start on 2 cores."""

import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from media import make_clip, probe, video_frames_rgb
from test_cli import run_cli

import vsr
from vsr.video.segments.segmented import upscale_in_segments, work_folder

os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"  # read at import: the node listens on 127.0.0.1 only
ray = pytest.importorskip("ray")
SEGMENT = 0.5


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    assert all(node["NodeManagerAddress"] == "127.0.0.1" for node in ray.nodes())
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def ultra_x2():
    return vsr.load_model("ultra", scale=2, device="cpu")


def _same(single: Path, joined: Path) -> None:
    a, b = probe(single), probe(joined)
    assert (b.frames, b.times) == (a.frames, a.times)
    assert [t.packets for t in b.audio] == [t.packets for t in a.audio]
    assert all(np.array_equal(x, y) for x, y in zip(video_frames_rgb(single), video_frames_rgb(joined), strict=True))


def test_two_ray_workers_write_what_one_process_writes(tmp_path, local_ray, ultra_x2):
    src = make_clip(tmp_path / "in.mkv", frames=40, gop=6, audio_tracks=1)
    single = vsr.upscale_video(src, tmp_path / "single.mkv", model=ultra_x2, codec="ffv1")
    joined = upscale_in_segments(src, tmp_path / "ray.mkv", model=ultra_x2, codec="ffv1", segment_seconds=SEGMENT, ray=True, workers=2)
    assert joined.frames == single.frames == 40 and joined.warnings == []
    _same(single.output, joined.output)
    assert not work_folder(joined.output).exists()


def _encoding_workers() -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and (proc / "cmdline").read_bytes().startswith(b"ray::SegmentWorker.encode"):
                found.append(int(proc.name))
        except OSError:
            continue
    return found


def test_a_worker_killed_mid_segment_is_retried_without_losing_a_frame(tmp_path, local_ray, ultra_x2):
    src = make_clip(tmp_path / "in.mkv", size=(160, 96), frames=50, gop=6)
    out = tmp_path / "ray.mkv"
    notices, outcome = [], {}

    def run() -> None:
        try:
            outcome["result"] = upscale_in_segments(
                src, out, model=ultra_x2, codec="ffv1", segment_seconds=SEGMENT, ray=True, workers=2, notify=notices.append
            )
        except BaseException as exc:  # noqa: BLE001 (reported below, in the test thread)
            outcome["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    killed = None
    deadline = time.monotonic() + 180
    while killed is None and thread.is_alive() and time.monotonic() < deadline:
        busy = _encoding_workers()
        if busy and any(p.name.endswith(".part") for p in work_folder(out).glob(".*")):
            killed = busy[0]
            os.kill(killed, signal.SIGKILL)
        time.sleep(0.01)
    thread.join(timeout=300)
    assert "error" not in outcome, outcome.get("error")
    assert killed is not None, "no worker was caught mid-segment"
    assert any("retrying it on another worker" in n for n in notices), notices
    single = vsr.upscale_video(src, tmp_path / "single.mkv", model=ultra_x2, codec="ffv1")
    assert outcome["result"].frames == 50
    _same(single.output, out)


def test_workers_without_ray_is_one_line(tmp_path, capsys):
    src = make_clip(tmp_path / "in.mp4", frames=6)
    for extra, words in ((["--workers", "2"], "--workers needs --ray"), (["--ray-address", "x:1"], "--ray-address needs --ray")):
        code, _, stderr = run_cli(capsys, "upscale", src, "-o", tmp_path / "o.mp4", *extra)
        assert code == 2 and words in stderr and stderr.count("\n") == 1, stderr
