"""Long runs stay bounded: no file descriptor or thread outlives an `upscale_video` call,
and the resident memory of a 20,000-frame run stays flat after warm-up (marked `long`:
`python -m pytest -m long tests/test_long_runs.py`; figures in docs/BENCHMARKS.md)."""

import os
import threading

import pytest

import vsr
from media import make_clip


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _native_threads() -> int:
    return len(os.listdir("/proc/self/task"))  # torch's, OpenMP's and FFmpeg's too


def _resident_mib() -> float:
    with open("/proc/self/status") as status:
        kib = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
    return kib / 1024


@pytest.fixture(scope="module")
def ultra_x2():
    return vsr.load_model("ultra", scale=2, device="cpu")


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts descriptors in /proc")
def test_fifty_runs_in_one_process_leak_no_descriptor_or_thread(tmp_path, ultra_x2):
    src = make_clip(tmp_path / "in.mkv", frames=4, audio_tracks=1, subtitles=True)

    def run(k: int) -> None:
        result = vsr.upscale_video(src, tmp_path / f"out{k % 2}.mkv", model=ultra_x2, overwrite=True, batch=2)
        assert result.frames == 4

    for k in range(3):  # warm-up: torch's and OpenMP's pools start once
        run(k)
    fds, threads, python_threads = _open_fds(), _native_threads(), threading.active_count()
    for k in range(50):
        run(k)
    assert (_open_fds(), _native_threads(), threading.active_count()) == (fds, threads, python_threads)


SOAK_FRAMES = 20_000
WARM_UP_FRAMES = 2_000


@pytest.mark.long
def test_a_soak_of_20000_frames_keeps_resident_memory_flat(tmp_path, ultra_x2):
    src = make_clip(tmp_path / "soak.mkv", size=(64, 48), frames=SOAK_FRAMES, audio_tracks=1)
    samples: list[tuple[int, float]] = []

    def sample(done: int, expected: int | None) -> None:
        if not samples or done - samples[-1][0] >= 250:
            samples.append((done, _resident_mib()))

    result = vsr.upscale_video(src, tmp_path / "soak_x2.mkv", model=ultra_x2, on_progress=sample, encoder_preset="ultrafast")
    assert result.frames == SOAK_FRAMES
    after_warm_up = [mib for done, mib in samples if done >= WARM_UP_FRAMES]
    baseline, peak = after_warm_up[0], max(after_warm_up)
    figures = f"{baseline:.0f} MiB after {WARM_UP_FRAMES} frames, peak {peak:.0f} MiB, {result.fps:.0f} fps"
    print(figures)
    assert peak <= 1.05 * baseline, figures
