"""Random training patches: aligned LR/HR crops with flips and 90-degree rotations.

All randomness comes from one torch.Generator whose state is saved in checkpoints, so a
resumed run draws exactly the batches the uninterrupted run would have drawn.
"""

import numpy as np
import torch
from torch import Tensor

from ..datasets import ImagePair
from ..errors import InputError


class PatchSampler:
    def __init__(self, pairs: list[ImagePair], scale: int, patch: int, batch: int, seed: int) -> None:
        too_small = [p.name for p in pairs if min(p.lr.shape[:2]) < patch]
        if too_small:
            raise InputError(f"images smaller than a {patch}px LR patch at x{scale}: {', '.join(too_small[:3])}", hint="choose a smaller {patch}")
        self.pairs, self.scale, self.patch, self.batch = pairs, scale, patch, batch
        self.generator = torch.Generator().manual_seed(seed)

    def describe(self) -> str:
        return f"{len(self.pairs)} images, clean bicubic"

    def _draw(self, high: int) -> int:
        return int(torch.randint(high, (1,), generator=self.generator))

    def next_batch(self) -> tuple[Tensor, Tensor]:
        """(lr, hr): (B, 3, p, p) and (B, 3, p*s, p*s) float32 in [0, 1]."""
        lrs, hrs = [], []
        p, s = self.patch, self.scale
        for _ in range(self.batch):
            pair = self.pairs[self._draw(len(self.pairs))]
            y = self._draw(pair.lr.shape[0] - p + 1)
            x = self._draw(pair.lr.shape[1] - p + 1)
            lr = pair.lr[y : y + p, x : x + p]
            hr = pair.hr[y * s : (y + p) * s, x * s : (x + p) * s]
            flip, mirror, transpose = (self._draw(2) for _ in range(3))
            lr, hr = (_augment(a, flip, mirror, transpose) for a in (lr, hr))
            lrs.append(lr)
            hrs.append(hr)
        return to_tensor(lrs), to_tensor(hrs)


def _augment(a: np.ndarray, flip: int, mirror: int, transpose: int) -> np.ndarray:
    if flip:
        a = a[::-1]
    if mirror:
        a = a[:, ::-1]
    if transpose:  # with the flips: all 8 rotations/reflections
        a = a.transpose(1, 0, 2)
    return a


def to_tensor(patches: list[np.ndarray]) -> Tensor:
    return torch.from_numpy(np.stack(patches)).permute(0, 3, 1, 2).float().div_(255)
