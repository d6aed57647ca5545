"""The command line's words for vsr's settings: the flag of each setting an error's hint
names (vsr.errors), and the one definition of the flags several commands share."""

import re

FLAGS = {
    "output": "-o",
    "overwrite": "--overwrite",
    "model": "--model",
    "weights": "--weights",
    "scale": "--scale",
    "device": "--device",
    "half": "--half",
    "precision": "--precision",
    "compile": "--compile",
    "batch": "--batch",
    "tile": "--tile",
    "preset": "--preset",
    "codec": "--codec",
    "crf": "--crf",
    "encoder_preset": "--encoder-preset",
    "pix_fmt": "--pix-fmt",
    "deinterlace": "--deinterlace",
    "on_size_change": "--on-size-change",
    "source": "--source",
    "duration": "--duration",
    "images": "--images",
    "image_dir": "--image-dir",
    "patch": "--patch",
    "init_from": "--init-from",
    "amp": "--amp",
    "charts": "--charts",
    "lr": "--lr",
    "precision_weight": "--precision-weight",
    "teacher": "--teacher",
    "frames": "--frames",
    "network_only": "--network-only",
    "recursive": "--recursive",
    "timeout": "--timeout",
    "output_format": "--format",
    "realtime": "--realtime",
    "segment_seconds": "--segment-seconds",
    "resume": "--resume",
    "keep_work": "--keep-work",
    "ray": "--ray",
    "ray_address": "--ray-address",
    "workers": "--workers",
    "token": "--token",
    "allow_dir": "--allow-dir",
    "audio_codec": "--audio-codec",
    "maps": "--map",
    "start": "--start",
    "width": "--width",
    "height": "--height",
}
"""Setting name -> flag. A setting an error names that is missing here is a bug that a
test catches (tests/test_cli.py)."""

VALUE_WORDS = {("window", "False"): "--no-window", ("resume", "restart"): "--restart", ("resume", "resume"): "--resume"}
"""Settings with a value that read better as another phrase on the command line."""


def flag_words(name: str, value: str | None) -> str:
    """A hint's setting (vsr.errors) as the command line spells it."""
    if (name, value) in VALUE_WORDS:
        return VALUE_WORDS[name, value]
    flag = FLAGS[name]
    return flag if value in (None, "True") else f"{flag} {value}"


def add_model_flags(p, *, several: bool = False, presets: bool = False) -> None:
    """--scale, --model/--weights, --device, --precision (--half/--no-half) and --compile,
    with the same defaults in every command (each None or off: vsr.settings resolves them).
    `several`: --model takes one or more names (vsr bench); `presets`: the command has
    --preset, so the defaults' help names the preset's value first."""
    from ..constants import SCALES, VARIANT_NAMES

    preset_s = "the preset's, else " if presets else ""
    p.add_argument("--scale", type=int, choices=SCALES, help=f"upscaling factor (default: {preset_s}the weights file's, else 2)")
    which = p.add_mutually_exclusive_group()
    names = f"a variant ({', '.join(VARIANT_NAMES)}), NAME-xS or official-NAME-xS (downloaded on first use; see vsr models)"
    if several:
        which.add_argument(
            "--model", nargs="+", metavar="NAME", help=f"known weights, one or more: {names}, or weights files (default: the default shipped model)"
        )
    else:
        which.add_argument("--model", metavar="NAME", help=f"known weights: {names} (default: {preset_s}the default shipped model)")
    which.add_argument("--weights", metavar="FILE", help="a weights file: vsr's own or an official PlainUSR checkpoint (variant and scale read off it)")
    add_device_flag(p)
    add_offline_flag(p)
    add_precision_flags(p)
    p.add_argument(
        "--compile", action="store_true", help="run the network through torch.compile: seconds to compile first (~20 s for base), faster frames after"
    )


def add_precision_flags(p) -> None:
    """--precision auto|fp32|fp16|bf16, and --half/--no-half as fp16/fp32 (one or the other)."""
    import argparse

    from ..constants import PRECISIONS

    which = p.add_mutually_exclusive_group()
    which.add_argument(
        "--precision",
        choices=PRECISIONS,
        help="the network's precision (default auto: fp16 on CUDA, bf16 on a CPU with native bf16, "
        "each only where the weights' measured error allows; else fp32; the start line says which and why)",
    )
    which.add_argument("--half", action=argparse.BooleanOptionalAction, default=None, help="--precision fp16 (--no-half: fp32)")


def add_offline_flag(p) -> None:
    """--offline: known weights not yet on this machine are an error, not a download (the
    CLI sets VSR_OFFLINE=1, which vsr.weights.download reads)."""
    p.add_argument("--offline", action="store_true", help="never use the network: official weights must already be in the cache or in a VSR_WEIGHTS_URL folder")


def add_device_flag(p) -> None:
    p.add_argument("--device", default="auto", metavar="DEV", help="auto (default: CUDA when there is one), cpu, cuda or cuda:N")


def model_spec(args):
    """The model the flags name, as vsr.settings takes it: a weights file (Path), a name
    (or several, with several=True), or None for the default."""
    from pathlib import Path

    return Path(args.weights) if getattr(args, "weights", None) is not None else args.model


PHOTO_SET_VARIABLE = "VSR_DATASETS"
DEFAULT_PHOTO_SET = "../shared/datasets"


def photo_set(name: str) -> str:
    """NAME (train.txt, val.txt) in the project's photo set: the folder $VSR_DATASETS names,
    else ../shared/datasets from the current folder (a checkout's root, where the project
    keeps its photos beside it). The library has no default: commands pass the path."""
    import os
    from pathlib import Path

    return str(Path(os.environ.get(PHOTO_SET_VARIABLE) or DEFAULT_PHOTO_SET) / name)


def add_overwrite_flag(p) -> None:
    """-y/--overwrite, as in FFmpeg: one definition for every command that writes outputs."""
    p.add_argument("-y", "--overwrite", action="store_true", help="replace outputs that exist (never an input)")


def add_encoder_flags(p, what: str) -> None:
    """--codec, --crf and --encoder-preset of a command that records on the side (`what`:
    vsr live's --record, vsr bench's pipeline), with its fixed defaults."""
    p.add_argument("--codec", default="libx264", metavar="NAME", help=f"{what}'s encoder (default libx264)")
    p.add_argument("--crf", type=int, default=23, metavar="N", help=f"{what}'s quality (default 23; lower is better and bigger)")
    p.add_argument("--encoder-preset", default="veryfast", metavar="P", help=f"{what}'s encoder speed preset (default veryfast)")


CLOCK = re.compile(r"^(?:(\d+):)?(?:(\d+):)?(\d+(?:\.\d*)?)$")
"""FFmpeg's time syntax: `90`, `1.5`, `1:30`, `00:01:30.5`."""


def time_arg(text: str) -> float:
    """An argparse type: seconds from FFmpeg's time syntax (90, 1:30, 00:01:30.5). Parsed
    here, not in vsr.video.io.trim: that imports PyAV, which must not load before
    vsr live's OpenCV window (vsr.live)."""
    import argparse

    match = CLOCK.match(text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"not a time: {text!r} (seconds, MM:SS or HH:MM:SS[.ms])")
    first, second, seconds = match.groups()
    hours, minutes = (first, second) if second is not None else (None, first)
    return int(hours or 0) * 3600 + int(minutes or 0) * 60 + float(seconds)
