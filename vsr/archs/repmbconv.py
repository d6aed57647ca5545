"""Training-time building blocks that fold into a single conv3x3 for deployment.

Every `fold()` returns the (weight, bias) of the equivalent conv3x3 with padding 1,
computed in float64 so the deployed network matches the training network to ~1e-7.
"""

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class ASR(nn.Module):
    """Channel scale a = sigmoid(fc2(silu(fc1(t)))) with a learned seed t.

    It does not depend on the input, so it folds into the conv it scales. The release
    initialises fc1 and fc2 to all-ones, which saturates the sigmoid (a == 1.0 exactly in
    float32) and blocks every gradient into t, fc1 and fc2. Here t starts at 0.1 and the
    linear layers keep PyTorch's default init: a starts near 0.5 and gradients flow.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        hidden = max(channels // 4, 1)
        self.t = nn.Parameter(torch.full((channels,), 0.1))
        self.fc1 = nn.Linear(channels, hidden, bias=False)
        self.fc2 = nn.Linear(hidden, channels, bias=False)

    def forward(self) -> Tensor:
        return torch.sigmoid(self.fc2(F.silu(self.fc1(self.t))))


class RepMBConv(nn.Module):
    """Re-parameterizable MobileNet-style conv (C channels, expansion 2):

        e = expand1x1(x)                      C -> 2C, bias b0
        f = conv3x3(pad(e, value=b0))         2C -> 2C, no padding
        out = reduce1x1(a * f + e) + x        2C -> C, a from ASR

    Padding e with b0 equals expanding a zero-padded x, which is how it is computed here:
    the border is then exact, autograd-safe, and the block folds exactly into one conv3x3.
    """

    def __init__(self, channels: int, expansion: int = 2) -> None:
        super().__init__()
        wide = channels * expansion
        self.expand = nn.Conv2d(channels, wide, 1)
        self.conv = nn.Conv2d(wide, wide, 3)
        self.reduce = nn.Conv2d(wide, channels, 1)
        self.asr = ASR(wide)

    def forward(self, x: Tensor) -> Tensor:
        expanded_padded = self.expand(F.pad(x, (1, 1, 1, 1)))
        expanded = expanded_padded[:, :, 1:-1, 1:-1]
        scale = self.asr().view(1, -1, 1, 1)
        return self.reduce(scale * self.conv(expanded_padded) + expanded) + x

    @torch.no_grad()
    def fold(self) -> tuple[Tensor, Tensor]:
        k0 = self.expand.weight.double()[:, :, 0, 0]  # (2C, C)
        b0 = self.expand.bias.double()
        k1 = self.conv.weight.double()  # (2C, 2C, 3, 3)
        b1 = self.conv.bias.double()
        k2 = self.reduce.weight.double()[:, :, 0, 0]  # (C, 2C)
        b2 = self.reduce.bias.double()
        a = self.asr().double()
        channels = k2.shape[0]

        # conv3x3 after expand1x1, on a zero-padded input
        w = torch.einsum("omuv,mi->oiuv", k1, k0)
        b = b1 + torch.einsum("omuv,m->o", k1, b0)
        # a * f + e   (e is the expand1x1 alone: the centre tap)
        w = a.view(-1, 1, 1, 1) * w
        w[:, :, 1, 1] += k0
        b = a * b + b0
        # reduce1x1, then the outer identity
        w = torch.einsum("co,oiuv->ciuv", k2, w)
        b = k2 @ b + b2
        w[:, :, 1, 1] += torch.eye(channels, dtype=w.dtype, device=w.device)
        dtype = self.reduce.weight.dtype
        return w.to(dtype), b.to(dtype)


class PConv(nn.Module):
    """Replaces channel 0 with a 1x1 mix of all channels (initialised to their mean).

    Channel 0 drives the attention gate sigmoid(x[:, :1]) that follows.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.mix = nn.Conv2d(channels, 1, 1)
        nn.init.constant_(self.mix.weight, 1.0 / channels)
        nn.init.zeros_(self.mix.bias)

    def forward(self, x: Tensor) -> Tensor:
        return torch.cat([self.mix(x), x[:, 1:]], dim=1)

    @torch.no_grad()
    def fold_into(self, weight: Tensor, bias: Tensor) -> tuple[Tensor, Tensor]:
        """The conv3x3 (weight, bias) followed by this PConv, as one conv3x3."""
        mix_w = self.mix.weight.double()[0, :, 0, 0]  # (C,)
        mix_b = self.mix.bias.double()
        w = weight.double().clone()
        b = bias.double().clone()
        w[0] = torch.einsum("c,ciuv->iuv", mix_w, weight.double())
        b[0] = mix_w @ bias.double() + mix_b[0]
        return w.to(weight.dtype), b.to(bias.dtype)
