"""`vsr upscale` and `vsr live` with their defaults, compared between source trees (side by
side, alternating), and the network alone per memory format and precision.

    python benchmarks/defaults_ab.py TREE [TREE ...] [--rounds 3] [--frames 60] [--flags "..."] [--json out.json]

    mkdir /tmp/base && git archive f3d5dd6 | tar -x -C /tmp/base
    python benchmarks/defaults_ab.py /tmp/base . --json benchmarks/cpu-2core-defaults-ab.json

Each round runs, for each tree in turn and each in its own process with that tree's `vsr`:
`vsr upscale CLIP -o OUT --overwrite --quiet` on a 640x360 x264 testsrc2 clip of --frames
frames (x2, every default: preset, model, precision, encoder), timed from the process's
start to its end (so the model load counts, as a user waits for it), and `vsr live
--no-window --source lavfi:testsrc2=size=640x360:rate=30 --duration S`, its fps as it
reports it. Then, in this tree's process, the default model's network alone on one frame
of 320x180 and 640x360, float32 and bf16 (autocast), contiguous and channels_last,
alternating, median of the rounds: the measurement behind vsr.device.CHANNELS_LAST.
Ratios between trees measured in the same round are what count on a shared machine.
"""

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIVE = "lavfi:testsrc2=size=640x360:rate=30"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("trees", nargs="+", type=Path, help="source trees (a checkout's root, holding vsr/)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--live-seconds", type=float, default=8.0)
    parser.add_argument("--network-rounds", type=int, default=5)
    parser.add_argument("--flags", default="", help='more flags for both commands, e.g. "--model ultra-x2" (default: none, the defaults)')
    parser.add_argument("--no-network", action="store_true", help="skip the network-alone table")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    flags = args.flags.split()
    upscale: dict[str, list[float]] = {str(t): [] for t in args.trees}
    live: dict[str, list[float]] = {str(t): [] for t in args.trees}
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="vsr-defaults-ab-") as temp:
        clip = Path(temp) / "testsrc2-640x360.mp4"
        _make_clip(clip, args.frames)
        for round_ in range(args.rounds):
            for tree in args.trees:
                upscale[str(tree)].append(_upscale_fps(tree, clip, Path(temp) / "out.mp4", args.frames, flags))
                live[str(tree)].append(_live_fps(tree, args.live_seconds, flags))
                print(f"round {round_ + 1}: {tree}: upscale {upscale[str(tree)][-1]:.2f} fps, live {live[str(tree)][-1]:.2f} fps", flush=True)
    network = [] if args.no_network else _network_table(args.network_rounds)
    base = str(args.trees[0])
    print("\n| tree | upscale fps, median (best) | vs first | live fps, median (best) | vs first |\n|---|---|---|---|---|")
    summary = {}
    for tree in map(str, args.trees):
        # the ratio per round (same round: the same load), then the median of those
        up_ratio = statistics.median(a / b for a, b in zip(upscale[tree], upscale[base], strict=True))
        live_ratio = statistics.median(a / b for a, b in zip(live[tree], live[base], strict=True))
        summary[tree] = {
            "commit": _commit(Path(tree)), "upscale_fps": upscale[tree], "live_fps": live[tree],
            "upscale_ratio_to_first": up_ratio, "live_ratio_to_first": live_ratio,
        }  # fmt: skip
        print(
            f"| {tree} | {statistics.median(upscale[tree]):.2f} ({max(upscale[tree]):.2f}) | {up_ratio:.2f}x "
            f"| {statistics.median(live[tree]):.2f} ({max(live[tree]):.2f}) | {live_ratio:.2f}x |"
        )
    print("\n| network alone (ms per frame, median) | contiguous | channels_last |\n|---|---|---|")
    for row in network:
        print(f"| {row['size']} {row['precision']} | {row['contiguous_ms']:.1f} | {row['channels_last_ms']:.1f} |")
    if args.json:
        record = {
            "what": "vsr upscale (defaults, x2) and vsr live --no-window, trees alternating; network alone per memory format",
            "machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(), "python": platform.python_version(),
                        "loadavg_before": load_before, "loadavg_after": os.getloadavg(),
                        "note": "shared 2-core machine, loaded by other sessions: compare ratios measured in the same round"},
            "flags": flags, "clip": f"testsrc2 640x360, {args.frames} frames, libx264", "live_source": LIVE, "live_seconds": args.live_seconds,
            "rounds": args.rounds, "trees": summary, "network": network, "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        }  # fmt: skip
        args.json.write_text(json.dumps(record, indent=2) + "\n")
    return 0


def _env(tree: Path) -> dict:
    return {**os.environ, "PYTHONPATH": str(tree.resolve())}


def _upscale_fps(tree: Path, clip: Path, out: Path, frames: int, flags: list[str]) -> float:
    started = time.perf_counter()
    cmd = [sys.executable, "-m", "vsr", "upscale", str(clip), "-o", str(out), "--overwrite", "--quiet", *flags]
    subprocess.run(cmd, env=_env(tree), check=True, capture_output=True, cwd=tree)
    return frames / (time.perf_counter() - started)


def _live_fps(tree: Path, seconds: float, flags: list[str]) -> float:
    cmd = [sys.executable, "-m", "vsr", "live", "--no-window", "--source", LIVE, "--duration", str(seconds), *flags]
    done = subprocess.run(cmd, env=_env(tree), check=True, capture_output=True, text=True, cwd=tree)
    match = re.search(r"frames shown in [\d.]+ s \(([\d.]+) fps\)", done.stdout)
    if not match:
        raise SystemExit(f"{tree}: no fps in vsr live's output: {done.stdout[-300:]}")
    return float(match.group(1))


def _make_clip(path: Path, frames: int) -> None:
    import av

    with av.open(str(path), "w") as out, av.open(f"testsrc2=size=640x360:rate=30:duration={frames / 30}", format="lavfi") as src:
        stream = out.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 640, 360, "yuv420p"
        for frame in src.decode(video=0):
            for packet in stream.encode(frame.reformat(format="yuv420p")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


def _network_table(rounds: int) -> list[dict]:
    sys.path.insert(0, str(ROOT))
    import copy

    import torch

    from vsr.model import load_model

    fp32 = load_model("ultra-x2-video").module.to(memory_format=torch.contiguous_format)
    last = copy.deepcopy(fp32).to(memory_format=torch.channels_last)
    rows = []
    for width, height in ((320, 180), (640, 360)):
        x = torch.rand(1, 3, height, width)
        xl = x.contiguous(memory_format=torch.channels_last)
        for precision in ("fp32", "bf16"):
            times = {"contiguous": [], "channels_last": []}
            with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
                fp32(x), last(xl)  # warm-up
                for _ in range(rounds):
                    for name, net, inp in (("contiguous", fp32, x), ("channels_last", last, xl)):
                        started = time.perf_counter()
                        net(inp)
                        times[name].append((time.perf_counter() - started) * 1000)
            rows.append({"size": f"{width}x{height}", "precision": precision,
                         "contiguous_ms": statistics.median(times["contiguous"]), "channels_last_ms": statistics.median(times["channels_last"]),
                         "samples_ms": times})  # fmt: skip
    return rows


def _commit(tree: Path) -> str | None:
    done = subprocess.run(["git", "-C", str(tree), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 else tree.name


if __name__ == "__main__":
    sys.exit(main())
