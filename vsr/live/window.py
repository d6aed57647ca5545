"""What the user sees: an OpenCV window, or one line a second on a machine without one.

Views: `split` (the original, enlarged with nearest-neighbour so its own pixels show, left
of a divider that the mouse drags; the upscaled picture right of it), `side` (both side by
side) and `sr` (the upscaled picture only). An overlay names the model, device and sizes
and gives fps, latency (capture to display) and dropped frames.
Keys: q/Esc quit, space pause, v next view, m next model.
"""

import os
import socket
import sys
from pathlib import Path

import numpy as np

from ..errors import DeviceError

VIEWS = ("split", "side", "sr")
WINDOW_NAME = "vsr live"


class DisplayError(DeviceError):
    """No display to open a window on."""


def check_display() -> None:
    """One clear line instead of a Qt abort when there is no display to talk to."""
    if not sys.platform.startswith("linux"):
        return
    if os.environ.get("WAYLAND_DISPLAY"):
        return
    display = os.environ.get("DISPLAY", "")
    if not display:
        raise DisplayError("no display to open a window on (DISPLAY is not set)", hint="run without a window ({window=False})")
    host, _, number = display.rpartition(":")
    number = number.split(".")[0]
    if not number.isdigit():
        raise DisplayError(f"cannot use display {display!r}", hint="run without a window ({window=False})")
    try:
        if host in ("", "unix"):
            with socket.socket(socket.AF_UNIX) as probe:
                probe.settimeout(2)
                probe.connect(str(Path("/tmp/.X11-unix") / f"X{number}"))
        else:
            socket.create_connection((host, 6000 + int(number)), timeout=2).close()
    except OSError:
        raise DisplayError(f"cannot reach display {display}", hint="run without a window ({window=False})") from None


def compose(original: np.ndarray, upscaled: np.ndarray, view: str, divider: float) -> np.ndarray:
    """The picture for one view: BGR arrays in, a BGR canvas out."""
    import cv2

    if view == "sr":
        return upscaled.copy()
    height, width = upscaled.shape[:2]
    enlarged = cv2.resize(original, (width, height), interpolation=cv2.INTER_NEAREST)
    if view == "side":
        return np.hstack([enlarged, upscaled])
    canvas = upscaled.copy()
    x = int(round(divider * width))
    canvas[:, :x] = enlarged[:, :x]
    if 0 < x < width:
        canvas[:, x - 1 : x + 1] = 255  # the divider
    return canvas


def draw_overlay(canvas: np.ndarray, lines: list[str]) -> None:
    import cv2

    scale = 0.45 if canvas.shape[1] < 900 else 0.6
    step = int(22 * scale / 0.45)
    for row, text in enumerate(lines):
        at = (8, step * (row + 1))
        cv2.putText(canvas, text, at, cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), 3, cv2.LINE_AA)
        cv2.putText(canvas, text, at, cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1, cv2.LINE_AA)


class LiveWindow:
    def __init__(self, view: str = "split"):
        check_display()
        import cv2

        from . import AV_LOADED_FIRST

        if AV_LOADED_FIRST:
            raise DisplayError(
                "PyAV was imported before OpenCV in this process, which makes OpenCV's window hang; import vsr.live (or cv2) before av",
                hint="or run without a window ({window=False})",
            )

        os.environ.setdefault("QT_LOGGING_RULES", "*.debug=false;qt.qpa.*=false")
        self.view, self.divider = view, 0.5
        self._width = 1
        try:
            cv2.namedWindow(WINDOW_NAME, cv2.WINDOW_AUTOSIZE | cv2.WINDOW_GUI_NORMAL)  # no Qt toolbar
            cv2.setMouseCallback(WINDOW_NAME, self._mouse)
        except cv2.error as exc:
            raise DisplayError(f"cannot open a window ({exc.err or exc})", hint="run without a window ({window=False})") from None

    def show(self, original: np.ndarray, upscaled: np.ndarray, lines: list[str]) -> None:
        import cv2

        canvas = compose(original, upscaled, self.view, self.divider)
        self._width = upscaled.shape[1]
        draw_overlay(canvas, lines)
        try:
            cv2.imshow(WINDOW_NAME, canvas)
        except cv2.error as exc:  # the display went away
            raise DisplayError(f"the window failed ({exc.err or exc})", hint="run without a window ({window=False})") from None

    def poll(self) -> str | None:
        """Handle window events; returns 'quit', 'pause', 'view', 'model' or None."""
        import cv2

        try:
            key = cv2.waitKey(1) & 0xFF
        except cv2.error as exc:
            raise DisplayError(f"the window failed ({exc.err or exc})", hint="run without a window ({window=False})") from None
        try:
            if cv2.getWindowProperty(WINDOW_NAME, cv2.WND_PROP_VISIBLE) < 1:
                return "quit"  # closed with the mouse
        except cv2.error:
            return "quit"
        action = {ord("q"): "quit", 27: "quit", ord(" "): "pause", ord("v"): "view", ord("m"): "model"}.get(key)
        if action == "view":
            self.view = VIEWS[(VIEWS.index(self.view) + 1) % len(VIEWS)]
        return action

    def close(self) -> None:
        import cv2

        try:
            cv2.destroyWindow(WINDOW_NAME)
            cv2.waitKey(1)
        except cv2.error:
            pass

    def _mouse(self, event, x, y, flags, param) -> None:
        import cv2

        dragging = event == cv2.EVENT_MOUSEMOVE and flags & cv2.EVENT_FLAG_LBUTTON
        if self.view == "split" and (event == cv2.EVENT_LBUTTONDOWN or dragging):
            self.divider = min(1.0, max(0.0, x / self._width))
