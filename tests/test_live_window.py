"""`vsr live` with a window, on a virtual X display (Xvfb, installed by .ci/run): a
screenshot of the display shows the original left of the divider and the upscaled
picture right of it. The source is solid red and the model paints everything green, so
each half is known by its colour."""

import os
import shutil
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

pytestmark = pytest.mark.skipif(shutil.which("Xvfb") is None, reason="Xvfb is not installed (.ci/run installs it: apt-get install xvfb)")


@pytest.fixture
def display(tmp_path):
    """(DISPLAY value, path of the framebuffer file Xvfb keeps in XWD format)."""
    number = next(n for n in range(90, 190) if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists())
    folder = tmp_path / "framebuffer"
    folder.mkdir()
    server = subprocess.Popen(
        ["Xvfb", f":{number}", "-screen", "0", "800x600x24", "-fbdir", str(folder), "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 15
    while not Path(f"/tmp/.X11-unix/X{number}").exists():
        assert server.poll() is None and time.monotonic() < deadline, "Xvfb did not start"
        time.sleep(0.1)
    yield f":{number}", folder / "Xvfb_screen0"
    server.terminate()
    server.wait(10)


def screenshot(framebuffer: Path) -> np.ndarray:
    """The whole screen as HxWx3 RGB, read from Xvfb's XWD framebuffer file."""
    data = framebuffer.read_bytes()
    fields = struct.unpack(">25I", data[:100])
    header, width, height, bytes_per_line, colours = fields[0], fields[4], fields[5], fields[12], fields[19]
    start = header + colours * 12
    pixels = np.frombuffer(data[start : start + bytes_per_line * height], np.uint8).reshape(height, bytes_per_line // 4, 4)
    return pixels[:, :width, 2::-1]  # BGRX -> RGB


def green_painter(path: Path) -> Path:
    """ultra x2 weights whose output is pure green whatever comes in."""
    from vsr.archs import build_plainusr

    state = {name: torch.zeros_like(value) for name, value in build_plainusr("ultra", 2).state_dict().items()}
    state["tail.0.bias"][4:8] = 1.0  # PixelShuffle(2): channels 4-7 are the G sub-pixels
    torch.save(state, path)
    return path


def test_split_view_shows_the_original_left_and_the_upscaled_picture_right(display, tmp_path):
    name, framebuffer = display
    weights = green_painter(tmp_path / "green.pth")
    source = "lavfi:color=c=red:size=160x120:rate=25"
    command = [sys.executable, "-m", "vsr", "live", "--source", source, "--weights", str(weights), "--device", "cpu", "--duration", "12"]
    live = subprocess.Popen(command, env=dict(os.environ, DISPLAY=name), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        red = green = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and live.poll() is None:
            time.sleep(0.5)
            screen = screenshot(framebuffer).astype(int)
            r, g, b = screen[..., 0], screen[..., 1], screen[..., 2]
            red, green = (r > 200) & (g < 60) & (b < 60), (g > 200) & (r < 60) & (b < 60)
            if red.sum() > 8000 and green.sum() > 8000:
                break
        assert red is not None and red.sum() > 8000 and green.sum() > 8000, "the window never showed both halves"
        red_x, green_x = np.nonzero(red)[1], np.nonzero(green)[1]
        # the 320x240 canvas split at its middle: red (original) on the left, green (upscaled) on the right
        assert np.percentile(red_x, 95) <= np.percentile(green_x, 5) + 2
        assert abs((green_x.max() - green_x.min()) - (red_x.max() - red_x.min())) <= 8  # two halves of one width
    finally:
        live.terminate()
        out, err = live.communicate(timeout=30)
    assert "error" not in err, err
