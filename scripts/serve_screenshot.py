"""Takes the README's picture of `vsr serve` (docs/serve.png): a fresh server on a free
loopback port, the bundled sample clip upscaled once (done, open in the compare view) and
once more (running, with its progress, fps and ETA), photographed by Debian's headless
chromium through Selenium. Nothing leaves 127.0.0.1.

    python scripts/serve_screenshot.py [docs/serve.png]

Needs vsr[serve], selenium, chromium and chromedriver (apt-get install chromium chromium-driver)."""

import shutil
import signal
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from serving import Server  # noqa: E402  (the tests' own helper: start, ask, wait, stop)

from vsr.samples import SAMPLE_CLIP  # noqa: E402

WIDTH, HEIGHT = 1000, 1180


def main(target: Path) -> None:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    with tempfile.TemporaryDirectory() as folder:
        videos = Path(folder) / "videos"
        videos.mkdir()
        shutil.copy(SAMPLE_CLIP, videos / "big-buck-bunny.mp4")
        server = Server(Path(folder) / "state", "--allow-dir", str(videos))
        options = webdriver.ChromeOptions()
        options.binary_location = shutil.which("chromium") or shutil.which("chromium-browser")
        for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", f"--window-size={WIDTH},{HEIGHT}"):
            options.add_argument(flag)
        browser = webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver")))
        try:
            done = server.request("POST", "/api/jobs", {"path": str(videos / "big-buck-bunny.mp4"), "model": "ultra"})["id"]
            server.wait(done, lambda job: job["state"] == "done")
            running = server.request("POST", "/api/jobs", {"path": str(videos / "big-buck-bunny.mp4"), "preset": "fast", "scale": 2})["id"]
            browser.get(server.url + "/")
            wait = WebDriverWait(browser, 120, poll_frequency=0.1)
            row = wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, f'tr[data-id="{done}"] button[data-act="compare"]'))
            row[0].click()
            frame = browser.find_element(By.ID, "frame-number")
            frame.clear()
            frame.send_keys("30\n")
            Select(browser.find_element(By.ID, "enlarge")).select_by_value("nearest")
            browser.execute_script("document.getElementById('split').value = 43; document.getElementById('split').dispatchEvent(new Event('input'))")
            loaded = "return ['slider-result', 'slider-source'].every(id => document.getElementById(id).complete && document.getElementById(id).naturalWidth)"
            wait.until(lambda b: b.execute_script(loaded))
            server.wait(running, lambda job: job["state"] == "running" and 0.3 < job["progress"] < 0.8 and job["eta_s"])
            time.sleep(1.2)  # the page polls every second
            browser.execute_script("window.scrollTo(0, 0)")
            png = browser.get_screenshot_as_png()
        finally:
            browser.quit()
            server.stop(signal.SIGINT)
    target.parent.mkdir(parents=True, exist_ok=True)
    rgb = cv2.cvtColor(cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    write_palette_png(rgb, target)
    print(f"{target}: {rgb.shape[1]}x{rgb.shape[0]}, {target.stat().st_size // 1024} KiB")


def write_palette_png(rgb: np.ndarray, target: Path) -> None:
    """`rgb` as a 256-colour PNG, by FFmpeg's palettegen and paletteuse (vsr's GIF filter,
    vsr.video.io.palette): a third of the size of the full-colour file, so the README's
    picture stays small."""
    import av

    from vsr.video.io.palette import PaletteFilter

    height, width = rgb.shape[:2]
    palette = PaletteFilter(width, height, "rgb24", Fraction(1, 1))
    frame = [*palette.push(av.VideoFrame.from_ndarray(rgb, format="rgb24")), *palette.push(None)][0]
    with av.open(str(target), "w", format="image2") as out:
        stream = out.add_stream("png", rate=1)
        stream.width, stream.height, stream.pix_fmt = width, height, "pal8"
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            out.mux(packet)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "serve.png")
