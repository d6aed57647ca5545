"""One writer per output: a lock file beside the output while a run writes it.

`claim(path)` creates `.NAME.vsr-lock` beside `path` atomically (O_CREAT|O_EXCL) with the
writer's pid in it, before any decoding: a second run aimed at the same output finds it,
says which process holds it and stops at once (exit 1), without waiting and without
touching the first run's files. A lock whose pid no longer runs (a run killed with -9,
a machine that rebooted) is stale: the next run takes it over, with no prompt.

Creating the lock is also the first write into the output's folder, so an output that
cannot be written (`-o /sys/x.mp4`, a read-only disk, a missing folder) is named there
with the OS's reason, before any frame is decoded.

Claims nest in one process (a segmented run that falls back to one piece claims the
output it already holds); `release` happens when the outermost claim ends.
"""

import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path

from .errors import OutputError

_held: dict[Path, int] = {}  # lock file -> nesting depth, for this process
_held_lock = threading.Lock()


def lock_path(path: Path) -> Path:
    """The lock file of `path`: hidden, beside it, so it lives on the same disk."""
    path = Path(path)
    return path.with_name(f".{path.name}.vsr-lock")


@contextlib.contextmanager
def claim(path: "os.PathLike | str") -> Iterator[Path]:
    """Hold `path`'s lock for the block; raises OutputError when another live process
    holds it or the folder cannot be written (the OS's reason in the message)."""
    lock = lock_path(Path(path)).absolute()
    with _held_lock:
        nested = lock in _held
        if nested:
            _held[lock] += 1
    if not nested:
        _take(lock, Path(path))
        with _held_lock:
            _held[lock] = 1
    try:
        yield lock
    finally:
        with _held_lock:
            _held[lock] -= 1
            last = _held[lock] == 0
            if last:
                del _held[lock]
        if last:
            with contextlib.suppress(OSError):
                lock.unlink()


def _take(lock: Path, path: Path) -> None:
    for _ in range(2):  # a stale lock is removed once, then created again
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            holder = _holder(lock)
            if holder is not None and _alive(holder):
                raise OutputError(f"{path} is being written by another vsr run (pid {holder}); wait for it, or name another output") from None
            with contextlib.suppress(FileNotFoundError):
                lock.unlink()  # stale: its writer is gone
            continue
        except OSError as exc:
            raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
        with os.fdopen(fd, "w") as f:
            f.write(f"{os.getpid()}\n")
        return
    raise OutputError(f"{path} is being claimed by another vsr run at this moment; name another output")


def _holder(lock: Path) -> int | None:
    """The pid in the lock file; None when it is empty or unreadable (a writer killed
    between creating it and writing its pid: stale as well)."""
    try:
        return int(lock.read_text().strip())
    except (OSError, ValueError):
        return None


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True  # another thread of this process holds it (claims nest only within one call chain)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: it exists
    return True
