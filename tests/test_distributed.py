"""`--ray`: segments encoded by Ray actors on a local Ray (2 CPU workers, loopback only,
usage statistics off, no GPU even on a GPU host) give the same output as one process on the
CPU, and a worker killed in the middle of a segment costs a retry, not a frame. Where the
actors run (GPUs, CPUs) is checked against a GPU cluster's resources, mocked. One local Ray
serves the whole module: it takes ~30 s to start on 2 cores."""

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
from vsr.errors import DeviceError, UsageError
from vsr.video.segments.distributed import RayRunner, WorkerSpec, place_workers
from vsr.video.segments.segmented import upscale_in_segments, work_folder

os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"  # read at import: the node listens on 127.0.0.1 only
ray = pytest.importorskip("ray")
SEGMENT = 0.5


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, num_gpus=0, include_dashboard=False, log_to_driver=False)  # CPU actors: bit-exact with a CPU run
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
    # bit-exact only because both run the same float32 network on CPUs: GPU workers (or a
    # GPU single run) round differently, and no test here claims otherwise
    src = make_clip(tmp_path / "in.mkv", frames=40, gop=6, audio_tracks=1)
    single = vsr.upscale_video(src, tmp_path / "single.mkv", model=ultra_x2, codec="ffv1")
    joined = upscale_in_segments(
        src, tmp_path / "ray.mkv", model=ultra_x2, codec="ffv1", segment_seconds=SEGMENT, ray=True, workers=2, device="cpu"
    )
    assert joined.frames == single.frames == 40 and joined.warnings == []
    assert joined.device == single.device == "cpu float32"
    _same(single.output, joined.output)
    assert not work_folder(joined.output).exists()


def test_the_driver_loads_no_model_and_records_what_the_workers_run(tmp_path, local_ray, monkeypatch):
    from vsr.settings import ModelSettings

    def refuse(*args, **kwargs):
        raise AssertionError("the driver loaded a model")

    monkeypatch.setattr(ModelSettings, "load", refuse)  # this process only: the actors load theirs
    src = make_clip(tmp_path / "in.mkv", frames=12, gop=6)
    result = upscale_in_segments(src, tmp_path / "ray.mkv", model="ultra", scale=2, codec="ffv1", segment_seconds=SEGMENT, ray=True, workers=2)
    assert result.frames == 12 and result.device == "cpu float32" and "ultra x2" in result.model
    assert probe(result.output).width == 2 * probe(src).width


def test_actors_follow_the_device_setting_on_a_cluster_with_gpus():
    gpu_cluster = {"CPU": 32.0, "GPU": 4.0, "memory": 1e11}
    assert place_workers(gpu_cluster, "auto", None) == place_workers(gpu_cluster, "cuda", None)
    on_gpus = place_workers(gpu_cluster, "auto", None)
    assert (on_gpus.count, on_gpus.device, on_gpus.options["num_gpus"]) == (4, "cuda", 1)
    on_cpus = place_workers(gpu_cluster, "cpu", 3)
    assert (on_cpus.count, on_cpus.device, on_cpus.options["num_gpus"]) == (3, "cpu", 0)
    assert place_workers(gpu_cluster, "cpu", None).count == 32
    cpu_cluster = {"CPU": 2.0}
    assert place_workers(cpu_cluster, "auto", None).device == "cpu"
    with pytest.raises(DeviceError, match="no GPU"):
        place_workers(cpu_cluster, "cuda", None)
    with pytest.raises(UsageError, match="a GPU of its own"):
        place_workers(gpu_cluster, "cuda:1", None)


@pytest.mark.parametrize("device,gpus,count", [("auto", 1, 2), ("cuda", 1, 2), ("cpu", 0, 3)])
def test_the_runner_asks_ray_for_what_the_placement_says(local_ray, monkeypatch, tmp_path, device, gpus, count):
    monkeypatch.setattr(ray, "cluster_resources", lambda: {"CPU": 8.0, "GPU": 2.0})  # a GPU cluster, mocked
    spec = WorkerSpec(tmp_path / "in.mkv", "ultra-x2-video", 2, "auto", False, 4, 8, None)
    runner = RayRunner(spec, None, 3, lambda message: None, device=device)
    try:
        options = runner.actor._default_options
        assert options["num_gpus"] == gpus and options["num_cpus"] == 1
        assert runner.count == count and runner.device == ("cuda" if gpus else "cpu")
    finally:
        runner.close()


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


def test_a_worker_that_cannot_load_the_model_stops_the_run_with_its_error(tmp_path, local_ray):
    from vsr.errors import WeightsError

    src = make_clip(tmp_path / "in.mkv", frames=4)
    spec = WorkerSpec(src, str(tmp_path / "missing.pth"), 2, "auto", False, 4, 8, None)  # not on this worker's disk
    runner = RayRunner(spec, None, 1, lambda message: None, device="cpu")
    try:
        with pytest.raises(WeightsError, match="missing.pth"):
            runner.start(2)
    finally:
        runner.close()
