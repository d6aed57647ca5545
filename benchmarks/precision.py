"""How far float16 strays from float32, per model in the registry, on a natural photo crop
and on high-contrast synthetic content (fine stripes, a zone plate, text). Output in 1/255
levels after clamping to [0, 1]: the max and the 99.9th percentile of |fp16 - fp32| over
all pixels and channels. Prints a markdown table; --json stores everything.

    python benchmarks/precision.py --device cpu --json benchmarks/precision-cpu.json
    python benchmarks/precision.py --device cuda --models official-ultra-x2 ultra-x2

Official models are loaded from the cache (vsr models pull) or, with --official DIR, from
a folder holding the release files. CPU float16 convolutions are slow, so the inputs are
small (64x96); the error is a property of the weights, not of the size.
"""

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import vsr  # noqa: E402, F401  (first: it sets allocator/OpenMP defaults torch reads at import)

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from vsr.model import load_model  # noqa: E402
from vsr.weights import registry  # noqa: E402

HEIGHT, WIDTH = 64, 96
PHOTO = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "photos" / "enlightenment-data__Bamboo.jpg"


def natural() -> torch.Tensor:
    bgr = cv2.imread(str(PHOTO))
    if bgr is None:
        raise SystemExit(f"{PHOTO} is missing (../shared/datasets)")
    top, left = (bgr.shape[0] - HEIGHT) // 2, (bgr.shape[1] - WIDTH) // 2
    return _tensor(bgr[top : top + HEIGHT, left : left + WIDTH, ::-1])


def stripes() -> torch.Tensor:
    """Quadrants of 1-px vertical, horizontal and diagonal black/white lines and a zone plate."""
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH]
    image = np.where(x % 2 == 0, 1.0, 0.0)
    image = np.where(y < HEIGHT // 2, image, np.where(y % 2 == 0, 1.0, 0.0))
    right = x >= WIDTH // 2
    image = np.where(right & (y < HEIGHT // 2), ((x + y) % 3 == 0) * 1.0, image)
    r2 = (x - 3 * WIDTH // 4) ** 2 + (y - 3 * HEIGHT // 4) ** 2
    image = np.where(right & (y >= HEIGHT // 2), 0.5 + 0.5 * np.cos(np.pi * r2 / 24.0), image)
    return torch.from_numpy(np.repeat(image[None, None], 3, axis=1)).float()


def text() -> torch.Tensor:
    """Small black text on white, white on black, and coloured on coloured."""
    canvas = np.full((HEIGHT, WIDTH, 3), 255, np.uint8)
    canvas[HEIGHT // 3 : 2 * HEIGHT // 3] = 0
    canvas[2 * HEIGHT // 3 :] = (30, 200, 240)
    for row, colour in ((14, (0, 0, 0)), (35, (255, 255, 255)), (56, (200, 20, 40))):
        cv2.putText(canvas, "Sharp 1il|", (2, row), cv2.FONT_HERSHEY_SIMPLEX, 0.42, colour, 1, cv2.LINE_AA)
    return _tensor(canvas)


def _tensor(rgb: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1)[None].float() / 255


INPUTS = {"natural": natural, "stripes": stripes, "text": text}


def fp16_error(spec, device: str, x: torch.Tensor) -> tuple[float, float]:
    fp32 = load_model(spec, device=device)(x).float().clamp(0, 1)
    fp16 = load_model(spec, device=device, half=True)(x).float().clamp(0, 1)
    diff = ((fp16 - fp32).abs() * 255).flatten().cpu()
    return diff.max().item(), torch.quantile(diff.double(), 0.999).item()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", help="registry names (default: all)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--official", type=Path, help="a folder with the official release files (instead of the cache)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    torch.manual_seed(0)
    known = registry()
    names = args.models or known.names()
    inputs = {name: make() for name, make in INPUTS.items()}
    rows = []
    print(f"| model | {' | '.join(f'{n} max / p99.9' for n in inputs)} | worst max |")
    print(f"|---|{'---|' * len(inputs)}---|")
    for name in names:
        entry = known.get(name)
        spec = args.official / entry.file if args.official and not entry.shipped else name
        errors = {n: fp16_error(spec, args.device, x) for n, x in inputs.items()}
        worst_max = max(e[0] for e in errors.values())
        worst_p999 = max(e[1] for e in errors.values())
        rows.append({"model": name, "device": args.device, "errors": errors, "max": worst_max, "p999": worst_p999})
        cells = " | ".join(f"{m:.2f} / {p:.2f}" for m, p in errors.values())
        print(f"| {name} | {cells} | {worst_max:.2f} |", flush=True)
    if args.json:
        meta = {"torch": torch.__version__, "size": f"{WIDTH}x{HEIGHT}", "unit": "1/255 levels, after clamping to [0, 1]"}
        args.json.write_text(json.dumps({"meta": meta, "results": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
