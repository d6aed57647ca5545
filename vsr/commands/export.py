"""`vsr export`: a training checkpoint's EMA weights, re-parameterized, as a weights file."""

import argparse
from pathlib import Path


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("export", help="export deployed weights from a training checkpoint", description=__doc__)
    p.add_argument("checkpoint", type=Path, help="a run's last.pt")
    p.add_argument("-o", "--output", type=Path, required=True, metavar="FILE")
    p.add_argument("--recipe", default="", help="the training command to record (default: the commands stored in the checkpoint)")
    p.add_argument("--overwrite", action="store_true", help="replace FILE if it exists")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..errors import OutputError
    from ..training.export import export_deployed

    if args.output.exists() and not args.overwrite:
        raise OutputError(f"{args.output} exists; pass --overwrite to replace it")

    meta = export_deployed(args.checkpoint, args.output, args.recipe)
    print(f"{args.output}: PlainUSR {meta['variant']} x{meta['scale']}, {meta['steps']} steps, "
          f"val PSNR-Y {meta['val_psnr_y']}, sha256 {meta['sha256']}")  # fmt: skip
    return 0
