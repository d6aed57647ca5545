"""Multiply-accumulate counts of a network, measured on the meta device (no compute)."""

import copy

import torch
from torch import nn


def count_macs(net: nn.Module, height: int, width: int) -> int:
    """MACs of every Conv2d for one (1, 3, height, width) input (`net` is not touched)."""
    meta_net = copy.deepcopy(net).to("meta")
    total = 0

    def on_conv(conv: nn.Conv2d, _inputs, output) -> None:
        nonlocal total
        k = conv.kernel_size[0] * conv.kernel_size[1]
        total += output.numel() * conv.in_channels // conv.groups * k

    for m in meta_net.modules():
        if isinstance(m, nn.Conv2d):
            m.register_forward_hook(on_conv)
    with torch.no_grad():
        meta_net(torch.empty(1, 3, height, width, device="meta"))
    return total
