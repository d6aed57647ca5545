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

import copy
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


def measure(network: nn.Module) -> PrecisionError:
    """The fp16 and bf16 errors of a deployed PlainUSR network (left as it was given), on
    both kinds of content: the registry's figures (benchmarks/precision.py)."""
    errors = {}
    for precision in ("fp16", "bf16"):
        for name, error in measure_error(network, precision).items():
            errors[f"{precision}_{name}"] = error
    return PrecisionError(**errors)


def measure_error(network: nn.Module, precision: str, device: torch.device | str = "cpu") -> dict[str, float]:
    """One precision's error (fp16: a float16 copy on `device`; bf16: autocast around the
    float32 network on `device`), per kind of content, against float32 on the CPU. Costs
    one float32 and one low-precision pass per content (about 0.3 s for ultra in bf16 on
    a 2-core CPU; fp16, emulated on most CPUs, about 1 s)."""
    device = torch.device(device)
    fp32_net = copy.deepcopy(network).float().eval().cpu()
    low_net = copy.deepcopy(fp32_net).to(device)
    if precision == "fp16":
        low_net = low_net.half()
    elif precision != "bf16":
        raise ValueError(f"precision must be fp16 or bf16, got {precision!r}")
    errors = {}
    with torch.inference_mode():
        for name, x in content().items():
            reference = fp32_net(x.clone()).clamp(0, 1)
            if precision == "fp16":
                low = low_net(x.to(device).half())
            else:
                with torch.autocast(device.type, dtype=torch.bfloat16):
                    low = low_net(x.to(device))
            errors[name] = _levels(low.float().cpu().clamp(0, 1), reference)
    return errors


def _levels(a: torch.Tensor, b: torch.Tensor) -> float:
    return round(float((a - b).abs().max()) * 255, 2)
