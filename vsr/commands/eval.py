"""`vsr eval`: PSNR-Y / SSIM-Y of bicubic, vsr's weights and any weights files.

LR images are made from the HR images with vsr.resize (MATLAB-style bicubic, the same
as training); the SR output is rounded to 8 bits; `scale` border pixels are shaved.
"""

import argparse
from pathlib import Path

from .flags import add_device_flag, photo_set


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("eval", help="measure PSNR/SSIM on an image set", description=__doc__)
    p.add_argument("--scale", type=int, choices=(2, 3, 4), required=True)
    p.add_argument("--images", metavar="PATH", help="folder or list file of HR images (default: val.txt in $VSR_DATASETS, else ../shared/datasets/val.txt)")
    p.add_argument("--image-dir", metavar="DIR", help="folder the names in a list file refer to")
    p.add_argument("--model", action="append", default=[], metavar="NAME", help="shipped weights to score (repeatable; default: all shipped at this scale)")
    p.add_argument("--weights", action="append", default=[], metavar="FILE", help="other weights files to score, e.g. official checkpoints (repeatable)")
    add_device_flag(p)
    p.add_argument("--json", type=Path, metavar="OUT", help="also write the results as JSON")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import json

    from rich.console import Console
    from rich.table import Table

    from ..datasets import list_images, load_pairs
    from ..evaluate import bicubic_upscaler, mean, model_upscaler, score
    from ..model import load_model
    from ..weights import shipped

    images = args.images or photo_set("val.txt")
    pairs = load_pairs(list_images(images, args.image_dir), args.scale)
    names = args.model or [e.name for e in shipped().entries if e.scale == args.scale]
    models = [load_model(n, scale=args.scale, device=args.device) for n in names]
    models += [load_model(w, scale=args.scale, device=args.device) for w in args.weights]

    rows = [("bicubic", score(bicubic_upscaler(args.scale), pairs, args.scale))]
    for model in models:
        rows.append((f"{model.variant} ({model.source})", score(model_upscaler(model), pairs, args.scale)))

    table = Table(title=f"x{args.scale} on {images} ({len(pairs)} images): Y channel, {args.scale}px border shaved")
    table.add_column("method")
    table.add_column("PSNR-Y dB", justify="right")
    table.add_column("SSIM-Y", justify="right")
    results = []
    for label, scores in rows:
        psnr, ssim = mean(scores)
        table.add_row(label, f"{psnr:.3f}", f"{ssim:.4f}")
        results.append({"method": label, "psnr_y": psnr, "ssim_y": ssim,
                        "per_image": [{"name": s.name, "psnr_y": s.psnr, "ssim_y": s.ssim} for s in scores]})  # fmt: skip
    Console().print(table)
    if args.json:
        args.json.write_text(json.dumps({"scale": args.scale, "images": images, "results": results}, indent=2) + "\n")
    return 0
