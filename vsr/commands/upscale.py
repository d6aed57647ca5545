"""`vsr upscale`: upscale a video file, keeping every frame, timestamp and audio track.

Settings come from a preset (presets/*.toml; default `fast` on the CPU, `balanced` on a
GPU) and any flag given overrides the preset's value."""

import argparse
import sys
from pathlib import Path


def add_parser(subparsers) -> None:
    from .stream_args import add_stream_args

    p = subparsers.add_parser("upscale", help="upscale videos: files, folders, pipes, URLs", description=__doc__)
    p.add_argument("inputs", nargs="+", metavar="IN", help="video file, folder, - (stdin) or URL (any container/codec FFmpeg reads)")
    p.add_argument("-o", "--output", metavar="OUT", help="output file (.mp4 .mov .mkv .webm; default IN_xS beside the input), - (stdout), a URL, or a folder for several inputs")
    add_video_args(p)
    add_stream_args(p)
    p.add_argument("--overwrite", action="store_true", help="replace OUT if it exists")
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    p.set_defaults(run=run)


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


def encoder_options(preset) -> dict:
    """upscale_video's batch and encoder arguments from a resolved preset."""
    return {"batch": preset.batch, "codec": preset.codec, "crf": preset.crf, "encoder_preset": preset.encoder_preset, "pix_fmt": preset.pix_fmt}


def run(args: argparse.Namespace) -> int:
    from ..video.upscale import upscale_video
    from .progress_view import ProgressView
    from .stream_args import check_stream_args, is_batch, run_batch, stream_options, wrap_up_stream

    check_stream_args(args)
    preset, spec, device, notice = resolve_settings(args)
    scale = args.scale if (args.weights is not None or args.model is not None) else preset.scale
    if is_batch(args):
        return run_batch(args, preset, spec, scale, device, notice)
    view = ProgressView(quiet=args.quiet, summary_to_stderr=args.output == "-")
    if notice:
        view.warn(notice)
    with view:
        result = upscale_video(
            args.inputs[0],
            args.output,
            model=spec,
            scale=scale,
            device=device,
            half=args.half,  # None: float16 on CUDA
            compile=args.compile,
            **encoder_options(preset),
            overwrite=args.overwrite,
            notify=view.warn,
            on_progress=view.update,
            on_start=view.start,
            **stream_options(args),
        )
    view.summary(result)
    return wrap_up_stream(result)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(1)
