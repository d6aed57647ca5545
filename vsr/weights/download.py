"""Downloading known weights into the user's cache, verified before they are used.

The file comes from the entry's URL, or from the mirror in $VSR_WEIGHTS_URL (an http(s)
base URL or a local folder holding the files by their release names). It is written to a
temporary name in the cache folder, hashed while it arrives, checked against the
registry's sha256 and read as a PlainUSR checkpoint, and only then renamed into place
(vsr.atomic): a failed, cut or wrong download leaves nothing behind. Two pulls at once
take turns on a lock of the cache folder; the second finds the file verified and stops.
$VSR_OFFLINE=1 (the commands' --offline) never touches the network.
"""

import contextlib
import errno
import http.client
import os
import socket
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

from ..atomic import atomic_path
from ..errors import DownloadError, WeightsError
from .files import CACHE_ENV, WeightsEntry, cache_dir, sha256_of

MIRROR_ENV = "VSR_WEIGHTS_URL"
OFFLINE_ENV = "VSR_OFFLINE"
TIMEOUT_S = 30  # per socket operation: a silent server ends the pull, it does not hang it
CHUNK = 1 << 16

OnProgress = Callable[[int, int | None], None]  # (bytes so far, total bytes or None)


def is_offline() -> bool:
    return os.environ.get(OFFLINE_ENV, "").strip().lower() not in ("", "0", "no", "false")


def source_of(entry: WeightsEntry) -> str:
    """The URL (or mirror file path) the entry's file is fetched from."""
    mirror = os.environ.get(MIRROR_ENV, "").strip()
    if not mirror:
        return entry.source
    if mirror.startswith(("http://", "https://")):
        return f"{mirror.rstrip('/')}/{entry.file}"
    return str(Path(mirror.removeprefix("file://")).expanduser() / entry.file)


def ensure_downloaded(entry: WeightsEntry, *, notify: Callable[[str], None] | None = None) -> Path:
    """The entry's verified file in the cache, downloaded first (with a notice and a
    progress bar on stderr) if it is not there yet."""
    path = cache_dir() / entry.file
    if path.is_file() and sha256_of(path) == entry.sha256:
        return path
    if is_offline() and _is_network(source_of(entry)):
        return pull(entry)[0]  # says what to do instead
    say = notify or (lambda line: print(f"vsr: {line}", file=sys.stderr, flush=True))
    say(f"{entry.name} is not on this machine yet: downloading {entry.file} ({entry.licence} licence) from {source_of(entry)} into {path.parent}")
    with stderr_progress(entry.file) as progress:
        return pull(entry, progress=progress)[0]


def pull(entry: WeightsEntry, *, progress: OnProgress | None = None) -> tuple[Path, bool]:
    """Download and verify the entry's file into the cache. Returns (path, downloaded):
    a file already there and verified is not fetched again."""
    if entry.shipped:
        raise WeightsError(f"{entry.name} ships with vsr; there is nothing to download")
    folder = cache_dir()
    path = folder / entry.file
    url = source_of(entry)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _failure(entry, url, f"cannot create the cache folder {folder} ({exc.strerror}); set {CACHE_ENV} to a writable folder") from None
    with _folder_lock(folder):
        if path.is_file():
            if sha256_of(path) == entry.sha256:
                return path, False
            if is_offline() and _is_network(url):
                raise _failure(entry, url, f"the file in the cache has the wrong sha256 and vsr is offline ({OFFLINE_ENV}=1)")
        elif is_offline() and _is_network(url):
            raise _failure(entry, url, f"not in the cache and vsr is offline ({OFFLINE_ENV}=1)")
        with atomic_path(path) as temp:
            digest = _fetch(entry, url, temp, progress)
            if digest != entry.sha256:
                raise _failure(entry, url, f"the file's sha256 is {digest}, not the expected one")
            _check_is_the_model(entry, url, temp)
    return path, True


def _fetch(entry: WeightsEntry, url: str, temp: Path, progress: OnProgress | None) -> str:
    """Copy `url` to `temp`, returning the sha256 of what arrived."""
    import hashlib

    digest, done = hashlib.sha256(), 0
    with _open_source(entry, url) as (stream, total):
        try:
            out = open(temp, "xb")
        except OSError as exc:
            raise _failure(entry, url, f"cannot write in {temp.parent} ({exc.strerror})") from None
        with out:
            while True:
                try:
                    chunk = stream.read(CHUNK)
                except (OSError, http.client.HTTPException) as exc:  # reset, timeout, a cut chunked body
                    raise _failure(entry, url, f"the transfer was cut after {done:,} bytes ({_reason(exc)})") from None
                if not chunk:
                    break
                try:
                    out.write(chunk)
                except OSError as exc:
                    what = "the disk is full" if exc.errno == errno.ENOSPC else exc.strerror
                    raise _failure(entry, url, f"cannot write in {temp.parent}: {what}") from None
                digest.update(chunk)
                done += len(chunk)
                if progress:
                    progress(done, total)
            try:
                out.flush()
                os.fsync(out.fileno())
            except OSError as exc:
                what = "the disk is full" if exc.errno == errno.ENOSPC else exc.strerror
                raise _failure(entry, url, f"cannot write in {temp.parent}: {what}") from None
    if total is not None and done != total:
        raise _failure(entry, url, f"the transfer was cut after {done:,} of {total:,} bytes")
    return digest.hexdigest()


@contextlib.contextmanager
def _open_source(entry: WeightsEntry, url: str) -> Iterator[tuple]:
    """(readable stream, size or None) for an http(s) URL or a file in a mirror folder."""
    if not _is_network(url):
        try:
            f = open(url, "rb")
        except OSError as exc:
            raise _failure(entry, url, f"not in the mirror folder ({exc.strerror})") from None
        with f:
            yield f, os.fstat(f.fileno()).st_size
        return
    request = urllib.request.Request(url, headers={"User-Agent": "vsr (+weights download)"})
    try:
        response = urllib.request.urlopen(request, timeout=TIMEOUT_S)
    except urllib.error.HTTPError as exc:
        raise _failure(entry, url, f"the server answered HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError, ValueError, http.client.HTTPException) as exc:
        raise _failure(entry, url, f"unreachable ({_reason(exc)})") from None
    with response:
        length = response.headers.get("Content-Length")
        yield response, int(length) if length and length.isdigit() else None


def _check_is_the_model(entry: WeightsEntry, url: str, path: Path) -> None:
    from ..checkpoint import read_checkpoint

    try:
        checkpoint = read_checkpoint(path)
    except WeightsError:
        raise _failure(entry, url, "the file is not a PlainUSR checkpoint") from None
    if (checkpoint.variant, checkpoint.scale) != (entry.variant, entry.scale):
        found = f"PlainUSR {checkpoint.variant} x{checkpoint.scale}"
        raise _failure(entry, url, f"the file holds {found}, not {entry.variant} x{entry.scale}")


def _failure(entry: WeightsEntry, url: str, what: str) -> DownloadError:
    return DownloadError(
        f"cannot get {entry.name} from {url}: {what}; nothing was cached. Expected {entry.file} "
        f"with sha256 {entry.sha256}: put it in {cache_dir()} by hand, or set {MIRROR_ENV} to a mirror URL or folder"
    )


def _is_network(url: str) -> bool:
    return url.startswith(("http://", "https://"))


def _reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None) or exc
    if isinstance(reason, socket.timeout | TimeoutError):
        return f"no answer within {TIMEOUT_S} s"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror
    return str(reason) or type(reason).__name__


@contextlib.contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    """Exclusive use of the cache folder while a file is fetched (flock on the folder
    itself: no lock file to leave behind, released if the process dies). Where flock does
    not exist (Windows) two pulls may both download; each renames a complete, verified file
    into place, so the result is the same."""
    try:
        import fcntl
    except ImportError:
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


@contextlib.contextmanager
def stderr_progress(label: str) -> Iterator[OnProgress]:
    """A rich progress bar on stderr for one download, gone when it ends; nothing where
    stderr is not a terminal (a log file gets the notice, not the animation)."""
    if not sys.stderr.isatty():
        yield lambda done, total: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

    bar = Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                   console=Console(stderr=True), transient=True)  # fmt: skip
    task = bar.add_task(label, total=None)
    with bar:
        yield lambda done, total: bar.update(task, completed=done, total=total)
