"""`vsr demo`: upscale the bundled sample picture with the default shipped model.
The fastest way to see vsr work on a fresh install."""

import argparse
from pathlib import Path

from ._model_args import add_model_args

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
SAMPLE_IMAGE = SAMPLES / "snow-trees.png"


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("demo", help="upscale the bundled sample", description=__doc__)
    p.add_argument("-o", "--output", type=Path, default=Path("vsr-demo"), metavar="DIR", help="output folder (default ./vsr-demo)")
    add_model_args(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from . import image

    image_args = argparse.Namespace(**vars(args), inputs=[SAMPLE_IMAGE], tile=512, overwrite=True, quiet=False)
    code = image.run(image_args)
    print(f"compare {SAMPLE_IMAGE} with the upscaled copy in {args.output}/")
    return code
