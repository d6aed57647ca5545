"""Stage timing: each stage owns its clock; GPU time is read off CUDA events by the stage
that queued the work; the summary names the stage that limited the speed."""

import dataclasses

import numpy as np
import pytest
import torch

import vsr
from media import make_clip
from vsr.commands.progress_view import ProgressView
from vsr.video.stages import engine
from vsr.video.stages.pipeline import StageClock
from vsr.video.stages.upscale import UpscaleResult


def test_a_stage_is_as_busy_as_its_thread_or_its_device_whichever_is_longer():
    clock = StageClock("model", started=10.0, finished=14.0, waiting=3.0)
    assert clock.busy_seconds == pytest.approx(1.0)
    clock.device_seconds = 2.5
    assert clock.busy_seconds == pytest.approx(2.5)


def test_the_model_stage_counts_the_gpu_time_of_every_batch_it_queued(tmp_path, monkeypatch):
    """A stand-in for a GPU batch that says it computed for 0.25 s: the model stage (and
    only it) adds that up, even for batches still computing when they were queued."""
    queried = []

    @dataclasses.dataclass
    class SlowGpuBatch(engine.UpscaledBatch):
        def gpu_seconds(self, block=False):
            queried.append(block)
            return 0.25 if block or len(queried) % 2 == 0 else None  # every other poll: still computing

    real = engine.FrameUpscaler.upscale
    monkeypatch.setattr(engine.FrameUpscaler, "upscale", lambda self, frames: SlowGpuBatch(real(self, frames).packed))
    src = make_clip(tmp_path / "in.mp4", size=(32, 24), frames=6)
    result = vsr.upscale_video(src, tmp_path / "out.mkv", model="ultra", scale=2, device="cpu")
    assert result.frames == 6
    assert result.stage_busy["model"] >= 6 * 0.25 - 1e-9  # one frame per call on the CPU
    assert result.stage_busy["encode"] < result.seconds  # its GPU wait is waiting, not work
    assert True in queried  # the last batches were waited for at the end


def test_upscaled_batch_on_the_cpu_took_no_gpu_time():
    batch = engine.UpscaledBatch(torch.zeros(1, 4, dtype=torch.uint8))
    assert batch.gpu_seconds() == 0.0 and batch.wait().dtype == np.uint8


@pytest.mark.gpu
def test_gpu_time_of_a_batch_comes_from_cuda_events():
    if not torch.cuda.is_available():
        pytest.skip("no CUDA")
    from vsr.video.io.colour import ColourSpec
    from vsr.video.io.planes import PlaneLayout

    model = vsr.load_model("ultra", scale=2, device="cuda")
    layout, spec = PlaneLayout("yuv420p", 256, 144), ColourSpec("bt709", False, 8)
    upscaler = engine.FrameUpscaler(model, layout, layout.scaled(2), spec, spec, batch=2)
    result = upscaler.upscale([np.zeros(layout.size, np.uint8)] * 2)
    seconds = result.gpu_seconds(block=True)
    assert seconds is not None and 0 < seconds < 10


def test_the_summary_names_the_busiest_stage(capsys):
    result = UpscaleResult(
        output="out.mkv", frames=10, seconds=2.0, model="m", device="cpu", codec="libx264", pix_fmt="yuv420p",
        size_in=(32, 24), size_out=(64, 48), stage_busy={"decode": 0.2, "model": 1.8, "encode": 0.9},
    )
    ProgressView().summary(result)
    line = capsys.readouterr().out
    assert "10 frames 32x24 -> 64x48 in 2.0 s (5.0 fps)" in line
    assert "stages busy: decode 10%, model 90%, encode 45% (limited by model)" in line
