"""`vsr upscale`: upscale a video file, keeping every frame, timestamp and audio track.

Settings come from a preset (presets/*.toml; default `fast` on the CPU, `balanced` on a
GPU) and any flag given overrides the preset's value."""

import argparse
import sys
from pathlib import Path


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("upscale", help="upscale a video file", description=__doc__)
    p.add_argument("input", type=Path, metavar="IN", help="video file (any container/codec FFmpeg reads)")
    p.add_argument("-o", "--output", type=Path, metavar="OUT", help="output file (.mp4 .mov .mkv .webm; default IN_xS beside the input)")
    add_video_args(p)
    p.add_argument("--overwrite", action="store_true", help="replace OUT if it exists")
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    add_segment_args(p)
    p.set_defaults(run=run)


def add_segment_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("segments and resume", "inputs of 2 minutes or more are upscaled in resumable segments in OUT.vsr-work/")
    g.add_argument("--segment-seconds", type=float, metavar="S", help="segment length (default 30; cut on the next keyframe); also segments shorter inputs")
    resume = g.add_mutually_exclusive_group()
    resume.add_argument("--resume", action="store_true", help="continue the work folder of an interrupted run (a plain rerun does this too, with a notice)")
    resume.add_argument("--restart", action="store_true", help="discard the work folder of an earlier run and start over")
    g.add_argument("--keep-work", action="store_true", help="keep the work folder (segment files, manifest.json) after success")
    g.add_argument("--ray", action="store_true", help='encode the segments on a Ray cluster (pip install "vsr[ray]"); the work folder must be on storage all nodes share')
    g.add_argument("--ray-address", metavar="ADDR", help="the cluster to join (default: RAY_ADDRESS, else a local Ray on this machine)")
    g.add_argument("--workers", type=int, metavar="N", help="with --ray and no GPUs: N CPU workers (default: one per CPU of the cluster)")


def _check_seekable(args: argparse.Namespace) -> None:
    from ..errors import UsageError

    endpoints = [str(args.input), str(args.output) if args.output else ""]
    flag = "--ray" if getattr(args, "ray", False) else "--resume" if getattr(args, "resume", False) else None
    if flag and any(e == "-" or ":/" in e for e in endpoints):  # (a Path folds "://" to ":/")
        raise UsageError(f"{flag} needs an input file and an output file; pipes, URLs and -o - cannot be split or resumed")
    if getattr(args, "ray_address", None) and not getattr(args, "ray", False):
        raise UsageError("--ray-address needs --ray")


def add_video_args(p: argparse.ArgumentParser) -> None:
    """Model and encoder flags; every one defaults to None so the preset's value stands."""
    p.add_argument("--preset", metavar="NAME", help="settings bundle: fast, balanced, quality or a .toml file (see vsr presets)")
    p.add_argument("--scale", type=int, choices=(2, 3, 4), help="upscaling factor")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--model", metavar="NAME", help="shipped weights: a variant (ultra, small, base, ...) or NAME-xS")
    which.add_argument("--weights", metavar="FILE", help="a weights file: vsr's own or an official PlainUSR checkpoint")
    p.add_argument("--device", default="auto", help="auto (default), cpu, cuda or cuda:N")
    p.add_argument("--half", action=argparse.BooleanOptionalAction, default=None, help="float16 model (default: on for CUDA)")
    p.add_argument("--compile", action="store_true", help="run the network through torch.compile: a compile of seconds first (~20 s for base), faster frames after")
    p.add_argument("--batch", type=int, metavar="N", help="frames per model call on a GPU (the CPU takes one at a time)")
    p.add_argument("--codec", metavar="NAME", help="libx264, libx265, libsvtav1, libvpx-vp9, ffv1, h264_nvenc, hevc_nvenc, av1_nvenc")
    p.add_argument("--crf", type=int, metavar="N", help="constant quality (lower is better and bigger)")
    p.add_argument("--encoder-preset", metavar="P", help="the encoder's speed preset (x264: ultrafast ... veryslow)")
    p.add_argument("--pix-fmt", metavar="FMT", help="output pixel format, e.g. yuv420p, yuv420p10le (default: follow the input)")


def resolve_settings(args: argparse.Namespace):
    """The preset named (or the device's default) with the flags given laid over it, and
    the model to load: (preset, model spec, notice or None)."""
    from dataclasses import replace

    from ..device import resolve_device
    from ..presets import load_preset
    from ..weights import shipped

    device = resolve_device(args.device)
    preset = load_preset(args.preset or ("balanced" if device.type == "cuda" else "fast"))
    if args.codec and args.codec != preset.codec and args.encoder_preset is None:
        preset = replace(preset, encoder_preset=None)  # x264's "veryfast" means nothing to another encoder
    preset = preset.merged(scale=args.scale, codec=args.codec, crf=args.crf, encoder_preset=args.encoder_preset, batch=args.batch, pix_fmt=args.pix_fmt)
    notice = None
    if args.weights is not None:
        spec = Path(args.weights)
    elif args.model is not None:
        spec = args.model
    else:
        spec = preset.model
        if spec and not shipped().get(f"{spec}-x{preset.scale}"):
            notice = f"preset {preset.name} prefers {spec}-x{preset.scale}, which this version does not ship; using the default model"
            spec = None
    return preset, spec, device, notice


def run(args: argparse.Namespace) -> int:
    from ..video.segmented import upscale_in_segments
    from .progress_view import ProgressView

    _check_seekable(args)
    preset, spec, device, notice = resolve_settings(args)
    scale = args.scale if (args.weights is not None or args.model is not None) else preset.scale
    view = ProgressView(quiet=args.quiet)
    if notice:
        view.warn(notice)
    with view:
        result = upscale_in_segments(
            args.input,
            args.output,
            segment_seconds=getattr(args, "segment_seconds", None),  # (vsr demo has no segment flags)
            resume="resume" if getattr(args, "resume", False) else "restart" if getattr(args, "restart", False) else "auto",
            keep_work=getattr(args, "keep_work", False),
            ray=getattr(args, "ray", False),
            ray_address=getattr(args, "ray_address", None),
            workers=getattr(args, "workers", None),
            on_segments=view.segments,
            model=spec,
            scale=scale,
            device=device,
            half=args.half,  # None: float16 on CUDA
            compile=args.compile,
            batch=preset.batch,
            codec=preset.codec,
            crf=preset.crf,
            encoder_preset=preset.encoder_preset,
            pix_fmt=preset.pix_fmt,
            overwrite=args.overwrite,
            notify=view.warn,
            on_progress=view.update,
            on_start=view.start,
        )
    view.summary(result)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(1)
