"""Writing files so that a failure or Ctrl-C never leaves a half-written file under the
final name: write to a hidden temporary name beside it, rename when complete."""

import contextlib
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import OutputError, VsrError


def temporary_name(path: Path) -> Path:
    """The hidden name a file is written under before it is renamed to `path`."""
    return path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.part")


@contextmanager
def atomic_path(path: Path, *, replace: bool = True) -> Iterator[Path]:
    """Yields a temporary path to write; on success it becomes `path`, else it is removed.
    `replace=False`: a file that appeared at `path` meanwhile (another program wrote it
    during the run) is never replaced; the finished file is kept under a free name beside
    it and an OutputError names both (nothing is lost)."""
    path = Path(path)
    temp = temporary_name(path)
    try:
        yield temp
        if replace:
            os.replace(temp, path)
        else:
            _rename_without_replacing(temp, path)
    except VsrError:  # already one clear line (an OutputError is an OSError too)
        with contextlib.suppress(OSError):
            temp.unlink(missing_ok=True)
        raise
    except OSError as exc:
        with contextlib.suppress(OSError):
            temp.unlink(missing_ok=True)
        raise OutputError(f"cannot write {path}: {exc.strerror}") from None
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def _rename_without_replacing(temp: Path, path: Path) -> None:
    """`temp` -> `path` only if `path` does not exist, in one step: a hard link fails
    when the name is taken (POSIX link(2) never replaces). Where the disk has no hard
    links, a check just before the rename is the best there is."""
    try:
        os.link(temp, path)
    except FileExistsError:
        _keep_beside(temp, path)
    except OSError:  # no hard links here (FAT, some network disks)
        if path.exists():
            _keep_beside(temp, path)
        os.replace(temp, path)
        return
    temp.unlink()


def _keep_beside(temp: Path, path: Path) -> None:
    kept = _free_name(path)
    os.replace(temp, kept)
    raise OutputError(f"{path} appeared while this run wrote it and was left as it is; this run's result is {kept}", hint="pass {overwrite=True} to replace it")


def _free_name(path: Path) -> Path:
    """NAME.1.EXT, NAME.2.EXT, ...: the first that does not exist."""
    for n in range(1, 10_000):
        candidate = path.with_name(f"{path.stem}.{n}{path.suffix}")
        if not candidate.exists():
            return candidate
    raise OutputError(f"no free name beside {path}")


def write_atomically(path: Path, data: bytes, *, replace: bool = True) -> None:
    with atomic_path(path, replace=replace) as temp, open(temp, "xb") as f:
        f.write(data)
