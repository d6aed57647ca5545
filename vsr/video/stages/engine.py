"""The inference stage's work: packed YUV frames in, packed upscaled YUV frames out.

One batch goes: host buffer -> device (its own CUDA stream, from pinned memory) -> Y'CbCr
to RGB with the stream's matrix and range -> PlainUSR (fp16 on CUDA when asked) -> RGB to
Y'CbCr -> host (its own stream, into pinned memory). The copies of one batch overlap the
compute of the next, because nothing here waits for the GPU: the encoder waits on the
batch's `ready` event just before it reads the pixels. On the CPU the same code runs
synchronously in float32.

Out of memory lowers the number of frames processed at once (conversion and model), then
tiles each frame, then shrinks the tiles, and retries the same frames: a frame is never
dropped.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ...constants import DEFAULT_TILE, MIN_TILE, TILE_OVERLAP
from ...device import prefer_fixed_size_kernels
from ...errors import DeviceError
from ...model import SRModel, upscale_any_size
from ...tiling import upscale_tiled
from ..io.colour import ColourSpec, rgb_to_yuv, yuv_to_rgb
from ..io.planes import PlaneLayout



def frames_per_call(device: torch.device, batch: int) -> int:
    """How many frames go through the model at once. On a GPU, `batch`. On the CPU, one:
    a single frame's activations stay in cache and the allocator reuses them (measured:
    docs/BENCHMARKS.md, the CPU section)."""
    return max(1, batch) if device.type == "cuda" else 1


def is_out_of_memory(exc: BaseException) -> bool:
    if isinstance(exc, torch.cuda.OutOfMemoryError):
        return True
    text = str(exc)
    return isinstance(exc, RuntimeError) and ("out of memory" in text or "can't allocate memory" in text)


def storage_dtype(layout: PlaneLayout) -> torch.dtype:
    """The torch dtype that holds a layout's samples (torch has no uint16: 9-16 bit samples
    travel as int16 with the same bits, and `host_array` views them as uint16 again)."""
    return torch.uint8 if layout.dtype == np.uint8 else torch.int16


def host_array(packed: torch.Tensor) -> np.ndarray:
    """A host tensor of packed samples as the numpy array PlaneLayout.write takes."""
    array = packed.numpy()
    return array.view(np.uint16) if array.dtype == np.int16 else array


def pack_rgb(rgb: torch.Tensor, layout: PlaneLayout, colour: ColourSpec) -> torch.Tensor:
    """(N, 3, H, W) RGB in [0, 1] -> (N, layout.size) code values of `layout` in `colour`,
    as float32 (assigning them to a `storage_dtype` tensor stores them)."""
    planes = rgb_to_yuv(rgb, colour, *layout.chroma_shape)
    return torch.cat([p.flatten(1) for p in planes], 1)


def pack_rgb_into(out: torch.Tensor, rgb: torch.Tensor, layout: PlaneLayout, colour: ColourSpec) -> None:
    """`pack_rgb`, stored straight into `out` ((N, layout.size), a `storage_dtype` tensor):
    each plane is rounded code values already, so storing it is exact, and the packed
    float32 copy of the whole frame is never made."""
    offset = 0
    for plane in rgb_to_yuv(rgb, colour, *layout.chroma_shape):
        size = plane[0].numel()
        out[:, offset : offset + size] = plane.flatten(1)
        offset += size


def unpack_planes(packed: torch.Tensor, layout: PlaneLayout) -> list[torch.Tensor]:
    """(N, samples) packed frames -> their planes, (N, h, w) each (views, no copy)."""
    planes, offset = [], 0
    for h, w in layout.plane_shapes:
        planes.append(packed[:, offset : offset + h * w].view(-1, h, w))
        offset += h * w
    return planes


def packed_to_rgb(packed: torch.Tensor, layout: PlaneLayout, colour: ColourSpec) -> torch.Tensor:
    """(N, samples) packed frames (PlaneLayout.read) -> (N, 3, H, W) float32 RGB in [0, 1]:
    the decode every model input goes through, in inference and in training."""
    return yuv_to_rgb(*unpack_planes(packed, layout), colour)


@dataclass
class UpscaledBatch:
    """Packed output frames, (N, samples) on the host; valid once `wait()` returns.
    On CUDA, `computed` brackets the batch's work on the compute stream (CUDA events), so
    the thread that queued it can read the GPU's time without waiting (`gpu_seconds`)."""

    packed: torch.Tensor
    ready: torch.cuda.Event | None = None
    computed: tuple[torch.cuda.Event, torch.cuda.Event] | None = None

    def wait(self) -> np.ndarray:
        if self.ready is not None:
            self.ready.synchronize()
        return host_array(self.packed)

    def gpu_seconds(self, block: bool = False) -> float | None:
        """Seconds the GPU computed this batch; None while it is still computing (unless
        `block`), 0.0 on the CPU (where the caller's own thread did the work)."""
        if self.computed is None:
            return 0.0
        start, end = self.computed
        if block:
            end.synchronize()
        elif not end.query():
            return None
        return start.elapsed_time(end) / 1000


class FrameUpscaler:
    def __init__(
        self,
        model: SRModel,
        source: PlaneLayout,
        target: PlaneLayout,
        source_colour: ColourSpec,
        target_colour: ColourSpec,
        *,
        batch: int = 4,
        tile: int | None = None,
        notify: Callable[[str], None] = lambda message: None,
    ):
        if (target.width, target.height) != (source.width * model.scale, source.height * model.scale):
            raise ValueError(f"target {target.width}x{target.height} is not source x{model.scale}")
        self.model, self.source, self.target = model, source, target
        self.source_colour, self.target_colour = source_colour, target_colour
        self.batch, self.tile, self.notify = max(1, batch), tile, notify
        self.device = model.device
        self.cuda = self.device.type == "cuda"
        if self.cuda:
            prefer_fixed_size_kernels(self.device)  # every frame of a video has one size
            self.upload_stream = torch.cuda.Stream(self.device)
            self.compute_stream = torch.cuda.Stream(self.device)
            self.download_stream = torch.cuda.Stream(self.device)

    def upscale(self, frames: Sequence[np.ndarray]) -> UpscaledBatch:
        """Packed source frames (as PlaneLayout.read gives them) -> their upscaled packing."""
        with torch.inference_mode():
            host = self._stage_on_host(frames)
            if not self.cuda:
                return UpscaledBatch(self._process(host))
            with torch.cuda.stream(self.upload_stream):
                on_device = host.to(self.device, non_blocking=True)
            self.compute_stream.wait_stream(self.upload_stream)
            on_device.record_stream(self.compute_stream)
            computed = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            with torch.cuda.stream(self.compute_stream):
                computed[0].record()
                result = self._process(on_device)
                computed[1].record()
            self.download_stream.wait_stream(self.compute_stream)
            result.record_stream(self.download_stream)
            with torch.cuda.stream(self.download_stream):
                out = torch.empty(result.shape, dtype=result.dtype, pin_memory=True)
                out.copy_(result, non_blocking=True)
                ready = torch.cuda.Event(blocking=True)  # the encoder sleeps, not spins, while it waits
                ready.record(self.download_stream)
            return UpscaledBatch(out, ready, computed)

    def _stage_on_host(self, frames: Sequence[np.ndarray]) -> torch.Tensor:
        host = torch.empty((len(frames), self.source.size), dtype=storage_dtype(self.source), pin_memory=self.cuda)
        view = host.numpy()
        for row, frame in zip(view, frames):
            row[:] = frame.view(view.dtype)
        return host

    def _process(self, packed: torch.Tensor) -> torch.Tensor:
        """Packed source frames -> packed target frames, `self.batch` frames at a time from
        unpacking to packing, so an out-of-memory error can shrink every step's footprint."""
        out = torch.empty((packed.shape[0], self.target.size), dtype=storage_dtype(self.target), device=packed.device)
        done = 0
        while done < packed.shape[0]:
            chunk = packed[done : done + self.batch]
            try:
                self._process_chunk(chunk, out[done : done + chunk.shape[0]])
            except (RuntimeError, torch.cuda.OutOfMemoryError) as exc:
                if not is_out_of_memory(exc):
                    raise
                self._shrink_after_out_of_memory()
                continue
            done += chunk.shape[0]
        return out

    def _process_chunk(self, packed: torch.Tensor, out: torch.Tensor) -> None:
        rgb = packed_to_rgb(packed, self.source, self.source_colour)
        upscaled = self._run_model(rgb)
        del rgb
        pack_rgb_into(out, upscaled, self.target, self.target_colour)

    def _run_model(self, rgb: torch.Tensor) -> torch.Tensor:
        if self.tile is None:
            return upscale_any_size(self.model, rgb)
        run = lambda x, region: self.model(x, region)  # noqa: E731
        # each frame assembled on the device in the network's dtype: no host round trip
        return torch.cat([upscale_tiled(run, frame[None], self.model.scale, self.tile, TILE_OVERLAP, on_device=True) for frame in rgb])

    def _shrink_after_out_of_memory(self) -> None:
        if self.cuda:
            torch.cuda.empty_cache()
        if getattr(self.model, "is_compiled", False):  # compiled for one batch size and whole frames
            self.model = self.model.eager()
        if self.tile is None and self.batch > 1:
            self.batch //= 2
            self.notify(f"out of memory on {self.device}: now {self.batch} frame(s) at a time")
        elif self.tile is None or self.tile > MIN_TILE:
            self.tile = DEFAULT_TILE if self.tile is None else self.tile // 2
            self.notify(f"out of memory on {self.device}: now tiling frames in {self.tile}-pixel tiles")
        else:
            raise DeviceError(f"out of memory on {self.device} even with {MIN_TILE}-pixel tiles", hint="use a smaller {model} or {device=cpu}")
