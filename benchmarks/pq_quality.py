"""Does the network, trained on gamma-coded SDR, still beat bicubic on PQ (HDR10) frames?

A known clean source: the validation photos (../shared/datasets/val.txt), centre crops.
Each is made into a PQ master as an HDR grade of SDR material is: sRGB decoded to linear
BT.709 light, SDR white placed at 203 cd/m2 (ITU-R BT.2408), converted to BT.2020
primaries, PQ-encoded (SMPTE ST 2084) and quantised to 10 bits. The low-resolution frame is
a bicubic x2 downscale of the PQ code values (how a lower-resolution HDR master is made),
quantised to 10 bits. The network sees PQ R'G'B' in [0, 1], as vsr's video path gives it
for a 10-bit PQ stream (Y'CbCr -> R'G'B' with the stream's matrix, no transfer change).

Scored: PSNR on BT.2020 Y' of the PQ code values (peak 1.0, 2 px shaved), network vs
bicubic; the same photos in plain SDR (sRGB, BT.709 Y') for comparison.

    PYTHONPATH=. python benchmarks/pq_quality.py --json benchmarks/pq-quality-cpu.json
"""

import argparse
import json
import platform
from pathlib import Path

import cv2
import numpy as np
import torch

import vsr
from vsr.resize import resize_bicubic

DATA = Path(__file__).resolve().parents[2] / "shared" / "datasets"
BT709_TO_BT2020 = torch.tensor([[0.6274, 0.3293, 0.0433], [0.0691, 0.9195, 0.0114], [0.0164, 0.0880, 0.8956]], dtype=torch.float64)
LUMA = {"bt709": (0.2126, 0.7152, 0.0722), "bt2020": (0.2627, 0.6780, 0.0593)}
SDR_WHITE_NITS = 203.0


def srgb_to_linear(x: torch.Tensor) -> torch.Tensor:
    return torch.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4)


def pq_encode(nits: torch.Tensor) -> torch.Tensor:
    """SMPTE ST 2084 inverse EOTF: cd/m2 -> code value in [0, 1]."""
    m1, m2, c1, c2, c3 = 2610 / 16384, 2523 / 4096 * 128, 3424 / 4096, 2413 / 4096 * 32, 2392 / 4096 * 32
    y = (nits.clamp(min=0) / 10000) ** m1
    return ((c1 + c2 * y) / (1 + c3 * y)) ** m2


def quantise(x: torch.Tensor, bits: int) -> torch.Tensor:
    top = (1 << bits) - 1
    return (x.clamp(0, 1) * top).round() / top


def to_pq(srgb: torch.Tensor) -> torch.Tensor:
    """(3, H, W) sRGB in [0, 1] -> 10-bit PQ BT.2020 R'G'B' in [0, 1]."""
    linear = torch.einsum("ij,jhw->ihw", BT709_TO_BT2020, srgb_to_linear(srgb))
    return quantise(pq_encode(linear * SDR_WHITE_NITS), 10)


def psnr_y(a: torch.Tensor, b: torch.Tensor, matrix: str, shave: int = 2) -> float:
    w = torch.tensor(LUMA[matrix], dtype=torch.float64).view(3, 1, 1)
    ya, yb = (x.double().mul(w).sum(0)[shave:-shave, shave:-shave] for x in (a, b))
    return float(10 * torch.log10(1 / ((ya - yb) ** 2).mean()))


def score(sr, hr: torch.Tensor, bits: int, matrix: str) -> tuple[float, float]:
    """(bicubic, network) PSNR-Y of x2 from `hr`'s bicubic downscale, in its own coding."""
    h, w = hr.shape[-2:]
    lr = quantise(resize_bicubic(hr, h // 2, w // 2), bits)
    bicubic = resize_bicubic(lr, h, w).clamp(0, 1)
    with torch.inference_mode():
        net = sr(lr[None].float())[0].double().clamp(0, 1)
    return psnr_y(bicubic, hr, matrix), psnr_y(quantise(net, bits), hr, matrix)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="ultra", help="a shipped name (default: ultra, the video weights vsr upscale uses)")
    p.add_argument("--crop", type=int, default=384)
    p.add_argument("--json", type=Path)
    args = p.parse_args()
    torch.set_num_threads(2)
    sr = vsr.load_model(args.model, scale=2, device="cpu", half=False)
    rows = []
    for name in (DATA / "val.txt").read_text().split():
        image = cv2.cvtColor(cv2.imread(str(DATA / "photos" / name)), cv2.COLOR_BGR2RGB)
        h, w = image.shape[:2]
        top, left = (h - args.crop) // 2, (w - args.crop) // 2
        srgb = torch.from_numpy(image[top : top + args.crop, left : left + args.crop].copy()).permute(2, 0, 1).double() / 255
        sdr_bic, sdr_net = score(sr, srgb, 8, "bt709")
        pq_bic, pq_net = score(sr, to_pq(srgb), 10, "bt2020")
        rows.append({"photo": name, "sdr_bicubic": sdr_bic, "sdr_network": sdr_net, "pq_bicubic": pq_bic, "pq_network": pq_net})
        print(f"{name[:40]:40} SDR {sdr_bic:6.2f} -> {sdr_net:6.2f}   PQ {pq_bic:6.2f} -> {pq_net:6.2f}")
    mean = {key: float(np.mean([r[key] for r in rows])) for key in rows[0] if key != "photo"}
    print("mean", {k: round(v, 3) for k, v in mean.items()})
    if args.json:
        machine = platform.processor() or platform.machine()
        record = {"machine": machine, "torch": torch.__version__, "model": sr.name, "crop": args.crop, "mean": mean, "photos": rows}
        args.json.write_text(json.dumps(record, indent=1) + "\n")


if __name__ == "__main__":
    main()
