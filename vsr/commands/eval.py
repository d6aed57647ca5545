"""`vsr eval`: PSNR-Y / SSIM-Y of bicubic, vsr's weights and any weights files.

LR images are made from the HR images with vsr.resize (MATLAB-style bicubic, the same
as training); the SR output is rounded to 8 bits; `scale` border pixels are shaved.
With --video: pan clips made from the images, encoded with libx264 at each --crf, upscaled
through `vsr upscale`'s own path into lossless video, scored against the clean HR frames.
"""

import argparse
from pathlib import Path

from ..constants import PRECISIONS
from .examples import RAW, examples
from .flags import add_device_flag, add_offline_flag, photo_set


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "eval",
        help="measure PSNR/SSIM on an image set",
        description=__doc__,
        formatter_class=RAW,
        epilog=examples(
            None,
            ("vsr eval --scale 2", "bicubic and the shipped x2 weights on the validation photos"),
            ("vsr eval --scale 2 --model small-x2 --weights runs/small-x2/best.pth --json x2.json", "a trained file against the shipped model"),
            ("vsr eval --scale 2 --video --crf 23 --crf 30", "on x264 clips made from the photos"),
        ),
    )
    p.add_argument("--scale", type=int, choices=(2, 3, 4), required=True)
    p.add_argument("--images", metavar="PATH", help="folder or list file of HR images (default: val.txt in $VSR_DATASETS, else ../shared/datasets/val.txt)")
    p.add_argument("--image-dir", metavar="DIR", help="folder the names in a list file refer to")
    models = "known weights, e.g. ultra-x2 or official-small-x2 (repeatable; default: all shipped at --scale)"
    p.add_argument("--model", action="append", default=[], metavar="NAME", help=models)
    p.add_argument("--weights", action="append", default=[], metavar="FILE", help="other weights files to score, e.g. official checkpoints (repeatable)")
    add_device_flag(p)
    add_offline_flag(p)
    p.add_argument(
        "--precision",
        nargs="+",
        choices=PRECISIONS,
        default=["fp32"],
        help="score each model in these precisions, in one run (default fp32: the weights' own scores; e.g. --precision auto fp32 to see what auto costs)",
    )
    p.add_argument("--json", type=Path, metavar="OUT", help="also write the results as JSON")
    p.add_argument("--jpeg", type=int, metavar="Q", help="give the models JPEG-compressed LR images (OpenCV, quality Q, 4:2:0) instead of clean ones")
    p.add_argument("--video", action="store_true", help="score on compressed video clips made from the images (see vsr.video_eval)")
    p.add_argument("--crf", type=int, action="append", metavar="N", help="with --video: libx264 CRF of the clips (repeatable; default 23 and 30)")
    p.add_argument("--frames", type=int, default=30, metavar="N", help="with --video: frames per clip (default 30)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import json

    from .consoles import make_console
    from rich.table import Table

    from ..datasets import jpeg_pairs, list_images, load_pairs
    from ..errors import UsageError
    from ..evaluate import bicubic_upscaler, mean, model_upscaler, score
    from ..model import load_model
    from ..weights import shipped

    images = args.images or photo_set("val.txt")
    names = args.model or [e.name for e in shipped().shipped_entries() if e.scale == args.scale]
    precisions = list(dict.fromkeys(args.precision))
    specs = [*names, *(Path(w) for w in args.weights)]
    models = [load_model(m, scale=args.scale, device=args.device, precision=p) for m in specs for p in precisions]
    if args.video and args.jpeg is not None:
        raise UsageError("--jpeg is for image scores; --video clips are compressed with --crf")
    if args.video:
        return _video(args, images, models)
    elif args.crf:
        raise UsageError("--crf applies to --video")
    pairs = load_pairs(list_images(images, args.image_dir), args.scale)
    if args.jpeg is not None:
        if not 1 <= args.jpeg <= 100:
            raise UsageError(f"--jpeg takes a quality from 1 to 100, got {args.jpeg}")
        pairs = jpeg_pairs(pairs, args.jpeg)

    rows = [("bicubic", score(bicubic_upscaler(args.scale), pairs, args.scale))]
    for model in models:
        rows.append((_label(model, precisions), score(model_upscaler(model), pairs, args.scale)))

    lr_kind = f"JPEG q{args.jpeg} LR" if args.jpeg is not None else "bicubic LR"
    table = Table(title=f"x{args.scale} on {images} ({len(pairs)} images, {lr_kind}): Y channel, {args.scale}px border shaved")
    table.add_column("method")
    table.add_column("PSNR-Y dB", justify="right")
    table.add_column("SSIM-Y", justify="right")
    results = []
    for label, scores in rows:
        psnr, ssim = mean(scores)
        table.add_row(label, f"{psnr:.3f}", f"{ssim:.4f}")
        results.append({"method": label, "psnr_y": psnr, "ssim_y": ssim,
                        "per_image": [{"name": s.name, "psnr_y": s.psnr, "ssim_y": s.ssim} for s in scores]})  # fmt: skip
    make_console().print(table)
    if args.json:
        args.json.write_text(json.dumps({"scale": args.scale, "images": images, "jpeg": args.jpeg, "results": results}, indent=2) + "\n")
    return 0


def _video(args: argparse.Namespace, images: str, models) -> int:
    import json

    from .consoles import make_console
    from rich.table import Table

    from ..datasets import list_images
    from ..errors import UsageError
    from ..video_eval import damage_of, evaluate, make_clips

    if args.frames < 2:
        raise UsageError(f"--frames must be 2 or more, got {args.frames}")
    crfs = tuple(args.crf or (23, 30))
    console = make_console(stderr=True)
    clips = make_clips(list_images(images, args.image_dir), args.scale, frames=args.frames)
    labels = [_label(m, args.precision) for m in models]
    scores = evaluate(clips, args.scale, list(zip(labels, models)), crfs, progress=lambda message: console.print(f"[dim]{message}[/dim]"))
    damage = {crf: damage_of(clips, crf) for crf in crfs}
    size = f"{clips[0].lr[0].shape[1]}x{clips[0].lr[0].shape[0]}"
    table = Table(title=f"x{args.scale}, {len(clips)} clips of {args.frames} frames ({size} LR, libx264 medium 4:2:0): PSNR-Y dB / SSIM-Y")
    table.add_column("method")
    for crf in crfs:
        table.add_column(f"CRF {crf} (LR at {damage[crf]:.1f} dB)", justify="right")
    by_method: dict[str, dict[int, object]] = {}
    for s in scores:
        by_method.setdefault(s.method, {})[s.crf] = s
    for method, row in by_method.items():
        table.add_row(method, *(f"{row[crf].psnr_y:.3f} / {row[crf].ssim_y:.4f}" for crf in crfs))
    make_console().print(table)
    if args.json:
        payload = {
            "scale": args.scale, "images": images, "frames": args.frames, "lr_size": size, "crfs": list(crfs),
            "lr_damage_psnr_y": {str(c): d for c, d in damage.items()},
            "results": [{"method": s.method, "crf": s.crf, "psnr_y": s.psnr_y, "ssim_y": s.ssim_y, "per_clip": s.per_clip} for s in scores],
        }  # fmt: skip
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
    return 0


def _label(model, precisions: list[str]) -> str:
    """A row's name: the model, and its precision when another than fp32 was asked for."""
    label = f"{model.variant} ({model.source})"
    return label if precisions == ["fp32"] else f"{label} {model.precision}"
