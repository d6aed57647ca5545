"""How far a network strays from float32 in half precision, measured on built-in content.

- fp16: a float16 copy of the deployed network, float16 input (what a CUDA run does).
- bf16: `torch.autocast(dtype=torch.bfloat16)` around the float32 network (what a CPU
  with native bf16 runs).

Errors are max |low - fp32| over all pixels and channels, in 1/255 levels, after clamping
both to [0, 1], on two kinds of content: `charts` (vsr.charts.measurement_chart: text of several
sizes and colours, 1-px lines, checkerboards, a zone plate, a star) and `photo` (a crop of
the bundled picture, vsr/samples/snow-trees.png). Charts are where ill-conditioned weights
fail; photos hide it. The content is small (64x96) so a measurement of ultra takes well
under a second on a CPU: the error is a property of the weights, not of the frame size.
"""

from dataclasses import dataclass
from pathlib import Path

import cv2
import torch
from torch import nn

from .charts import measurement_chart

HEIGHT, WIDTH = 64, 96
PHOTO = Path(__file__).resolve().parent / "samples" / "snow-trees.png"


@dataclass(frozen=True)
class PrecisionError:
    """Max error in 1/255 levels, per precision and content."""

    fp16_charts: float
    fp16_photo: float
    bf16_charts: float
    bf16_photo: float

    @property
    def fp16(self) -> float:
        return max(self.fp16_charts, self.fp16_photo)

    @property
    def bf16(self) -> float:
        return max(self.bf16_charts, self.bf16_photo)


def content() -> dict[str, torch.Tensor]:
    """The measurement inputs, (1, 3, 64, 96) float32 in [0, 1]."""
    bgr = cv2.imread(str(PHOTO))
    top, left = 100, 180  # branches against snow and sky: fine natural detail
    photo = bgr[top : top + HEIGHT, left : left + WIDTH, ::-1]
    return {"charts": _tensor(measurement_chart(HEIGHT, WIDTH)), "photo": _tensor(photo)}


def _tensor(rgb) -> torch.Tensor:
    return torch.from_numpy(rgb.copy()).permute(2, 0, 1)[None].float() / 255


@torch.no_grad()
def measure(network: nn.Module) -> PrecisionError:
    """The fp16 and bf16 errors of a deployed PlainUSR network (left as it was given)."""
    import copy

    fp32_net = copy.deepcopy(network).float().eval().cpu()
    fp16_net = copy.deepcopy(fp32_net).half()
    errors = {}
    for name, x in content().items():
        reference = fp32_net(x.clone()).clamp(0, 1)
        fp16 = fp16_net(x.half()).float().clamp(0, 1)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            bf16 = fp32_net(x.clone()).float().clamp(0, 1)
        errors[f"fp16_{name}"] = _levels(fp16, reference)
        errors[f"bf16_{name}"] = _levels(bf16, reference)
    return PrecisionError(**errors)


def _levels(a: torch.Tensor, b: torch.Tensor) -> float:
    return round(float((a - b).abs().max()) * 255, 2)
