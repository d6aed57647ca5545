"""PlainUSR network code: modules and maths only (no files, devices or arguments)."""

from .plainusr import (
    SCALES,
    VARIANTS,
    PlainUSR,
    PlainUSRConfig,
    PlainUSRTrainForm,
    build_plainusr,
    build_plainusr_train_form,
    init_nearest_upsampler,
)
from .attention import IMPORTANCE_GRID, TileRegion
from .reparam import reparameterize

__all__ = [
    "IMPORTANCE_GRID",
    "TileRegion",
    "SCALES",
    "VARIANTS",
    "PlainUSR",
    "PlainUSRConfig",
    "PlainUSRTrainForm",
    "build_plainusr",
    "build_plainusr_train_form",
    "init_nearest_upsampler",
    "reparameterize",
]
