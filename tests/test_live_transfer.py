"""vsr live's device side (vsr.live.transfer) on the CPU: the same pixels as the plain
computation it replaced, ready at once (no events). The CUDA side (own stream, pinned
buffers, events) is checked by tests/test_gpu_pipeline.py on a GPU."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch

import vsr
from vsr.live.transfer import LiveTransfer
from vsr.model import upscale_any_size
from vsr.video.io.colour import ColourSpec
from vsr.video.io.planes import PlaneLayout
from vsr.video.stages.engine import host_array, pack_rgb, storage_dtype


@pytest.fixture(scope="module")
def ultra_x2():
    return vsr.load_model("ultra", scale=2, device="cpu")


@pytest.mark.parametrize("size", [(40, 30), (5, 4)])  # a frame below the model's minimum is padded
def test_cpu_transfer_gives_the_pixels_of_the_plain_computation(ultra_x2, size):
    image = np.random.default_rng(1).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    layout, colour = PlaneLayout("yuv420p", size[0] * 2, size[1] * 2), ColourSpec("bt709", False, 8)
    transfer = LiveTransfer(torch.device("cpu"))
    frame = transfer.upscale(ultra_x2, image, SimpleNamespace(layout=layout, colour=colour))
    assert transfer.stream is None and frame.shown.ready is None and frame.packed.ready is None
    with torch.inference_mode():
        x = torch.from_numpy(image).flip(-1).permute(2, 0, 1)[None].float() / 255
        rgb = upscale_any_size(ultra_x2, x).float().clamp_(0, 1)
        bgr = (rgb[0] * 255).round_().to(torch.uint8).flip(0).permute(1, 2, 0).numpy()
        packed = host_array(pack_rgb(rgb, layout, colour).to(storage_dtype(layout))[0])
    np.testing.assert_array_equal(frame.shown.wait(), bgr)
    np.testing.assert_array_equal(frame.packed.wait(), packed)
    assert frame.shown.wait().shape == (size[1] * 2, size[0] * 2, 3)


def test_without_recording_nothing_is_packed(ultra_x2):
    frame = LiveTransfer(torch.device("cpu")).upscale(ultra_x2, np.zeros((16, 16, 3), np.uint8))
    assert frame.packed is None
