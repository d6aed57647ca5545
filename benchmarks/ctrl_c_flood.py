"""Flood a `Pipeline.run` with SIGINTs while a stage works on after the stop, many times;
run() must raise KeyboardInterrupt only after the stage ended, and never hang
(docs/BENCHMARKS.md, "The Ctrl-C SIGSEGV").

    python benchmarks/ctrl_c_flood.py [--runs 20] [--seconds 0.5]

Each run is a child process whose one stage works for 1 s without looking at the stop
event (a long native demux); 0.2 s in, this process sends it SIGINT as fast as it can for
SECONDS. Prints one line per run and exits 1 if any run returned or raised while its stage
was still working, or did not end within 30 s.
"""

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def child() -> None:
    sys.path.insert(0, str(ROOT))
    from vsr.video.stages.pipeline import Pipeline

    signal.signal(signal.SIGINT, signal.default_int_handler)
    pipeline = Pipeline()
    ended = []

    def works_on(clock):
        end = time.monotonic() + 1.0
        while time.monotonic() < end:
            time.sleep(0.001)
        ended.append(True)

    pipeline.add("decode", works_on)
    print("started", flush=True)
    try:
        pipeline.run()
        outcome = "returned"
    except KeyboardInterrupt:
        outcome = "interrupted"
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the flood may still be arriving
    print(f"{outcome} stage-ended={bool(ended)}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=0.5)
    args = parser.parse_args()
    bad = 0
    for run in range(args.runs):
        process = subprocess.Popen([sys.executable, __file__, "--child"], stdout=subprocess.PIPE, text=True)
        assert process.stdout.readline().strip() == "started"
        time.sleep(0.2)
        sent, end = 0, time.monotonic() + args.seconds
        while time.monotonic() < end and process.poll() is None:
            os.kill(process.pid, signal.SIGINT)
            sent += 1
        try:
            out, _ = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            out = "hung"
        ok = out.strip() == "interrupted stage-ended=True" and process.returncode == 0
        bad += not ok
        print(f"run {run}: {sent} SIGINTs, exit {process.returncode}, {out.strip() or 'nothing printed'}{'' if ok else '  <- BAD'}")
    print(f"{args.runs} runs: {bad} bad")
    return 1 if bad else 0


if __name__ == "__main__":
    if sys.argv[1:] == ["--child"]:
        child()
    else:
        sys.exit(main())
