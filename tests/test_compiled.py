"""The torch.compile path (vsr.compiled): the same numbers as the eager network, one compile
per frame size whatever the batch, and eager where it must be (tiles, after OOM)."""

import pytest
import torch

import vsr
from conftest import natural_image, randomize_
from vsr.archs import build_plainusr
from vsr.model import SRModel, compile_model


def _small_model(variant: str = "small", device: str = "cpu", dtype=torch.float32) -> SRModel:
    module = randomize_(build_plainusr(variant, 2)).eval().requires_grad_(False).to(device, dtype)
    return SRModel(module, variant, 2, "test", torch.device(device), dtype)


@pytest.fixture(scope="module")
def compiled_pair():
    eager = _small_model()
    return eager, compile_model(eager)


def test_compiled_matches_eager_in_float32_for_every_batch_size_with_one_compile(compiled_pair):
    eager, compiled = compiled_pair
    x = natural_image(36, 48).repeat(5, 1, 1, 1) * torch.linspace(0.6, 1.0, 5).view(5, 1, 1, 1)
    reference = eager(x)
    assert torch.allclose(compiled(x[:3]), reference[:3], atol=1e-4)  # compiles for batch 3
    assert torch.allclose(compiled(x[:1]), reference[:1], atol=1e-4)  # padded up to 3
    assert torch.allclose(compiled(x), reference, atol=1e-4)  # sliced: 3 + 2 (padded)
    assert compiled.compiled_network.batch_for == {(36, 48): 3}
    assert not eager.is_compiled and compiled.module is eager.module  # the eager model is untouched


def test_compiled_model_keeps_tiles_eager_and_describes_itself(compiled_pair):
    from vsr.archs import TileRegion

    eager, compiled = compiled_pair
    x = natural_image(24, 24)
    region = TileRegion(0, 0, 48, 48)
    assert torch.equal(compiled(x, region), eager(x, region))
    assert ", compiled; " in compiled.description and "compiled" not in eager.description
    assert compile_model(compiled) is compiled


def test_upscale_video_with_compile_writes_the_same_frames_as_eager(tmp_path):
    import av

    from media import make_clip

    def planes(path):  # the Y'CbCr code values as written: a rounding step is one level
        with av.open(str(path)) as container:
            return [frame.to_ndarray().astype(int) for frame in container.decode(video=0)]

    src = make_clip(tmp_path / "in.mp4", size=(64, 48), frames=5)
    eager = vsr.upscale_video(src, tmp_path / "eager.mkv", model="ultra", device="cpu", codec="ffv1")
    compiled = vsr.upscale_video(src, tmp_path / "compiled.mkv", model="ultra", device="cpu", codec="ffv1", compile=True)
    assert "compiled" in compiled.device and "compiled" not in eager.device
    a, b = planes(eager.output), planes(compiled.output)
    assert len(a) == len(b) == 5
    assert max(int(abs(x - y).max()) for x, y in zip(a, b, strict=True)) <= 1


@pytest.mark.gpu
@pytest.mark.parametrize("variant", ["ultra", "base"])
def test_compiled_fp16_on_cuda_stays_within_the_fp16_bound_of_eager(variant):
    x = natural_image(270, 480)
    eager32 = _small_model(variant, "cuda", torch.float32)
    reference = eager32(x).float().clamp(0, 1)
    half = _small_model(variant, "cuda", torch.float16)
    half.module.load_state_dict(eager32.module.state_dict())
    eager16 = half(x).float().clamp(0, 1)
    compiled16 = compile_model(half)(x).float().clamp(0, 1)
    assert torch.isfinite(compiled16).all()
    # the fp16 bound: eager fp16 vs fp32 is 0.5-1.4 LSB (FACTS.md); compiled must stay in it
    assert (compiled16 - reference).abs().max() * 255 < 1.5
    assert (compiled16 - eager16).abs().max() * 255 < 1.5


def test_out_of_memory_in_the_compiled_network_falls_back_to_the_eager_one(compiled_pair):
    import dataclasses

    import numpy as np

    from vsr.video.io.colour import ColourSpec
    from vsr.video.stages.engine import FrameUpscaler
    from vsr.video.io.planes import PlaneLayout

    eager, _ = compiled_pair

    def out_of_memory(x):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory")

    layout, spec = PlaneLayout("yuv420p", 24, 16), ColourSpec("bt601", False, 8)
    frames = [np.full(layout.size, 100, np.uint8), np.full(layout.size, 140, np.uint8)]
    reference = FrameUpscaler(eager, layout, layout.scaled(2), spec, spec, batch=2).upscale(frames).wait()
    notices = []
    upscaler = FrameUpscaler(dataclasses.replace(eager, compiled_network=out_of_memory), layout, layout.scaled(2), spec, spec, batch=2, notify=notices.append)
    np.testing.assert_array_equal(upscaler.upscale(frames).wait(), reference)
    assert not upscaler.model.is_compiled and upscaler.batch == 1 and notices


def test_a_compile_that_cannot_work_is_one_line():
    """No C++ compiler (Inductor needs one on the CPU): a DeviceError naming the way out,
    not Inductor's traceback. The compiler is taken away with Inductor's own config.patch,
    which restores the setting however the test ends; monkeypatching the config object left
    `cpp.cxx` missing for every later torch.compile in the process on some installs."""
    import torch._inductor.config

    before = torch._inductor.config.cpp.cxx
    torch._dynamo.reset()
    try:
        with torch._inductor.config.patch({"cpp.cxx": ("no-such-c++-compiler",)}):
            compiled = compile_model(_small_model("ultra"))
            with pytest.raises(vsr.errors.DeviceError, match=r"torch.compile failed \(.*C\+\+ compiler.*\); run without compile"):
                compiled(natural_image(20, 20))
    finally:
        torch._dynamo.reset()  # nothing compiled without a compiler stays cached for later tests
    assert torch._inductor.config.cpp.cxx == before
