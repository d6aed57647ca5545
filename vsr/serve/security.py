"""Who may come in, and what they may make the server read or write.

- On a loopback address no token is needed; any other host needs one (`check_exposure`),
  and every request then carries `Authorization: Bearer TOKEN` or the session cookie that
  `/?token=TOKEN` sets (`Gate`).
- Even on loopback, a request must name this server in its Host header (a web page that
  DNS-rebinds its own name to 127.0.0.1 cannot), and a request that changes anything must
  come from this server's own page when it says where it comes from (Origin): another site
  open in the same browser cannot queue or cancel jobs.
- A server path must lie inside an allowed folder once every symlink is followed
  (`allowed_path`); `..` is refused outright.
- Upload file names are reduced to safe ones (`safe_name`).
"""

import hashlib
import hmac
import ipaddress
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError, UsageError

LOOPBACK_NAMES = ("localhost",)
SESSION_COOKIE = "vsr_session"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
MAX_NAME = 120  # characters of a sanitised file name


class Refused(Exception):
    """A request that must not go on: `status` (401, 403, 400) and one line saying why."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def is_loopback(host: str) -> bool:
    host = host.strip("[]")
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_exposure(host: str, token: str | None) -> None:
    """Listening beyond this machine needs a token: refused before anything starts."""
    if not is_loopback(host) and not token:
        raise UsageError(f"serving on {host} lets other machines in, so it needs a token", hint="give one with {token}, or serve on 127.0.0.1")


def session_value(token: str) -> str:
    """The cookie's value: derived from the token, never the token itself."""
    return hmac.new(token.encode(), b"vsr serve session", hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Gate:
    """The checks every request passes (app.py applies them before any route)."""

    host: str
    port: int
    token: str | None = None

    def own_hosts(self) -> set[str]:
        """The Host headers a loopback server answers to."""
        return {f"{name}:{self.port}" for name in {self.host, *LOOPBACK_NAMES, "127.0.0.1", "[::1]"}}

    def check(self, method: str, headers, cookies: dict) -> None:
        """Raises Refused unless the request may go on. (Off loopback, any Host is taken:
        the machine's names are not known here, and the token keeps strangers out.)"""
        host = headers.get("host")
        if is_loopback(self.host) and host not in self.own_hosts():
            raise Refused(400, f"this server answers to {self.host}:{self.port}, not {host!r}")
        origin = headers.get("origin")
        if method not in SAFE_METHODS and origin and origin.split("://", 1)[-1] != host:  # not this server's own page
            raise Refused(403, f"requests from {origin} may not change jobs here")
        if self.token is None:
            return
        if self.token_given(headers, cookies):
            return
        raise Refused(401, "this server needs its token: send Authorization: Bearer TOKEN, or open /?token=TOKEN once in the browser")

    def token_given(self, headers, cookies: dict) -> bool:
        scheme, _, given = headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), self.token.encode()):
            return True
        cookie = cookies.get(SESSION_COOKIE, "")
        return hmac.compare_digest(cookie.encode(), session_value(self.token).encode())

    def token_matches(self, given: str) -> bool:
        return self.token is not None and hmac.compare_digest(given.encode(), self.token.encode())


def allowed_path(text: str, allowed: tuple[Path, ...]) -> Path:
    """`text` as a file inside one of the `allowed` folders, symlinks followed; refused
    (InputError) with one line otherwise."""
    if not allowed:
        raise InputError("this server reads no files of its own", hint="start it with {allow_dir}, or upload the file")
    path = Path(text)
    if ".." in path.parts:
        raise InputError(f"{text}: '..' is not allowed in a path")
    if not path.is_absolute():
        raise InputError(f"{text}: give the full path (one inside {', '.join(map(str, allowed))})")
    try:
        real = path.resolve(strict=True)
    except (OSError, RuntimeError):
        raise InputError(f"{text}: no such file") from None
    if not any(real.is_relative_to(folder.resolve()) for folder in allowed):
        raise InputError(f"{text} is outside the allowed folders ({', '.join(map(str, allowed))})")
    if not real.is_file():
        raise InputError(f"{text} is not a file")
    return real


def safe_name(name: str, fallback: str = "video") -> str:
    """A file name that is safe to write anywhere: the last path component only, letters,
    digits, `.`, `-`, `_` and spaces, no leading dot, at most MAX_NAME characters (the
    suffix kept)."""
    name = unicodedata.normalize("NFKC", name or "").replace("\\", "/").split("/")[-1]
    name = re.sub(r"[^\w.\- ]", "_", name, flags=re.ASCII).strip(" .")
    name = re.sub(r"_{2,}", "_", name)
    if not name or set(name) <= {"_", "."}:
        return fallback
    stem, dot, suffix = name.rpartition(".")
    if dot and len(suffix) <= 10 and stem:
        return f"{stem[: MAX_NAME - len(suffix) - 1]}.{suffix}"
    return name[:MAX_NAME]
