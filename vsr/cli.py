"""The `vsr` command. Sub-commands live in vsr/commands/, one module each, and import
torch/av only when they run, so `vsr --help` answers at once."""

import argparse
import contextlib
import os
import signal
import sys
import threading

from .commands import eval as eval_command
from .commands import bench, demo, export, image, live, models, presets, serve, train, upscale
from .interrupt import EXIT_CODE, exit_now

COMMANDS = (demo, upscale, live, image, presets, models, train, export, eval_command, bench, serve)


class _OneLineErrorParser(argparse.ArgumentParser):
    """argparse, but a bad flag is one line on stderr (and exit 2), not usage + error."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _OneLineErrorParser(
        prog="vsr",
        description="Video and image super-resolution with PlainUSR.",
    )
    parser.add_argument("--version", action="version", version=f"vsr {_version()}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_OneLineErrorParser)
    for command in COMMANDS:
        command.add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns the exit code. Ctrl-C (vsr.interrupt) returns 130 once the
    command has cleaned up, wherever it lands, parsing included."""
    from .environment import tune_cpu_environment

    tune_cpu_environment()  # before any command imports torch (it reads them once)
    from .commands.flags import flag_words
    from .errors import VsrError
    from .interrupt import Interrupt

    interrupt = Interrupt()
    if threading.current_thread() is threading.main_thread():
        interrupt.install()
    name = "vsr"
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        args.argv = list(sys.argv[1:] if argv is None else argv)  # as typed, for recorded recipes
        args.interrupt = interrupt
        if args.command is None:
            parser.print_help()
            return 2
        name = f"vsr {args.command}"
        _print_warnings_as_one_line(args.command)
        with _offline_if(getattr(args, "offline", False)):
            code = args.run(args) or 0
    except BaseException as exc:
        # After a Ctrl-C, whatever it became on the way (FFmpeg answers an interrupted read
        # with "Immediate exit requested", which reads as a bad input), it is an interrupt.
        if isinstance(exc, VsrError) and exc.exit_code == EXIT_CODE:  # an interrupt that says what it kept (a segmented run's work folder)
            print(f"{name}: {exc.worded(flag_words)}", file=sys.stderr)
            return EXIT_CODE
        if isinstance(exc, KeyboardInterrupt) or (interrupt.requested and not isinstance(exc, SystemExit)):
            print(f"{name}: interrupted; nothing half-written was left behind", file=sys.stderr)
            return EXIT_CODE
        if isinstance(exc, VsrError):
            print(f"{name}: error: {exc.worded(flag_words)}", file=sys.stderr)
            return exc.exit_code
        raise
    finally:
        interrupt.uninstall()
    if interrupt.requested:  # swallowed on the way (see vsr.interrupt) after the work was complete
        print(f"{name}: interrupted as it finished; what it wrote is complete", file=sys.stderr)
        return EXIT_CODE
    return code


def entry() -> None:
    """The `vsr` command and `python -m vsr`: an interrupted run ends at once, without
    interpreter teardown (vsr.interrupt.exit_now); any other exit is a normal one."""
    take_ctrl_c()
    code = main()
    if code == EXIT_CODE:
        exit_now(code)
    sys.exit(code)


def take_ctrl_c() -> None:
    """entry()'s first step: from here on a Ctrl-C is vsr's. Outside main() (before it
    installs its own handler, or after it returned) there is nothing to stop: nothing was
    written yet, or what was written is complete. An ignored SIGINT stays ignored."""
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
        signal.signal(signal.SIGINT, _interrupted_outside_main)


def _interrupted_outside_main(signum, frame) -> None:
    print("vsr: interrupted; nothing half-written was left behind", file=sys.stderr)
    exit_now(EXIT_CODE)


@contextlib.contextmanager
def _offline_if(offline: bool):
    """--offline: $VSR_OFFLINE=1 (read where a download would start, vsr.weights.download)
    for this command only; main() may run again in the same process (tests, scripts)."""
    if not offline:
        yield
        return
    from .weights.download import OFFLINE_ENV

    before = os.environ.get(OFFLINE_ENV)
    os.environ[OFFLINE_ENV] = "1"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(OFFLINE_ENV, None)
        else:
            os.environ[OFFLINE_ENV] = before


def _print_warnings_as_one_line(command: str) -> None:
    """vsr's own warnings (vsr.errors.PrecisionWarning) as `vsr CMD: warning: ...`, not
    Python's file:line form; others keep Python's."""
    import warnings

    from .errors import PrecisionWarning

    python_way = getattr(warnings.showwarning, "python_way", warnings.showwarning)  # main() may run again

    def show(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, PrecisionWarning):
            print(f"vsr {command}: warning: {message}", file=sys.stderr, flush=True)
        else:
            python_way(message, category, filename, lineno, file, line)

    show.python_way = python_way  # type: ignore[attr-defined]
    warnings.showwarning = show


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("vsr")
    except PackageNotFoundError:
        return "unknown"


if __name__ == "__main__":
    entry()
