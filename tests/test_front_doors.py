"""One default, everywhere: `vsr upscale`, `vsr live`, `vsr image`, `vsr bench`,
`vsr demo`'s model resolution, `vsr.upscale_video` and `vsr.upscale_frames` load the same
weights in the same precision for the same device and flags (vsr.settings). Each door is
run for real on a tiny input; what each loaded is recorded and compared. Native bf16 is
stubbed on, so the precision decision is the same on every CPU."""

import cv2
import numpy as np
import pytest

import vsr
import vsr.model
import vsr.precision_policy as policy
from media import make_clip
from vsr.cli import main


@pytest.fixture
def loaded(monkeypatch):
    """(source, precision) of every model a door loads."""
    monkeypatch.setattr(policy, "cpu_flags", lambda: frozenset({"avx512_bf16"}))
    seen = []
    real = vsr.model.load_model

    def recording(*args, **kwargs):
        model = real(*args, **kwargs)
        seen.append((model.source, model.precision.name))
        return model

    monkeypatch.setattr(vsr.model, "load_model", recording)
    return seen


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("doors")
    clip = make_clip(folder / "in.mp4", size=(64, 48), frames=3)
    photo = folder / "in.jpg"  # lossy: the video weights, as for video
    cv2.imwrite(str(photo), (np.random.default_rng(0).random((48, 64, 3)) * 255).astype(np.uint8))
    return folder, clip, photo


def _doors(folder, clip, photo, flags: list[str], api: dict):
    """Each front door once, with the same flags (and the API with the same settings)."""
    out = folder / "out"
    out.mkdir(exist_ok=True)
    yield "upscale", lambda: main(["upscale", str(clip), "-o", str(out / "up.mkv"), "--overwrite", "--quiet", *flags])
    yield "live", lambda: main(["live", "--no-window", "--source", "lavfi:testsrc2=size=64x48:rate=10", "--duration", "0.5", *flags])
    yield "image", lambda: main(["image", str(photo), "-o", str(out / "im.jpg"), "--overwrite", "--quiet", *flags])
    yield "bench", lambda: main(["bench", "--synthetic", "64x48", "--frames", "2", "--network-only", "--batches", "1", *flags])
    yield "upscale_video", lambda: vsr.upscale_video(clip, out / "api.mkv", overwrite=True, **api) and 0
    yield "upscale_frames", lambda: list(vsr.upscale_frames([np.zeros((48, 64, 3), np.uint8)], **api)) and 0


@pytest.mark.parametrize(
    "flags, api, expected",
    [
        ([], {}, ("ultra-x2-video", "fp32")),  # bf16 measured 255/255 on it: float32 (the registry's figure)
        (["--scale", "3"], {"scale": 3}, ("ultra-x3-video", "bf16")),  # 5.55/255: within 6
        (["--model", "ultra-x2", "--precision", "fp32"], {"model": "ultra-x2", "precision": "fp32"}, ("ultra-x2", "fp32")),
    ],
    ids=["defaults", "x3", "named-fp32"],
)
def test_every_front_door_resolves_the_same_model_and_precision(loaded, inputs, capsys, flags, api, expected):
    folder, clip, photo = inputs
    resolved = {}
    for door, run in _doors(folder, clip, photo, [*flags, "--device", "cpu"], {**api, "device": "cpu"}):
        loaded.clear()
        assert run() == 0, (door, capsys.readouterr().err)
        resolved[door] = set(loaded)
    assert resolved == {door: {expected} for door in resolved}
