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
def atomic_path(path: Path) -> Iterator[Path]:
    """Yields a temporary path to write; on success it replaces `path`, else it is removed."""
    path = Path(path)
    temp = temporary_name(path)
    try:
        yield temp
        os.replace(temp, path)
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


def write_atomically(path: Path, data: bytes) -> None:
    with atomic_path(path) as temp, open(temp, "xb") as f:
        f.write(data)
