"""`vsr upscale`: upscale videos (files, folders, pipes, URLs), keeping every frame, timestamp and audio track.

Settings come from a preset (vsr presets; default `fast` on the CPU, `balanced` on a
GPU) and any flag given overrides the preset's value."""

import argparse

from .video_flags import add_segment_args, add_video_flags, segment_settings, video_settings


def add_parser(subparsers) -> None:
    from .stream_args import add_stream_args

    p = subparsers.add_parser("upscale", help="upscale videos: files, folders, pipes, URLs", description=__doc__)
    p.add_argument("inputs", nargs="+", metavar="IN", help="video file, folder, - (stdin) or URL (any container/codec FFmpeg reads)")
    p.add_argument(
        "-o",
        "--output",
        metavar="OUT",
        help="output file (.mp4 .mov .mkv .webm; default IN_xS beside the input), - (stdout), a URL, or a folder for several inputs",
    )
    add_video_flags(p)
    add_stream_args(p)
    p.add_argument("--overwrite", action="store_true", help="replace OUT if it exists")
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    add_segment_args(p)
    p.set_defaults(run=run)


def _file_to_file(args: argparse.Namespace) -> bool:
    endpoints = [str(args.inputs[0]), str(args.output) if args.output else ""]
    return not any(e == "-" or "://" in e for e in endpoints)


def _check_seekable(args: argparse.Namespace) -> None:
    from ..errors import UsageError

    endpoints = [str(args.inputs[0]), str(args.output) if args.output else ""]
    flag = "--ray" if getattr(args, "ray", False) else "--resume" if getattr(args, "resume", False) else None
    if flag and any(e == "-" or ":/" in e for e in endpoints):  # (a Path folds "://" to ":/")
        raise UsageError(f"{flag} needs an input file and an output file; pipes, URLs and -o - cannot be split or resumed")
    if getattr(args, "ray_address", None) and not getattr(args, "ray", False):
        raise UsageError("--ray-address needs --ray")
    if getattr(args, "workers", None) is not None and not getattr(args, "ray", False):
        raise UsageError("--workers needs --ray")


def run(args: argparse.Namespace) -> int:
    from ..video.segments.segmented import upscale_in_segments
    from ..video.stages.upscale import upscale_video
    from .progress_view import ProgressView
    from .stream_args import check_stream_args, interruptible_callbacks, is_batch, run_batch, stream_options, wrap_up_stream

    check_stream_args(args)
    _check_seekable(args)
    if is_batch(args):
        return run_batch(args)
    view = ProgressView(quiet=args.quiet, summary_to_stderr=args.output == "-")
    on_start, on_progress = interruptible_callbacks(view, args.interrupt)

    common = dict(overwrite=args.overwrite, notify=view.warn, on_progress=on_progress, on_start=on_start)
    with view:
        if _file_to_file(args):  # segmented (resumable) where the input allows it
            result = upscale_in_segments(args.inputs[0], args.output, **video_settings(args), **segment_settings(args), on_segments=view.segments, **common)
        else:  # a pipe or URL on either side: one streamed run
            result = upscale_video(args.inputs[0], args.output, **video_settings(args), **stream_options(args), **common)
    view.summary(result)
    return wrap_up_stream(result)
