"""The run as one frozen job (vsr.video.io.job): every setting checked when the job is built,
before any file is opened; an unknown option refused by name; settings resolved once; one
place that says how an input runs (streamed, in one piece, segmented), from the endpoint's
kind, never from string tests."""

import dataclasses

import pytest
from media import make_clip
from test_cli import run_cli

import vsr
from vsr.errors import InputError, UsageError
from vsr.video.io import job as job_module
from vsr.video.io.endpoints import Endpoint, classify
from vsr.video.io.job import RunKind, SegmentOptions, UpscaleJob, build_job, run_kind
from vsr.video.segments import segmented
from vsr.video.segments.segmented import upscale_in_segments


@pytest.mark.parametrize(
    "options, words",
    [
        ({"batch": 0}, "batch must be"),
        ({"codec": "divx"}, "codec"),
        ({"crf": -1}, "crf must be"),
        ({"realtime": "sometimes"}, "realtime must be one of"),
        ({"timeout": -1}, "timeout must be 0 or more"),
        ({"queue_size": 0}, "queue_size must be 1 or more"),
    ],
)
def test_a_bad_setting_is_refused_when_the_job_is_built_before_any_file_is_opened(tmp_path, options, words):
    missing = tmp_path / "missing.mp4"  # opening it would be "input not found"
    with pytest.raises(UsageError, match=words):
        vsr.upscale_video(missing, tmp_path / "out.mp4", device="cpu", **options)
    with pytest.raises(UsageError, match=words):
        build_job(missing, device="cpu", **options)


def test_an_unknown_option_is_refused_by_name(tmp_path):
    with pytest.raises(TypeError, match="'qualty'.*the options are"):
        vsr.upscale_video(tmp_path / "missing.mp4", qualty=3)
    with pytest.raises(TypeError, match="'segment_seconds'"):  # a segment option is not upscale_video's
        vsr.upscale_video(tmp_path / "missing.mp4", segment_seconds=2)
    with pytest.raises(TypeError, match="'on_segments'"):
        vsr.upscale_video(tmp_path / "missing.mp4", on_segments=print)
    with pytest.raises(UsageError, match="segment_seconds"):
        upscale_in_segments(tmp_path / "missing.mp4", segment_seconds=-1)


def test_the_job_is_frozen_and_checked_again_when_copied(tmp_path):
    job = build_job(tmp_path / "in.mp4", tmp_path / "out.mkv", device="cpu", crf=20, segments=SegmentOptions())
    assert job.encoder.crf == 20 and job.batch == 4 and job.stream.realtime == "auto"
    with pytest.raises(dataclasses.FrozenInstanceError):
        job.queue_size = 2
    with pytest.raises(UsageError, match="queue_size"):
        dataclasses.replace(job, queue_size=0)


def test_a_short_file_resolves_its_settings_and_loads_its_model_once(tmp_path, monkeypatch):
    """upscale_in_segments on a short file runs it in one piece, with the job it built."""
    resolved, loads = [], []
    real_resolve, real_load = job_module.resolve_run, vsr.model.load_model
    monkeypatch.setattr(job_module, "resolve_run", lambda *a, **k: resolved.append(k) or real_resolve(*a, **k))
    monkeypatch.setattr(vsr.model, "load_model", lambda *a, **k: loads.append(a) or real_load(*a, **k))
    src = make_clip(tmp_path / "in.mp4", frames=6)
    result = upscale_in_segments(src, tmp_path / "out.mkv", model="ultra", device="cpu", codec="ffv1")
    assert result.frames == 6 and result.codec == "ffv1"
    assert len(resolved) == 1 and len(loads) == 1


def _job(source: str, output: str = "out.mkv", **segments) -> UpscaleJob:
    return build_job(source, output, device="cpu", segments=SegmentOptions(**segments))


def test_how_an_input_runs_is_decided_from_the_endpoints_kind():
    assert run_kind(_job("in.mp4")) is RunKind.SEGMENTED
    assert run_kind(_job("in.mp4"), seconds=10) is RunKind.ONE_PIECE  # short: cheaper to redo than to keep a work folder
    assert run_kind(_job("in.mp4", seconds=1.0), seconds=10) is RunKind.SEGMENTED  # asked for
    assert run_kind(_job("in.mp4"), seconds=10, work_exists=True) is RunKind.SEGMENTED  # an earlier run's to resume
    assert run_kind(build_job("in.mp4", "out.mkv", device="cpu")) is RunKind.ONE_PIECE  # upscale_video never segments
    assert run_kind(_job("C:/films/in.mp4")) is RunKind.SEGMENTED  # a Windows path is a file
    for source, output in (("-", "out.mkv"), ("in.mp4", "-"), ("rtmp://host/live", "out.mkv"), ("in.mp4", "srt://host:9000")):
        assert run_kind(_job(source, output)) is RunKind.STREAMED, (source, output)
    device = Endpoint("device", "/dev/video0")
    assert run_kind(_job(device)) is RunKind.STREAMED


def test_a_capture_device_is_streamed_with_its_realtime_and_timeout(tmp_path, capsys, monkeypatch):
    """Regression: a /dev/videoN input went to the segmented run, which dropped --realtime
    and --timeout, and whose cutting reopened the device. /dev/null stands in for the
    device: a character device under /dev, as classify knows one."""
    assert classify("/dev/null").kind == "device"
    streamed = []

    def single_run(job, hooks, model=None):
        streamed.append(job)
        raise InputError("a stand-in for the streamed run")

    monkeypatch.setattr(segmented, "run_single", single_run)
    monkeypatch.setattr(segmented, "VideoSource", lambda *a, **k: pytest.fail("opened for a segmented run"))
    code, _, stderr = run_cli(capsys, "upscale", "/dev/null", "-o", tmp_path / "out.mkv", "--device", "cpu", "--realtime", "drop", "--timeout", "3")
    assert code == 1 and "a stand-in for the streamed run" in stderr, stderr
    (job,) = streamed
    assert job.source.kind == "device" and run_kind(job) is RunKind.STREAMED
    assert (job.stream.realtime, job.stream.timeout) == ("drop", 3.0)
    code, _, stderr = run_cli(capsys, "upscale", "/dev/null", "-o", tmp_path / "out.mkv", "--resume")
    assert code == 2 and "cannot be split or resumed" in stderr and "--resume" in stderr and stderr.count("\n") == 1, stderr


def test_resume_takes_a_windows_style_path_for_the_file_it_is(tmp_path, capsys, monkeypatch):
    """Regression: `--resume C:/x.mp4` was refused as a URL, because the code tested for ":/"."""
    monkeypatch.chdir(tmp_path)
    code, _, stderr = run_cli(capsys, "upscale", "C:/x.mp4", "-o", "D:/y.mp4", "--resume", "--device", "cpu")
    assert "cannot be split" not in stderr
    assert code == 1 and "input not found: C:/x.mp4" in stderr, stderr  # a file, looked for as one
