"""`vsr upscale`'s flags for pipes, URLs and batches, and how a stream run's end becomes
an exit status:

- 0: the input ended, or was lost (a dropped connection, a stream that fell silent for
  --timeout seconds), or the reader of `-o -` quit early (a broken pipe ends the run
  quietly, with 0 rather than the shell's 141, so `vsr ... | head -c N` is no failure);
  the output is finished up to the last frame written and the summary says why it ended.
- 130: Ctrl-C (a stream output, or any output of a live input, is still finished).
- 1: an output URL's connection was dropped (what was sent is all the receiver has).
- 1: in a batch, when any file failed.
"""

import argparse
import os
import sys
from pathlib import Path

PIPE = "-"


def add_stream_args(p: argparse.ArgumentParser) -> None:
    from ..video.io.endpoints import DEFAULT_PIPE_FORMAT, DEFAULT_TIMEOUT, PIPE_FORMATS, REALTIME_POLICIES

    p.add_argument(
        "--format", metavar="FMT", help=f"container for -o - ({', '.join(PIPE_FORMATS)}; default {DEFAULT_PIPE_FORMAT}) or an output URL (default: by protocol)"
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"give up on a URL that does not answer or falls silent this long (default {DEFAULT_TIMEOUT:g}; 0: never)",
    )
    p.add_argument(
        "--realtime",
        choices=REALTIME_POLICIES,
        default="auto",
        help="when the model is slower than a live input: drop the oldest waiting frames, or block (back-pressure); "
        "auto: drop for live inputs (network streams, devices), block otherwise",
    )
    p.add_argument("--recursive", action="store_true", help="search folders given as inputs in their subfolders too")


def check_stream_args(args: argparse.Namespace) -> None:
    from ..errors import UsageError

    if args.output == PIPE and sys.stdout.isatty():
        raise UsageError("-o - writes video to stdout, which is a terminal here; pipe it (| mpv -) or name a file")
    if PIPE in args.inputs and sys.stdin.isatty():
        raise UsageError("- reads video from stdin, which is a terminal here; pipe a video in (ffmpeg ... -f matroska - |)")
    if args.inputs.count(PIPE) and len(args.inputs) > 1:
        raise UsageError("- (stdin) can only be the one input")


def interruptible_callbacks(view, interrupt):
    """(on_start, on_progress) for upscale_video that feed `view` and stop the run at a
    Ctrl-C that something swallowed (vsr.interrupt)."""

    def on_start(source, sink, model) -> None:
        interrupt.check()
        view.start(source, sink, model)

    def on_progress(done: int, expected: int | None) -> None:
        interrupt.check()
        view.update(done, expected)

    return on_start, on_progress


def is_batch(args: argparse.Namespace) -> bool:
    """Several inputs, or a folder of videos (with --framerate a folder is one sequence)."""
    return len(args.inputs) > 1 or (Path(args.inputs[0]).is_dir() and args.framerate is None)


def wrap_up_stream(result) -> int:
    from ..interrupt import EXIT_CODE
    from ..video.stages.ending import RunEnding

    if result.ended is RunEnding.READER_GONE:
        # Anything Python still flushes to the closed pipe at exit would print a traceback.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    if result.ended is RunEnding.INTERRUPTED:
        return EXIT_CODE
    return 1 if result.ended is RunEnding.OUTPUT_DROPPED else 0


def run_batch(args: argparse.Namespace) -> int:
    """Several inputs or a folder: every output planned first, then one model load for all."""
    from ..errors import UsageError
    from ..interrupt import EXIT_CODE
    from ..video.batch import JobStatus, plan_batch, run_planned
    from ..video.io.endpoints import classify
    from ..video.io.job import Hooks
    from .batch_view import BatchView
    from .video_flags import job_from_args

    if args.output is not None and not classify(args.output).is_file:
        raise UsageError("several inputs or a folder are written to files: -o names a folder (created if missing), or leave -o out")
    template = job_from_args(args)  # every file's job but for its endpoints, checked once
    run = template.settings
    view = BatchView(quiet=args.quiet)
    for notice in run.model.notices:
        view.warn(notice)
    on_start, on_progress = interruptible_callbacks(view, args.interrupt)

    load = lambda: run.model.load(compile=template.compile)  # noqa: E731
    sr = load() if run.model.scale is None else None  # the scale is read off the weights: load them first
    # Every output is decided, and collisions refused, before the (one) model load.
    outdir = None if args.output is None else Path(args.output)
    jobs = plan_batch(args.inputs, outdir, run.model.scale or sr.scale, run.encoder.codec, recursive=args.recursive)
    sr = sr or load()
    with view:
        outcomes = run_planned(jobs, template, sr, Hooks(notify=view.warn, on_progress=on_progress, on_start=on_start), on_job=view.job_started)
    if any(o.status is JobStatus.SKIPPED_EXISTING for o in outcomes):
        view.warn("outputs that exist were skipped; --overwrite replaces them")
    view.table(outcomes)
    if any(o.status is JobStatus.INTERRUPTED for o in outcomes):
        return EXIT_CODE
    return 1 if any(o.failed for o in outcomes) else 0
