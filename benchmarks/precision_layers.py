"""Where a network loses precision, layer by layer: each convolution (and attention) alone
runs in fp16 or bf16 while the rest stays float32, and the output's max error (1/255
levels, after clamping) is reported per content of vsr.precision. Also the largest
activation out of each layer. A layer whose error alone is near the whole network's is
where to act; errors spread over every layer mean the network as a whole amplifies small
perturbations on that content (ill-conditioned), and no float32 island fixes it.

A second table splits the whole network's error into its two causes: every weight rounded
to the format with float32 arithmetic ("weights"), and every convolution's input rounded
with float32 weights ("activations"). Weights stored as bf16 values (`vsr train
--bf16-weights`) remove the first part in both formats.

    python benchmarks/precision_layers.py ultra-x2-video
    python benchmarks/precision_layers.py runs/ultra-x2-video-v2-pw3/last.pt
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import vsr  # noqa: E402, F401

import torch  # noqa: E402
from torch import nn  # noqa: E402

from vsr.archs.plainusr import ATTENTIONS  # noqa: E402
from vsr.checkpoint import build_deployed, read_checkpoint  # noqa: E402
from vsr.precision import content  # noqa: E402
from vsr.weights import registry  # noqa: E402


def load(spec: str) -> nn.Module:
    """A registry name, a weights file or a training checkpoint (its EMA weights)."""
    known = registry()
    path = known.verified_path(known.get(spec)) if known.get(spec) else Path(spec)
    return build_deployed(read_checkpoint(path))


class LowPrecisionSwitch:
    """Runs the one layer named in `active` in `dtype`, every other layer in float32."""

    def __init__(self, net: nn.Module) -> None:
        self.active, self.dtype = None, torch.float16
        self.layers = [(name, m) for name, m in net.named_modules() if isinstance(m, (nn.Conv2d, *ATTENTIONS))]
        for name, module in self.layers:
            module.forward = self._wrap(name, module, module.forward)

    def _wrap(self, name, module, forward):
        def run(x, *rest):
            if self.active not in (name, "all"):
                return forward(x, *rest)
            params = list(module.parameters())
            saved = [p.data for p in params]
            for p in params:
                p.data = p.data.to(self.dtype)
            try:
                return forward(x.to(self.dtype), *rest).float()
            finally:
                for p, data in zip(params, saved, strict=True):
                    p.data = data

        return run


@torch.no_grad()
def main() -> int:
    spec = sys.argv[1] if len(sys.argv) > 1 else "ultra-x2-video"
    net = load(spec).float().eval()
    inputs = content()
    largest: dict[str, float] = {}
    hooks = [m.register_forward_hook(lambda m, a, out, n=n: largest.__setitem__(n, max(largest.get(n, 0.0), float(out.abs().max()))))
             for n, m in net.named_modules() if isinstance(m, (nn.Conv2d, *ATTENTIONS))]  # fmt: skip
    reference = {k: net(x.clone()).clamp(0, 1) for k, x in inputs.items()}
    for hook in hooks:
        hook.remove()
    switch = LowPrecisionSwitch(net)
    names = [name for name, _ in switch.layers] + ["all"]
    print(f"| layer | max activation | {' | '.join(f'fp16 {k}' for k in inputs)} | {' | '.join(f'bf16 {k}' for k in inputs)} |")
    print(f"|---|---|{'---|' * 2 * len(inputs)}")
    for name in names:
        cells = []
        for dtype in (torch.float16, torch.bfloat16):
            switch.active, switch.dtype = name, dtype
            cells += [f"{float((net(x.clone()).clamp(0, 1) - reference[k]).abs().max()) * 255:.2f}" for k, x in inputs.items()]
        switch.active = None
        print(f"| {name} | {largest.get(name, float('nan')):.0f} | {' | '.join(cells)} |", flush=True)
    print()
    print(f"| rounded | {' | '.join(f'fp16 {k}' for k in inputs)} | {' | '.join(f'bf16 {k}' for k in inputs)} |")
    print(f"|---|{'---|' * 2 * len(inputs)}")
    for part in ("weights", "activations"):
        errors = [rounding_error(load(spec).float().eval(), inputs, reference, part, dtype) for dtype in (torch.float16, torch.bfloat16)]
        cells = [f"{error:.2f}" for per_dtype in errors for error in per_dtype]
        print(f"| {part} | {' | '.join(cells)} |")
    return 0


def rounding_error(net: nn.Module, inputs: dict, reference: dict, part: str, dtype: torch.dtype) -> list[float]:
    """The max error per content with only the weights, or only every convolution's input,
    rounded to `dtype` (the arithmetic stays float32). Changes `net`."""
    if part == "weights":
        for p in net.parameters():
            p.data = p.data.to(dtype).float()
    else:
        for m in net.modules():
            if isinstance(m, nn.Conv2d):
                m.register_forward_pre_hook(lambda m, args: (args[0].to(dtype).float(), *args[1:]))
    return [float((net(x.clone()).clamp(0, 1) - reference[k]).abs().max()) * 255 for k, x in inputs.items()]


if __name__ == "__main__":
    sys.exit(main())
