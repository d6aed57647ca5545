"""vsr: video and image super-resolution with PlainUSR.

Public API (imported lazily, so `import vsr` and `vsr --help` stay fast):

    vsr.load_model(name_or_path, scale=None, device="cpu", half=False) -> vsr.SRModel
    vsr.upscale_video(src, dst=None, model=None, scale=None, device="auto", ...) -> UpscaleResult
        (its keyword options build a vsr.video.io.job.UpscaleJob; an unknown one is a TypeError)
    vsr.upscale_frames(frames, model=None, scale=None, ...) -> iterator of upscaled frames
    vsr.VsrError: base of every error meant for the user

Importing vsr changes no global state (see vsr.device for what running it changes). On a
CPU, call `vsr.environment.tune_cpu_environment()` before importing torch to get the
allocator and OpenMP settings the `vsr` command runs with.
"""

from .errors import VsrError

__all__ = ["SRModel", "VsrError", "load_model", "upscale_frames", "upscale_video"]


def __getattr__(name: str):
    if name in ("load_model", "SRModel"):
        from . import model

        return getattr(model, name)
    if name == "upscale_video":
        from .video.stages.upscale import upscale_video

        return upscale_video
    if name == "upscale_frames":
        from .video.stages.frames_api import upscale_frames

        return upscale_frames
    raise AttributeError(f"module 'vsr' has no attribute {name!r}")
