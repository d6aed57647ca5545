"""PlainUSR (Wang et al., ACCV 2024): the six variants, in training and deployed form.

Everything runs at low resolution. `head` (conv3x3, 3 -> C0+3) makes C0 feature channels
plus 3 "pic" channels that carry the image to the `tail` (conv3x3 -> 3*s*s, PixelShuffle).
The body is a channel-split "plain U-Net": each block rewrites only the first `width`
channels and passes the rest through untouched.

- `PlainUSR` is the deployed form: per block conv3x3 + LeakyReLU(0.05) (+ conv3x3) + attention,
  with the state-dict keys of the official release.
- `PlainUSRTrainForm` is the training form: RepMBConv instead of each conv3x3, plus a PConv
  before the attention. `vsr.archs.reparameterize` turns it into a `PlainUSR`.
"""

from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor, nn

from .attention import LIA_MIN_SIZE, LocalImportanceAttention, LocalImportanceAttentionSpeed, TileRegion
from .repmbconv import PConv, RepMBConv

Family = Literal["ultra", "general", "large"]
Attention = Literal["lia", "lia_speed"]
SCALES = (2, 3, 4)
NEGATIVE_SLOPE = 0.05
ATTENTIONS = (LocalImportanceAttention, LocalImportanceAttentionSpeed)


@dataclass(frozen=True)
class PlainUSRConfig:
    name: str
    family: Family
    n_feat: int
    im_feat: tuple[int, ...]
    attn_feat: int | None  # LIA reduced channels f; None where the family has no LIA
    release_prefix: str  # file prefix of the official checkpoints


VARIANTS: dict[str, PlainUSRConfig] = {
    c.name: c
    for c in (
        PlainUSRConfig("ultra", "ultra", 16, (16, 8), None, "PlainUSRU"),
        PlainUSRConfig("tiny", "ultra", 32, (32, 16), None, "PlainUSRT"),
        PlainUSRConfig("small", "general", 32, (32, 16, 8), 4, "PlainUSRS"),
        PlainUSRConfig("medium", "general", 48, (48, 32, 16), 8, "PlainUSRM"),
        PlainUSRConfig("base", "general", 64, (64, 48, 32), 16, "PlainUSR"),
        PlainUSRConfig("large", "large", 80, (80, 64, 48), 16, "PlainUSRL"),
    )
}


@dataclass(frozen=True)
class BlockSpec:
    name: str  # attribute name, as in the official state dicts
    width: int  # the block works on channels [0, width)
    convs: int
    attention: Attention | None


def block_layout(config: PlainUSRConfig) -> list[BlockSpec]:
    """The body's blocks in forward order."""
    im = config.im_feat
    if config.family == "ultra":
        return [
            BlockSpec("block1", im[0], 2, None),
            BlockSpec("blockm", im[1], 2, "lia_speed"),
            BlockSpec("block2", im[0], 2, None),
        ]
    convs = 3 if config.family == "large" else 2
    names_widths = [("block1", 0), ("block2", 1), ("blockm", 2), ("block3", 1), ("block4", 0)]
    return [BlockSpec(name, im[i], convs, "lia") for name, i in names_widths]


def _attention(spec: BlockSpec, config: PlainUSRConfig) -> nn.Module:
    if spec.attention == "lia":
        assert config.attn_feat is not None
        return LocalImportanceAttention(spec.width, reduced=config.attn_feat)
    return LocalImportanceAttentionSpeed(spec.width)


def _deployed_block(spec: BlockSpec, config: PlainUSRConfig) -> nn.Module:
    layers: list[nn.Module] = [nn.Conv2d(spec.width, spec.width, 3, padding=1)]
    for _ in range(spec.convs - 1):
        layers += [nn.LeakyReLU(NEGATIVE_SLOPE, inplace=True), nn.Conv2d(spec.width, spec.width, 3, padding=1)]
    if spec.attention:
        layers.append(_attention(spec, config))
    return _Block(nn.Sequential(*layers))


def _train_form_block(spec: BlockSpec, config: PlainUSRConfig) -> nn.Module:
    layers: list[nn.Module] = [RepMBConv(spec.width)]
    for _ in range(spec.convs - 1):
        layers += [nn.LeakyReLU(NEGATIVE_SLOPE), RepMBConv(spec.width)]
    if spec.attention:
        layers += [PConv(spec.width), _attention(spec, config)]
    return _Block(nn.Sequential(*layers))


class _Block(nn.Module):
    def __init__(self, body: nn.Sequential) -> None:
        super().__init__()
        self.body = body

    def forward(self, x: Tensor, region: TileRegion | None = None) -> Tensor:
        for layer in self.body:
            x = layer(x, region) if isinstance(layer, ATTENTIONS) else layer(x)
        return x


class _PlainUSRNet(nn.Module):
    def __init__(self, config: PlainUSRConfig, scale: int, make_block) -> None:
        super().__init__()
        if scale not in SCALES:
            raise ValueError(f"PlainUSR scale must be one of {SCALES}, got {scale}")
        self.config = config
        self.scale = scale
        self.layout = block_layout(config)
        channels = config.n_feat + 3
        self.head = nn.Conv2d(3, channels, 3, padding=1)
        for spec in self.layout:
            self.add_module(spec.name, make_block(spec, config))
        self.tail = nn.Sequential(nn.Conv2d(channels, 3 * scale * scale, 3, padding=1), nn.PixelShuffle(scale))

    @property
    def min_size(self) -> int:
        """Smallest input height/width the network accepts."""
        return LIA_MIN_SIZE if any(s.attention == "lia" for s in self.layout) else 1

    def forward(self, x: Tensor, region: TileRegion | None = None) -> Tensor:
        """x: (N, 3, H, W). `region`: where x lies in a larger image, when x is a tile of
        it (see vsr.tiling); the attention then samples as the whole image would."""
        x = self.head(x)
        for spec in self.layout:
            x = _apply_to_leading_channels(getattr(self, spec.name), x, spec.width, region)
        return self.tail(x)


def _apply_to_leading_channels(block: nn.Module, x: Tensor, width: int, region: TileRegion | None) -> Tensor:
    if x.requires_grad:
        return torch.cat([block(x[:, :width], region), x[:, width:]], dim=1)
    # Inference: write the block's output over its input slice instead of copying all
    # channels. `x` is always a fresh activation owned by this forward pass.
    x[:, :width] = block(x[:, :width], region)
    return x


class PlainUSR(_PlainUSRNet):
    """Deployed form; loads the official release's state dicts with strict=True."""

    def __init__(self, *, config: PlainUSRConfig, scale: int) -> None:
        super().__init__(config, scale, _deployed_block)


class PlainUSRTrainForm(_PlainUSRNet):
    """Training form. At init it is exactly a nearest-neighbour upsampler: `head` copies
    RGB into the pic channels, `tail` copies them to every sub-pixel, and the tail's
    weights on the feature channels start at zero (they receive gradient at once)."""

    def __init__(self, *, config: PlainUSRConfig, scale: int) -> None:
        super().__init__(config, scale, _train_form_block)
        self._init_nearest_upsampler()

    def _init_nearest_upsampler(self) -> None:
        init_nearest_upsampler(self)


@torch.no_grad()
def init_nearest_upsampler(net: _PlainUSRNet) -> None:
    """Make `head` copy RGB into the pic channels and `tail` copy those to every sub-pixel,
    with the tail's weights on the feature channels at zero: the network is then exactly a
    nearest-neighbour upsampler, whatever its body holds (either form)."""
    c0, s2 = net.config.n_feat, net.scale * net.scale
    head_w, head_b = net.head.weight, net.head.bias
    head_w[c0:] = 0
    head_b[c0:] = 0
    tail_conv = net.tail[0]
    tail_conv.weight.zero_()
    tail_conv.bias.zero_()
    for rgb in range(3):
        head_w[c0 + rgb, rgb, 1, 1] = 1
        tail_conv.weight[rgb * s2 : (rgb + 1) * s2, c0 + rgb, 1, 1] = 1


def build_plainusr(variant: str, scale: int) -> PlainUSR:
    return PlainUSR(config=VARIANTS[variant], scale=scale)


def build_plainusr_train_form(variant: str, scale: int) -> PlainUSRTrainForm:
    return PlainUSRTrainForm(config=VARIANTS[variant], scale=scale)
