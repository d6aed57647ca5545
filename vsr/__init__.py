"""vsr: video and image super-resolution with PlainUSR.

Public API (imported lazily, so `import vsr` and `vsr --help` stay fast):

    vsr.load_model(name_or_path, scale=None, device="cpu", half=False) -> vsr.SRModel
    vsr.VsrError: base of every error meant for the user
"""

from .errors import VsrError

__all__ = ["SRModel", "VsrError", "load_model"]


def __getattr__(name: str):
    if name in ("load_model", "SRModel"):
        from . import model

        return getattr(model, name)
    raise AttributeError(f"module 'vsr' has no attribute {name!r}")
