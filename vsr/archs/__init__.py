"""PlainUSR network code: modules and maths only (no files, devices or arguments)."""

from .plainusr import (
    SCALES,
    VARIANTS,
    PlainUSR,
    PlainUSRConfig,
    PlainUSRTrainForm,
    build_plainusr,
    build_plainusr_train_form,
)
from .reparam import reparameterize

__all__ = [
    "SCALES",
    "VARIANTS",
    "PlainUSR",
    "PlainUSRConfig",
    "PlainUSRTrainForm",
    "build_plainusr",
    "build_plainusr_train_form",
    "reparameterize",
]
