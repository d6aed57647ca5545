"""Ctrl-C on the command line: one rule for every run.

The first Ctrl-C raises KeyboardInterrupt in the main thread, as Python's own handler
does (while a pipeline runs, at its next safe point: `vsr.video.stages.pipeline.CtrlCAtSafePoints`),
and is also remembered: some native code (an extension module being imported, a
library's broad `except`) can swallow the exception, so long-running work calls `check()`
at safe points (vsr upscale: every pipeline tick and before the output is committed) and
the interrupt is raised again there. Later Ctrl-Cs are ignored while the first one is
cleaned up: a cleanup cut short is what leaves half-written files behind.

What a command does on KeyboardInterrupt is its own (vsr upscale: stop every stage at a
safe point, join the threads, remove the temporary output; a segmented run keeps its work
folder, a stream finishes its container). Then `exit_now` ends the process with 130
without interpreter teardown, so no thread left inside torch, OpenMP or FFmpeg can run
while Python unloads the modules it needs (that ended in SIGSEGV on a loaded machine).

A process started with SIGINT ignored (a background job, `vsr ... &`, of a script) keeps
ignoring it, as Python does: whoever started it chose that, and SIGTERM still ends it.
"""

import os
import signal
import sys
import threading

EXIT_CODE = 130


class Interrupt:
    def __init__(self) -> None:
        self.event = threading.Event()
        self._previous = None

    def install(self) -> "Interrupt":
        """Handle SIGINT from now on (main thread only). A SIGINT that whoever started vsr
        ignores (a background job of a script) stays ignored, as Python leaves it."""
        if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
            return self
        self._previous = signal.signal(signal.SIGINT, self._handle)
        self._previous_hook, sys.unraisablehook = sys.unraisablehook, self._unraisable
        return self

    def uninstall(self) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            sys.unraisablehook = self._previous_hook
            self._previous = None

    def _unraisable(self, unraisable) -> None:
        """A Ctrl-C that landed in a callback from native code (PyAV's log callback) cannot
        be raised there; Python would print it with a traceback. It is remembered instead."""
        if issubclass(unraisable.exc_type, KeyboardInterrupt):
            self.event.set()
            return
        self._previous_hook(unraisable)

    @property
    def requested(self) -> bool:
        return self.event.is_set()

    def check(self) -> None:
        """Raise KeyboardInterrupt if Ctrl-C was pressed, even if it was swallowed."""
        if self.event.is_set():
            raise KeyboardInterrupt

    def _handle(self, signum, frame) -> None:
        if self.event.is_set():
            return  # already stopping: let the cleanup finish
        self.event.set()
        raise KeyboardInterrupt


def exit_now(code: int) -> None:
    """Flush what was printed and end the process without interpreter teardown."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)
