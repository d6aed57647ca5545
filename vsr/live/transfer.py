"""A live frame through the model and back to the host.

On CUDA the session keeps its own stream (the default stream would serialise with every
other user of the GPU), lets cuDNN pick its fastest kernels for the frame size
(`prefer_fixed_size_kernels`), uploads from pinned memory and copies the shown frame and
the frame to record into pinned memory with non-blocking copies, each followed by its own
event: the inference thread waits only for the shown frame, the recorder thread for its
frame just before it encodes it, so recording never stalls inference. On the CPU the same
steps run synchronously and give the same pixels as before (tests/test_live_transfer.py).
"""

import contextlib
from dataclasses import dataclass

import numpy as np
import torch

from ..device import prefer_fixed_size_kernels
from ..model import SRModel, upscale_any_size
from ..video.stages.engine import host_array, pack_rgb, storage_dtype


@dataclass
class OnHost:
    """A tensor copied (or being copied) to the host; `wait()` gives it as numpy."""

    tensor: torch.Tensor
    ready: "torch.cuda.Event | None" = None

    def wait(self) -> np.ndarray:
        if self.ready is not None:
            self.ready.synchronize()
        return host_array(self.tensor)


@dataclass
class LiveFrame:
    shown: OnHost  # BGR uint8 HxWx3, for the window
    packed: OnHost | None  # the recording's packed planes, when recording


class LiveTransfer:
    """The device side of live inference: one per session."""

    def __init__(self, device: torch.device):
        self.cuda = device.type == "cuda"
        self.stream = None
        if self.cuda:
            prefer_fixed_size_kernels(device)
            self.stream = torch.cuda.Stream(device)

    def upscale(self, model: SRModel, image: np.ndarray, record=None) -> LiveFrame:
        """BGR uint8 HxWx3 through `model`; `record` (a vsr.video.io.sink.VideoSink or None)
        says the layout and colour to pack the frame for recording in."""
        streamed = torch.cuda.stream(self.stream) if self.cuda else contextlib.nullcontext()
        with torch.inference_mode(), streamed:
            rgb = self._rgb(model, self._upload(image))
            shown = self._download((rgb[0] * 255).round_().to(torch.uint8).flip(0).permute(1, 2, 0).contiguous())
            packed = None
            if record is not None:
                packed = self._download(pack_rgb(rgb, record.layout, record.colour).to(storage_dtype(record.layout))[0])
        return LiveFrame(shown, packed)

    def _upload(self, image: np.ndarray) -> torch.Tensor:
        if not self.cuda:
            return torch.from_numpy(image)
        host = torch.empty(image.shape, dtype=torch.uint8, pin_memory=True)
        host.numpy()[:] = image
        return host

    @staticmethod
    def _rgb(model: SRModel, image: torch.Tensor) -> torch.Tensor:
        """(1, 3, sH, sW) float32 RGB in [0, 1] on the model's device."""
        x = image.to(model.device, non_blocking=True).flip(-1).permute(2, 0, 1)[None].to(model.input_dtype) / 255
        return upscale_any_size(model, x).float().clamp_(0, 1)

    def _download(self, tensor: torch.Tensor) -> OnHost:
        if not self.cuda:
            return OnHost(tensor.cpu())
        out = torch.empty(tensor.shape, dtype=tensor.dtype, pin_memory=True)
        out.copy_(tensor, non_blocking=True)
        ready = torch.cuda.Event(blocking=True)  # a waiting thread sleeps, not spins
        ready.record(self.stream)
        return OnHost(out, ready)
