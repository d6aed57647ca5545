"""`vsr bench`: what it measures, what it writes, how it compares with a baseline, and one
clear line for bad input. Speeds are not asserted here (see test_throughput.py)."""

import json
import time

import av
import pytest
import torch

import vsr
from vsr.bench.clips import make_synthetic_clip, parse_size
from vsr.bench.naive import naive_loop
from vsr.bench.network import time_network
from vsr.bench.report import PipelineRun, compare
from vsr.cli import main
from vsr.errors import UsageError
from vsr.video.io.codecs import EncoderSettings


def _frames_and_size(path):
    with av.open(str(path)) as container:
        frames = list(container.decode(video=0))
    return len(frames), (frames[0].width, frames[0].height)


@pytest.fixture(scope="module")
def bench_json(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "bench.json"
    assert main(["bench", "--synthetic", "64x48", "--frames", "8", "--encoders", "libx264:ultrafast", "--json", str(out)]) == 0
    return out


def test_bench_writes_every_measurement_with_the_machine_and_settings(bench_json, capsys):
    report = json.loads(bench_json.read_text())
    assert report["format"] == "vsr-bench/1" and report["command"].startswith("vsr bench --synthetic 64x48")
    assert {"cpu", "cpu_cores", "torch", "av", "ffmpeg", "python", "device", "commit"} <= set(report["machine"])
    (run,) = report["runs"]
    assert run["clip"] == "testsrc2 64x48" and run["frames"] == 8
    assert run["size_in"] == [64, 48] and run["size_out"] == [128, 96] and run["model"] == "ultra x2"
    assert set(run["fps"]) == {"decode", "model", "encode", "pipeline", "naive"} and min(run["fps"].values()) > 0
    assert run["slowest"] in ("decode", "model", "encode")
    assert run["efficiency"] == pytest.approx(run["fps"]["pipeline"] / run["fps"][run["slowest"]])
    assert run["speedup"] == pytest.approx(run["fps"]["pipeline"] / run["fps"]["naive"])
    assert [e["encoder"] for e in report["encoders"]] == ["libx264 crf 23 veryfast", "libx264 crf 23 ultrafast"]
    (network,) = report["network"]
    assert network["variant"] == "ultra" and network["batch"] == 1 and network["fps"] > 0 and not network["compiled"]


def test_synthetic_clip_is_real_h264_of_the_asked_size_and_length(tmp_path):
    clip = make_synthetic_clip(96, 64, 7, tmp_path)
    assert _frames_and_size(clip) == (7, (96, 64))
    with av.open(str(clip)) as container:
        assert container.streams.video[0].codec_context.name == "h264"


def test_naive_loop_writes_every_frame_upscaled(tmp_path):
    clip = make_synthetic_clip(64, 48, 6, tmp_path)
    model = vsr.load_model("ultra", scale=2)
    fps = naive_loop(clip, model, EncoderSettings("libx264", 23, "ultrafast"), tmp_path)
    assert fps > 0
    assert _frames_and_size(tmp_path / "naive.mkv") == (6, (128, 96))


class SleepyNetwork:
    """Stands in for SRModel: its first call takes 0.2 s (a compile), each later one 20 ms."""

    variant, scale, dtype, input_dtype, device, is_compiled = "ultra", 2, torch.float32, torch.float32, torch.device("cpu"), False

    def __init__(self):
        self.calls = 0

    def __call__(self, x):
        time.sleep(0.2 if self.calls == 0 else 0.02)
        self.calls += 1
        return x


def test_network_timing_measures_the_calls_and_the_first_call_apart():
    network = SleepyNetwork()
    speed = time_network(network, 32, 24, 2, min_seconds=0.3)
    assert 0.2 <= speed.first_call_seconds < 1.0
    assert 50 < speed.fps <= 100  # 2 frames per 20 ms call at best, slowed by a busy machine at worst
    assert network.calls * 0.02 >= 0.3  # enough calls to fill min_seconds were made


def _run(**fps) -> PipelineRun:
    values = {"decode": 1000.0, "model": 50.0, "encode": 200.0, "pipeline": 45.0, "naive": 30.0} | fps
    return PipelineRun("clip.mp4", 50, (320, 180), (640, 360), "ultra x2", "ultra-x2", "cpu", "float32", 1, False, "libx264 crf 23 veryfast", values)


def test_compare_flags_only_a_ratio_that_fell_more_than_ten_percent():
    baseline = [_run()]  # efficiency 0.90, speed-up 1.50
    same = compare([_run()], baseline)
    assert [c.ratio for c in same] == ["efficiency", "speedup"] and not any(c.dropped for c in same)
    slight = compare([_run(pipeline=41.0)], baseline)  # both ratios -8.9%
    assert not any(c.dropped for c in slight)
    dropped = compare([_run(pipeline=40.0)], baseline)  # -11.1%
    assert all(c.dropped for c in dropped)
    naive_faster = compare([_run(naive=34.0)], baseline)  # speed-up -11.8%, efficiency unchanged
    assert [c.dropped for c in naive_faster] == [False, True]
    assert not any(c.dropped for c in compare([_run(pipeline=49.0)], baseline))  # better is never flagged
    with pytest.raises(UsageError, match="no run in the baseline"):
        compare([_run()], [PipelineRun(**{**_run().__dict__, "dtype": "float16"})])


def _doctored(bench_json, tmp_path, factor):
    report = json.loads(bench_json.read_text())
    run = report["runs"][0]
    run["fps"]["pipeline"] *= factor  # the ratios are recomputed from fps when read back
    path = tmp_path / f"baseline-{factor}.json"
    path.write_text(json.dumps(report))
    return path


def test_compare_on_the_command_line_exits_1_on_a_drop_and_0_otherwise(bench_json, tmp_path, capsys):
    args = ["bench", "--synthetic", "64x48", "--frames", "8", "--compare"]
    assert main(args + [str(_doctored(bench_json, tmp_path, 0.01))]) == 0  # a baseline far below: no drop
    assert "| efficiency |" in capsys.readouterr().out
    assert main(args + [str(_doctored(bench_json, tmp_path, 100.0))]) == 1  # far above: both ratios dropped
    verdicts = [line for line in capsys.readouterr().err.splitlines() if line.startswith("vsr bench:")]
    assert len(verdicts) == 1 and "2 ratio(s) fell more than 10%" in verdicts[0]  # the rest is progress


@pytest.mark.parametrize(
    "args, message",
    [
        (["--synthetic", "64x"], "bad size '64x'"),
        (["--synthetic", "63x48"], "must be even"),
        (["missing.mp4"], "input not found"),
        (["--compare", "missing.json"], "baseline not found"),
        (["--repeat", "0"], "1 or more"),
        (["--synthetic", "20000x20000"], "at most 8192"),
        (["--network-only", "--compare", "b.json"], "--network-only does not measure"),
        (["--json", "no/such/folder/out.json"], "output folder does not exist"),
    ],
)
def test_bad_input_is_one_line_and_a_non_zero_exit(tmp_path, monkeypatch, capsys, args, message):
    monkeypatch.chdir(tmp_path)
    assert main(["bench", *args]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]


@pytest.mark.parametrize(
    "content, message",
    [
        ('{"rows": []}', "not a vsr bench JSON file"),
        ('{"format": "vsr-bench/1", "runs": []}', "holds no pipeline runs"),
        ("naive 0", "not a positive number"),
        ("no fps", "a run lacks 'fps'"),
    ],
)
def test_a_bad_baseline_is_refused_before_any_measuring(bench_json, tmp_path, capsys, content, message):
    other = tmp_path / "other.json"
    if content.startswith("{"):
        other.write_text(content)
    else:
        report = json.loads(bench_json.read_text())
        if content == "naive 0":
            report["runs"][0]["fps"]["naive"] = 0
        else:
            del report["runs"][0]["fps"]
        other.write_text(json.dumps(report))
    assert main(["bench", "--synthetic", "64x48", "--compare", str(other)]) == 1
    err = capsys.readouterr().err
    assert message in err and "making" not in err


def test_parse_size():
    assert parse_size("1920x1080") == (1920, 1080) and parse_size("64X48") == (64, 48)


def test_odd_sized_4_4_4_output_is_measured_in_the_pipelines_own_format(tmp_path, capsys):
    from media import make_clip

    clip = make_clip(tmp_path / "odd.mkv", size=(65, 49), frames=4, pix_fmt="yuv444p", codec="ffv1")
    out = tmp_path / "odd.json"
    assert main(["bench", str(clip), "--scale", "3", "--json", str(out)]) == 0
    (run,) = json.loads(out.read_text())["runs"]
    assert run["size_out"] == [195, 147] and run["fps"]["naive"] > 0


@pytest.fixture
def stub_cuda(monkeypatch):
    """A CUDA device as far as the settings and the precision policy can tell (no GPU
    is touched: only what would be loaded, and in which precision, is decided)."""
    import vsr.model
    import vsr.settings
    from vsr.precision_policy import Capabilities

    cuda = torch.device("cuda", 0)
    monkeypatch.setattr(vsr.settings, "resolve_device", lambda spec="auto": cuda)
    monkeypatch.setattr(vsr.model, "capabilities", lambda device: Capabilities("cuda", "cuda:0 (stub)", True, True, True))
    return cuda


@pytest.mark.parametrize(
    "flags",
    [[], ["--model", "ultra-x2"], ["--preset", "fast"], ["--scale", "3", "--crf", "30"], ["--precision", "fp32", "--codec", "libx265"], ["--half"]],
    ids=["defaults", "model", "preset", "scale-crf", "precision-codec", "half"],
)
def test_bench_on_cuda_times_exactly_what_upscale_would_run(stub_cuda, flags):
    from vsr.cli import build_parser
    from vsr.commands.bench import bench_settings
    from vsr.commands.video_flags import run_settings

    parser = build_parser()
    upscale = run_settings(parser.parse_args(["upscale", "in.mp4", *flags]))
    (bench,) = bench_settings(parser.parse_args(["bench", *flags]))
    assert bench.preset == upscale.preset and bench.encoder == upscale.encoder and bench.batch == upscale.batch
    assert bench.model == upscale.model and bench.model.device == stub_cuda
    planned, expected = bench.model.plan(), upscale.model.plan()
    assert (planned.source, planned.precision) == (expected.source, expected.precision)
    if not flags:  # the GPU default: balanced's small, whose fp16 error (v2: 0.95/255) is within the bound
        assert (planned.source, planned.precision.name, bench.preset.name) == ("small-x2-video", "fp16", "balanced")
    if flags == ["--model", "ultra-x2"]:
        assert planned.precision.name == "fp16"  # 0.34/255: fp16 batches


def test_bench_never_times_an_untrained_network_unless_asked(tmp_path, capsys):
    assert main(["bench", "--synthetic", "64x48", "--frames", "2", "--model", "base", "--network-only"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no shipped weights for base-x2" in err[0] and "--random-weights" in err[0]
    out = tmp_path / "random.json"
    assert main(["bench", "--synthetic", "64x48", "--frames", "2", "--model", "base", "--random-weights", "--json", str(out)]) == 0
    (run,) = json.loads(out.read_text())["runs"]
    assert run["weights"] == "random weights: speed only" and run["model"] == "base x2"
