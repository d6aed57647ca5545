"""Training form -> deployed form, as an explicit function (the input is not modified)."""

import torch
from torch import nn

from .plainusr import PlainUSR, PlainUSRTrainForm
from .repmbconv import PConv, RepMBConv


@torch.no_grad()
def reparameterize(train_model: PlainUSRTrainForm) -> PlainUSR:
    """A new `PlainUSR` that computes what `train_model` computes, with plain convs."""
    deployed = PlainUSR(config=train_model.config, scale=train_model.scale)
    deployed.head.load_state_dict(train_model.head.state_dict())
    deployed.tail.load_state_dict(train_model.tail.state_dict())
    for spec in train_model.layout:
        _fold_block(getattr(train_model, spec.name).body, getattr(deployed, spec.name).body)
    return deployed.to(next(train_model.parameters()).device).train(train_model.training)


def _fold_block(train_body: nn.Sequential, deployed_body: nn.Sequential) -> None:
    repconvs = [m for m in train_body if isinstance(m, RepMBConv)]
    pconvs = [m for m in train_body if isinstance(m, PConv)]
    convs = [m for m in deployed_body if isinstance(m, nn.Conv2d)]
    folded = [rep.fold() for rep in repconvs]
    if pconvs:
        folded[-1] = pconvs[0].fold_into(*folded[-1])
    for conv, (weight, bias) in zip(convs, folded, strict=True):
        conv.weight.copy_(weight)
        conv.bias.copy_(bias)
    train_attention, deployed_attention = train_body[-1], deployed_body[-1]
    if not isinstance(train_attention, (RepMBConv, nn.LeakyReLU)):
        deployed_attention.load_state_dict(train_attention.state_dict())
