"""`vsr upscale`: upscale videos (files, folders, pipes, URLs), keeping every frame, timestamp and audio track.

Settings come from a preset (vsr presets; default `fast` on the CPU, `balanced` on a
GPU) and any flag given overrides the preset's value."""

import argparse
import sys

from .flags import add_overwrite_flag
from .video_flags import add_segment_args, add_selection_flags, add_size_change_flag, add_video_flags, job_from_args


def add_parser(subparsers) -> None:
    from .examples import RAW, examples
    from .stream_args import add_stream_args

    p = subparsers.add_parser(
        "upscale",
        help="upscale videos: files, folders, pipes, URLs",
        description=__doc__,
        formatter_class=RAW,
        epilog=examples(
            "Where outputs go, for upscale and image alike: the README's \"Where outputs go\".",
            ("vsr upscale clip.mp4", "clip_x2.mp4 beside the input"),
            ("vsr upscale clip.mp4 -o big/ --scale 4 -y", "into big/ (created if missing), replacing big/clip_x4.mp4"),
            ("vsr upscale films/ -o done/ --preset quality", "every video in films/; outputs that exist are skipped"),
            ("ffmpeg -i in.avi -f matroska - | vsr upscale - -o - | mpv -", "through pipes"),
        ),
    )
    p.add_argument("inputs", nargs="+", metavar="IN", help="video file, folder, - (stdin) or URL (anything FFmpeg reads); an image is upscaled as by vsr image")
    p.add_argument(
        "-o",
        "--output",
        metavar="OUT",
        help="a file (.mp4 .mov .mkv .webm), a folder (ends in /, or no suffix; created if missing), - (stdout) or a URL (default: IN_xS beside IN)",
    )
    add_video_flags(p)
    add_size_change_flag(p)
    add_selection_flags(p)
    add_stream_args(p)
    add_overwrite_flag(p)
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    add_segment_args(p)
    p.set_defaults(run=run)


def _check_ray_flags(args: argparse.Namespace) -> None:
    from ..errors import UsageError

    if args.ray_address and not args.ray:
        raise UsageError("--ray-address needs --ray")
    if args.workers is not None and not args.ray:
        raise UsageError("--workers needs --ray")


def run(args: argparse.Namespace) -> int:
    from ..video.io.job import Hooks
    from ..video.segments.segmented import run_job
    from .progress_view import ProgressView
    from .stream_args import check_stream_args, interruptible_callbacks, is_batch, run_batch, wrap_up_stream

    check_stream_args(args)
    _check_ray_flags(args)
    if _still_images(args.inputs):
        return _as_images(args)
    if is_batch(args):
        return run_batch(args)
    job = job_from_args(args)  # streamed, in one piece or segmented: vsr.video.io.job.run_kind decides
    part = job.trim.describe() if job.trim.active else None
    view = ProgressView(quiet=args.quiet, summary_to_stderr=job.output is not None and job.output.kind == "pipe", part=part)
    on_start, on_progress = interruptible_callbacks(view, args.interrupt)
    with view:
        result = run_job(job, Hooks(notify=view.warn, on_progress=on_progress, on_start=on_start, on_segments=view.segments))
    view.summary(result)
    return wrap_up_stream(result)


def _still_images(inputs: list[str]) -> bool:
    """Every input is an image file (by its suffix): `vsr image`'s work, not a video's."""
    from pathlib import Path

    from ..images import WRITABLE_SUFFIXES

    return all(Path(text).suffix.lower() in WRITABLE_SUFFIXES and Path(text).is_file() for text in inputs)


def _as_images(args: argparse.Namespace) -> int:
    """Still images given to `vsr upscale`: upscaled as `vsr image` does it (its model
    choice, tiles and output rules) and written as images, not as one-frame videos."""
    from pathlib import Path

    from ..constants import DEFAULT_TILE
    from . import image

    ignored = [flag for flag, value in (("--preset", args.preset), ("--codec", args.codec), ("--crf", args.crf)) if value is not None]
    if ignored and not args.quiet:
        print(f"vsr upscale: {', '.join(ignored)} apply to videos; the images are upscaled as vsr image does", file=sys.stderr)
    images = argparse.Namespace(**vars(args))
    images.inputs, images.tile = [Path(text) for text in args.inputs], DEFAULT_TILE
    return image.run(images)
