"""`vsr serve`: a local web app and JSON API that queue upscales, show their progress and
compare each result with its source (pip install "vsr[serve]").

Open the printed address in a browser. The queue lives in SQLite in the state folder and
survives a restart, even a kill -9: a job that was running resumes from its segments."""

import argparse
import contextlib
import os
import re
import signal
import sys
from pathlib import Path

TOKEN_VARIABLE = "VSR_TOKEN"
DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8765
UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def default_state() -> Path:
    """Under the user's data folder: $XDG_DATA_HOME/vsr/serve, else ~/.local/share/vsr/serve."""
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "vsr" / "serve"


def add_parser(subparsers) -> None:
    from .examples import RAW, examples
    from .flags import add_device_flag

    p = subparsers.add_parser(
        "serve",
        help="a local web app and JSON API: a job queue with a before/after view",
        description=__doc__,
        formatter_class=RAW,
        epilog=examples(
            None,
            ("vsr serve", "http://127.0.0.1:8765/ in a browser; Ctrl-C stops"),
            ("vsr serve --allow-dir ~/Videos --jobs 2", "jobs may name files under ~/Videos; two run at once"),
            ("vsr serve --host 0.0.0.0 --token SECRET", "other machines too: every request then carries the token"),
        ),
    )
    p.add_argument("--host", default=DEFAULT_HOST, help=f"address to listen on (default {DEFAULT_HOST}; any other needs --token)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    p.add_argument("--token", help=f"the secret every request must carry (default: ${TOKEN_VARIABLE}); needed off 127.0.0.1")
    p.add_argument("--state", type=Path, metavar="DIR", help=f"the queue and the jobs' files (default {default_state()})")
    p.add_argument("--allow-dir", action="append", type=Path, default=[], metavar="DIR", help="a folder whose files jobs may name by path (repeatable)")
    p.add_argument("--max-upload", default="20G", metavar="SIZE", help="largest upload or fetched URL, in bytes or with K, M, G (default 20G)")
    p.add_argument("--jobs", type=int, default=1, metavar="N", help="jobs run at once (default 1)")
    add_device_flag(p)
    p.add_argument(
        "--segment-seconds", type=float, metavar="S", help="resumable segments of S seconds for every job (default: only inputs of 2 minutes or more, 30 s)"
    )
    p.set_defaults(run=run)


def parse_size(text: str) -> int:
    from ..errors import UsageError

    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?\s*", text, re.IGNORECASE)
    if not match or float(match.group(1)) <= 0:
        raise UsageError(f"--max-upload takes a size such as 500M or 20G, got {text!r}")
    return int(float(match.group(1)) * UNITS[match.group(2).upper()])


def run(args: argparse.Namespace) -> int:
    from ..errors import UsageError

    try:
        import uvicorn

        from ..serve.app import ServeConfig, create_app
        from ..serve.options import ServerDefaults
        from ..serve.queue import StateLock
        from ..serve.security import Gate, check_exposure
    except ImportError as exc:
        raise UsageError(f"vsr serve needs {exc.name}, which is not installed; pip install 'vsr[serve]'") from None
    token = args.token or os.environ.get(TOKEN_VARIABLE) or None
    check_exposure(args.host, token)
    if args.jobs < 1:
        raise UsageError(f"--jobs must be 1 or more, got {args.jobs}")
    if not 0 < args.port < 65536:
        raise UsageError(f"--port must be 1 to 65535, got {args.port}")
    if args.segment_seconds is not None and args.segment_seconds <= 0:
        raise UsageError(f"--segment-seconds must be more than 0, got {args.segment_seconds:g}")
    for folder in args.allow_dir:
        if not folder.is_dir():
            raise UsageError(f"--allow-dir {folder}: no such folder")
    _check_free(args.host, args.port)
    state = (args.state or default_state()).expanduser()
    try:
        state.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--state {state}: {exc.strerror}") from None
    config = ServeConfig(
        state=state,
        gate=Gate(args.host, args.port, token),
        allow_dirs=tuple(folder.resolve() for folder in args.allow_dir),
        max_upload=parse_size(args.max_upload),
        jobs=args.jobs,
        defaults=ServerDefaults(device=args.device, segment_seconds=args.segment_seconds),
    )
    server = _Server(uvicorn.Config(create_app(config), host=args.host, port=args.port, log_level="warning", access_log=False))
    host = f"[{args.host}]" if ":" in args.host else args.host
    login = " (open /?token=YOUR_TOKEN once to sign in)" if token else ""
    lock = StateLock(state).acquire()
    try:
        print(f"vsr serve: http://{host}:{args.port}/{login}; jobs in {state}; Ctrl-C stops", flush=True)
        args.interrupt.uninstall()  # uvicorn takes Ctrl-C from here on (_Server.capture_signals)
        server.run()
    finally:
        lock.release()
    if not server.started:
        raise UsageError(f"cannot listen on {host}:{args.port} (in use, or not an address of this machine)")
    print("vsr serve: stopped; queued and running jobs go on at the next start", file=sys.stderr)
    return 0


def _check_free(host: str, port: int) -> None:
    """One line now, rather than uvicorn's log line and exit later."""
    import socket

    from ..errors import UsageError

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        with socket.socket(infos[0][0], socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(infos[0][4])
    except OSError as exc:
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


class _Server:
    """uvicorn's Server, but Ctrl-C and SIGTERM only stop it gracefully (the workers stop
    at a safe point; running jobs resume at the next start): uvicorn would raise the
    signal again afterwards, which would end vsr as an interrupted run."""

    def __new__(cls, config):
        import uvicorn

        class Server(uvicorn.Server):
            @contextlib.contextmanager
            def capture_signals(self):
                previous = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
                try:
                    yield
                finally:
                    for sig, handler in previous.items():
                        signal.signal(sig, handler)

        return Server(config)
