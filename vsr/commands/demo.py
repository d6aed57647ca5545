"""`vsr demo`: upscale the bundled sample clip (Big Buck Bunny, 2 s, 5.1 audio) and the
bundled sample picture with the default shipped model. The fastest way to see vsr do its
main job on a fresh install."""

import argparse
from pathlib import Path


def add_parser(subparsers) -> None:
    from .video_flags import add_video_flags

    from .examples import RAW, examples

    p = subparsers.add_parser(
        "demo",
        help="upscale the bundled sample clip and picture",
        description=__doc__,
        formatter_class=RAW,
        epilog=examples(None, ("vsr demo", "into ./vsr-demo"), ("vsr demo -o /tmp/try --preset quality", "the quality preset, into /tmp/try")),
    )
    p.add_argument("-o", "--output", type=Path, default=Path("vsr-demo"), metavar="OUT", help="output folder (default ./vsr-demo)")
    add_video_flags(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..errors import OutputError
    from ..images import read_image, upscale_image, write_image
    from ..samples import SAMPLE_CLIP, SAMPLE_IMAGE
    from ..video.io.endpoints import classify
    from ..video.io.job import Hooks, UpscaleJob
    from ..video.stages.upscale import run_single
    from .progress_view import ProgressView
    from .video_flags import run_settings

    try:
        args.output.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create {args.output}: {exc.strerror}") from None
    resolved = run_settings(args)
    view = ProgressView()
    for notice in resolved.model.notices:
        view.warn(notice)
    model = resolved.model.load(compile=args.compile)  # one model for the clip and the picture
    target = args.output / f"{SAMPLE_CLIP.stem}_x{model.scale}{SAMPLE_CLIP.suffix}"
    job = UpscaleJob(source=classify(SAMPLE_CLIP), output=classify(target), settings=resolved, overwrite=True)
    with view:
        result = run_single(job, Hooks(notify=view.warn, on_progress=view.update, on_start=view.start), model)
    view.summary(result)
    picture = read_image(SAMPLE_IMAGE)
    image_target = args.output / f"{SAMPLE_IMAGE.stem}_x{model.scale}{SAMPLE_IMAGE.suffix}"
    write_image(image_target, upscale_image(model.eager(), picture))
    print(f"{SAMPLE_IMAGE} ({picture.width}x{picture.height}) -> {image_target}")
    print(f"compare {SAMPLE_CLIP} and {SAMPLE_IMAGE} with their upscaled copies in {args.output}/")
    return 0
