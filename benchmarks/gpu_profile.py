"""Where a GPU run spends its time: the CUDA kernels of one network (torch.profiler, eager
and compiled), the model stage split into its host and device parts, and the pipeline
with fewer encoder threads (is the model thread starved of CPU?).

    python benchmarks/gpu_profile.py --model base --size 1920x1080 --clip bbb-1080p.mp4
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import vsr  # noqa: E402, F401

import torch  # noqa: E402
from torch.profiler import ProfilerActivity, profile  # noqa: E402

from vsr.bench.models import model_for_speed  # noqa: E402
from vsr.model import compile_model  # noqa: E402
from vsr.settings import resolve_model  # noqa: E402
from vsr.weights import shipped  # noqa: E402


def sync() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def kernel_table(model, x, label: str, rows: int) -> None:
    for _ in range(3):
        model(x)
    sync()
    with profile(activities=[ProfilerActivity.CUDA, ProfilerActivity.CPU]) as prof:
        for _ in range(5):
            model(x)
        sync()
    print(f"\n### {label}: 5 calls\n")
    sort_by = "self_cuda_time_total" if torch.cuda.is_available() else "self_cpu_time_total"
    print(prof.key_averages().table(sort_by=sort_by, row_limit=rows, max_name_column_width=90))


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--model", default="base")
    p.add_argument("--size", default="1920x1080")
    p.add_argument("--clip", type=Path)
    p.add_argument("--rows", type=int, default=22)
    p.add_argument("--device", default="cuda")
    args = p.parse_args()
    width, height = map(int, args.size.split("x"))
    device = torch.device(args.device)
    torch.backends.cudnn.benchmark = True
    settings = resolve_model(args.model, scale=2, device=device, precision="fp16" if device.type == "cuda" else "fp32")
    untrained = shipped().shipped_variant(args.model, 2, "video") is None and shipped().get(args.model) is None  # e.g. base: speed only
    eager = model_for_speed(settings, random_weights=untrained)
    x = torch.rand(1, 3, height, width, device=device, dtype=eager.input_dtype)
    kernel_table(eager, x, f"{args.model} x2 eager fp16 {args.size}", args.rows)
    compiled = compile_model(eager)
    kernel_table(compiled, x, f"{args.model} x2 compiled fp16 {args.size}", args.rows)
    if args.clip:
        pipeline_diagnostics(args.clip, compiled)
    return 0


def pipeline_diagnostics(clip: Path, model) -> None:
    import tempfile

    from vsr.bench import stages
    from vsr.video.io import sink as sink_module
    from vsr.video.io.codecs import EncoderSettings
    from vsr.video.stages.engine import FrameUpscaler

    work = Path(tempfile.mkdtemp())
    settings = EncoderSettings("libx264", 23, "veryfast")
    decoded = stages.decode_alone(clip)
    plan = stages.video_plan(decoded.info, model.scale, settings, work / "probe.mkv")
    target, colour = plan.layout, plan.colour
    upscaler = FrameUpscaler(model, decoded.info.layout, target, decoded.info.colour, colour, batch=4)
    packed = [f.packed for f in decoded.frames]
    upscaler.upscale(packed[:4]).wait()
    # the model stage, as the pipeline runs it: each batch's host memory freed once "encoded"
    for label, keep in (("outputs freed at once (as in the pipeline)", False), ("outputs kept (as model_stage_alone)", True)):
        kept, enqueue, waiting = [], 0.0, 0.0
        sync()
        started = time.perf_counter()
        pending = []
        for i in range(0, len(packed), 4):
            t = time.perf_counter()
            pending.append(upscaler.upscale(packed[i : i + 4]))
            enqueue += time.perf_counter() - t
            if len(pending) > 2:
                t = time.perf_counter()
                out = pending.pop(0).wait()
                waiting += time.perf_counter() - t
                if keep:
                    kept.append(out)
        for result in pending:
            result.wait()
        seconds = time.perf_counter() - started
        per_frame = 1000 / len(packed)
        print(f"model stage, {label}: {len(packed) / seconds:.1f} fps; enqueue {enqueue * per_frame:.2f} ms/frame, waiting {waiting * per_frame:.2f} ms/frame")
        del kept
    for threads in (0, 12, 8):
        original = sink_module.VideoSink._add_video

        def limited(self, *a, threads=threads, original=original, **k):
            stream = original(self, *a, **k)
            stream.codec_context.thread_count = threads
            return stream

        sink_module.VideoSink._add_video = limited
        speed = stages.pipeline(clip, model, 4, settings, work)
        sink_module.VideoSink._add_video = original
        busy = "/".join(f"{speed.busy.get(k, 0):.0%}" for k in ("decode", "model", "encode"))
        print(f"pipeline, x264 threads={threads or 'auto'}: {speed.fps:.1f} fps, busy d/m/e {busy}")
    # GIL hand-offs: the model thread releases and retakes the GIL around every kernel launch
    previous = sys.getswitchinterval()
    sys.setswitchinterval(0.0005)
    speed = stages.pipeline(clip, model, 4, settings, work)
    sys.setswitchinterval(previous)
    print(f"pipeline, switch interval 0.5 ms: {speed.fps:.1f} fps, busy {speed.busy}")
    # CUDA graphs: one launch per batch instead of one per kernel
    try:
        graphs = compile_model(model.eager(), mode="reduce-overhead")
        speed = stages.pipeline(clip, graphs, 4, settings, work)
        print(f"pipeline, compiled with CUDA graphs: {speed.fps:.1f} fps, busy {speed.busy}")
    except Exception as exc:  # a finding, not the end of the run
        print(f"pipeline, compiled with CUDA graphs: failed: {type(exc).__name__}: {str(exc)[:200]}")


if __name__ == "__main__":
    sys.exit(main())
