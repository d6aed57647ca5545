"""vsr: video and image super-resolution with PlainUSR.

Public API (imported lazily, so `import vsr` and `vsr --help` stay fast):

    vsr.load_model(name_or_path, scale=None, device="cpu", half=False) -> vsr.SRModel
    vsr.upscale_video(src, dst=None, model=None, scale=None, device="auto", ...) -> UpscaleResult
    vsr.upscale_frames(frames, model=None, scale=None, ...) -> iterator of upscaled frames
    vsr.VsrError: base of every error meant for the user
"""

import os

from .errors import VsrError

# Let PyTorch's CPU allocator back large tensors with transparent huge pages. Without it a
# model call on the CPU spends about half its time faulting in freshly mapped 4 KiB pages
# for its activations (measured at 720p on 2 cores: 0.55 -> 0.24-0.32 s per frame). Read by
# torch once, at its first allocation, so it only takes effect if vsr is imported before
# torch allocates; THP_MEM_ALLOC_ENABLE=0 in the environment turns it off.
os.environ.setdefault("THP_MEM_ALLOC_ENABLE", "1")
# OpenMP threads that wait by sleeping, not spinning: the model shares the CPU with the
# decoder's and encoder's threads, and spinning workers steal their cores (2-core machine,
# 320x180 x2 ultra with x264 encoding beside it: 29 -> 40 fps; model alone 58 -> 72 fps).
# Read when OpenMP starts, so it too only applies if vsr is imported before torch.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__all__ = ["SRModel", "VsrError", "load_model", "upscale_frames", "upscale_video"]


def __getattr__(name: str):
    if name in ("load_model", "SRModel"):
        from . import model

        return getattr(model, name)
    if name == "upscale_video":
        from .video.upscale import upscale_video

        return upscale_video
    if name == "upscale_frames":
        from .video.frames_api import upscale_frames

        return upscale_frames
    raise AttributeError(f"module 'vsr' has no attribute {name!r}")
