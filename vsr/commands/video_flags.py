"""The flags `vsr upscale` and `vsr demo` share (preset, model, encoder) and the segment
flags of `vsr upscale`, with what they give: the resolved settings (run_settings) and the
whole vsr.video.io.job.UpscaleJob (job_from_args)."""

import argparse

from .flags import add_model_flags, model_spec, time_arg


def add_video_flags(p: argparse.ArgumentParser) -> None:
    """Preset, model and encoder flags; each defaults to None so the preset's value stands."""
    from ..constants import DEINTERLACE_MODES, ENCODERS

    p.add_argument(
        "--preset", metavar="NAME", help="settings: fast, balanced, quality or a .toml file (see vsr presets; default: fast on the CPU, balanced on a GPU)"
    )
    add_model_flags(p, presets=True)
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


def add_selection_flags(p: argparse.ArgumentParser) -> None:
    """FFmpeg's words for what is kept besides the video (vsr.video.io.selection)."""
    g = p.add_argument_group("streams, trimming and image sequences", "the first video stream is upscaled; the other streams the output holds are kept")
    g.add_argument("-an", "--no-audio", dest="audio", action="store_false", help="keep no audio")
    g.add_argument("-sn", "--no-subtitles", dest="subtitles", action="store_false", help="keep no subtitles")
    g.add_argument(
        "--map",
        dest="maps",
        action="append",
        default=[],
        metavar="SPEC",
        help="keep only these streams, as FFmpeg's -map: a, a:1, s, t, d or an index (0:2); --map=-a:1 takes one out; repeatable",
    )
    g.add_argument(
        "--framerate",
        type=framerate_arg,
        metavar="FPS",
        help="read IN, a folder of images or a pattern such as frames/%%04d.png, as a sequence at FPS (default for a pattern: 25)",
    )
    size = p.add_argument_group("exact output size", "the network's scale first, then FFmpeg's Lanczos resize to the size asked for")
    size.add_argument("--width", type=int, metavar="W", help="output width; the height follows the picture (even)")
    size.add_argument("--height", type=int, metavar="H", help="output height; the width follows the picture (even)")
    size.add_argument("--resolution", type=resolution_arg, metavar="WxH", help="both, e.g. 1920x1080 (the display aspect stays: the SAR takes the difference)")
    g.add_argument("-ss", "--start", type=time_arg, metavar="TIME", help="begin here: seconds, MM:SS or HH:MM:SS.ms from the input's start (default 0)")
    g.add_argument("-t", "--duration", type=time_arg, metavar="TIME", help="upscale this long (default: to the end); audio and subtitles are cut alike")
    g.add_argument(
        "--audio-codec",
        metavar="NAME",
        help="re-encode the audio (aac, libopus, flac, ...), or copy (refuse what the output cannot hold); "
        "default: copy, and re-encode only what the output cannot hold (AAC into .webm becomes Opus), with a notice",
    )


def trim(args: argparse.Namespace):
    from ..video.io.trim import Trim

    return Trim(start=args.start or 0.0, duration=args.duration)


def stream_choice(args: argparse.Namespace):
    from ..video.io.selection import StreamChoice

    return StreamChoice(audio=args.audio, subtitles=args.subtitles, maps=tuple(args.maps), audio_codec=args.audio_codec)


def run_settings(args: argparse.Namespace, codec: str | None = None):
    """What the preset, model and encoder flags resolve to (vsr.settings.resolve_run);
    `codec` in place of --codec (the one the output's suffix picks)."""
    from ..settings import AUTO_PRESET, resolve_run

    return resolve_run(
        args.preset or AUTO_PRESET,
        model=model_spec(args),
        scale=args.scale,
        device=args.device,
        half=args.half,
        precision=args.precision,
        batch=args.batch,
        codec=codec or args.codec,
        crf=args.crf,
        encoder_preset=args.encoder_preset,
        pix_fmt=args.pix_fmt,
        deinterlace=args.deinterlace,
    )


def job_from_args(args: argparse.Namespace):
    """The vsr.video.io.job.UpscaleJob the flags ask for, for the first input (a batch
    replaces the endpoints for each file); checked here, before any work."""
    from ..video.io.endpoints import classify
    from ..video.io.job import SegmentOptions, StreamOptions, UpscaleJob, resolve_for_output

    output = None if args.output is None else classify(str(args.output))
    return UpscaleJob(
        source=source_from_args(args),
        output=output,
        settings=resolve_for_output(output, args.codec, lambda codec: run_settings(args, codec)),
        compile=args.compile,
        overwrite=args.overwrite,
        on_size_change=args.on_size_change,
        stream=StreamOptions(timeout=args.timeout or None, output_format=args.format, realtime=args.realtime),
        selection=stream_choice(args),
        trim=trim(args),
        size=target_size(args),
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


def source_from_args(args: argparse.Namespace):
    """The first input, classified (vsr.video.io.endpoints); with --framerate a folder of
    images (or a pattern) is read as a sequence at that rate."""
    from pathlib import Path

    from ..errors import UsageError
    from ..video.io.endpoints import as_sequence, classify

    source = classify(str(args.inputs[0]))
    if args.framerate is None:
        return source
    if source.kind != "sequence" and not Path(args.inputs[0]).is_dir():
        raise UsageError(f"--framerate is for image sequences (frames/%04d.png, or a folder of images), not {args.inputs[0]}")
    return as_sequence(source, args.framerate)


def resolution_arg(text: str):
    from ..video.io.output_size import TargetSize

    try:
        return TargetSize.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def target_size(args: argparse.Namespace):
    """--width/--height or --resolution, as a vsr.video.io.output_size.TargetSize."""
    from ..errors import UsageError
    from ..video.io.output_size import TargetSize

    if args.resolution is not None:
        if args.width is not None or args.height is not None:
            raise UsageError("give --resolution WxH, or --width and/or --height, not both")
        return args.resolution
    return TargetSize(args.width, args.height)


def framerate_arg(text: str) -> str:
    """An argparse type: a frame rate as FFmpeg takes it (25, 23.976, 30000/1001)."""
    from fractions import Fraction

    try:
        if Fraction(text) > 0:
            return text
    except (ValueError, ZeroDivisionError):
        pass
    raise argparse.ArgumentTypeError(f"not a frame rate: {text!r} (e.g. 25, 23.976 or 30000/1001)")


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
