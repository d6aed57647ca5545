"""Many `vsr` command-line runs without paying for torch's import each time.

Importing torch takes seconds on two loaded cores, so tests that run the command tens or
hundreds of times start a `VsrForker`: a small server that imports vsr's modules, torch and
PyAV once (before any thread exists) and forks one process per run. Each runs exactly what
`python -m vsr` runs after its imports (vsr.cli.entry) to its end (os._exit with entry()'s
code, so a normal exit skips the interpreter teardown a cold start would do; a cold start
is covered by tests/test_cli_upscale.py). A run that outlives its time limit gets SIGABRT
(faulthandler prints every thread's stack to its stderr) and is reported as hung.

SIGINT is blocked across the fork until the child has taken Ctrl-C as entry() does first:
a Ctrl-C sent in the instant after the fork then lands in vsr's code, not in the moment
that stands for Python's own start-up, which no program can handle (a cold start's first
tens of ms).
"""

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from conftest import ROOT

HUNG = "hung"

SERVER = r"""
import faulthandler, json, os, signal, sys, time
import av, torch
import vsr.commands.progress_view, vsr.model, vsr.video.stages.upscale  # what entry() imports later
from vsr.cli import entry, take_ctrl_c

for line in sys.stdin:
    job = json.loads(line)
    started = time.monotonic()
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})  # a Ctrl-C waits until vsr's code runs
    pid = os.fork()
    if pid == 0:
        for fd, name in ((1, job["stdout"]), (2, job["stderr"])):
            os.dup2(os.open(name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), fd)
        faulthandler.enable()
        sys.argv = ["vsr", *job["argv"]]
        take_ctrl_c()  # entry()'s first step
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
        try:
            entry()
        except SystemExit as exc:
            sys.stdout.flush(), sys.stderr.flush()
            os._exit(exc.code if isinstance(exc.code, int) else 1)
        os._exit(1)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    print(json.dumps({"pid": pid}), flush=True)
    deadline = started + job["limit"]
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            code = os.waitstatus_to_exitcode(status)
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGABRT)
            time.sleep(1)
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            code = "hung"
            break
        time.sleep(0.01)
    print(json.dumps({"code": code, "seconds": time.monotonic() - started}), flush=True)
"""


@dataclass
class Run:
    code: int | str  # the exit code, negative for a signal, or HUNG
    seconds: float
    stdout: str
    stderr: str


class VsrForker:
    def __init__(self, folder: Path):
        self.folder = folder
        self.process = subprocess.Popen([sys.executable, "-c", SERVER], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.count = 0

    def run(self, argv, *, interrupt_after: float | None = None, after_text: str | None = None, limit: float = 120) -> Run:
        """One `vsr ARGV` process; Ctrl-C `interrupt_after` s after it was forked, or after
        it printed `after_text` on stderr."""
        self.count += 1
        out, err = self.folder / f"run{self.count}.out", self.folder / f"run{self.count}.err"
        job = {"argv": [str(a) for a in argv], "stdout": str(out), "stderr": str(err), "limit": limit}
        self.process.stdin.write(json.dumps(job) + "\n")
        self.process.stdin.flush()
        pid = json.loads(self.process.stdout.readline())["pid"]
        if interrupt_after is not None:
            if after_text is not None:
                _wait_for_text(err, after_text, limit)
            time.sleep(interrupt_after)
            try:
                os.kill(pid, signal.SIGINT)
            except ProcessLookupError:  # (already ended and reaped)
                pass
        result = json.loads(self.process.stdout.readline())
        return Run(result["code"], result["seconds"], out.read_text(errors="replace"), err.read_text(errors="replace"))

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)

    def __enter__(self) -> "VsrForker":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _wait_for_text(path: Path, text: str, limit: float) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if path.exists() and text in path.read_text(errors="replace"):
            return
        time.sleep(0.001)
    raise AssertionError(f"{text!r} did not appear on the run's stderr within {limit} s")
