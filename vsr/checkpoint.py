"""Reading PlainUSR weights files: safe loading, canonical keys, variant and scale
detected from the tensor shapes, and one clear line when a file does not fit."""

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from .archs import VARIANTS, PlainUSR, PlainUSRTrainForm, reparameterize
from .errors import WeightsError

WRAPPER_KEYS = ("params_ema", "ema", "params", "state_dict", "model")
"""Containers other tools (and `vsr train`'s last.pt) put a state dict in, most preferred
first: EMA weights over raw ones."""


@dataclass(frozen=True)
class Checkpoint:
    path: Path
    variant: str
    scale: int
    form: str  # "deployed" or "training"
    state_dict: dict[str, Tensor]


def read_checkpoint(path: str | os.PathLike) -> Checkpoint:
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"weights file not found: {path}")
    try:
        raw = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # pickle, zip and safety errors all mean "not loadable"
        if "Unsupported global" in str(exc):
            why = "it holds pickled Python objects that vsr will not execute; save a state_dict instead"
        else:
            why = "not a PyTorch checkpoint"
        raise WeightsError(f"cannot read weights file {path}: {why}") from None
    state_dict = _canonical_state_dict(raw, path)
    if isinstance(raw, dict) and isinstance(raw.get("config"), dict) and raw["config"].get("bf16_weights"):
        from .training.bf16_weights import rounded_state

        state_dict = rounded_state(state_dict)  # a --bf16-weights run's checkpoint: the network it validates and exports
    variant, scale, form = _detect(state_dict, path)
    return Checkpoint(path, variant, scale, form, state_dict)


def build_deployed(checkpoint: Checkpoint) -> PlainUSR:
    """The deployed network with the checkpoint's weights (re-parameterized if needed)."""
    config = VARIANTS[checkpoint.variant]
    net_class = PlainUSR if checkpoint.form == "deployed" else PlainUSRTrainForm
    net = net_class(config=config, scale=checkpoint.scale)
    _check_keys_and_shapes(net, checkpoint)
    net.load_state_dict(checkpoint.state_dict, strict=True)
    return net if isinstance(net, PlainUSR) else reparameterize(net)


def _canonical_state_dict(raw: Any, path: Path) -> dict[str, Tensor]:
    while isinstance(raw, dict):
        wrapper = next((k for k in WRAPPER_KEYS if isinstance(raw.get(k), dict)), None)
        if wrapper is None:
            break
        raw = raw[wrapper]
    if not isinstance(raw, dict) or not raw or not all(isinstance(v, Tensor) for v in raw.values()):
        raise WeightsError(f"weights file {path} holds no state dict of tensors (found {type(raw).__name__})")
    return {k.removeprefix("module."): v for k, v in raw.items()}


def _detect(sd: dict[str, Tensor], path: Path) -> tuple[str, int, str]:
    head, tail = sd.get("head.weight"), sd.get("tail.0.weight")
    if head is None or tail is None or head.dim() != 4 or tail.dim() != 4:
        examples = ", ".join(list(sd)[:3])
        raise WeightsError(
            f"{path} is not a PlainUSR checkpoint: expected keys head.weight, tail.0.weight, "
            f"block1.body.*; found {len(sd)} keys such as {examples}"
        )
    n_feat = head.shape[0] - 3
    scale = math.isqrt(tail.shape[0] // 3)
    if tail.shape[0] != 3 * scale * scale:
        raise WeightsError(f"{path}: tail.0.weight has {tail.shape[0]} output channels, expected 3*s*s for a scale s")
    form = "training" if any(".expand." in k for k in sd) else "deployed"
    if not any(k.startswith("block3.") for k in sd):
        family = "ultra"
    elif "block1.body.4.weight" in sd or "block1.body.4.expand.weight" in sd:  # a third conv
        family = "large"
    else:
        family = "general"
    matches = [c.name for c in VARIANTS.values() if c.family == family and c.n_feat == n_feat]
    if not matches:
        known = ", ".join(f"{c.name} ({c.family}, n_feat {c.n_feat})" for c in VARIANTS.values())
        raise WeightsError(f"{path}: a PlainUSR-like {family} network with n_feat {n_feat} is not a known variant; known: {known}")
    if scale not in (2, 3, 4):
        raise WeightsError(f"{path}: scale x{scale} read from tail.0.weight; vsr supports x2, x3 and x4")
    return matches[0], scale, form


def _check_keys_and_shapes(net: nn.Module, ckpt: Checkpoint) -> None:
    expected = {k: tuple(v.shape) for k, v in net.state_dict().items()}
    found = {k: tuple(v.shape) for k, v in ckpt.state_dict.items()}
    what = f"{ckpt.path} looks like PlainUSR {ckpt.variant} x{ckpt.scale} ({ckpt.form} form)"
    missing = sorted(set(expected) - set(found))
    unexpected = sorted(set(found) - set(expected))
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing {len(missing)} keys (e.g. {missing[0]})")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected keys (e.g. {unexpected[0]})")
        raise WeightsError(f"{what} but has {' and '.join(parts)}")
    for key, shape in expected.items():
        if found[key] != shape:
            raise WeightsError(f"{what} but {key} has shape {found[key]}, expected {shape}")
