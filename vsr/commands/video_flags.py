"""The flags `vsr upscale` and `vsr demo` share (preset, model, encoder) and the segment
flags of `vsr upscale`, with what they give: the resolved settings (run_settings) and the
whole vsr.video.io.job.UpscaleJob (job_from_args)."""

import argparse

from .flags import add_model_flags, model_spec


def add_video_flags(p: argparse.ArgumentParser) -> None:
    """Preset, model and encoder flags; each defaults to None so the preset's value stands."""
    from ..constants import DEINTERLACE_MODES, ENCODERS

    p.add_argument(
        "--preset", metavar="NAME", help="settings: fast, balanced, quality or a .toml file (see vsr presets; default: fast on the CPU, balanced on a GPU)"
    )
    add_model_flags(p)
    p.add_argument("--batch", type=int, metavar="N", help="frames per model call on a GPU (the CPU takes one at a time)")
    p.add_argument("--codec", metavar="NAME", help=", ".join(ENCODERS))
    p.add_argument("--crf", type=int, metavar="N", help="constant quality (lower is better and bigger)")
    p.add_argument("--encoder-preset", metavar="P", help="the encoder's speed preset (x264: ultrafast ... veryslow)")
    p.add_argument("--pix-fmt", metavar="FMT", help="output pixel format, e.g. yuv420p, yuv420p10le (default: follow the input)")
    p.add_argument(
        "--deinterlace",
        choices=DEINTERLACE_MODES,
        help="interlaced input: auto (default: bwdif at field rate on frames flagged interlaced, 25i -> 50p), "
        "field or frame (every frame, at field or frame rate), ivtc (inverse telecine: 29.97i film -> 23.976p), off",
    )


def add_size_change_flag(p: argparse.ArgumentParser) -> None:
    """What a mid-stream frame size change does (vsr.video.io.size_change)."""
    from ..constants import SIZE_CHANGE_POLICIES

    p.add_argument(
        "--on-size-change",
        choices=SIZE_CHANGE_POLICIES,
        default="scale",
        help="frames whose size changes mid-stream: scale them to the first size (default, with a warning) or stop with an error",
    )


def run_settings(args: argparse.Namespace):
    """What the preset, model and encoder flags resolve to (vsr.settings.resolve_run)."""
    from ..settings import AUTO_PRESET, resolve_run

    return resolve_run(
        args.preset or AUTO_PRESET,
        model=model_spec(args),
        scale=args.scale,
        device=args.device,
        half=args.half,
        precision=args.precision,
        batch=args.batch,
        codec=args.codec,
        crf=args.crf,
        encoder_preset=args.encoder_preset,
        pix_fmt=args.pix_fmt,
        deinterlace=args.deinterlace,
    )


def job_from_args(args: argparse.Namespace):
    """The vsr.video.io.job.UpscaleJob the flags ask for, for the first input (a batch
    replaces the endpoints for each file); checked here, before any work."""
    from ..video.io.endpoints import classify
    from ..video.io.job import SegmentOptions, StreamOptions, UpscaleJob

    return UpscaleJob(
        source=classify(str(args.inputs[0])),
        output=None if args.output is None else classify(str(args.output)),
        settings=run_settings(args),
        compile=args.compile,
        overwrite=args.overwrite,
        on_size_change=args.on_size_change,
        stream=StreamOptions(timeout=args.timeout or None, output_format=args.format, realtime=args.realtime),
        segments=SegmentOptions(
            seconds=args.segment_seconds,
            resume="resume" if args.resume else "restart" if args.restart else "auto",
            keep_work=args.keep_work,
            ray=args.ray,
            ray_address=args.ray_address,
            workers=args.workers,
            worker_device=args.device,
        ),
    )


def add_segment_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("segments and resume", "inputs of 2 minutes or more are upscaled in resumable segments in OUT.vsr-work/")
    g.add_argument("--segment-seconds", type=float, metavar="S", help="segment length (default 30; cut on the next keyframe); also segments shorter inputs")
    resume = g.add_mutually_exclusive_group()
    resume.add_argument("--resume", action="store_true", help="continue the work folder of an interrupted run (a plain rerun does this too, with a notice)")
    resume.add_argument("--restart", action="store_true", help="discard the work folder of an earlier run and start over")
    g.add_argument("--keep-work", action="store_true", help="keep the work folder (segment files, manifest.json) after success")
    g.add_argument(
        "--ray", action="store_true", help='encode the segments on a Ray cluster (pip install "vsr[ray]"); the work folder must be on storage all nodes share'
    )
    g.add_argument("--ray-address", metavar="ADDR", help="the cluster to join (default: RAY_ADDRESS, else a local Ray on this machine)")
    g.add_argument("--workers", type=int, metavar="N", help="with --ray and no GPUs: N CPU workers (default: one per CPU of the cluster)")
