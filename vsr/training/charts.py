"""Synthetic high-contrast patches mixed into training batches (vsr.charts.random_chart).

Photos and video frames rarely hold 1-px lines, checkerboards or small text, and a network
fine-tuned on them alone can grow ill-conditioned exactly there: exact in float32, 100+
levels off in fp16 or bf16 (docs/MODELS.md, "Precision"). A share of chart patches, each
with its exact HR truth and a clean bicubic LR, keeps that content in view: for the
precision loss, and for the teacher's output where a run has a teacher (the trainer then
leaves their HR truth out: vsr.training.trainer.Trainer._truth_loss).

Half of them (every second) are drawn at the LR size instead, with a nearest-neighbour HR:
a downscale never holds 1-px lines or checkerboards at the LR size, yet video does (text
overlays, screen captures, vsr.precision's measurement chart), and that is where the
official ultra files' float32 output explodes (docs/MODELS.md).
"""

import cv2
import numpy as np
import torch
from torch import Tensor

from ..charts import random_chart
from ..resize import downscale_uint8
from .patches import to_tensor


class ChartMix:
    """Wraps a patch sampler: the first `charts` patches of every batch are fresh charts,
    the rest come from `base` (built for `batch - charts` patches). All randomness comes
    from the base sampler's generator, so checkpoints resume exactly."""

    def __init__(self, base, scale: int, patch: int, charts: int) -> None:
        self.base, self.scale, self.patch, self.charts = base, scale, patch, charts

    @property
    def generator(self) -> torch.Generator:
        return self.base.generator

    def describe(self) -> str:
        return f"{self.base.describe()}, plus {self.charts} synthetic chart patches a batch"

    def next_batch(self) -> tuple[Tensor, Tensor]:
        seed = int(torch.randint(2**62, (1,), generator=self.generator))
        rng = np.random.default_rng(seed)
        side, lrs, hrs = self.patch * self.scale, [], []
        for index in range(self.charts):
            if index % 2:  # drawn at the LR size: Nyquist-rate lines and checkerboards
                lr = random_chart(rng, self.patch, self.patch)
                lrs.append(lr)
                hrs.append(cv2.resize(lr, (side, side), interpolation=cv2.INTER_NEAREST))
            else:
                hrs.append(random_chart(rng, side, side))
                lrs.append(downscale_uint8(hrs[-1], self.scale))
        lr, hr = self.base.next_batch()
        return torch.cat([to_tensor(lrs), lr]), torch.cat([to_tensor(hrs), hr])
