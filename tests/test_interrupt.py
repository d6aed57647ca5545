"""Ctrl-C at any moment of `vsr upscale` in a real process: always exit 130 (or 0 when the
run was already complete), never a signal death or a traceback, and never a partial or
temporary file.

Importing torch takes seconds on two loaded cores, so 20 cold starts would take minutes:
a small server imports vsr's modules, torch and PyAV once (before any thread exists) and forks one
`vsr upscale` process per run, which then runs exactly what `python -m vsr` runs after its
imports, to its end (os._exit with entry()'s code). A cold start with a Ctrl-C is covered by
tests/test_cli_upscale.py. The machine is loaded on purpose: two servers at once and a
busy loop, on two cores."""

import json
import os
import random
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from conftest import ROOT
from media import make_clip, probe

SERVER = r"""
import json, os, sys, time
import av, torch
import vsr.commands.progress_view, vsr.model, vsr.video.upscale  # what entry() imports later
from vsr.cli import entry

for line in sys.stdin:
    job = json.loads(line)
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        for fd, name in ((1, job["stdout"]), (2, job["stderr"])):
            os.dup2(os.open(name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), fd)
        sys.argv = ["vsr", *job["argv"]]
        try:
            entry()
        except SystemExit as exc:
            sys.stdout.flush(), sys.stderr.flush()
            os._exit(exc.code if isinstance(exc.code, int) else 1)
        os._exit(1)
    print(json.dumps({"pid": pid}), flush=True)
    _, status = os.waitpid(pid, 0)
    print(json.dumps({"code": os.waitstatus_to_exitcode(status), "seconds": time.monotonic() - started}), flush=True)
"""
RUNS_PER_SERVER = 10
FRAMES = 20


class Runner:
    def __init__(self, folder):
        self.folder = folder
        self.process = subprocess.Popen([sys.executable, "-c", SERVER], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def run(self, argv, name, delay=None):
        """One `vsr` process; Ctrl-C `delay` s after it was forked (None: never)."""
        job = {"argv": [str(a) for a in argv], "stdout": str(self.folder / f"{name}.out"), "stderr": str(self.folder / f"{name}.err")}
        self.process.stdin.write(json.dumps(job) + "\n")
        self.process.stdin.flush()
        pid = json.loads(self.process.stdout.readline())["pid"]
        if delay is not None:
            time.sleep(delay)
            try:
                os.kill(pid, signal.SIGINT)
            except ProcessLookupError:  # (already ended and reaped)
                pass
        result = json.loads(self.process.stdout.readline())
        return result["code"], result["seconds"], (self.folder / f"{name}.out").read_text(), (self.folder / f"{name}.err").read_text()

    def close(self):
        self.process.stdin.close()
        self.process.wait(timeout=30)


def _series(src, folder, seed):
    """One server: a run without Ctrl-C to measure how long a run takes, then Ctrl-C at
    random moments from 0 to 1.3 times that: opening, the first batch, mid-run, finishing
    the container, and after the end."""
    folder.mkdir()
    runner = Runner(folder)
    try:
        code, whole, _, stderr = runner.run(["upscale", src, "-o", folder / "whole.mkv", "--device", "cpu"], "whole")
        assert code == 0, stderr
        rng = random.Random(seed)
        outcomes = []
        for k in range(RUNS_PER_SERVER):
            out = folder / f"run{k}" / "out.mkv"
            out.parent.mkdir()
            delay = rng.uniform(0, 1.3 * whole)
            code, _, stdout, stderr = runner.run(["upscale", src, "-o", out, "--device", "cpu"], f"run{k}", delay)
            outcomes.append((code, stdout, stderr, out, f"Ctrl-C {delay:.2f} s into a {whole:.2f} s run: exit {code}\n{stderr}"))
        return outcomes
    finally:
        runner.close()


def test_ctrl_c_at_random_moments_always_exits_130_and_leaves_nothing(tmp_path):
    src = make_clip(tmp_path / "in.mkv", size=(64, 48), frames=FRAMES, audio_tracks=1)
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        with ThreadPoolExecutor(2) as pool:
            series = list(pool.map(lambda seed: _series(src, tmp_path / f"server{seed}", seed), (1, 2)))
    finally:
        busy.kill()
        busy.wait()
    phases = {"opening": 0, "running": 0, "complete": 0}
    for code, stdout, stderr, out, outcome in [o for s in series for o in s]:
        assert code in (0, 130), outcome  # never negative: no signal death
        assert "Traceback" not in stderr, outcome
        written = sorted(p.name for p in out.parent.iterdir())
        assert written in ([], ["out.mkv"]), outcome  # no temporary file left
        if written:  # only ever a complete file
            assert probe(out).frames == FRAMES, outcome
        if code == 130:
            assert "interrupted" in stderr.rstrip().splitlines()[-1], outcome
        else:
            assert written and f"wrote {out}" in stdout, outcome
        phases["complete" if written else "running" if "PlainUSR" in stderr else "opening"] += 1
    print(phases, [s[0][4].split(":")[0] for s in series])
    assert phases["opening"] and phases["running"], phases  # both sides of the start were hit
