"""`vsr demo`: upscale the bundled sample clip (Big Buck Bunny, 2 s, 5.1 audio) and the
bundled sample picture with the default shipped model. The fastest way to see vsr do its
main job on a fresh install."""

import argparse
from pathlib import Path

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
SAMPLE_IMAGE = SAMPLES / "snow-trees.png"
SAMPLE_CLIP = SAMPLES / "bbb-320x180.mp4"


def add_parser(subparsers) -> None:
    from .upscale import add_video_args

    p = subparsers.add_parser("demo", help="upscale the bundled sample clip and picture", description=__doc__)
    p.add_argument("-o", "--output", type=Path, default=Path("vsr-demo"), metavar="DIR", help="output folder (default ./vsr-demo)")
    add_video_args(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..errors import OutputError
    from . import image, upscale
    from .stream_args import FILE_RUN

    try:
        args.output.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create {args.output}: {exc.strerror}") from None
    scale_hint = args.scale or 2
    clip_out = args.output / f"{SAMPLE_CLIP.stem}_x{scale_hint}{SAMPLE_CLIP.suffix}"
    video_args = argparse.Namespace(**vars(args), **FILE_RUN, inputs=[SAMPLE_CLIP], overwrite=True, quiet=False)
    video_args.output = clip_out
    upscale.run(video_args)
    image_args = argparse.Namespace(**vars(args), inputs=[SAMPLE_IMAGE], tile=512, overwrite=True, quiet=False)
    image.run(image_args)
    print(f"compare {SAMPLE_CLIP} and {SAMPLE_IMAGE} with their upscaled copies in {args.output}/")
    return 0
