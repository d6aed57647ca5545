"""How far each precision on a device strays from float32 on the CPU: fp16 (a float16 copy
of the network, float16 input: what a CUDA run in half precision does), TF32 (float32
weights with cuDNN and matmuls allowed to round their inputs to TF32: PyTorch's default for
convolutions) and strict float32 (TF32 off), per shipped model, on vsr.precision's
measurement content (the chart and the photo crop) and on the whole bundled photo (a
bigger frame, where cuDNN may pick other algorithms). Max and mean |x - cpu_fp32| in 1/255
levels after clamping to [0, 1]; cudnn.benchmark is on, as in a video run.

    python benchmarks/gpu_precision.py --json $OUT/precision-gpu.json      # on a GPU
    python benchmarks/gpu_precision.py --device cpu --models ultra-x2      # the same code, here

On the CPU "tf32" sets the same switches, which do nothing there: its row equals strict
float32's, and fp16 is emulated by the CPU kernels. Every switch is restored afterwards.
"""

import argparse
import contextlib
import copy
import json
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import vsr  # noqa: E402, F401  (first: it sets allocator/OpenMP defaults torch reads at import)

import cv2  # noqa: E402
import torch  # noqa: E402

from vsr.checkpoint import build_deployed, read_checkpoint  # noqa: E402
from vsr.precision import PHOTO, content  # noqa: E402
from vsr.weights import registry  # noqa: E402

PRECISIONS = ("fp16", "tf32", "fp32")


@contextlib.contextmanager
def fp32_math(mode: str):
    """cuDNN convolutions and CUDA matmuls in float32 as `mode` says: "tf32" or "ieee"."""
    conv, matmul = torch.backends.cudnn.conv, torch.backends.cuda.matmul
    saved = conv.fp32_precision, matmul.fp32_precision, torch.backends.cudnn.benchmark
    conv.fp32_precision = matmul.fp32_precision = mode
    torch.backends.cudnn.benchmark = True
    try:
        yield
    finally:
        conv.fp32_precision, matmul.fp32_precision, torch.backends.cudnn.benchmark = saved


def inputs() -> dict[str, torch.Tensor]:
    """vsr.precision.content() and the whole photo, (1, 3, H, W) float32 in [0, 1]."""
    photo = cv2.imread(str(PHOTO))[:, :, ::-1].copy()
    return {**content(), "photo-whole": torch.from_numpy(photo).permute(2, 0, 1)[None].float() / 255}


@torch.inference_mode()
def measure(network: torch.nn.Module, device: torch.device) -> list[dict]:
    """One row per (precision, content): the error of `network` on `device` against CPU float32."""
    reference_net = copy.deepcopy(network).float().eval().cpu()
    fp32_net = copy.deepcopy(reference_net).to(device)
    nets = {"fp16": copy.deepcopy(fp32_net).half(), "tf32": fp32_net, "fp32": fp32_net}
    rows = []
    for name, x in inputs().items():
        reference = reference_net(x).clamp(0, 1)
        for precision in PRECISIONS:
            x_in = x.to(device, torch.float16 if precision == "fp16" else torch.float32)
            with fp32_math("tf32" if precision == "tf32" else "ieee"):
                nets[precision](x_in)  # warm-up: cuDNN picks its kernels for this size
                _synchronize(device)
                started = time.perf_counter()
                out = nets[precision](x_in)
                _synchronize(device)
                seconds = time.perf_counter() - started
            diff = (out.float().cpu().clamp(0, 1) - reference).abs() * 255
            rows.append({"precision": precision, "content": name, "size": f"{x.shape[-1]}x{x.shape[-2]}",
                         "max": round(float(diff.max()), 3), "mean": round(float(diff.mean()), 4), "seconds": round(seconds, 4)})  # fmt: skip
    return rows


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--models", nargs="*", help="registry names (default: every model whose file is here)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    device = torch.device(args.device)
    known = registry()
    names = args.models or [e.name for e in known.entries if known.is_available(e)]
    results = []
    print("| model | content | " + " | ".join(f"{p} max / mean" for p in PRECISIONS) + " |")
    print("|---|---|" + "---|" * len(PRECISIONS))
    for name in names:
        rows = measure(build_deployed(read_checkpoint(known.verified_path(known.get(name)))), device)
        for row in rows:
            row["model"] = name
        results += rows
        for content_name in dict.fromkeys(r["content"] for r in rows):
            cells = {r["precision"]: f"{r['max']:.2f} / {r['mean']:.3f}" for r in rows if r["content"] == content_name}
            print(f"| {name} | {content_name} | " + " | ".join(cells[p] for p in PRECISIONS) + " |", flush=True)
    if args.json:
        gpu = torch.cuda.get_device_name(device) if device.type == "cuda" else None
        meta = {"torch": torch.__version__, "device": str(device), "gpu": gpu, "cudnn": torch.backends.cudnn.version(),
                "machine": platform.processor() or platform.machine(), "reference": "the same network in float32 on the CPU",
                "content": "vsr.precision.content() (chart and photo crop, 64x96) and the whole bundled photo",
                "unit": "1/255 levels, after clamping to [0, 1]"}  # fmt: skip
        args.json.write_text(json.dumps({"meta": meta, "results": results}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
