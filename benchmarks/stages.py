"""Pipeline efficiency: fps of decode, model and encode alone and of the full pipeline, on
one clip with one set of settings (vsr.stage_speed). Prints a markdown table row per model
and writes everything, with the machine and versions, to --json.

    python benchmarks/stages.py CLIP [CLIP ...] --models ultra small base --scale 2 \
        --device cuda --batch 4 --codec libx264 --crf 23 --encoder-preset veryfast --json out.json

A variant without shipped weights runs with freshly initialised weights of the same
architecture: its speed is that of the real network, its pictures are meaningless.
"""

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import vsr  # noqa: E402, F401  (first: it sets allocator/OpenMP defaults torch reads at import)

import av  # noqa: E402
import torch  # noqa: E402

from vsr.archs import build_plainusr  # noqa: E402
from vsr.model import SRModel, load_model  # noqa: E402
from vsr.stage_speed import measure_stages  # noqa: E402
from vsr.video.codecs import EncoderSettings  # noqa: E402
from vsr.weights import shipped  # noqa: E402


def model_for(variant: str, scale: int, device: torch.device, half: bool) -> tuple[SRModel, str]:
    if shipped().get(f"{variant}-x{scale}"):
        return load_model(variant, scale=scale, device=device, half=half), "shipped"
    module = build_plainusr(variant, scale).eval().requires_grad_(False).to(device, torch.float16 if half else torch.float32)
    return SRModel(module, variant, scale, "untrained (speed only)", device, torch.float16 if half else torch.float32), "untrained"


def machine() -> dict:
    info = {"python": platform.python_version(), "torch": torch.__version__, "av": av.__version__, "ffmpeg": str(getattr(av, "ffmpeg_version_info", "?")), "cpus": os.cpu_count(), "platform": platform.platform()}
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("clips", nargs="+", type=Path)
    p.add_argument("--models", nargs="+", default=["ultra"])
    p.add_argument("--scale", type=int, default=2)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--half", action=argparse.BooleanOptionalAction, default=None)
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--codec", default="libx264")
    p.add_argument("--crf", type=int, default=23)
    p.add_argument("--encoder-preset", default="veryfast")
    p.add_argument("--json", type=Path)
    args = p.parse_args()
    device = torch.device(args.device)
    half = device.type == "cuda" if args.half is None else args.half
    settings = EncoderSettings(args.codec, args.crf, args.encoder_preset)
    rows = []
    print("| clip | in -> out | model | weights | decode | model | encode | slowest | pipeline | efficiency | busy in pipeline (d/m/e) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for clip in args.clips:
        for variant in args.models:
            model, weights = model_for(variant, args.scale, device, half)
            speeds = measure_stages(clip, model, batch=args.batch, settings=settings)
            busy = "/".join(f"{speeds.pipeline_busy.get(k, 0):.0%}" for k in ("decode", "model", "encode"))
            fps = speeds.fps
            print(
                f"| {clip.name} | {speeds.size_in[0]}x{speeds.size_in[1]} -> {speeds.size_out[0]}x{speeds.size_out[1]} | {variant} x{args.scale} | {weights} "
                f"| {fps['decode']:.1f} | {fps['model']:.1f} | {fps['encode']:.1f} | {speeds.slowest_stage} | {fps['pipeline']:.1f} | {speeds.efficiency:.0%} | {busy} |",
                flush=True,
            )
            rows.append({"clip": str(clip), "frames": speeds.frames, "size_in": speeds.size_in, "size_out": speeds.size_out, "model": variant, "weights": weights, "fps": fps, "slowest": speeds.slowest_stage, "efficiency": speeds.efficiency, "pipeline_busy": speeds.pipeline_busy})
            del model
            if device.type == "cuda":
                torch.cuda.empty_cache()
    settings_used = {"scale": args.scale, "device": str(device), "half": half, "batch": args.batch, "codec": args.codec, "crf": args.crf, "encoder_preset": args.encoder_preset}
    if args.json:
        args.json.write_text(json.dumps({"date": time.strftime("%Y-%m-%d %H:%M"), "machine": machine(), "settings": settings_used, "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
