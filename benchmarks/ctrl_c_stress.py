"""Ctrl-C `vsr upscale` just after its model line, when the stage threads start, many
times; every run must exit 130 and leave nothing (docs/BENCHMARKS.md, "The Ctrl-C SIGSEGV").

    python benchmarks/ctrl_c_stress.py [--runs 300] [--window 0.05] [--busy 8] [--seed 0]

Runs are forked by tests/forked.py's server (torch imported once), each interrupted a
random 0-WINDOW s after it printed its model line, while BUSY shell loops load the machine.
Prints a line per bad run (its code and stderr) and a count of exit codes; exits 1 if any
run ended otherwise than 130 or left a file.
"""

import argparse
import collections
import random
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--window", type=float, default=0.05, help="seconds after the model line (default 0.05)")
    parser.add_argument("--busy", type=int, default=8, help="busy loops beside the runs (default 8)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    from forked import VsrForker
    from media import make_clip

    rng = random.Random(args.seed)
    codes: collections.Counter = collections.Counter()
    bad = 0
    busy = [subprocess.Popen(["sh", "-c", "while :; do :; done"]) for _ in range(args.busy)]
    try:
        with tempfile.TemporaryDirectory() as tmp, VsrForker(Path(tmp)) as vsr:
            src = make_clip(Path(tmp) / "in.mkv", size=(160, 120), frames=300)
            for k in range(args.runs):
                out = Path(tmp) / f"out{k}" / "out.mkv"
                out.parent.mkdir()
                run = vsr.run(["upscale", src, "-o", out, "--device", "cpu"], interrupt_after=rng.uniform(0, args.window), after_text="PlainUSR")
                codes[run.code] += 1
                left = sorted(p.name for p in out.parent.iterdir())
                if run.code != 130 or left:
                    bad += 1
                    print(f"run {k}: exit {run.code}, left {left}\n{run.stderr}", flush=True)
    finally:
        for loop in busy:
            loop.kill()
            loop.wait()
    print(f"{args.runs} runs, {args.busy} busy loops, window {args.window} s: exit codes {dict(codes)}; {bad} bad")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
