"""Which way of running the deployed network is fastest on this GPU: eager or torch.compile,
NCHW or channels-last, cuDNN autotuning on or off, Inductor's modes. Times each variant of
each model on one input size (network alone, CUDA events, after warm-up) and checks its
output against eager fp32. Writes a markdown table to stdout and everything to --json.

    python benchmarks/network_variants.py --models base ultra --size 1920x1080 --json out.json

Weights are fresh (speed does not depend on their values); outputs are compared on a
smooth image so the fp16 error is the network's, not noise's.
"""

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import vsr  # noqa: E402, F401  (first: it sets allocator/OpenMP defaults torch reads at import)

import torch  # noqa: E402

from vsr.archs import build_plainusr  # noqa: E402
from vsr.bench.network import time_network  # noqa: E402
from vsr.model import SRModel, compile_model  # noqa: E402

VARIANTS = {
    # name: (compiled, channels_last, cudnn.benchmark, inductor mode)
    "eager": (False, False, False, None),
    "eager+cudnn-benchmark": (False, False, True, None),
    "eager+channels-last+benchmark": (False, True, True, None),
    "compile(NCHW)+benchmark": (True, False, True, None),
    "compile(channels-last)+benchmark": (True, True, True, None),
    "compile(channels-last)": (True, True, False, None),
    "compile(channels-last)+cudagraphs": (True, True, True, "reduce-overhead"),
    "compile(channels-last)+max-autotune-no-cudagraphs": (True, True, True, "max-autotune-no-cudagraphs"),
}


def smooth_image(batch: int, height: int, width: int, device) -> torch.Tensor:
    y = torch.linspace(0, 1, height, device=device).view(1, 1, -1, 1)
    x = torch.linspace(0, 1, width, device=device).view(1, 1, 1, -1)
    phase = torch.arange(3, device=device).view(1, 3, 1, 1)
    return (0.5 + 0.4 * torch.sin(6 * x + 4 * y + phase) * torch.cos(3 * y - 2 * x)).expand(batch, 3, height, width).contiguous()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", nargs="+", default=["base"])
    p.add_argument("--scale", type=int, default=2)
    p.add_argument("--size", default="1920x1080")
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--variants", nargs="+", default=list(VARIANTS))
    p.add_argument("--device", default="cuda")
    p.add_argument("--json", type=Path)
    args = p.parse_args()
    width, height = map(int, args.size.split("x"))
    device = torch.device(args.device)
    rows = []
    print("| model | input | batch | variant | fps | ms/frame | first call (compile) s | max abs err vs fp32 (8-bit LSB) |")
    print("|---|---|---|---|---|---|---|---|")
    for variant in args.models:
        torch.manual_seed(0)
        module = build_plainusr(variant, args.scale).eval().requires_grad_(False)
        reference_model = SRModel(module.to(device), variant, args.scale, "fresh", device, torch.float32)
        image = smooth_image(1, min(height, 256), min(width, 256), device)
        reference = reference_model(image).float().clamp(0, 1)
        for name in args.variants:
            compiled, channels_last, benchmark, mode = VARIANTS[name]
            torch.backends.cudnn.benchmark = benchmark
            torch._dynamo.reset()
            half = build_plainusr(variant, args.scale).eval().requires_grad_(False)
            half.load_state_dict(module.state_dict())
            half = half.to(device, torch.float16)
            if channels_last and not compiled:
                half = half.to(memory_format=torch.channels_last)
            model = SRModel(half, variant, args.scale, "fresh", device, torch.float16)
            if compiled:
                model = compile_model(model, channels_last=channels_last, mode=mode)
            started = time.perf_counter()
            try:
                speed = time_network(model, width, height, args.batch, min_seconds=1.5)
                error = (model(image).float().clamp(0, 1) - reference).abs().max().item() * 255
            except Exception as exc:  # a variant that fails is a finding, not the end of the run
                print(f"| {variant} x{args.scale} | {args.size} | {args.batch} | {name} | failed: {type(exc).__name__}: {str(exc)[:120]} | | | |", flush=True)
                continue
            row = {
                "model": variant, "scale": args.scale, "size": args.size, "batch": args.batch, "variant": name, "fps": speed.fps,
                "first_call_seconds": speed.first_call_seconds, "max_err_lsb": error, "seconds": time.perf_counter() - started,
            }  # fmt: skip
            rows.append(row)
            cells = f"{speed.fps:.1f} | {speed.ms_per_frame:.2f} | {speed.first_call_seconds:.1f} | {error:.2f}"
            print(f"| {variant} x{args.scale} | {args.size} | {args.batch} | {name} | {cells} |", flush=True)
            del model, half
            torch.cuda.empty_cache() if device.type == "cuda" else None
    if args.json:
        gpu = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
        info = {"torch": torch.__version__, "gpu": gpu, "cudnn": torch.backends.cudnn.version()}
        args.json.write_text(json.dumps({"machine": info, "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
