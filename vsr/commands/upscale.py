"""`vsr upscale`: upscale videos (files, folders, pipes, URLs), keeping every frame, timestamp and audio track.

Settings come from a preset (vsr presets; default `fast` on the CPU, `balanced` on a
GPU) and any flag given overrides the preset's value."""

import argparse

from .video_flags import add_segment_args, add_size_change_flag, add_video_flags, job_from_args


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
    add_size_change_flag(p)
    add_stream_args(p)
    p.add_argument("--overwrite", action="store_true", help="replace OUT if it exists")
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
    if is_batch(args):
        return run_batch(args)
    job = job_from_args(args)  # streamed, in one piece or segmented: vsr.video.io.job.run_kind decides
    view = ProgressView(quiet=args.quiet, summary_to_stderr=job.output is not None and job.output.kind == "pipe")
    on_start, on_progress = interruptible_callbacks(view, args.interrupt)
    with view:
        result = run_job(job, Hooks(notify=view.warn, on_progress=on_progress, on_start=on_start, on_segments=view.segments))
    view.summary(result)
    return wrap_up_stream(result)
