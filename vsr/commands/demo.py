"""`vsr demo`: upscale the bundled sample picture with the default shipped model.
The fastest way to see vsr work on a fresh install."""

import argparse
from pathlib import Path

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
SAMPLE_IMAGE = SAMPLES / "snow-trees.png"


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("demo", help="upscale the bundled sample", description=__doc__)
    p.add_argument("-o", "--output", type=Path, default=Path("vsr-demo"), metavar="DIR", help="output folder (default ./vsr-demo)")
    p.add_argument("--scale", type=int, choices=(2, 3, 4), default=2)
    p.add_argument("--device", default="auto")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from . import image

    image_args = argparse.Namespace(
        inputs=[SAMPLE_IMAGE], output=args.output, scale=args.scale, model=None, weights=None,
        device=args.device, half=False, tile=512, overwrite=True, quiet=False,
    )  # fmt: skip
    code = image.run(image_args)
    print(f"compare {SAMPLE_IMAGE} with {args.output / f'{SAMPLE_IMAGE.stem}_x{args.scale}.png'}")
    return code
