"""What the pipeline itself costs per frame, compared between source trees (two commits
checked out side by side), with the network replaced by nearest-neighbour enlarging.

    python benchmarks/pipeline_cost_ab.py TREE [TREE ...] [--clip CLIP] [--rounds 3] [--runs 3] [--json out.json]

    git worktree add /tmp/base dc1d9ed
    python benchmarks/pipeline_cost_ab.py /tmp/base .

On 2 cores the model stage takes both cores, so `vsr bench`'s ratios (efficiency, speed-up)
are ratios of numbers that each swing 10-40% on a shared machine, and a few milliseconds
that the decode, colour conversion, packing or encode add per frame disappear in them.
Without the network those milliseconds are the whole run. Each TREE runs in its own
process (its own `vsr`), with the `vsr` command's CPU environment, `upscale_video` with
shipped `ultra-x2`'s wrapper around a stand-in network, libx264 crf 23 veryfast; trees
alternate for `--rounds` rounds of `--runs` runs. Reported: fps and CPU milliseconds per
frame (user + system, all threads), median and best; CPU time is the steadier of the two.
Without --clip: the bundled 320x180 clip played 5 times (250 frames), made by
vsr.samples.make_clip.
"""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import os, sys, time
os.environ.setdefault("THP_MEM_ALLOC_ENABLE", "1")  # the vsr command's CPU environment,
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # also for trees that predate vsr.environment
tree, clip, output, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
sys.path.insert(0, tree)
import torch
import vsr
assert os.path.realpath(vsr.__file__).startswith(os.path.realpath(tree)), vsr.__file__
from pathlib import Path
from vsr.model import load_model
from vsr import upscale_video  # the public front door, in every tree

class Nearest(torch.nn.Module):
    min_size = 1
    def forward(self, x, region=None):
        return torch.nn.functional.interpolate(x, scale_factor=2, mode="nearest")

model = load_model("ultra-x2")
model.module = Nearest()
for _ in range(runs):
    started, cpu = time.perf_counter(), os.times()
    result = upscale_video(Path(clip), Path(output), model=model, codec="libx264", crf=23, encoder_preset="veryfast", overwrite=True)
    wall, now = time.perf_counter() - started, os.times()
    print(result.frames / wall, (now.user + now.system - cpu.user - cpu.system) / result.frames * 1e3, flush=True)
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("trees", nargs="+", type=Path, help="source trees (a checkout's root, holding vsr/)")
    parser.add_argument("--clip", type=Path)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--runs", type=int, default=3, help="runs per tree per round, in one process")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    for tree in args.trees:
        if not (tree / "vsr" / "__init__.py").is_file():
            parser.error(f"{tree} holds no vsr/ package")
    with tempfile.TemporaryDirectory(prefix="vsr-ab-") as temp:
        clip = args.clip or _default_clip(Path(temp))
        samples: dict[str, list[tuple[float, float]]] = {str(t): [] for t in args.trees}
        for round_ in range(args.rounds):
            for tree in args.trees:
                done = subprocess.run(
                    [sys.executable, "-c", CHILD, str(tree.resolve()), str(clip), str(Path(temp) / "out.mkv"), str(args.runs)],
                    capture_output=True, text=True, check=True,
                )
                samples[str(tree)] += [tuple(map(float, line.split())) for line in done.stdout.split("\n") if line.strip()]
                print(f"round {round_ + 1}: {tree}: " + ", ".join(f"{f:.1f} fps / {c:.1f} ms" for f, c in samples[str(tree)][-args.runs:]), flush=True)
    summary = {}
    print("\n| tree | fps median | fps best | CPU ms/frame median | CPU ms/frame best |\n|---|---|---|---|---|")
    for tree, values in samples.items():
        fps, cpu = [f for f, _ in values], [c for _, c in values]
        summary[tree] = {
            "commit": _commit(Path(tree)),
            "fps_median": statistics.median(fps), "fps_best": max(fps),
            "cpu_ms_median": statistics.median(cpu), "cpu_ms_best": min(cpu), "runs": values,
        }
        print(f"| {tree} | {statistics.median(fps):.1f} | {max(fps):.1f} | {statistics.median(cpu):.1f} | {min(cpu):.1f} |")
    if args.json:
        record = {"clip": str(args.clip or "bbb-320x180 x5"), "rounds": args.rounds, "runs": args.runs, "trees": summary}
        args.json.write_text(json.dumps(record, indent=2) + "\n")
    return 0


def _commit(tree: Path) -> str | None:
    done = subprocess.run(["git", "-C", str(tree), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run(["git", "-C", str(tree), "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True).stdout.strip()
    return (done.stdout.strip() + (" (modified)" if dirty else "")) if done.returncode == 0 else None


def _default_clip(folder: Path) -> Path:
    clip = folder / "bbb-320x180-x5.mp4"
    subprocess.run(
        [sys.executable, "-m", "vsr.samples.make_clip", str(ROOT / "vsr/samples/bbb-320x180.mp4"), str(clip), "--size", "320x180", "--repeat", "5"],
        check=True, capture_output=True, cwd=ROOT,
    )
    return clip


if __name__ == "__main__":
    sys.exit(main())
