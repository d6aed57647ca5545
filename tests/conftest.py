import os
from pathlib import Path

import pytest

from vsr.environment import tune_cpu_environment

tune_cpu_environment()  # before torch starts: the allocator/OpenMP settings the CLI runs with
import torch  # noqa: E402
import cv2  # noqa: E402, F401  (its first import sets LD_LIBRARY_PATH and QT_* for the process: done here, not inside
#                                  whichever test imports it first, which would fail _leaves_no_global_state)

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("VSR_SHARED", ROOT.parent / "shared"))
OFFICIAL = SHARED / "reference" / "plainusr-official"
DATASETS = SHARED / "datasets"


def pytest_configure(config):
    """Run as if from a terminal: a suite started as a background job of a script has SIGINT
    ignored, its children would inherit that and keep ignoring it (vsr.interrupt), and the
    tests that press Ctrl-C in a child would fail."""
    import signal
    import tempfile

    # Measurements of test weights (vsr.precision_cache) go to a folder of this session,
    # not the user's cache.
    os.environ.setdefault("VSR_PRECISION_CACHE", tempfile.mkdtemp(prefix="vsr-test-precision-"))
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(autouse=True)
def _seeded():
    """Every test draws the same random tensors on every run."""
    torch.manual_seed(0)


def _global_state() -> dict:
    """What one test could change for every test after it in the same process."""
    import signal
    import sys

    state = {
        "environment": {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST" and not k.lstrip("_").startswith("TORCHINDUCTOR_")},
        "signal handlers": {s.name: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGPIPE)},
        "torch threads": torch.get_num_threads(),
        "torch default dtype": torch.get_default_dtype(),
        "torch grad mode": torch.is_grad_enabled(),
        "cwd": os.getcwd(),
        # SVT-AV1 run as root makes the thread that opens it SCHED_FIFO; a later test's
        # children (a busy loop, forked runs) would inherit that and starve each other.
        "scheduling": (os.sched_getscheduler(0), os.sched_getparam(0).sched_priority, sorted(os.sched_getaffinity(0))),
    }
    if "torch._inductor.config" in sys.modules:
        state["inductor C++ compiler"] = getattr(sys.modules["torch._inductor.config"].cpp, "cxx", "missing")
    return state


@pytest.fixture(autouse=True)
def _leaves_no_global_state():
    """A test that changes the environment, a signal handler or torch's settings for the
    tests after it fails here (the suite must pass in any order). Not counted: pytest's
    PYTEST_CURRENT_TEST, and the TORCHINDUCTOR_* variables torch sets for itself on its
    first compile."""
    before = _global_state()
    yield
    after = _global_state()
    changed = {key: _difference(before[key], after[key]) for key in after if key in before and after[key] != before[key]}
    assert not changed, f"the test left global state changed: {changed}"


def _difference(before, after):
    if isinstance(before, dict):
        return {k: (before.get(k), after.get(k)) for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
    return before, after


def pytest_collection_modifyitems(config, items):
    skip_gpu = pytest.mark.skip(reason="needs a CUDA device")
    skip_shared = pytest.mark.skip(reason=f"{SHARED} is absent (a user's checkout has no ../shared)")
    for item in items:
        if "gpu" in item.keywords and not torch.cuda.is_available():
            item.add_marker(skip_gpu)
        if "shared" in item.keywords and not SHARED.is_dir():
            item.add_marker(skip_shared)


def randomize_(model: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """Non-trivial weights at a sane scale: convs ~ N(0, 0.7/sqrt(fan_in)), ASR seeds
    and ASR linears ~ N(0, 1) (so a is far from 0.5), everything else ~ N(0, 0.1)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if ".asr." in name:
                std = 1.0
            elif p.dim() == 4:
                std = 0.7 / (p[0].numel() ** 0.5)
            else:
                std = 0.1
            p.copy_(torch.randn(p.shape, generator=g) * std)
    return model


def natural_image(height: int = 96, width: int = 128) -> torch.Tensor:
    """A crop of a training photo when ../shared is there, else a smooth synthetic scene."""
    photo = DATASETS / "photos" / "enlightenment-data__Bamboo.jpg"
    if photo.is_file():
        import cv2

        bgr = cv2.imread(str(photo))
        top, left = (bgr.shape[0] - height) // 2, (bgr.shape[1] - width) // 2
        rgb = bgr[top : top + height, left : left + width, ::-1].copy()
        return torch.from_numpy(rgb).permute(2, 0, 1)[None].float() / 255
    y, x = torch.meshgrid(torch.linspace(0, 1, height), torch.linspace(0, 1, width), indexing="ij")
    r = 0.5 + 0.4 * torch.sin(6 * x + 2 * y)
    return torch.stack([r, 0.3 + 0.5 * y, 0.6 - 0.4 * x * y])[None]
