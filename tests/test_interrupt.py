"""Ctrl-C at any moment of `vsr upscale` in a real process: always exit 130 (or 0 when the
run was already complete), never a signal death or a traceback, and never a partial or
temporary file. The runs are forked by tests/forked.py (torch imported once); the machine
is loaded on purpose: two series at once and a busy loop, on two cores."""

import random
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

from forked import VsrForker
from media import make_clip, probe

RUNS_PER_SERIES = 10
FRAMES = 20


def _series(src, folder, seed):
    """A run without Ctrl-C to measure how long a run takes, then Ctrl-C at random moments
    from 0 to 1.3 times that: opening, the first batch, mid-run, finishing the container,
    and after the end."""
    folder.mkdir()
    with VsrForker(folder) as vsr:
        whole = vsr.run(["upscale", src, "-o", folder / "whole.mkv", "--device", "cpu"])
        assert whole.code == 0, whole.stderr
        rng = random.Random(seed)
        outcomes = []
        for k in range(RUNS_PER_SERIES):
            out = folder / f"run{k}" / "out.mkv"
            out.parent.mkdir()
            delay = rng.uniform(0, 1.3 * whole.seconds)
            run = vsr.run(["upscale", src, "-o", out, "--device", "cpu"], interrupt_after=delay)
            outcomes.append((run.code, run.stdout, run.stderr, out, f"Ctrl-C {delay:.2f} s into a {whole.seconds:.2f} s run: exit {run.code}\n{run.stderr}"))
        return outcomes


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
    assert phases["opening"] and phases["running"], phases  # both sides of the start were hit


def test_a_swallowed_ctrl_c_that_became_another_error_still_exits_130(monkeypatch, capsys):
    """Native code can swallow the KeyboardInterrupt (a callback) or turn it into its own
    error (FFmpeg's "Immediate exit requested", read as a bad input): still 130."""
    import signal

    from vsr.cli import main
    from vsr.commands import upscale
    from vsr.errors import InputError

    def swallowed_then_failed(args):
        try:
            signal.raise_signal(signal.SIGINT)  # vsr's handler raises KeyboardInterrupt ...
        except KeyboardInterrupt:
            pass  # ... which a library swallows
        raise InputError("in.mp4 is not a video FFmpeg can read (Immediate exit requested)")

    monkeypatch.setattr(upscale, "run", swallowed_then_failed)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a terminal, whatever started pytest (a background job ignores it)
    try:
        assert main(["upscale", "in.mp4"]) == 130
        assert capsys.readouterr().err == "vsr upscale: interrupted; nothing half-written was left behind\n"
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # Python's own again
    finally:
        signal.signal(signal.SIGINT, previous)


def test_an_ignored_sigint_stays_ignored_as_python_leaves_it(monkeypatch):
    """Started as a background job (`vsr ... &`) of a script, SIGINT is ignored on purpose:
    vsr neither installs its handler nor stops."""
    import signal

    from vsr.cli import main
    from vsr.commands import upscale

    def interrupted_while_ignored(args):
        signal.raise_signal(signal.SIGINT)
        return 0

    monkeypatch.setattr(upscale, "run", interrupted_while_ignored)
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        assert main(["upscale", "in.mp4"]) == 0
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)


def test_a_ctrl_c_outside_main_says_nothing_is_half_written_and_exits_130():
    """entry() takes Ctrl-C first; before main() installs its own handler (or after it
    returned) there is nothing to stop, and the one line says so."""
    code = "import signal, time; from vsr.cli import take_ctrl_c; take_ctrl_c(); signal.raise_signal(signal.SIGINT); time.sleep(30)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 130
    assert done.stderr == "vsr: interrupted; nothing half-written was left behind\n"
