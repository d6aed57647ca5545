"""The pipeline on each device, for the checks a GPU needs: the default path, chroma siting
and 10-bit, upscale_frames, compile inside the pipeline, a segmented run, live, `vsr bench`.

Every test takes the `device` fixture: its CPU variant runs everywhere (the code paths and
helpers), its CUDA variant is marked gpu and skips without one. What a run should load is
asked of the resolver (vsr.settings), never hard-coded: the precision policy decides float16
or float32 per model and device. Pixels are compared with a CPU float32 run of the same
weights: 2 code values at 8 bits (the policy keeps a model in float16 only within 1/255 of
float32, plus one rounding), 8 at 10 bits; on the CPU the two runs are the same computation."""

import dataclasses
import json

import av
import numpy as np
import pytest
import torch

import vsr
from media import make_clip, probe
from vsr.model import SRModel
from vsr.settings import resolve_model, resolve_run
from vsr.video.io.colour import ColourSpec
from vsr.video.io.planes import PlaneLayout
from vsr.video.stages.engine import FrameUpscaler

DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.gpu)]


@pytest.fixture(params=DEVICES)
def device(request) -> str:
    return request.param


def on_cpu_in_float32(settings) -> SRModel:
    """The weights `settings` (vsr.settings.ModelSettings) name, on the CPU in float32: the reference."""
    return dataclasses.replace(settings, device=torch.device("cpu"), precision="fp32").load()


def planes(path) -> list[np.ndarray]:
    """Every frame's code values as written (uint16 for 10-bit), as ints."""
    with av.open(str(path)) as container:
        return [frame.to_ndarray().astype(int) for frame in container.decode(video=0)]


def max_difference(a, b) -> int:
    first, second = planes(a), planes(b)
    assert len(first) == len(second)
    return max(int(np.abs(x - y).max()) for x, y in zip(first, second, strict=True))


def test_the_default_path_runs_what_the_resolver_resolves(tmp_path, device):
    src = make_clip(tmp_path / "in.mp4", size=(96, 64), frames=8, audio_tracks=1)
    settings = resolve_run("auto", device=device)  # what `vsr upscale IN --device DEVICE` resolves
    expected = settings.model.load()
    result = vsr.upscale_video(src, tmp_path / "out.mkv", preset="auto", device=device, codec="ffv1")
    assert result.device == expected.runs_on and result.model == expected.name
    before, after = probe(src), probe(result.output)
    assert after.frames == 8 and (after.width, after.height) == (96 * expected.scale, 64 * expected.scale)
    # (mp4 -> mkv: AAC's priming delay may shift the whole clip; the spacing is kept)
    assert np.diff(after.times) == pytest.approx(np.diff(before.times), abs=1e-3)
    assert len(after.audio) == 1 and after.audio[0].packets == before.audio[0].packets
    reference = vsr.upscale_video(src, tmp_path / "cpu.mkv", model=on_cpu_in_float32(settings.model), codec="ffv1")
    assert max_difference(result.output, reference.output) <= 2


class _Nearest(torch.nn.Module):
    """Nearest-neighbour x2: isolates the Y'CbCr <-> RGB conversions from the network."""

    min_size = 1

    def forward(self, x, region=None):
        return torch.nn.functional.interpolate(x, scale_factor=2, mode="nearest")


def _siting_frames(layout: PlaneLayout, count: int) -> list[np.ndarray]:
    rng = np.random.default_rng(5)
    top = (1 << (8 if layout.dtype == np.uint8 else 10)) - 1
    frames = []
    for _ in range(count):
        planes_ = [rng.integers(top // 16, top - top // 16, (h, w)) for h, w in layout.plane_shapes]
        frames.append(np.concatenate([p.ravel() for p in planes_]).astype(layout.dtype))
    return frames


@pytest.mark.parametrize("fmt", ["yuv420p", "yuv420p10le"])
@pytest.mark.parametrize("location", ["left", "center", "topleft"])
def test_chroma_siting_and_10_bit_conversions_on_the_device_match_the_cpu(device, fmt, location):
    layout = PlaneLayout(fmt, 48, 32)
    spec = ColourSpec("bt709", False, 10 if "10" in fmt else 8, location)
    frames = _siting_frames(layout, 3)

    def upscaled(where: str) -> np.ndarray:
        model = SRModel(_Nearest(), "nearest", 2, "test", torch.device(where), torch.float32)
        return FrameUpscaler(model, layout, layout.scaled(2), spec, spec, batch=2).upscale(frames).wait()

    on_device, on_cpu = upscaled(device), upscaled("cpu")
    assert on_device.dtype == on_cpu.dtype == layout.dtype
    assert np.abs(on_device.astype(int) - on_cpu.astype(int)).max() <= 1


def test_a_10_bit_video_stays_10_bit_and_left_sited_on_the_device(tmp_path, device):
    src = make_clip(tmp_path / "in.mkv", size=(96, 64), frames=6, pix_fmt="yuv420p10le", codec="ffv1")
    settings = resolve_model("ultra", scale=2, device=device)
    result = vsr.upscale_video(src, tmp_path / "out.mkv", model=settings.load(), codec="ffv1")
    assert result.pix_fmt == "yuv420p10le"
    data = result.output.read_bytes()
    assert b"\x55\xb7\x81\x01" in data and b"\x55\xb8\x81\x02" in data  # ChromaSitingHorz left, Vert half-way
    reference = vsr.upscale_video(src, tmp_path / "cpu.mkv", model=on_cpu_in_float32(settings), codec="ffv1")
    assert max_difference(result.output, reference.output) <= 8  # 2 levels at 8 bits


def test_upscale_frames_with_a_batch_in_flight_matches_the_cpu(device):
    rng = np.random.default_rng(9)
    frames = [rng.integers(0, 256, (40, 56, 3), dtype=np.uint8) for _ in range(5)]
    settings = resolve_model("ultra", scale=2, device=device)
    out = list(vsr.upscale_frames(frames, model=settings.load(), batch=2))  # CUDA: reads a batch back after queuing the next
    reference = list(vsr.upscale_frames(frames, model=on_cpu_in_float32(settings), batch=2))
    assert len(out) == 5 and all(o.shape == (80, 112, 3) for o in out)
    assert max(int(np.abs(a.astype(int) - b.astype(int)).max()) for a, b in zip(out, reference, strict=True)) <= 2


@pytest.mark.gpu  # on the CPU: tests/test_compiled.py (compiling takes a minute there)
def test_compile_inside_the_pipeline_writes_the_eager_frames(tmp_path):
    src = make_clip(tmp_path / "in.mp4", size=(160, 96), frames=10)
    settings = resolve_model("ultra", scale=2, device="cuda")
    eager = vsr.upscale_video(src, tmp_path / "eager.mkv", model=settings.load(), codec="ffv1", batch=4)
    compiled = vsr.upscale_video(src, tmp_path / "compiled.mkv", model=settings.load(compile=True), codec="ffv1", batch=4)
    assert compiled.device == f"{eager.device}, compiled" and compiled.frames == eager.frames == 10
    assert max_difference(eager.output, compiled.output) <= 1


def test_one_segmented_run_writes_what_one_piece_writes(tmp_path, device):
    from vsr.video.segments.segmented import upscale_in_segments, work_folder

    src = make_clip(tmp_path / "in.mkv", size=(96, 64), frames=30, gop=6, audio_tracks=1)
    model = resolve_model("ultra", scale=2, device=device).load()
    single = vsr.upscale_video(src, tmp_path / "single.mkv", model=model, codec="ffv1", batch=4)
    joined = upscale_in_segments(src, tmp_path / "joined.mkv", model=model, codec="ffv1", batch=4, segment_seconds=0.5)
    assert joined.frames == single.frames == 30 and joined.device == single.device == model.runs_on
    assert probe(joined.output).times == probe(single.output).times
    # the batches split differently at the borders; on a GPU that may move a rounding
    assert max_difference(single.output, joined.output) <= 1
    assert not work_folder(joined.output).exists()


def test_live_runs_a_few_frames_and_records_them(tmp_path, device):
    pytest.importorskip("cv2")
    import vsr.live  # noqa: F401  (OpenCV before PyAV)
    from vsr.live.session import run_live
    from vsr.live.sources import open_source

    clip = make_clip(tmp_path / "in.mp4", size=(64, 48), frames=10, rate=25)
    out = tmp_path / "live.mkv"
    report = run_live(open_source(str(clip)), ["ultra"], device=torch.device(device), record=out)
    assert report.stopped_by == "end of source" and report.frames_captured == 10
    with av.open(str(out)) as container:
        frames = list(container.decode(video=0))
    assert len(frames) == report.recorded >= 1 and (frames[0].width, frames[0].height) == (128, 96)
    assert report.frames_shown >= 1


@pytest.mark.gpu  # on the CPU: tests/test_bench.py
def test_bench_with_repeat_1_on_cuda(tmp_path):
    from vsr.cli import main

    out = tmp_path / "bench.json"
    argv = ["bench", "--synthetic", "160x96", "--frames", "8", "--device", "cuda", "--repeat", "1", "--encoders", "libx264:ultrafast", "--json", str(out)]
    assert main(argv) == 0
    report = json.loads(out.read_text())
    assert "cuda" in json.dumps(report["machine"]).lower()
    assert all(min(run["fps"].values()) > 0 for run in report["runs"])
