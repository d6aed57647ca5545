"""`vsr serve`'s page in a real browser: Debian's chromium, headless, driven by Selenium
through Debian's chromedriver (never a downloaded browser). It uploads the bundled sample
clip, watches the job finish, opens the compare view, drags the slider, zooms to 200% and
downloads the result. Skips, saying why, where no browser is installed (.ci/run installs
one)."""

import shutil
import signal
import time
from pathlib import Path

import av
import pytest

pytest.importorskip("fastapi", reason="vsr[serve] is not installed")
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install -e '.[test]')")

from serving import Server  # noqa: E402

from vsr.samples import SAMPLE_CLIP  # noqa: E402

BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    BROWSER is None or DRIVER is None, reason="no chromium and chromedriver here (apt-get install chromium chromium-driver; .ci/run does)"
)


def open_browser(downloads: Path):
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = BROWSER
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1000"):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads), "download.prompt_for_download": False})
    return webdriver.Chrome(options=options, service=Service(DRIVER))


def test_upload_watch_compare_slide_zoom_and_download_in_a_real_browser(tmp_path):
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    downloads = tmp_path / "downloads"
    downloads.mkdir()
    server = Server(tmp_path / "state")
    browser = open_browser(downloads)
    try:
        wait = WebDriverWait(browser, 120, poll_frequency=0.1)
        # the queue's rows are redrawn every second: an element found may be replaced before
        # it is read or clicked, so those steps retry on a stale element
        fresh = WebDriverWait(browser, 10, poll_frequency=0.05, ignored_exceptions=(StaleElementReferenceException,))

        def click(selector: str) -> None:
            fresh.until(lambda b: b.find_element(By.CSS_SELECTOR, selector).click() or True)

        def text(selector: str) -> str:
            return fresh.until(lambda b: b.find_element(By.CSS_SELECTOR, selector).text)
        browser.get(server.url + "/")
        find = browser.find_element
        wait.until(lambda b: len(Select(find(By.ID, "model")).options) > 1)
        Select(find(By.ID, "model")).select_by_value("ultra")
        find(By.ID, "file").send_keys(str(SAMPLE_CLIP))
        find(By.ID, "submit").click()
        row = 'tr[data-state="{}"]'
        wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, "#jobs tbody tr"))
        assert "bbb-320x180.mp4" in text("#jobs tbody tr")
        wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, row.format("done")) or b.find_elements(By.CSS_SELECTOR, row.format("failed")))
        state = fresh.until(lambda b: b.find_element(By.CSS_SELECTOR, "#jobs tbody tr").get_attribute("data-state"))
        done_text = text("#jobs tbody tr")
        assert state == "done", done_text
        assert "100%" in done_text and "50 / 50" in done_text

        click('#jobs tbody tr button[data-act="compare"]')
        natural = "return [document.getElementById('slider-result').naturalWidth, document.getElementById('slider-source').naturalWidth]"
        wait.until(lambda b: b.execute_script(natural) == [640, 640])  # the result, and the source enlarged to its size
        assert find(By.ID, "frame").get_attribute("max") == "49"

        def clip() -> str:
            return browser.execute_script("return document.getElementById('slider-source').style.clipPath")

        assert clip() == "inset(0px 50% 0px 0px)"
        stack = find(By.ID, "stack")
        ActionChains(browser).move_to_element_with_offset(stack, -200, 0).click_and_hold().move_by_offset(-80, 0).release().perform()
        assert int(find(By.ID, "split").get_attribute("value")) < 20 and clip() != "inset(0px 50% 0px 0px)"

        Select(find(By.ID, "zoom")).select_by_value("2")
        assert browser.execute_script("return document.getElementById('slider-result').getBoundingClientRect().width") == 1280
        Select(find(By.ID, "view")).select_by_value("side")
        wait.until(lambda b: b.execute_script("return document.getElementById('side-source').getBoundingClientRect().width") == 1280)
        frame = find(By.ID, "frame-number")
        frame.clear()
        frame.send_keys("10\n")
        wait.until(lambda b: "n=10" in b.execute_script("return document.getElementById('side-result').src"))

        click('#jobs tbody tr button[data-act="download"]')
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not [p for p in downloads.iterdir() if p.suffix == ".mp4"]:
            time.sleep(0.1)
        (result,) = [p for p in downloads.iterdir() if p.suffix == ".mp4"]
        assert result.name == "bbb-320x180_x2.mp4"
        with av.open(str(result)) as got:
            video = got.streams.video[0]
            assert (video.codec_context.width, video.codec_context.height) == (640, 360)
            assert sum(1 for _ in got.decode(video)) == 50

        # A file that is no video: refused in words, on the page.
        notes = tmp_path / "notes.mp4"
        notes.write_text("not a video")
        find(By.ID, "file").send_keys(str(notes))
        find(By.ID, "submit").click()
        wait.until(lambda b: find(By.ID, "message").get_attribute("class") == "error" and find(By.ID, "message").text)
        assert "notes.mp4" in find(By.ID, "message").text and len(browser.find_elements(By.CSS_SELECTOR, "#jobs tbody tr")) == 1

        # The quality preset's model is not shipped: the job says so as a warning, and Cancel stops it.
        Select(find(By.ID, "preset")).select_by_value("quality")
        find(By.ID, "file").send_keys(str(SAMPLE_CLIP))
        find(By.ID, "submit").click()
        wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, row.format("running") + " .warning"))
        assert "using the default model" in text(row.format("running") + " .warning")
        click(row.format("running") + ' button[data-act="cancel"]')
        wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, row.format("cancelled")))
        cancelled_text = text(row.format("cancelled"))
        assert "Download" not in cancelled_text and "Remove" in cancelled_text
    finally:
        browser.quit()
        code, stderr = server.stop(signal.SIGINT)
    assert code == 0, stderr
