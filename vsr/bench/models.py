"""The networks a benchmark times: exactly what `vsr upscale` loads for the same flags
(vsr.settings.ModelSettings.load: the same weights, precision and memory format), or, only
with `--random-weights`, the same architecture with fresh weights (its speed is the real
network's; its pictures are noise; labelled "random weights" everywhere)."""

import copy
import dataclasses
from pathlib import Path

import torch

from ..archs import VARIANTS, build_plainusr
from ..checkpoint import read_checkpoint
from ..constants import DEFAULT_SCALE
from ..model import SRModel, placed
from ..precision_policy import DTYPES, Errors, Precision, capabilities, choose
from ..settings import ModelSettings
from ..weights import shipped

RANDOM_WEIGHTS = "random weights: speed only"


def model_for_speed(settings: ModelSettings, random_weights: bool = False) -> SRModel:
    """The model `vsr upscale` would run for these settings, or (random_weights) its
    architecture with fresh weights, in the precision the policy picks for a file with no
    measurement (fp32 under auto)."""
    if not random_weights:
        return settings.load()
    variant, scale = _architecture(settings)
    precision = choose(settings.precision, capabilities(settings.device), Errors(lambda p: None, "random weights"))
    module, channels_last = placed(build_plainusr(variant, scale), settings.device, precision)
    return SRModel(module, variant, scale, RANDOM_WEIGHTS, settings.device, precision.dtype, precision=precision, channels_last=channels_last)


def _architecture(settings: ModelSettings) -> tuple[str, int]:
    """The variant and scale the settings name: a variant, a known name or a weights file."""
    spec, scale = settings.model, settings.scale
    if isinstance(spec, Path):
        checkpoint = read_checkpoint(spec)
        return checkpoint.variant, checkpoint.scale
    if spec in VARIANTS:
        return spec, scale or DEFAULT_SCALE
    entry = shipped().get(str(spec))
    if entry is None:
        checkpoint = read_checkpoint(Path(spec))
        return checkpoint.variant, checkpoint.scale
    return entry.variant, entry.scale


def with_dtype(model: SRModel, name: str) -> SRModel:
    """`model` in another precision (fp32, fp16, bf16) for the network-alone table."""
    dtype = DTYPES[name]
    if dtype == model.dtype:
        return model.eager()
    module = copy.deepcopy(model.module).to(torch.float16 if name == "fp16" else torch.float32)
    return dataclasses.replace(model, module=module, dtype=dtype, precision=Precision(name, "asked for the network-alone table"), compiled_network=None)
