"""Where the CPU model stage's work goes: torch.profiler's self CPU ms per frame, split into
the network's ops and the colour work around it (docs/BENCHMARKS.md, "A cheaper CPU
pipeline"). One torch thread, so the shared machine's preemption does not count; 20 frames
of 640x360 yuv420p -> 1280x720, ultra-x2 in bf16.

    PYTHONPATH=TREE python benchmarks/model_stage_split.py [LABEL]

Run it alternately on two trees to compare them. Ops are assigned by their input shapes:
720p/1280 shapes (but the network's pixel_shuffle) are the output colour work; plane
shapes at 360p and the input's channels_last copy are the input colour work; the rest,
convolutions included, is the network."""

import sys

import numpy as np
import torch
from torch.profiler import ProfilerActivity, profile

from vsr.model import load_model
from vsr.video.io.colour import ColourSpec
from vsr.video.io.planes import PlaneLayout
from vsr.video.stages.engine import FrameUpscaler

FRAMES = 20
NETWORK, COLOUR_IN, COLOUR_OUT = "network", "Y'CbCr->RGB in (360p) + channels_last", "RGB->Y'CbCr + pack out (720p)"


def part_of(key: str, shapes: list[list[int]]) -> str:
    if key != "aten::pixel_shuffle" and any(720 in s or 1280 in s or 921600 in s for s in shapes):
        return COLOUR_OUT
    if "conv" in key:
        return NETWORK
    if any(len(s) == 3 or 230400 in s or 57600 in s for s in shapes) or (shapes and shapes[0] == [1, 3, 360, 640]):
        return COLOUR_IN
    return NETWORK


def main() -> None:
    torch.set_num_threads(1)
    model = load_model("ultra-x2", precision="bf16")
    source, target = PlaneLayout("yuv420p", 640, 360), PlaneLayout("yuv420p", 1280, 720)
    upscaler = FrameUpscaler(model, source, target, ColourSpec("bt601", False, 8), ColourSpec("bt709", False, 8), batch=1)
    frame = np.random.default_rng(0).integers(16, 235, source.size, dtype=np.uint8)
    for _ in range(3):
        upscaler.upscale([frame])
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        for _ in range(FRAMES):
            upscaler.upscale([frame])
    split = dict.fromkeys((NETWORK, COLOUR_IN, COLOUR_OUT), 0.0)
    for event in prof.key_averages(group_by_input_shape=True):
        split[part_of(event.key, [s for s in event.input_shapes if s])] += event.self_cpu_time_total / 1000 / FRAMES
    total = sum(split.values())
    parts = "  ".join(f"{name}: {ms:.1f} ms" for name, ms in split.items())
    print(f"{sys.argv[1] if len(sys.argv) > 1 else ''} {parts}  total {total:.1f} ms, not network {1 - split[NETWORK] / total:.0%}")


if __name__ == "__main__":
    main()
