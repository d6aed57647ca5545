"""Where frames come from and go to: a file, a pipe (`-`), a URL or a capture device.

A URL is handed to FFmpeg exactly as typed (never turned into a Path); FFmpeg's own
protocols do the work. Each kind of failure FFmpeg reports on opening (unknown protocol,
refused or unreachable host, timeout) becomes one line.

Defaults (documented in the README):
- `--timeout` 10 s: FFmpeg's `rw_timeout` (every protocol), plus PyAV's open/read
  interrupt, so a silent host or a stalled stream ends the run instead of hanging it.
- `--format` for a pipe output: matroska (it carries every audio and subtitle codec and
  needs no seeking); nut and mpegts are the other choices. URL outputs take the format
  their protocol carries (rtmp: flv; srt, udp, tcp: mpegts; rtsp: rtsp).
- A live input is a device or a URL other than http(s) (which serves files); only a live
  input drops frames under `--realtime auto` (see vsr.video.stages.realtime).

PyAV is imported inside the functions, so the CLI reads these defaults without loading it.
"""

import re
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

from ...errors import InputError, OutputError, UsageError
from .sequences import image2_input, is_pattern

PIPE = "-"
DEFAULT_TIMEOUT = 10.0
PIPE_FORMATS = {"matroska": ".mkv", "nut": ".nut", "mpegts": ".ts"}
DEFAULT_PIPE_FORMAT = "matroska"
URL_FORMATS = {"rtmp": "flv", "rtmps": "flv", "srt": "mpegts", "udp": "mpegts", "tcp": "mpegts", "rtp": "rtp_mpegts", "rtsp": "rtsp"}
FORMAT_SUFFIXES = {**PIPE_FORMATS, "flv": ".flv", "rtp_mpegts": ".ts", "rtsp": ".sdp", "image2": ""}
FILE_PROTOCOLS = ("http", "https")  # a URL that serves a file: read front to back, not live
REALTIME_POLICIES = ("auto", "drop", "block")  # for a model slower than the input (vsr.video.stages.realtime)
_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_HEAD_BYTES = 1 << 16  # enough for an MP4's ftyp box and the header of the box after it


@dataclass(frozen=True)
class Endpoint:
    kind: str  # "file", "pipe", "url", "device" or "sequence" (images: vsr.video.io.sequences)
    text: str  # as the user gave it
    framerate: str | None = None  # a sequence's frame rate (None: image2's default)

    @property
    def path(self) -> Path:
        return Path(self.text)

    @property
    def protocol(self) -> str | None:
        match = _URL.match(self.text)
        return match.group(1).lower() if match else None

    @property
    def is_file(self) -> bool:
        return self.kind == "file"

    @property
    def live(self) -> bool:
        """Frames arrive at the sender's pace whether or not we keep up."""
        return self.kind == "device" or (self.kind == "url" and self.protocol not in FILE_PROTOCOLS)

    def label(self, direction: str = "input") -> str:
        if self.kind == "pipe":
            return "stdin" if direction == "input" else "stdout"
        return self.text


def classify(text: "str | Path") -> Endpoint:
    """What the user named: `-` (a pipe), a URL (scheme://...), an image sequence
    (`frames/%04d.png`), a capture device under /dev, or a file path. A folder of images
    is a sequence only when asked (`as_sequence`)."""
    if isinstance(text, Path):
        return Endpoint("file", str(text))
    if text == PIPE:
        return Endpoint("pipe", text)
    if is_pattern(text):
        return Endpoint("sequence", text)
    if _URL.match(text):
        return Endpoint("url", text)
    if text.startswith("/dev/") and Path(text).exists() and stat.S_ISCHR(Path(text).stat().st_mode):
        return Endpoint("device", text)
    return Endpoint("file", text)


def check_input_file(path: Path) -> None:
    """One line for an input file that is missing, not a file or empty."""
    if not path.exists():
        raise InputError(f"input not found: {path}")
    if not path.is_file():
        raise InputError(f"input is not a file: {path}")
    if path.stat().st_size == 0:
        raise InputError(f"input is empty (0 bytes): {path}")


def as_sequence(endpoint: Endpoint, framerate: str | None) -> Endpoint:
    """A pattern or a folder of images read as a sequence at `framerate` frames a second."""
    return Endpoint("sequence", endpoint.text, framerate)


def open_input(endpoint: Endpoint, timeout: float | None = DEFAULT_TIMEOUT):
    """An av input container for a pipe, URL or device (files are opened by VideoSource)."""
    import av

    options = _timeout_options(timeout)
    kwargs = {"metadata_errors": "replace", "timeout": timeout}
    try:
        if endpoint.kind == "pipe":
            head, reader = _read_head(sys.stdin.buffer)
            if not head:
                raise InputError("stdin is empty: nothing was piped in")
            _refuse_moov_at_end(head)
            return av.open(reader, "r", buffer_size=1 << 18, **kwargs)
        if endpoint.kind == "device":
            return av.open(endpoint.text, "r", format="v4l2", **kwargs)
        if endpoint.kind == "sequence":
            url, options = image2_input(endpoint.text, endpoint.framerate)
            return av.open(url, "r", format="image2", options=options, **kwargs)
        return av.open(endpoint.text, "r", options=options, **kwargs)
    except av.FFmpegError as exc:
        raise InputError(describe_failure(exc, endpoint.label(), timeout)) from None


def open_output(endpoint: Endpoint, format: str | None, timeout: float | None = DEFAULT_TIMEOUT):
    """An av output container for `-o -` or an output URL, in the format it carries."""
    import av

    container_format = output_format(endpoint, format)
    try:
        if endpoint.kind == "pipe":
            return av.open(sys.stdout.buffer, "w", format=container_format)
        if endpoint.kind == "sequence":
            return av.open(endpoint.text, "w", format=container_format)
        return av.open(endpoint.text, "w", format=container_format, options=_timeout_options(timeout), timeout=timeout)
    except av.FFmpegError as exc:
        raise OutputError(describe_failure(exc, endpoint.label("output"), timeout)) from None


def output_format(endpoint: Endpoint, requested: str | None) -> str:
    if endpoint.kind == "sequence":
        return "image2"
    if endpoint.kind == "pipe":
        chosen = requested or DEFAULT_PIPE_FORMAT
        if chosen not in PIPE_FORMATS:
            raise UsageError(f"a pipe output takes format {', '.join(PIPE_FORMATS)}, not {chosen!r}")
        return chosen
    protocol = endpoint.protocol or ""
    if requested:
        return requested
    if protocol not in URL_FORMATS:
        raise UsageError(f"no default output format for {protocol}:// ; name one (e.g. mpegts)")
    return URL_FORMATS[protocol]


def describe_failure(exc: BaseException, where: str, timeout: float | None) -> str:
    """One line for what FFmpeg reported while opening or reading `where`."""
    import av

    if isinstance(exc, av.ProtocolNotFoundError):
        return f"{where}: this FFmpeg build does not speak the {_URL.match(where).group(1) if _URL.match(where) else '?'}:// protocol"
    if isinstance(exc, (av.ExitError, av.TimeoutError)):
        return f"{where}: nothing came for {timeout:g} s (timed out)" if timeout else f"{where}: timed out"
    if isinstance(exc, av.ConnectionRefusedError):
        return f"{where}: connection refused (nothing is listening there)"
    if isinstance(exc, (av.ConnectionResetError, av.ConnectionAbortedError)):
        return f"{where}: the connection was dropped"
    if isinstance(exc, av.InvalidDataError):
        return f"{where} is not a video FFmpeg can read (invalid data)"
    reason = getattr(exc, "strerror", None) or str(exc)
    if reason == "Input/output error" and _URL.match(where):
        return f"{where}: unreachable (the host is unknown or cannot be reached)"
    return f"{where}: {reason}"


def _timeout_options(timeout: float | None) -> dict[str, str]:
    """rw_timeout (microseconds) is the generic per-read/write timeout of FFmpeg's protocols."""
    return {"rw_timeout": str(int(timeout * 1_000_000))} if timeout else {}


def _read_head(raw) -> tuple[bytes, "_Replay"]:
    head = b""
    while len(head) < _HEAD_BYTES:
        chunk = raw.read1(_HEAD_BYTES - len(head)) if hasattr(raw, "read1") else raw.read(_HEAD_BYTES - len(head))
        if not chunk:
            break
        head += chunk
    return head, _Replay(head, raw)


class _Replay:
    """A reader without seek (so FFmpeg treats it as the pipe it is) that gives `head`
    (already read) and then the rest of `raw`."""

    def __init__(self, head: bytes, raw):
        self._head, self._raw = head, raw

    def read(self, size: int = -1) -> bytes:
        if self._head:
            out, self._head = self._head[:size], self._head[size:]
            return out
        return self._raw.read1(size) if hasattr(self._raw, "read1") else self._raw.read(size)


def _refuse_moov_at_end(head: bytes) -> None:
    """An MP4/MOV whose index (moov box) follows the media data cannot be read front to
    back: say so rather than fail on the first packet."""
    if head[4:8] != b"ftyp":
        return
    offset = 0
    while offset + 8 <= len(head):
        size, kind = int.from_bytes(head[offset : offset + 4], "big"), head[offset + 4 : offset + 8]
        if kind in (b"moov", b"moof"):
            return
        if kind == b"mdat":
            raise InputError(
                "the MP4 on stdin has its index (moov) at the end, which a pipe cannot reach; "
                "remux it with the index first (ffmpeg -movflags +faststart) or pipe matroska/mpegts"
            )
        if size == 1 and offset + 16 <= len(head):
            size = int.from_bytes(head[offset + 8 : offset + 16], "big")
        if size < 8:
            return
        offset += size
