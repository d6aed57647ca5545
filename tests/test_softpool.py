import pytest
import torch
import torch.nn.functional as F

from vsr.archs.softpool import soft_pool2d


def release_soft_pool(t: torch.Tensor) -> torch.Tensor:
    """The formula as released: e^t computed directly in the input dtype."""
    e = torch.exp(t)
    return F.avg_pool2d(e * t, 7, 3) / F.avg_pool2d(e, 7, 3)


def test_matches_the_release_formula_in_float32():
    t = torch.randn(2, 4, 31, 40) * 3
    # the two differ only by rounding (a shifted exponent): ~1e-6 relative
    assert torch.allclose(soft_pool2d(t, 7, 3), release_soft_pool(t), atol=1e-5, rtol=1e-5)


def test_output_size_has_no_padding():
    assert soft_pool2d(torch.zeros(1, 1, 7, 7), 7, 3).shape == (1, 1, 1, 1)
    assert soft_pool2d(torch.zeros(1, 1, 22, 10), 7, 3).shape == (1, 1, 6, 2)


@pytest.mark.parametrize(
    "values",
    [
        [12.0, 11.0, 0.0],  # e^12 overflows float16
        [60000.0, -60000.0, 1.0],  # the extremes of float16
        [-60000.0, -59000.0, -100.0],
        [65504.0, 65504.0, 65504.0],
    ],
)
def test_half_precision_is_finite_for_any_finite_input(values):
    g = torch.Generator().manual_seed(0)
    choice = torch.randint(0, len(values), (2, 3, 20, 20), generator=g)
    t = torch.tensor(values)[choice].half()
    out = soft_pool2d(t, 7, 3)
    assert out.dtype == torch.float16
    assert torch.isfinite(out).all()
    # a weighted average never leaves its window's range
    assert (out.float() <= F.max_pool2d(t.float(), 7, 3) + 1e-3).all()
    assert (out.float() >= -F.max_pool2d(-t.float(), 7, 3) - 1e-3).all()


def test_release_formula_overflows_where_ours_does_not():
    t = torch.full((1, 1, 7, 7), 12.0, dtype=torch.float16)
    assert not torch.isfinite(release_soft_pool(t)).all()
    assert soft_pool2d(t, 7, 3).item() == 12.0


def test_window_far_below_the_channel_maximum_falls_back_to_the_window_maximum():
    t = torch.zeros(1, 1, 7, 14)
    t[..., 7:] = 1000.0  # e^(0 - 1000) underflows even in float32
    t[0, 0, 3, 3] = 5.0
    out = soft_pool2d(t, 7, 3)
    assert out[0, 0, 0, 0].item() == pytest.approx(5.0)
    assert out[0, 0, 0, -1].item() == pytest.approx(1000.0)


@pytest.mark.parametrize("spread", [50.0, 95.0, 120.0, 400.0, 1000.0])
def test_gradients_stay_finite_when_a_window_lies_far_below_its_channel_maximum(spread):
    """50 and 95: the window's weights are tiny but not zero, and in float32 the square of
    their sum underflows (NaN gradients, as in a real x3 fine-tune); 120 and up: the
    weights underflow to zero in float32; 1000: in float64 too."""
    t = torch.zeros(1, 1, 7, 14)
    t[..., 7:] = spread
    t[0, 0, 3, 3] = 5.0
    t.requires_grad_(True)
    out = soft_pool2d(t, 7, 3)
    out.sum().backward()
    assert torch.isfinite(t.grad).all()
    assert out.dtype == torch.float32 and out[0, 0, 0, -1].item() == pytest.approx(spread)
    if spread < 80:  # inference stays float32: the same value where float32's weights are normal numbers
        with torch.no_grad():
            assert soft_pool2d(t, 7, 3)[0, 0, 0, 0].item() == pytest.approx(out[0, 0, 0, 0].item(), abs=1e-5)
