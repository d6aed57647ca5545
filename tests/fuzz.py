"""A deterministic mutator over the clips the tests make, and the verdict on one `vsr
upscale` run of a mutated file (tests/test_fuzz.py runs them; docs/FUZZ.md has the results).

A case is (clip, operation, seed): the same case damages the same bytes on every machine.
The rule for a run: it ends within its time limit, with no signal, no traceback and no
temporary file left; then either exit 0 with an output PyAV reads (no more frames than
FFmpeg's decoder gets from the damaged file, each with a timestamp, in order) and nothing
else, or exit 1/2 with one short line `vsr upscale: error: ...` and no output.
"""

import random
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

from forked import HUNG, Run
from media import decodable_frame_times, make_clip

SMALL = (64, 48)
CLIPS = {  # name -> make_clip keyword arguments (the file's suffix is the name's)
    "h264.mp4": dict(frames=16, audio_tracks=1),
    "h264.mkv": dict(frames=16),
    "hevc.mp4": dict(frames=16, codec="libx265"),
    "hevc.mkv": dict(frames=16, codec="libx265", audio_tracks=1),
    "mjpeg.avi": dict(frames=12, codec="mjpeg", pix_fmt="yuvj420p"),
    "10bit.mkv": dict(frames=12, pix_fmt="yuv420p10le"),
    "vfr.mp4": dict(pts=[0, 40, 90, 100, 180, 200, 290, 330, 340, 420, 500, 520], time_base=Fraction(1, 1000)),
    "multi.mkv": dict(frames=16, audio_tracks=2, audio_languages=["eng", "fra"], subtitles=True),
}
OPERATIONS = ("flip", "zero", "cut", "duplicate", "drop", "header")
MAX_ERROR_LINE = 400


def make_clips(folder: Path) -> dict[str, bytes]:
    return {name: make_clip(folder / name, size=SMALL, **kwargs).read_bytes() for name, kwargs in CLIPS.items()}


def mutate(data: bytes, operation: str, seed: int) -> bytes:
    """`data` damaged by `operation`, the bytes chosen by `seed` (and the file's length)."""
    rng = random.Random(f"{operation}-{seed}-{len(data)}")
    size = len(data)

    def span(longest: int) -> tuple[int, int]:
        start = rng.randrange(size)
        return start, min(size, start + rng.randint(1, longest))

    out = bytearray(data)
    if operation == "flip":  # a few bits anywhere
        for _ in range(rng.randint(1, 16)):
            out[rng.randrange(size)] ^= 1 << rng.randrange(8)
    elif operation == "zero":  # a range zeroed (a bad sector)
        start, end = span(max(1, size // 8))
        out[start:end] = bytes(end - start)
    elif operation == "cut":  # truncated anywhere after the first bytes
        out = out[: rng.randint(min(size, 64), size - 1)]
    elif operation == "duplicate":  # a range repeated (a bad copy)
        start, end = span(max(1, size // 8))
        out[end:end] = out[start:end]
    elif operation == "drop":  # a range missing
        start, end = span(max(1, size // 8))
        del out[start:end]
    elif operation == "header":  # the container's first bytes scrambled
        for _ in range(rng.randint(1, 8)):
            out[rng.randrange(min(size, 512))] = rng.randrange(256)
    else:
        raise ValueError(operation)
    return bytes(out)


@dataclass
class Case:
    clip: str
    operation: str
    seed: int

    @property
    def name(self) -> str:
        return f"{self.clip}-{self.operation}-{self.seed}"


def cases(seeds: range) -> list[Case]:
    return [Case(clip, operation, seed) for seed in seeds for clip in CLIPS for operation in OPERATIONS]


def verdict(run: Run, damaged: Path, output: Path) -> str | None:
    """What is wrong with this run (None: it kept the rule)."""
    if run.code == HUNG:
        return f"hung\n{run.stderr}"
    if run.code < 0:
        return f"killed by signal {-run.code}\n{run.stderr}"
    if "Traceback" in run.stderr:
        return f"a traceback\n{run.stderr}"
    left = sorted(p.name for p in output.parent.iterdir() if p != output)
    if left:
        return f"left behind: {left}"
    if run.code == 0:
        return _check_output(damaged, output, run)
    lines = run.stderr.strip().splitlines()
    if run.code not in (1, 2) or not lines or not lines[-1].startswith("vsr upscale: error: "):
        return f"exit {run.code} without one error line\n{run.stderr}"
    if len(lines[-1]) > MAX_ERROR_LINE or any(" error: " in line for line in lines[:-1]):
        return f"the error is not one short line\n{run.stderr}"
    if output.exists():
        return "a failed run left its output"
    return None


def _check_output(damaged: Path, output: Path, run: Run) -> str | None:
    if not output.is_file():
        return "exit 0 without an output"
    try:
        with av.open(str(output)) as container:
            times = [f.pts for f in container.decode(video=0)]
    except av.FFmpegError as exc:
        return f"the output does not read back: {exc}"
    decodable = len(decodable_frame_times(damaged))
    if not times or len(times) > decodable:
        return f"{len(times)} frames written, {decodable} decodable\n{run.stderr}"
    if None in times or times != sorted(set(times)):
        return f"frames without a timestamp or out of order: {times}"
    return None
