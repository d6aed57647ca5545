"""What segmenting costs: the same clip upscaled in one piece, in resumable segments (plan,
per-segment encoders, manifest, join), and in segments on a local Ray, in one run.

    python benchmarks/segments_overhead.py [CLIP] [--seconds 10] [--workers 2] [--json out.json]

Without CLIP it makes one: the bundled 2 s demo clip played 20 times (40 s, 320x180,
libx264 with its default keyframe interval, 5.1 audio) via vsr.samples.make_clip. Runs
alternate plain / segmented `--repeat` times and the best of each counts (a loaded machine
only ever makes a run slower); CPU seconds are reported beside wall seconds, since on a
shared machine they are the steadier measure of the work segmenting adds. The Ray figure excludes starting Ray (reported apart).
"""

import argparse
import dataclasses
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("clip", nargs="?", type=Path)
    parser.add_argument("--seconds", type=float, default=10.0, help="segment length (default 10)")
    parser.add_argument("--workers", type=int, default=2, help="local Ray CPU workers (0: skip Ray)")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    import vsr
    from vsr.video.segments.segmented import upscale_in_segments
    from vsr.video.segments.cutting import plan_segments

    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        clip = args.clip
        if clip is None:
            from vsr.samples.make_clip import RECIPES, make_clip

            clip = make_clip(ROOT / "vsr/samples/bbb-320x180.mp4", folder / "bbb-40s.mp4", dataclasses.replace(RECIPES["bench"], size=(320, 180), repeat=20))
        model = vsr.load_model("ultra", scale=2, device="cpu")
        plan = plan_segments(clip, args.seconds)
        common = {"model": model, "codec": "libx264", "overwrite": True}
        plain, segmented, plain_cpu, segmented_cpu = [], [], [], []
        for _ in range(args.repeat):
            started, cpu = time.perf_counter(), time.process_time()
            result = vsr.upscale_video(clip, folder / "plain.mp4", **common)
            plain.append(time.perf_counter() - started)
            plain_cpu.append(time.process_time() - cpu)
            started, cpu = time.perf_counter(), time.process_time()
            upscale_in_segments(clip, folder / "segmented.mp4", segment_seconds=args.seconds, **common)
            segmented.append(time.perf_counter() - started)
            segmented_cpu.append(time.process_time() - cpu)
            print(f"plain {plain[-1]:.1f} s ({plain_cpu[-1]:.1f} CPU s), segmented {segmented[-1]:.1f} s ({segmented_cpu[-1]:.1f} CPU s)", flush=True)
        report = {
            "clip": str(args.clip or "bundled bbb-320x180 x20"),
            "frames": result.frames,
            "segments": len(plan),
            "segment_seconds": args.seconds,
            "plain_s": min(plain),
            "segmented_s": min(segmented),
            "segmented_overhead": min(segmented) / min(plain) - 1,
            # CPU seconds of this process (all threads): what segmenting adds in work,
            # much less disturbed than wall time by other load on a shared machine
            "plain_cpu_s": min(plain_cpu),
            "segmented_cpu_s": min(segmented_cpu),
            "segmented_cpu_overhead": min(segmented_cpu) / min(plain_cpu) - 1,
        }
        if args.workers:
            os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
            os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
            import ray

            started = time.perf_counter()
            ray.init(num_cpus=args.workers, include_dashboard=False, log_to_driver=False)
            report["ray_start_s"] = time.perf_counter() - started
            print(json.dumps(report), flush=True)  # so far, in case Ray fails
            started = time.perf_counter()
            upscale_in_segments(clip, folder / "ray.mp4", segment_seconds=args.seconds, ray=True, workers=args.workers, **common)
            report["ray_s"] = time.perf_counter() - started
            report["ray_workers"] = args.workers
            report["ray_overhead"] = report["ray_s"] / report["plain_s"] - 1
            ray.shutdown()
    print(json.dumps(report, indent=1))
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
