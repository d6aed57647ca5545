"""Simulated half-precision rounding, as a differentiable perturbation for training.

bf16 keeps 8 significant bits: each rounding moves a value by up to 2^-9 of itself. A
network whose output moves far when every layer's output is nudged that much is
ill-conditioned: exact in float32, wrong in fp16 or bf16 (docs/MODELS.md, "Precision").

Training against the real bf16 gap does not work: autograd treats rounding as the
identity, so the gap's gradient only chases one noise draw. Instead `RoundingNoise`
multiplies the input and every convolution's output by (1 + e), e drawn uniformly from
+-RELATIVE_STEP, while it is `active`. With the draw fixed, |noisy - clean| is a smooth
function of the weights whose gradient lowers the network's sensitivity itself.
"""

import contextlib

import torch
from torch import Tensor, nn

RELATIVE_STEP = 2.0**-8  # bf16's rounding step relative to the value (twice the max rounding error)


class RoundingNoise:
    """Forward hooks on every Conv2d of `net`; noise only inside `active()`."""

    def __init__(self, net: nn.Module, generator: torch.Generator) -> None:
        self.generator, self.on = generator, False
        self.hooks = [m.register_forward_hook(self._perturb) for m in net.modules() if isinstance(m, nn.Conv2d)]

    def perturb(self, x: Tensor) -> Tensor:
        if not self.on:
            return x
        noise = torch.rand(x.shape, generator=self.generator, dtype=x.dtype).to(x.device)
        return x * (1 + RELATIVE_STEP * (2 * noise - 1))

    def _perturb(self, module: nn.Module, inputs, output: Tensor) -> Tensor:
        return self.perturb(output)

    @contextlib.contextmanager
    def active(self):
        self.on = True
        try:
            yield
        finally:
            self.on = False

    def remove(self) -> None:
        for hook in self.hooks:
            hook.remove()
