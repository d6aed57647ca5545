"""SoftPool (Stergiou et al.): a softmax-weighted average over each pooling window.

    softpool(t)_w = sum_{p in w} e^{t_p} t_p / sum_{p in w} e^{t_p}

The released PlainUSR code computes e^t directly, which overflows float16 once t
exceeds ~11 and turns whole frames into NaN. Here the window weights are computed in
float32 and shifted by the per-channel maximum (the ratio is unchanged by any shift
that is constant over a window), so no exponent exceeds 1. Where a whole window lies so
far below its channel's maximum that every weight underflows to zero, SoftPool's limit
approaches the window maximum as the window's spread grows, and the window maximum is
returned there (an approximation, reached only when one channel spans more than ~87).
The result is cast back to the input dtype; it lies within the window's range of t, so
it is finite whenever t is.

Its gradients need more room than its value. The gradient of numerator / denominator
divides by the denominator squared, which underflows to zero once a window lies ~44
below its channel's maximum in float32, and a training step then returns NaN (it did, at
step 45 of a small x3 fine-tune). So where autograd records (training), the window
weights are computed in float64, and a window whose denominator's square would underflow
even there (~350 below the maximum) takes the window maximum. Inference keeps float32 and
is unchanged: exact wherever the exponent is representable.
"""

import torch
import torch.nn.functional as F
from torch import Tensor, nn


GRADIENT_SAFE_FLOOR = torch.finfo(torch.float64).tiny ** 0.5
"""Training: the smallest float64 denominator whose square is still a normal number."""


def soft_pool2d(t: Tensor, kernel_size: int, stride: int) -> Tensor:
    training = torch.is_grad_enabled() and t.requires_grad
    wide = t.double() if training else t.float()
    shift = wide.detach().amax(dim=(2, 3), keepdim=True)  # the result does not depend on it
    weights = torch.exp(wide - shift)
    numerator = F.avg_pool2d(weights * wide, kernel_size, stride)
    denominator = F.avg_pool2d(weights, kernel_size, stride)
    underflow = denominator < GRADIENT_SAFE_FLOOR if training else denominator == 0
    safe_denominator = torch.where(underflow, torch.ones_like(denominator), denominator)
    pooled = torch.where(underflow, F.max_pool2d(wide, kernel_size, stride), numerator / safe_denominator)
    return pooled.to(t.dtype)


class SoftPool2d(nn.Module):
    """No padding, as in PlainUSR: the input must be at least `kernel_size` on each side."""

    def __init__(self, kernel_size: int, stride: int) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride

    def forward(self, t: Tensor) -> Tensor:
        return soft_pool2d(t, self.kernel_size, self.stride)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}"
