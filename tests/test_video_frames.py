"""Packing planes, Y'CbCr <-> RGB on torch, and the inference stage's batching and
out-of-memory fallback, against FFmpeg's swscale and simple reference models."""

import numpy as np
import pytest
import torch

from vsr.video.io.colour import ColourSpec, colour_spec_for, rgb_to_yuv, yuv_to_rgb
from vsr.video.stages.engine import FrameUpscaler
from vsr.video.io.planes import PlaneLayout, native_format_for


@pytest.mark.parametrize("fmt,size", [("yuv420p", (33, 17)), ("yuv422p10le", (20, 9)), ("yuv444p12le", (7, 5)), ("gbrp", (9, 9))])
def test_plane_layout_round_trips_through_a_frame(fmt, size):
    layout = PlaneLayout(fmt, *size)
    rng = np.random.default_rng(0)
    packed = rng.integers(0, 1 << layout.bits, layout.size).astype(layout.dtype)
    frame = layout.write(packed)
    assert (frame.width, frame.height, frame.format.name) == (*size, fmt)
    np.testing.assert_array_equal(layout.read(frame), packed)


def test_non_native_formats_map_to_the_nearest_native_one():
    assert native_format_for("nv12") == "yuv420p"
    assert native_format_for("p010le") == "yuv420p10le"
    assert native_format_for("rgb24") == "gbrp"
    assert native_format_for("yuyv422") == "yuv422p"
    assert native_format_for("yuv444p") == "yuv444p"


def test_untagged_streams_get_the_matrix_players_assume():
    assert colour_spec_for(2, 0, 480, 8).matrix == "bt601"
    assert colour_spec_for(2, 0, 720, 8).matrix == "bt709"
    assert colour_spec_for(9, 2, 480, 10) == ColourSpec("bt2020", True, 10)
    assert colour_spec_for(2, 0, 480, 8, jpeg_format=True).full_range


@pytest.mark.parametrize("matrix,colorspace", [("bt601", "ITU601"), ("bt709", "ITU709")])
@pytest.mark.parametrize("full_range", [False, True])
def test_yuv_to_rgb_matches_swscale(matrix, colorspace, full_range):
    rng = np.random.default_rng(1)
    layout = PlaneLayout("yuv444p", 32, 16)
    lo, hi = (0, 255) if full_range else (16, 235)
    y = rng.integers(lo, hi + 1, (16, 32))
    uv = rng.integers(64, 192, (2, 16, 32))  # inside the gamut, where nothing clips
    packed = np.concatenate([y.ravel(), uv[0].ravel(), uv[1].ravel()]).astype(np.uint8)
    frame = layout.write(packed)
    expected = frame.reformat(format="rgb24", src_colorspace=colorspace, src_color_range="JPEG" if full_range else "MPEG").to_ndarray()
    planes = [torch.from_numpy(p.astype(np.int16))[None] for p in (y, uv[0], uv[1])]
    ours = yuv_to_rgb(*planes, ColourSpec(matrix, full_range, 8))[0].permute(1, 2, 0).numpy() * 255
    assert np.abs(ours - expected).max() <= 1.5


@pytest.mark.parametrize("spec", [ColourSpec("bt709", False, 8), ColourSpec("bt601", True, 8), ColourSpec("bt2020", False, 10), ColourSpec(None, True, 8)])
def test_rgb_yuv_rgb_round_trip_is_within_quantisation(spec):
    rgb = torch.rand(2, 3, 12, 10)
    y, u, v = rgb_to_yuv(rgb, spec, 12, 10)
    back = yuv_to_rgb(y, u, v, spec)
    assert (back - rgb).abs().max() * 255 < 1.6 if spec.bits == 8 else (back - rgb).abs().max() * 255 < 0.5


class NearestModel:
    """Stands in for SRModel: nearest-neighbour upscaling, optionally failing like a GPU
    that runs out of memory on more than `fits` frames (or any whole frame)."""

    def __init__(self, scale=2, fits=None, max_width=None):
        self.scale, self.min_size, self.fits, self.max_width = scale, 1, fits, max_width
        self.device, self.dtype, self.calls = torch.device("cpu"), torch.float32, []

    def __call__(self, x, region=None):
        self.calls.append((x.shape[0], region is not None))
        if (self.fits is not None and x.shape[0] > self.fits) or (self.max_width is not None and x.shape[-1] > self.max_width):
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return torch.nn.functional.interpolate(x.float(), scale_factor=self.scale, mode="nearest")


def _frames(layout, count, seed=2):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0 : layout.height, 0 : layout.width]
    frames = []
    for i in range(count):
        smooth = 110 + 60 * np.sin(xx / 5 + i) * np.cos(yy / 7)
        chroma_shape = layout.chroma_shape
        u = np.full(chroma_shape, 128 + rng.integers(-30, 30))
        v = np.full(chroma_shape, 128 + rng.integers(-30, 30))
        frames.append(np.concatenate([smooth.ravel(), u.ravel(), v.ravel()]).round().astype(np.uint8))
    return frames


@pytest.mark.parametrize("fmt", ["yuv420p", "yuv444p"])
def test_engine_with_a_nearest_model_reproduces_the_input_planes(fmt):
    source = PlaneLayout(fmt, 20, 14)
    target = source.scaled(2)
    spec = ColourSpec("bt709", False, 8)
    upscaler = FrameUpscaler(NearestModel(), source, target, spec, spec, batch=3)
    frames = _frames(source, 5)
    out = upscaler.upscale(frames).wait()
    assert out.shape == (5, target.size) and out.dtype == np.uint8
    for packed_in, packed_out in zip(frames, out, strict=True):
        y_in = packed_in[: 20 * 14].reshape(14, 20).astype(int)
        y_out = packed_out[: 40 * 28].reshape(28, 40).astype(int)
        assert np.abs(y_out[::2, ::2] - y_in).max() <= 1


def test_out_of_memory_lowers_the_batch_then_tiles_and_keeps_every_frame():
    source = PlaneLayout("yuv420p", 24, 16)
    spec = ColourSpec("bt601", False, 8)
    frames = _frames(source, 4)
    reference = FrameUpscaler(NearestModel(), source, source.scaled(2), spec, spec, batch=4).upscale(frames).wait()

    notices = []
    model = NearestModel(fits=1)
    upscaler = FrameUpscaler(model, source, source.scaled(2), spec, spec, batch=4, notify=notices.append)
    np.testing.assert_array_equal(upscaler.upscale(frames).wait(), reference)
    assert upscaler.batch == 1 and [n for n, _ in model.calls][-4:] == [1, 1, 1, 1]
    assert len(notices) == 2 and "1 frame(s) at a time" in notices[-1]

    wide = PlaneLayout("yuv420p", 700, 16)
    wide_frames = _frames(wide, 2)
    reference = FrameUpscaler(NearestModel(), wide, wide.scaled(2), spec, spec).upscale(wide_frames).wait()
    tiled_model = NearestModel(max_width=600)  # a whole frame does not fit, a 512-px tile does
    tiled = FrameUpscaler(tiled_model, wide, wide.scaled(2), spec, spec, batch=2, notify=notices.append)
    np.testing.assert_array_equal(tiled.upscale(wide_frames).wait(), reference)
    assert tiled.tile == 512 and tiled_model.calls[-1][1]  # the last calls carried a tile region


def test_out_of_memory_with_the_smallest_tiles_is_one_clear_error():
    from vsr.errors import DeviceError

    source = PlaneLayout("yuv420p", 24, 16)
    spec = ColourSpec("bt601", False, 8)

    class AlwaysOutOfMemory(NearestModel):
        def __call__(self, x, region=None):
            raise torch.cuda.OutOfMemoryError("CUDA out of memory")

    upscaler = FrameUpscaler(AlwaysOutOfMemory(), source, source.scaled(2), spec, spec, batch=2)
    with pytest.raises(DeviceError, match="out of memory"):
        upscaler.upscale(_frames(source, 2))


class NeedsSevenPixels(NearestModel):
    """Refuses inputs below its minimum size, as SRModel does."""

    def __init__(self):
        super().__init__()
        self.min_size, self.sizes = 7, []

    def __call__(self, x, region=None):
        self.sizes.append(tuple(x.shape[-2:]))
        if min(x.shape[-2:]) < self.min_size:
            raise ValueError(f"input {tuple(x.shape[-2:])} is smaller than the model's minimum {self.min_size}")
        return super().__call__(x, region)


def test_frames_smaller_than_the_model_minimum_are_padded_and_cropped_back():
    source = PlaneLayout("yuv444p", 3, 2)
    spec = ColourSpec("bt601", False, 8)
    frames = _frames(source, 1)
    model = NeedsSevenPixels()
    out = FrameUpscaler(model, source, source.scaled(2), spec, spec).upscale(frames).wait()
    assert model.sizes == [(7, 7)]  # 3x2 padded up to the minimum
    reference = FrameUpscaler(NearestModel(), source, source.scaled(2), spec, spec).upscale(frames).wait()
    np.testing.assert_array_equal(out, reference)  # the padding is cropped off again, exactly
