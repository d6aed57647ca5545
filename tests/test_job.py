"""The run as one frozen job (vsr.video.io.job): every setting checked when the job is built,
before any file is opened; an unknown option refused by name; settings resolved once."""

import dataclasses

import pytest
from media import make_clip

import vsr
from vsr.errors import UsageError
from vsr.video.io import job as job_module
from vsr.video.io.job import SegmentOptions, build_job
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
