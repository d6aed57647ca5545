"""Fidelity to the official PlainUSR release (needs ../shared/reference)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import vsr.archs.softpool as softpool
from conftest import OFFICIAL, natural_image
from vsr import load_model
from vsr.archs import VARIANTS

pytestmark = pytest.mark.shared

RELEASE_FILES = [(v, s, f"{c.release_prefix}_Rep_x{s}.pth") for v, c in VARIANTS.items() for s in (2, 4)]


@pytest.fixture(scope="module")
def reference():
    return dict(np.load(OFFICIAL / "reference_outputs.npz"))


@pytest.mark.parametrize("variant,scale,filename", RELEASE_FILES)
def test_release_file_loads_strictly_and_reproduces_reference_output(reference, variant, scale, filename):
    model = load_model(OFFICIAL / filename)  # no flags: variant and scale read off the shapes
    assert (model.variant, model.scale) == (variant, scale)
    x = torch.from_numpy(reference["input_uint8_hwc"]).permute(2, 0, 1)[None].float() / 255
    out = model(x)[0].permute(1, 2, 0).numpy()
    expected = reference[filename.removesuffix(".pth")]
    assert out.shape == expected.shape
    assert np.abs(out - expected).max() < 1e-5


def test_every_release_file_is_tested():
    """The release folder's checkpoints are exactly the ones tested above: a file added
    there, or a variant whose release prefix is wrong, shows up here."""
    assert {p.name for p in OFFICIAL.glob("*_Rep_x*.pth")} == {f for _, _, f in RELEASE_FILES}


def _release_soft_pool(t, kernel_size, stride):
    e = torch.exp(t)
    return F.avg_pool2d(e * t, kernel_size, stride) / F.avg_pool2d(e, kernel_size, stride)


def smooth_image(base: tuple[float, float, float], ramp: float) -> torch.Tensor:
    """A smooth, nearly flat picture of one colour with a gentle gradient."""
    y, x = torch.meshgrid(torch.linspace(0, 1, 48), torch.linspace(0, 1, 64), indexing="ij")
    ramps = torch.stack([x - 0.5, y - 0.5, (x - y) / 2])
    return (torch.tensor(base).view(3, 1, 1) + ramp * ramps).clamp(0, 1)[None]


SATURATED_GREEN = ((0.0, 1.0, 0.2), 0.02)  # sunlit leaves
OVEREXPOSED_SKY = ((1.0, 1.0, 1.0), 0.01)


@pytest.mark.parametrize(
    "filename,scene",
    [
        ("PlainUSRS_Rep_x2.pth", SATURATED_GREEN),
        ("PlainUSRS_Rep_x4.pth", SATURATED_GREEN),
        ("PlainUSR_Rep_x4.pth", OVEREXPOSED_SKY),
    ],
)
def test_half_precision_has_no_nan_where_the_release_overflows(monkeypatch, filename, scene):
    x = smooth_image(*scene)
    fp32 = load_model(OFFICIAL / filename)(x)
    half = load_model(OFFICIAL / filename, half=True)
    ours = half(x).float()
    assert torch.isfinite(ours).all()
    assert (ours.clamp(0, 1) - fp32.clamp(0, 1)).abs().max() * 255 < 1.5
    monkeypatch.setattr(softpool, "soft_pool2d", _release_soft_pool)
    assert not torch.isfinite(half(x)).all(), "the input no longer triggers the release's overflow"


@pytest.mark.parametrize("variant,scale,filename", RELEASE_FILES)
def test_half_precision_stays_within_1_5_levels_of_float32_on_a_natural_image(variant, scale, filename):
    x = natural_image(64, 96)
    fp32 = load_model(OFFICIAL / filename)(x).clamp(0, 1)
    fp16 = load_model(OFFICIAL / filename, half=True)(x).float().clamp(0, 1)
    assert (fp16 - fp32).abs().max() * 255 < 1.5
