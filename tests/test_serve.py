"""`vsr serve`'s API through an ASGI test client (the app, its SQLite queue and its worker
threads are real; clips are made here with PyAV): a job goes from upload to a result that
is a real upscaled video, frames come back as PNGs from the real files, a cancel stops a
running job, a stopped server resumes a job from its segments, and every refusal is a 4xx
with one line."""

import os
import sqlite3
import time
from pathlib import Path

import av
import numpy as np
import pytest

pytest.importorskip("fastapi", reason="vsr[serve] is not installed")
pytest.importorskip("httpx", reason="the ASGI test client needs httpx")

import cv2  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from media import make_clip, video_frames_rgb  # noqa: E402
from serving import free_port, segments_done  # noqa: E402

from vsr.errors import InputError  # noqa: E402
from vsr.serve.app import ServeConfig, create_app  # noqa: E402
from vsr.serve.options import ServerDefaults  # noqa: E402
from vsr.serve.queue import JobState  # noqa: E402
from vsr.serve.security import Gate, safe_name  # noqa: E402
from vsr.video.segments.segmented import upscale_in_segments  # noqa: E402

BASE = "http://127.0.0.1:8765"
TINY = {"model": "ultra", "scale": "2"}  # the smallest shipped model: fast on the CPU


def config(tmp_path: Path, **changes) -> ServeConfig:
    values = {
        "state": tmp_path / "state",
        "gate": Gate("127.0.0.1", 8765),
        "allow_dirs": (tmp_path / "videos",),
        "defaults": ServerDefaults(device="cpu"),
    }
    return ServeConfig(**(values | changes))


@pytest.fixture
def videos(tmp_path):
    folder = tmp_path / "videos"
    folder.mkdir()
    make_clip(folder / "small.mp4", frames=8)
    return folder


def client(cfg: ServeConfig, **headers) -> TestClient:
    return TestClient(create_app(cfg), base_url=BASE, headers=headers)


def wait_until(api: TestClient, job_id: str, done, timeout: float = 120.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = api.get(f"/api/jobs/{job_id}").json()
        if done(job):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} never got there: {job}")


def finished(job: dict) -> bool:
    return job["state"] not in ("queued", "running")


def upload(api: TestClient, path: Path, name: str | None = None, **options):
    with open(path, "rb") as f:
        return api.post("/api/jobs", files={"file": (name or path.name, f, "video/mp4")}, data=TINY | options)


def test_an_uploaded_job_runs_to_a_real_result_and_frames_compare(tmp_path, videos):
    with client(config(tmp_path)) as api:
        answer = upload(api, videos / "small.mp4")
        assert answer.status_code == 201
        job_id = answer.json()["id"]
        job = wait_until(api, job_id, finished)
        assert job["state"] == "done", job
        assert job["progress"] == 1.0 and job["frames_done"] == 8 and job["frames_total"] == 8 and job["fps"] > 0 and job["error"] is None
        assert [j["id"] for j in api.get("/api/jobs").json()["jobs"]] == [job_id]

        result = api.get(f"/api/jobs/{job_id}/result")
        assert result.status_code == 200 and 'filename="small_x2.mp4"' in result.headers["content-disposition"]
        (tmp_path / "got.mp4").write_bytes(result.content)
        frames = video_frames_rgb(tmp_path / "got.mp4")
        assert len(frames) == 8 and frames[0].shape == (96, 128, 3)

        def png(**query):
            answer = api.get(f"/api/jobs/{job_id}/frame", params=query)
            assert answer.status_code == 200 and answer.headers["content-type"] == "image/png", answer.text
            return cv2.cvtColor(cv2.imdecode(np.frombuffer(answer.content, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)

        assert np.array_equal(png(n=5, side="result"), frames[5])  # the result's own frame, from the real file
        nearest = png(n=5, side="source", enlarge="nearest")
        source = video_frames_rgb(videos / "small.mp4")[5]
        assert nearest.shape == (96, 128, 3) and np.array_equal(nearest[::2, ::2], source)  # enlarged to line up with the result
        assert not np.array_equal(png(n=5, side="source", enlarge="bicubic"), nearest)
        assert api.get(f"/api/jobs/{job_id}/frame", params={"n": 8, "side": "result"}).json()["error"].startswith("frame 8 is past the end")
        assert "/api/jobs/{job_id}/frame" in api.get("/openapi.json").json()["paths"]


@pytest.mark.parametrize(
    "name, clip",
    [
        ("bframes.mp4", {"frames": 40, "gop": 6}),  # x264's default B-frames: decode order is not presentation order
        ("vfr.mkv", {"pts": [0, 40, 100, 110, 200, 380, 400, 460, 470, 600, 640, 700, 900, 910], "gop": 4}),
        ("mpeg4.avi", {"frames": 20, "codec": "mpeg4", "gop": 6}),
    ],
)
def test_the_compare_view_reads_each_frame_exactly_where_it_seeks(tmp_path, name, clip):
    from vsr.serve.frames import read_frame

    path = make_clip(tmp_path / name, **clip)
    every = video_frames_rgb(path)
    assert [n for n, frame in enumerate(every) if not np.array_equal(read_frame(path, n), frame)] == []
    with pytest.raises(InputError, match=f"frame {len(every)} is past the end"):
        read_frame(path, len(every))


def test_a_server_path_inside_an_allowed_folder_runs_with_its_options(tmp_path, videos):
    with client(config(tmp_path)) as api:
        answer = api.post("/api/jobs", json={"path": str(videos / "small.mp4"), "model": "ultra", "scale": 2, "codec": "ffv1"})
        assert answer.status_code == 201, answer.text
        job = wait_until(api, answer.json()["id"], finished)
        assert job["state"] == "done" and job["options"] == {"model": "ultra", "scale": 2, "codec": "ffv1"}, job
        result = api.get(f"/api/jobs/{job['id']}/result")
        assert 'filename="small_x2.mp4"' in result.headers["content-disposition"]
        (tmp_path / "got.mp4").write_bytes(result.content)
        with av.open(str(tmp_path / "got.mp4")) as got:
            assert got.streams.video[0].codec_context.name == "ffv1"
    assert (videos / "small.mp4").exists() and sorted(p.name for p in videos.iterdir()) == ["small.mp4"]  # nothing written beside it


def test_paths_outside_the_allowed_folders_are_refused(tmp_path, videos):
    outside = make_clip(tmp_path / "secret.mp4", frames=2)
    (videos / "link.mp4").symlink_to(outside)
    (videos / "sub").mkdir()
    refused = {
        str(outside): "outside the allowed folders",
        str(videos / "link.mp4"): "outside the allowed folders",  # a symlink out
        f"{videos}/sub/../../secret.mp4": "'..' is not allowed",
        "small.mp4": "give the full path",
        str(videos / "missing.mp4"): "no such file",
        str(videos / "sub"): "is not a file",
    }
    with client(config(tmp_path)) as api:
        for path, words in refused.items():
            answer = api.post("/api/jobs", json={"path": path})
            assert answer.status_code == 400 and words in answer.json()["error"], (path, answer.text)
        assert api.get("/api/jobs").json()["jobs"] == []
    with client(config(tmp_path, allow_dirs=())) as api:
        answer = api.post("/api/jobs", json={"path": str(videos / "small.mp4")})
        assert answer.status_code == 400 and answer.json()["error"].endswith("start it with --allow-dir, or upload the file")


def test_bad_requests_get_a_4xx_with_one_line_and_leave_nothing(tmp_path, videos):
    (tmp_path / "notes.txt").write_text("not a video")
    small = str(videos / "small.mp4")
    with client(config(tmp_path)) as api:
        cases = [
            (api.post("/api/jobs", json={"path": small, "scale": 5}), 400, "scale must be one of 2, 3, 4"),
            (api.post("/api/jobs", json={"path": small, "scale": "two"}), 400, "scale must be a whole number"),
            (api.post("/api/jobs", json={"path": small, "preset": "/etc/passwd"}), 400, "unknown preset"),
            (api.post("/api/jobs", json={"path": small, "model": "/tmp/weights.pth"}), 400, "known model's name"),
            (api.post("/api/jobs", json={"path": small, "model": "pyproject.toml"}), 400, "known model's name"),  # never a file, even nearby
            (api.post("/api/jobs", json={"path": small, "codec": "h263"}), 400, "unknown codec"),
            (api.post("/api/jobs", json={"path": small, "crf": 99}), 400, "crf"),
            (api.post("/api/jobs", json={"path": small, "colour": "red"}), 400, "unknown option colour"),
            (api.post("/api/jobs", json={"path": small, "url": "http://127.0.0.1/a.mp4"}), 400, "exactly one of path or url"),
            (api.post("/api/jobs", json={"url": "file:///etc/passwd"}), 400, "only http and https"),
            (api.post("/api/jobs", json={"url": "http:/nohost.mp4"}), 400, "only http and https"),
            (api.post("/api/jobs", json=[1, 2]), 400, "JSON object"),
            (api.post("/api/jobs", content=b"{not json", headers={"content-type": "application/json"}), 400, "not valid JSON"),
            (api.post("/api/jobs", content=b"x", headers={"content-type": "text/plain"}), 415, "multipart/form-data"),
            (api.post("/api/jobs", data={"scale": "2"}, files={"other": ("a", b"b")}), 400, "no field named file"),
            (upload(api, tmp_path / "notes.txt"), 400, "notes.txt"),
            (upload(api, videos / "small.mp4", scale="5"), 400, "scale must be one of 2, 3, 4"),  # refused before the file comes
            (api.get("/api/jobs/nope"), 404, "no job nope"),
            (api.delete("/api/jobs/nope"), 404, "no job nope"),
            (api.get("/api/nothing"), 404, "Not Found"),
            (api.put("/api/jobs"), 405, "Method Not Allowed"),
            (api.get("/api/jobs/nope/frame", params={"n": -1}), 422, "n:"),
            (api.get("/api/jobs/nope/frame", params={"side": "both"}), 422, "side:"),
        ]
        for answer, status, words in cases:
            assert answer.status_code == status and words in answer.json()["error"], (words, answer.status_code, answer.text)
            assert "Traceback" not in answer.text and "\n" not in answer.json()["error"]
        assert api.get("/api/jobs").json()["jobs"] == []
    assert list((tmp_path / "state" / "jobs").iterdir()) == []  # a refused upload leaves no file


def test_uploads_are_limited_streamed_and_their_names_sanitised(tmp_path, videos):
    size = (videos / "small.mp4").stat().st_size
    with client(config(tmp_path, max_upload=size - 1)) as api:
        answer = upload(api, videos / "small.mp4")
        assert answer.status_code == 413 and "limit" in answer.json()["error"]

        def chunked():  # no Content-Length: the limit holds while the body streams in
            yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.mp4"\r\n\r\n'
            for _ in range(4):
                yield b"\0" * (size // 2)
            yield b"\r\n--b--\r\n"

        answer = api.post("/api/jobs", content=chunked(), headers={"content-type": "multipart/form-data; boundary=b"})
        assert answer.status_code == 413
        assert list((tmp_path / "state" / "jobs").iterdir()) == []
    with client(config(tmp_path)) as api:
        answer = upload(api, videos / "small.mp4", name="../../etc/..\\.hidden rc;$(x).mp4")
        job = api.get(f"/api/jobs/{answer.json()['id']}").json()
        assert job["name"] == "hidden rc_x_.mp4"
        assert (tmp_path / "state" / "jobs" / job["id"] / "hidden rc_x_.mp4").is_file()
        wait_until(api, job["id"], finished)
    assert safe_name("") == "video" and safe_name("..") == "video" and safe_name("C:\\a\\b.mkv") == "b.mkv"
    assert len(safe_name("x" * 500 + ".mp4")) <= 120 and safe_name("x" * 500 + ".mp4").endswith(".mp4")


def test_cancel_stops_a_running_job_and_a_queued_one_never_starts(tmp_path, videos):
    long = make_clip(videos / "long.mp4", size=(96, 64), frames=400)
    with client(config(tmp_path)) as api:
        running = upload(api, long).json()["id"]
        queued = upload(api, videos / "small.mp4").json()["id"]
        after = upload(api, videos / "small.mp4").json()["id"]
        wait_until(api, running, lambda job: job["frames_done"] > 0)
        assert api.get(f"/api/jobs/{queued}").json()["state"] == "queued"  # one job at a time
        assert api.delete(f"/api/jobs/{queued}").json()["state"] == "cancelled"
        assert api.delete(f"/api/jobs/{running}").json()["state"] == "cancelling"
        job = wait_until(api, running, finished, timeout=30)
        assert job["state"] == "cancelled" and job["frames_done"] < 400
        assert api.get(f"/api/jobs/{running}/result").status_code == 409
        folder = tmp_path / "state" / "jobs" / running
        assert sorted(p.name for p in folder.iterdir()) == ["long.mp4"]  # no half-written output, no work folder
        assert wait_until(api, after, finished)["state"] == "done"  # the worker goes on with the next job
        assert api.get(f"/api/jobs/{queued}").json()["state"] == "cancelled" and api.get(f"/api/jobs/{queued}").json()["started"] is None
        assert api.delete(f"/api/jobs/{after}", params={"remove_files": "true"}).json()["state"] == "removed"
        assert api.get(f"/api/jobs/{after}").status_code == 404 and not (tmp_path / "state" / "jobs" / after).exists()
        again = upload(api, long).json()["id"]  # cancelled and removed while it runs
        wait_until(api, again, lambda job: job["frames_done"] > 0)
        assert api.delete(f"/api/jobs/{again}", params={"remove_files": "true"}).json()["state"] == "cancelling"
        deadline = time.monotonic() + 30
        while api.get(f"/api/jobs/{again}").status_code != 404 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert api.get(f"/api/jobs/{again}").status_code == 404 and not (tmp_path / "state" / "jobs" / again).exists()


def test_jobs_run_side_by_side_with_one_model_load_per_model(tmp_path, videos, monkeypatch):
    from vsr.settings import ModelSettings

    loads = []
    load = ModelSettings.load
    monkeypatch.setattr(ModelSettings, "load", lambda self, **kw: loads.append(self.model) or load(self, **kw))
    long = make_clip(videos / "long.mp4", size=(96, 64), frames=400)
    with client(config(tmp_path, jobs=2)) as api:
        first, second = upload(api, long).json()["id"], upload(api, long).json()["id"]
        deadline = time.monotonic() + 60
        while {api.get(f"/api/jobs/{i}").json()["state"] for i in (first, second)} != {"running"} and time.monotonic() < deadline:
            time.sleep(0.05)
        assert {api.get(f"/api/jobs/{i}").json()["state"] for i in (first, second)} == {"running"}
        for job_id in (first, second):
            api.delete(f"/api/jobs/{job_id}")
        third = upload(api, videos / "small.mp4").json()["id"]
        assert wait_until(api, third, finished)["state"] == "done"
        assert [wait_until(api, i, finished)["state"] for i in (first, second)] == ["cancelled", "cancelled"]
    assert loads == ["ultra"]


def test_a_stopped_server_resumes_the_job_from_its_segments(tmp_path, videos):
    """The worker dies with the job half-way (here: the server stops, and the record is left
    `running` as a kill -9 leaves it; tests/test_serve_browser.py kills a real one): the next
    start runs it again from the segments already done, to the output of one whole run."""
    src = make_clip(videos / "long.mkv", size=(96, 64), frames=75, gop=6, codec="ffv1")
    cfg = config(tmp_path, defaults=ServerDefaults(device="cpu", segment_seconds=0.5))
    with client(cfg) as api:
        job_id = api.post("/api/jobs", json={"path": str(src), "codec": "ffv1", **TINY}).json()["id"]
        folder = tmp_path / "state" / "jobs" / job_id
        deadline = time.monotonic() + 120
        while segments_done(folder) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert api.get(f"/api/jobs/{job_id}").json()["state"] == "running", "the job ended before the server stopped: make the clip longer"
    with sqlite3.connect(tmp_path / "state" / "jobs.sqlite") as db:
        (state,) = db.execute("SELECT state FROM jobs WHERE id = ?", (job_id,)).fetchone()
        assert state == JobState.QUEUED.value  # a clean stop puts it back in the queue
        db.execute("UPDATE jobs SET state = 'running' WHERE id = ?", (job_id,))  # as a kill -9 leaves it
    assert not list(folder.glob("long_x2.mkv"))
    with client(cfg) as api:
        job = wait_until(api, job_id, finished)
        assert job["state"] == "done", job
        assert any("resuming from" in w for w in job["warnings"]), job["warnings"]
        got = tmp_path / "got.mkv"
        got.write_bytes(api.get(f"/api/jobs/{job_id}/result").content)
    whole = upscale_in_segments(src, tmp_path / "whole.mkv", model="ultra", scale=2, device="cpu", codec="ffv1", segment_seconds=0.5)
    assert all(np.array_equal(a, b) for a, b in zip(video_frames_rgb(whole.output), video_frames_rgb(got), strict=True))


def test_a_result_renamed_into_place_before_the_server_died_is_not_made_again(tmp_path, videos):
    with client(config(tmp_path)) as api:
        job_id = upload(api, videos / "small.mp4").json()["id"]
        assert wait_until(api, job_id, finished)["state"] == "done"
    result = tmp_path / "state" / "jobs" / job_id / "small_x2.mp4"
    written = result.stat().st_mtime_ns
    with sqlite3.connect(tmp_path / "state" / "jobs.sqlite") as db:  # killed after the rename, before the record said done
        db.execute("UPDATE jobs SET state = 'running', progress = 0.9, frames_done = 7 WHERE id = ?", (job_id,))
    with client(config(tmp_path)) as api:
        job = wait_until(api, job_id, finished)
        assert job["state"] == "done" and job["frames_done"] == 8 and job["progress"] == 1.0
    assert result.stat().st_mtime_ns == written


def test_a_url_is_fetched_into_the_job_and_failures_are_said_in_words(tmp_path, videos):
    (videos / "notes.txt").write_text("not a video")
    import http.server
    import threading
    from functools import partial

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = partial(Quiet, directory=str(videos))
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as web:
        thread = threading.Thread(target=web.serve_forever, daemon=True)
        thread.start()
        try:
            with client(config(tmp_path)) as api:
                url = f"http://127.0.0.1:{web.server_address[1]}"
                good = api.post("/api/jobs", json={"url": f"{url}/small.mp4", "model": "ultra"}).json()["id"]
                missing = api.post("/api/jobs", json={"url": f"{url}/missing.mp4"}).json()["id"]
                not_video = api.post("/api/jobs", json={"url": f"{url}/notes.txt"}).json()["id"]
                assert wait_until(api, good, finished)["state"] == "done"
                failed = wait_until(api, missing, finished)
                assert failed["state"] == "failed" and failed["error"].startswith(f"cannot fetch {url}/missing.mp4: HTTP 404")
                failed = wait_until(api, not_video, finished)  # fetched, then refused by the run itself
                assert failed["state"] == "failed" and "notes.txt" in failed["error"] and "\n" not in failed["error"]
                assert api.get(f"/api/jobs/{not_video}/result").status_code == 409
        finally:
            web.shutdown()
            thread.join()


def test_a_token_guards_every_request_and_another_site_cannot_change_jobs(tmp_path, videos):
    cfg = config(tmp_path, gate=Gate("127.0.0.1", 8765, token="s3cret"))
    with client(cfg) as api:
        for path in ("/", "/api/jobs", "/openapi.json", "/docs"):
            answer = api.get(path)
            assert answer.status_code == 401 and "token" in answer.json()["error"]
        assert api.get("/api/jobs", headers={"authorization": "Bearer wrong"}).status_code == 401
        assert api.get("/api/jobs", headers={"authorization": "Bearer s3cret"}).status_code == 200
        assert api.get("/?token=wrong", follow_redirects=False).status_code == 401
        login = api.get("/?token=s3cret", follow_redirects=False)
        assert login.status_code == 303 and "s3cret" not in login.headers["set-cookie"] and "HttpOnly" in login.headers["set-cookie"]
        assert api.get("/").status_code == 200 and "vsr serve" in api.get("/").text  # the cookie now opens the page
        assert api.get("/api/jobs").status_code == 200
        foreign = api.post("/api/jobs", json={"path": str(videos / "small.mp4")}, headers={"origin": "https://evil.example"})
        assert foreign.status_code == 403 and "evil.example" in foreign.json()["error"]
        rebound = api.get("/api/jobs", headers={"host": "evil.example:8765"})
        assert rebound.status_code == 400 and "answers to 127.0.0.1:8765" in rebound.json()["error"]
    lan = config(tmp_path, gate=Gate("0.0.0.0", 8765, token="s3cret"), state=tmp_path / "lan")
    with TestClient(create_app(lan), base_url="http://192.168.1.5:8765", headers={"authorization": "Bearer s3cret"}) as api:
        own_page = {"origin": "http://192.168.1.5:8765"}  # the page, as served to another machine on the network
        assert api.post("/api/jobs", json={"path": str(videos / "small.mp4"), **TINY}, headers=own_page).status_code == 201
        foreign = api.post("/api/jobs", json={"path": str(videos / "small.mp4")}, headers={"origin": "http://192.168.1.9:8765"})
        assert foreign.status_code == 403
        assert TestClient(create_app(lan), base_url="http://192.168.1.5:8765").get("/api/jobs").status_code == 401


def test_a_port_in_use_is_one_line_with_exit_2(tmp_path, capsys):
    import socket

    from vsr.cli import main

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        assert main(["serve", "--state", str(tmp_path / "state"), "--port", str(taken.getsockname()[1])]) == 2
    err = capsys.readouterr().err
    assert "cannot listen on 127.0.0.1:" in err and err.count("\n") == 1


def test_one_server_per_state_folder(tmp_path, capsys):
    from vsr.cli import main
    from vsr.serve.queue import StateLock

    (tmp_path / "state").mkdir()
    lock = StateLock(tmp_path / "state").acquire()
    try:
        assert main(["serve", "--state", str(tmp_path / "state"), "--port", str(free_port())]) == 1
    finally:
        lock.release()
    err = capsys.readouterr().err
    assert f"{tmp_path / 'state'} is in use by another vsr serve (pid {os.getpid()})" in err and err.count("\n") == 1


@pytest.mark.parametrize(
    "argv, env, words",
    [
        (["--host", "0.0.0.0"], {}, "needs a token; give one with --token, or serve on 127.0.0.1"),
        (["--host", "0.0.0.0", "--jobs", "0"], {"VSR_TOKEN": "s3cret"}, "--jobs must be 1 or more"),  # the token from the environment
        (["--max-upload", "lots"], {}, "--max-upload takes a size"),
        (["--allow-dir", "/nonexistent/folder"], {}, "no such folder"),
    ],
)
def test_the_command_refuses_bad_flags_in_one_line_with_exit_2(tmp_path, capsys, monkeypatch, argv, env, words):
    from vsr.cli import main

    monkeypatch.delenv("VSR_TOKEN", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["serve", "--state", str(tmp_path / "state"), *argv]) == 2
    err = capsys.readouterr().err
    assert words in err and err.count("\n") == 1


def test_sizes_read_as_people_write_them():
    from vsr.commands.serve import parse_size

    assert parse_size("20G") == 20 << 30 and parse_size("500M") == 500 << 20 and parse_size("1.5KiB") == 1536 and parse_size("123") == 123


def test_the_page_is_package_data_and_names_the_api():
    from importlib.resources import files

    page = files("vsr.serve").joinpath("static/index.html").read_text()
    for needed in ("/api/jobs", "/frame?n=", "side=source", "enlarge", "zoom", "split"):
        assert needed in page
    assert os.path.getsize(str(files("vsr.serve").joinpath("static/index.html"))) < 64_000  # one page, no bundle


def test_a_finished_result_is_never_replaced_by_a_half_written_one(tmp_path, videos):
    """Only a renamed, complete file is served: while the job runs there is no result."""
    long = make_clip(videos / "long.mp4", size=(96, 64), frames=60)
    with client(config(tmp_path)) as api:
        job_id = upload(api, long).json()["id"]
        wait_until(api, job_id, lambda job: job["frames_done"] > 0)
        answer = api.get(f"/api/jobs/{job_id}/result")
        assert answer.status_code == 409 and "running" in answer.json()["error"]
        job = wait_until(api, job_id, finished)
        with av.open(str(tmp_path / "state" / "jobs" / job_id / "long_x2.mp4")) as done:
            assert done.streams.video[0].frames == 60 and job["state"] == "done"
