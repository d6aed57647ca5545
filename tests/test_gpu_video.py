"""The video pipeline on CUDA: pinned buffers, copy streams, the resolved precision (the
registry's per model: vsr.settings resolves it), Y'CbCr conversion on the GPU, and the
out-of-memory fallback with a real allocator limit (skipped on the CPU)."""

import numpy as np
import pytest
import torch

import vsr
from media import make_clip, probe
from vsr.settings import resolve_model
from vsr.video.io.colour import ColourSpec
from vsr.video.stages.engine import FrameUpscaler
from vsr.video.io.planes import PlaneLayout

pytestmark = pytest.mark.gpu


def _natural_frames(layout, count):
    yy, xx = np.mgrid[0 : layout.height, 0 : layout.width]
    frames = []
    for i in range(count):
        y = 120 + 70 * np.sin(xx / 9 + i) * np.cos(yy / 13) + 20 * np.sin(xx / 2.3)
        ch, cw = layout.chroma_shape
        cy, cx = np.mgrid[0:ch, 0:cw]
        u = 128 + 40 * np.sin(cx / 7 + i)
        v = 128 + 40 * np.cos(cy / 5)
        frames.append(np.concatenate([y.ravel(), u.ravel(), v.ravel()]).round().clip(16, 235).astype(np.uint8))
    return frames


def _resolved_ultra_x2():
    """What `vsr upscale --model ultra --scale 2 --device cuda` loads (ultra-x2-video, in the
    precision the registry measured for it)."""
    return resolve_model("ultra", scale=2, device="cuda").load()


def test_cuda_batches_in_the_resolved_precision_match_cpu_float32_within_two_levels():
    layout = PlaneLayout("yuv420p", 320, 180)
    spec = ColourSpec("bt709", False, 8)
    frames = _natural_frames(layout, 6)
    cpu = FrameUpscaler(vsr.load_model("ultra", scale=2, device="cpu"), layout, layout.scaled(2), spec, spec, batch=6).upscale(frames).wait()
    gpu_model = _resolved_ultra_x2()
    batched = FrameUpscaler(gpu_model, layout, layout.scaled(2), spec, spec, batch=4)
    results = [batched.upscale(frames[i : i + 4]) for i in range(0, 6, 4)]  # two batches in flight
    gpu = np.concatenate([r.wait() for r in results])
    assert np.abs(gpu.astype(int) - cpu.astype(int)).max() <= 2
    one_by_one = FrameUpscaler(gpu_model, layout, layout.scaled(2), spec, spec, batch=1)
    singles = np.concatenate([one_by_one.upscale([f]).wait() for f in frames])
    assert np.abs(singles.astype(int) - gpu.astype(int)).max() <= 1


def test_upscale_video_on_cuda_keeps_frames_timestamps_and_audio(tmp_path):
    src = make_clip(tmp_path / "in.mp4", size=(320, 180), frames=24, audio_tracks=1)
    result = vsr.upscale_video(src, tmp_path / "out.mp4", model="ultra", scale=2, device="cuda", batch=4)
    before, after = probe(src), probe(result.output)
    assert result.device == _resolved_ultra_x2().runs_on
    assert after.frames == 24 and (after.width, after.height) == (640, 360)
    assert after.times == pytest.approx(before.times, abs=1e-6)
    assert after.audio[0].packets == before.audio[0].packets


def test_out_of_memory_on_cuda_lowers_the_batch_and_keeps_every_frame():
    layout = PlaneLayout("yuv420p", 1920, 1080)
    spec = ColourSpec("bt709", False, 8)
    frames = _natural_frames(layout, 4)
    model = _resolved_ultra_x2()
    torch.cuda.synchronize()
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    resident = torch.cuda.memory_allocated()
    reference = FrameUpscaler(model, layout, layout.scaled(2), spec, spec, batch=1).upscale(frames[:1]).wait()
    one_frame = torch.cuda.max_memory_allocated() - resident
    torch.cuda.empty_cache()
    total = torch.cuda.get_device_properties(0).total_memory
    notices = []
    try:  # room for the work of about two frames at once, not four
        torch.cuda.set_per_process_memory_fraction((resident + 2.2 * one_frame) / total)
        upscaler = FrameUpscaler(model, layout, layout.scaled(2), spec, spec, batch=4, notify=notices.append)
        out = upscaler.upscale(frames).wait()
    finally:
        torch.cuda.set_per_process_memory_fraction(1.0)
        torch.cuda.empty_cache()
    assert out.shape[0] == 4 and notices, "expected the allocator limit to force a smaller batch"
    assert np.abs(out[0].astype(int) - reference[0].astype(int)).max() <= 1
