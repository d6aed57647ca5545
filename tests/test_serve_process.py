"""A real `vsr serve` process: killed with -9 half-way through a job, started again, it
resumes the job from its segments and keeps the queue; Ctrl-C stops it cleanly (exit 0,
the running job queued again)."""

import signal
import sqlite3
import time

import numpy as np
import pytest

pytest.importorskip("fastapi", reason="vsr[serve] is not installed")
pytest.importorskip("uvicorn", reason="vsr[serve] is not installed")

from media import make_clip, video_frames_rgb  # noqa: E402
from serving import Server, segments_done  # noqa: E402

from vsr.video.segments.segmented import upscale_in_segments  # noqa: E402


def test_kill_9_then_restart_resumes_the_job_and_keeps_the_queue(tmp_path):
    videos = tmp_path / "videos"
    videos.mkdir()
    src = make_clip(videos / "long.mkv", size=(96, 64), frames=75, gop=6, codec="ffv1")
    small = make_clip(videos / "small.mp4", frames=4)
    state = tmp_path / "state"
    flags = ("--allow-dir", str(videos), "--segment-seconds", "0.5")
    server = Server(state, *flags)
    try:
        job_id = server.request("POST", "/api/jobs", {"path": str(src), "model": "ultra", "scale": 2, "codec": "ffv1"})["id"]
        queued = server.request("POST", "/api/jobs", {"path": str(small), "model": "ultra"})["id"]
        folder = state / "jobs" / job_id
        deadline = time.monotonic() + 120
        while segments_done(folder) < 2 and server.process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        server.process.kill()  # kill -9: no cleanup of any kind
        server.process.wait(30)
    finally:
        server.process.kill()
    with sqlite3.connect(state / "jobs.sqlite") as db:
        states = dict(db.execute("SELECT id, state FROM jobs"))
    assert states == {job_id: "running", queued: "queued"}, "the job ended before the kill: make the clip longer"
    assert not (folder / "long_x2.mkv").exists()

    again = Server(state, *flags)
    try:
        job = again.wait(job_id, lambda j: j["state"] not in ("queued", "running"))
        assert job["state"] == "done" and any("resuming from" in w for w in job["warnings"]), job
        assert again.wait(queued, lambda j: j["state"] == "done")
        late = again.request("POST", "/api/jobs", {"path": str(src), "model": "ultra", "scale": 2, "codec": "ffv1"})["id"]
        again.wait(late, lambda j: j["state"] == "running" and j["frames_done"] > 0)
        code, stderr = again.stop(signal.SIGINT)  # Ctrl-C
    finally:
        again.process.kill()
    assert code == 0 and "stopped" in stderr and "Traceback" not in stderr, stderr
    with sqlite3.connect(state / "jobs.sqlite") as db:
        assert dict(db.execute("SELECT id, state FROM jobs")) == {job_id: "done", queued: "done", late: "queued"}  # resumes at the next start
    whole = upscale_in_segments(src, tmp_path / "whole.mkv", model="ultra", scale=2, device="cpu", codec="ffv1", segment_seconds=0.5)
    assert all(np.array_equal(a, b) for a, b in zip(video_frames_rgb(whole.output), video_frames_rgb(folder / "long_x2.mkv"), strict=True))
