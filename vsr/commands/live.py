"""`vsr live`: upscale a camera, a file, a URL or a lavfi graph in real time and show it
beside the original, to judge models and settings before a long job. Capture keeps only the
newest frame, so latency never grows; --record writes the upscaled stream; --no-window runs
headless and prints the numbers once a second. Ctrl-C (or q in the window) ends the session
normally and keeps the recording; a second Ctrl-C abandons it."""

import argparse
from pathlib import Path

from .examples import RAW, examples
from .flags import add_encoder_flags, add_model_flags, add_overwrite_flag, model_spec, time_arg


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "live",
        help="real-time preview of a camera, file, URL or lavfi source",
        description=__doc__,
        formatter_class=RAW,
        epilog=examples(
            None,
            ("vsr live", "camera 0, the original and the upscaled picture split in one window"),
            ("vsr live --source clip.mp4 --model small-x2 --view side", "judge a model on a file before a long job"),
            ("vsr live --source lavfi:testsrc2=size=320x180 --no-window --duration 10", "headless: fps, latency and drops once a second"),
            ("vsr live --record rec.mkv -y", "also record the upscaled stream, replacing rec.mkv"),
        ),
    )
    p.add_argument("--source", default="0", metavar="SRC", help="camera index (0), /dev/videoN, a file, a URL, or lavfi:GRAPH, e.g. lavfi:testsrc2 (default 0)")
    add_model_flags(p)  # --compile: each model's first frame takes seconds, then ~2x the frame rate on a CPU
    views = "split (default; drag the divider), side by side, or the upscaled picture only"
    p.add_argument("--view", choices=("split", "side", "sr"), default="split", help=views)
    p.add_argument("--record", type=Path, metavar="OUT", help="also write the upscaled stream to OUT (.mkv, .mp4, ...), timed by the capture clock")
    add_overwrite_flag(p)
    add_encoder_flags(p, "--record")
    p.add_argument("--no-window", action="store_true", help="no window: print fps, latency and drops once a second")
    p.add_argument("--duration", type=time_arg, metavar="TIME", help="stop after this long: seconds, MM:SS or HH:MM:SS")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..errors import UsageError
    from ..live.models import models_to_cycle
    from ..live.session import run_live
    from ..live.sources import open_source
    from ..settings import resolve_model
    from ..video.io.codecs import EncoderSettings

    if args.duration is not None and args.duration <= 0:
        raise UsageError(f"--duration must be more than 0, got {args.duration:g}")
    resolved = resolve_model(model_spec(args), scale=args.scale, device=args.device, half=args.half, precision=args.precision)
    window = None
    if not args.no_window:
        from ..live.window import LiveWindow

        window = LiveWindow(args.view)  # no display: one line, before the source is opened
    source = open_source(args.source)
    try:
        report = run_live(
            source,
            models_to_cycle(resolved.model, resolved.scale, resolved.device.type),  # `m` cycles through these
            device=resolved.device,
            precision=resolved.precision,
            scale=resolved.scale,
            record=args.record,
            overwrite=args.overwrite,
            encoder=EncoderSettings(args.codec, args.crf, args.encoder_preset),
            duration=args.duration,
            compile=args.compile,
            window=window,
            every_second=(lambda line: print(line, flush=True)) if window is None else None,
            notify=lambda message: _print(f"vsr live: {message}"),
        )
    finally:
        source.close()
    recorded = f"; recorded {report.recorded} frames to {report.recording}" if report.recording else ""
    _print(
        f"vsr live: {report.frames_shown} frames shown in {report.seconds:.1f} s ({report.fps:.1f} fps), "
        f"latency {report.latency(0.5):.0f} ms median / {report.latency(0.95):.0f} ms p95, "
        f"{report.dropped} of {report.frames_captured} captured dropped; ended by {report.stopped_by}{recorded}"
    )
    return 0


def _print(line: str) -> None:
    """print, but a reader that went away (vsr live | head) is not an error."""
    import os
    import sys

    try:
        print(line, flush=True)
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second complaint at exit
