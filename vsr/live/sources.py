"""Live sources: what `--source` names, opened with one clear line when that fails.

- `0`, `1`, ... or `/dev/videoN`: a camera, through OpenCV (V4L2 on Linux).
- `lavfi:GRAPH`: an FFmpeg filter graph through PyAV, e.g. `lavfi:testsrc2=size=640x360:rate=30`
  (a source on any machine, paced at its own rate).
- a file: played at its own frame rate, as if it were live, through PyAV.
- a URL (`rtsp://`, `http://`, ...): through PyAV, at the rate it arrives.

Each yields `Captured` frames (BGR, as OpenCV shows them) stamped with the monotonic time
at which they were captured: the start of the latency the window reports.
"""

import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from ..errors import InputError
from ..video.io.deinterlace import progressive_frames

CAMERA_SILENCE_SECONDS = 2.0
"""A camera that gives no frame for this long is taken as gone (unplugged, taken over)."""


class SourceLost(InputError):
    """The source stopped delivering frames in the middle of a session."""


@dataclass
class Captured:
    index: int
    image: np.ndarray  # HxWx3 uint8, BGR
    captured: float  # time.monotonic() when it was taken


class CameraSource:
    def __init__(self, spec: str):
        import cv2

        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)  # the one line below says it
        self.description = f"camera {spec}"
        target = int(spec) if spec.isdigit() else spec
        if isinstance(target, str) and not Path(target).exists():
            raise InputError(f"no camera at {spec} (no such device)", hint="try {source=FILE} or {source=lavfi:testsrc2}")
        backend = cv2.CAP_V4L2 if os.name == "posix" and hasattr(cv2, "CAP_V4L2") else cv2.CAP_ANY
        self._capture = cv2.VideoCapture(target, backend)
        if not self._capture.isOpened():
            raise InputError(f"no camera at {spec} (none found or in use)", hint="try {source=FILE} or {source=lavfi:testsrc2}")
        if hasattr(cv2, "CAP_PROP_READ_TIMEOUT_MSEC"):  # V4L2 waits 10 s for a frame by default
            self._capture.set(cv2.CAP_PROP_READ_TIMEOUT_MSEC, CAMERA_SILENCE_SECONDS * 1000)
        ok, image = self._capture.read()
        if not ok:
            self._capture.release()
            raise InputError(f"{self.description} opened but gives no frames", hint="try another {source}")
        self._first = image
        self.height, self.width = image.shape[:2]
        rate = self._capture.get(cv2.CAP_PROP_FPS)
        self.rate = rate if rate and rate > 0 else None

    def frames(self, stop: threading.Event) -> Iterator[Captured]:
        index, image, last_good = 0, self._first, time.monotonic()
        while not stop.is_set():
            if image is not None:
                last_good = time.monotonic()
                yield Captured(index, image, last_good)
                index += 1
            ok, image = self._capture.read()
            if not ok:
                image = None
                if time.monotonic() - last_good > CAMERA_SILENCE_SECONDS:
                    raise SourceLost(f"{self.description} stopped delivering frames after {index} (unplugged?)")
                stop.wait(0.01)

    def close(self) -> None:
        self._capture.release()


class AvSource:
    """A file, URL or lavfi graph through PyAV; files and graphs are paced at their rate."""

    def __init__(self, target: str, *, description: str, fmt: str | None = None, paced: bool = True):
        self.description, self.paced = description, paced
        try:
            self._container = av.open(target, format=fmt, timeout=10.0 if "://" in target else None)
        except (av.FFmpegError, OSError) as exc:
            raise InputError(f"cannot open {description}: {_reason(exc)}") from None
        if not self._container.streams.video:
            self._container.close()
            raise InputError(f"{description} has no video")
        self._stream = self._container.streams.video[0]
        self._stream.thread_type = "AUTO"
        self._decoded = progressive_frames(self._container.decode(self._stream), self._stream)  # interlaced: bwdif, as vsr upscale
        try:
            self._first = next(self._decoded)
        except (StopIteration, av.FFmpegError) as exc:
            self._container.close()
            raise InputError(f"{description} gives no frames ({_reason(exc) if isinstance(exc, av.FFmpegError) else 'empty'})") from None
        self.width, self.height = self._first.width, self._first.height
        rate = self._stream.average_rate or self._stream.guessed_rate
        self.rate = float(rate) if rate else None
        if self._first.time_base is not None and self._first.time_base != self._stream.time_base:  # fields: twice the frames
            self.rate = self.rate and self.rate * float(self._stream.time_base / self._first.time_base)

    def frames(self, stop: threading.Event) -> Iterator[Captured]:
        started = time.monotonic()
        first_time: float | None = None
        index, frame = 0, self._first
        while frame is not None and not stop.is_set():
            if self.paced:
                at = frame.time if frame.time is not None else index / (self.rate or 25)
                first_time = at if first_time is None else first_time
                delay = started + (at - first_time) - time.monotonic()
                if delay > 0 and stop.wait(delay):
                    return
            image = frame.to_ndarray(format="bgr24")
            yield Captured(index, image, time.monotonic())
            index += 1
            try:
                frame = next(self._decoded, None)
            except av.FFmpegError as exc:
                raise SourceLost(f"{self.description} failed after {index} frames: {_reason(exc)}") from None

    def close(self) -> None:
        self._container.close()


def open_source(spec: str) -> "CameraSource | AvSource":
    spec = spec.strip()
    if spec.isdigit() or spec.startswith("/dev/video"):
        return CameraSource(spec)
    if spec.startswith("lavfi:"):
        graph = spec.removeprefix("lavfi:")
        if not graph:
            raise InputError("lavfi: needs a filter graph, e.g. lavfi:testsrc2=size=640x360:rate=30")
        return AvSource(graph, description=f"lavfi graph {graph!r}", fmt="lavfi")
    if "://" in spec:
        return AvSource(spec, description=spec, paced=False)
    path = Path(spec)
    if not path.is_file():
        raise InputError(f"source not found: {spec} (a camera index, /dev/videoN, a file, a URL or lavfi:GRAPH)")
    return AvSource(str(path), description=path.name)


def _reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or str(exc)
