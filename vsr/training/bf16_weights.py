"""Weights that half precision stores exactly: training and exporting bf16-exact weights.

A half-precision run rounds twice: the activations, and every weight to the format's 8
(bf16) or 11 (fp16) significant bits. On the measurement chart, rounding the weights alone
is half of the bf16 error or more (docs/MODELS.md, "Where the error arises": `small-x2-video`
v2 6.5/255 from its weights against 3.5/255 from its activations; `ultra-x2` 1.6 against
1.7). A weight that is already a bf16 value is not moved by bf16, nor by fp16 (bf16's 8 bits
fit in fp16's 11), except below fp16's normal range (2^-14), where fp16's grid is coarser:
there the weight takes fp16's value, which bf16 holds too. Storing such weights removes
that part of both errors.

Rounding a finished file is not free: `small-x2-video` v2 rounded loses 0.045 dB at CRF 23.
So a run with `bf16_weights` trains through the rounding (a straight-through estimator):
the forward pass uses the weights rounded to bf16, the gradient updates float32 "latent"
weights as if the rounding were not there. Validation, the export and `read_checkpoint` of
the run's checkpoint all take the EMA's weights rounded the same way, so the file is
exactly the network that was validated; with `--ema-decay 0` (every shipped recipe) that
is also exactly the network the last step trained.
"""

import torch
from torch import Tensor, nn
from torch.func import functional_call


FP16_SMALLEST_NORMAL = 2.0**-14


def round_to_bf16(t: Tensor) -> Tensor:
    """Every element rounded to a value that bf16 and fp16 both hold exactly (bf16's nearest;
    below 2^-14, fp16's), kept in `t`'s dtype; non-float tensors as given."""
    if not t.is_floating_point():
        return t
    bf16 = t.to(torch.bfloat16).to(t.dtype)
    return torch.where(bf16.abs() < FP16_SMALLEST_NORMAL, bf16.to(torch.float16).to(t.dtype), bf16)


def rounded_state(state: dict[str, Tensor]) -> dict[str, Tensor]:
    """A state dict with every floating tensor bf16-exact: what an export stores."""
    return {name: round_to_bf16(t) for name, t in state.items()}


def forward_with_bf16_weights(net: nn.Module, x: Tensor) -> Tensor:
    """`net(x)` computed with every parameter rounded to bf16, its gradient passed straight
    through to the float32 parameters (forward hooks on `net`'s modules still run)."""
    rounded = {name: p + (round_to_bf16(p.detach()) - p.detach()) for name, p in net.named_parameters()}
    return functional_call(net, rounded, (x,))
