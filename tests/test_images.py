import cv2
import numpy as np
import pytest
import torch

from conftest import randomize_
from vsr import load_model
from vsr.archs import build_plainusr
from vsr.errors import InputError, OutputError
from vsr.images import Image, read_image, upscale_image, write_image


@pytest.fixture(scope="module")
def ultra_x2(tmp_path_factory):
    path = tmp_path_factory.mktemp("w") / "ultra.pth"
    torch.save(randomize_(build_plainusr("ultra", 2)).state_dict(), path)
    return load_model(path)


@pytest.mark.parametrize(
    "suffix,channels,dtype",
    [(".png", 3, np.uint8), (".png", 4, np.uint8), (".png", 1, np.uint16), (".png", 3, np.uint16), (".tif", 3, np.uint16), (".bmp", 3, np.uint8)],
)
def test_lossless_round_trip(tmp_path, suffix, channels, dtype):
    rng = np.random.default_rng(0)
    levels = np.iinfo(dtype).max
    pixels = rng.integers(0, levels + 1, (13, 17, channels)).astype(np.float32) / levels
    path = tmp_path / f"x{suffix}"
    write_image(path, Image(pixels, 8 if dtype == np.uint8 else 16))
    back = read_image(path)
    assert back.bit_depth == (8 if dtype == np.uint8 else 16)
    assert back.pixels.shape == pixels.shape
    assert np.array_equal(back.pixels, pixels)


def test_colour_order_is_rgb(tmp_path):
    bgr = np.zeros((8, 8, 3), np.uint8)
    bgr[..., 2] = 255  # red in OpenCV's order
    cv2.imwrite(str(tmp_path / "red.png"), bgr)
    pixels = read_image(tmp_path / "red.png").pixels
    assert pixels[0, 0].tolist() == [1.0, 0.0, 0.0]


def test_jpeg_and_webp_are_written_lossy_but_close(tmp_path):
    pixels = np.full((16, 16, 3), 0.5, np.float32)
    for suffix in (".jpg", ".webp"):
        write_image(tmp_path / f"x{suffix}", Image(pixels, 8))
        assert np.abs(read_image(tmp_path / f"x{suffix}").pixels - 0.5).max() < 3 / 255


@pytest.mark.parametrize("channels", [1, 3, 4])
def test_upscale_keeps_channels_and_bit_depth(ultra_x2, channels):
    pixels = np.random.default_rng(1).random((20, 30, channels), dtype=np.float32)
    result = upscale_image(ultra_x2, Image(pixels, 16))
    assert result.pixels.shape == (40, 60, channels)
    assert result.bit_depth == 16
    assert 0 <= result.pixels.min() and result.pixels.max() <= 1


def test_alpha_is_upscaled_like_a_grey_image(ultra_x2):
    rgb = np.random.default_rng(2).random((20, 20, 3), dtype=np.float32)
    alpha = np.random.default_rng(3).random((20, 20, 1), dtype=np.float32)
    rgba = upscale_image(ultra_x2, Image(np.concatenate([rgb, alpha], 2), 8)).pixels
    grey = upscale_image(ultra_x2, Image(alpha, 8)).pixels
    assert np.array_equal(rgba[..., 3:], grey)
    assert np.array_equal(rgba[..., :3], upscale_image(ultra_x2, Image(rgb, 8)).pixels)


def test_large_image_is_tiled_and_equals_untiled(ultra_x2):
    pixels = np.random.default_rng(4).random((150, 230, 3), dtype=np.float32)
    whole = upscale_image(ultra_x2, Image(pixels, 8), tile=4096).pixels
    tiled = upscale_image(ultra_x2, Image(pixels, 8), tile=96).pixels
    assert np.abs(whole - tiled).max() < 1 / 255


def test_too_small_for_the_attention(tmp_path):
    path = tmp_path / "w.pth"
    torch.save(build_plainusr("small", 2).state_dict(), path)
    with pytest.raises(InputError, match="5x6; PlainUSR small needs at least 7x7"):
        upscale_image(load_model(path), Image(np.zeros((6, 5, 3), np.float32), 8))


@pytest.mark.parametrize("content", [b"", b"\x89PNG\r\n\x1a\n truncated", b"hello"])
def test_unreadable_files(tmp_path, content):
    path = tmp_path / "bad.png"
    path.write_bytes(content)
    with pytest.raises(InputError, match="cannot read"):
        read_image(path)


def test_failed_write_leaves_nothing_behind(tmp_path):
    with pytest.raises(OutputError, match="unknown image type"):
        write_image(tmp_path / "x.xyz", Image(np.zeros((4, 4, 3), np.float32), 8))
    with pytest.raises(OutputError, match="cannot write"):
        write_image(tmp_path / "missing-dir" / "x.png", Image(np.zeros((4, 4, 3), np.float32), 8))
    assert list(tmp_path.iterdir()) == []


def test_opaque_alpha_stays_exactly_opaque(ultra_x2):
    rgba = np.concatenate([np.random.default_rng(5).random((20, 20, 3), dtype=np.float32), np.ones((20, 20, 1), np.float32)], 2)
    assert (upscale_image(ultra_x2, Image(rgba, 8)).pixels[..., 3] == 1.0).all()


def test_exif_orientation_is_applied(tmp_path):
    # a 2x4 (w x h) JPEG whose EXIF says "rotate 90 CW" shows as 4x2
    pixels = np.zeros((4, 2, 3), np.uint8)
    ok, jpeg = cv2.imencode(".jpg", pixels)
    exif = (b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x01\x01\x12\x00\x03\x00\x00\x00\x01\x00\x06\x00\x00\x00\x00\x00\x00")
    app1 = b"\xff\xe1" + (len(exif) + 2).to_bytes(2, "big") + exif
    data = jpeg.tobytes()
    (tmp_path / "rotated.jpg").write_bytes(data[:2] + app1 + data[2:])
    image = read_image(tmp_path / "rotated.jpg")
    assert (image.width, image.height) == (4, 2)


def test_out_of_memory_becomes_one_clear_error(ultra_x2, monkeypatch):
    from vsr import images
    from vsr.errors import DeviceError

    def exhausted(*args, **kwargs):
        raise torch.OutOfMemoryError("CUDA out of memory")

    monkeypatch.setattr(images, "upscale_tiled", exhausted)
    with pytest.raises(DeviceError, match="out of memory on cpu with 512px tiles; try tile=256"):
        upscale_image(ultra_x2, Image(np.zeros((20, 20, 3), np.float32), 8))


def test_lossy_files_get_the_video_weights_and_lossless_ones_the_clean_weights(tmp_path):
    """By the file's bytes, not its name: a PNG called .jpg is still lossless."""
    import cv2

    from vsr.images import purpose_for

    picture = np.random.default_rng(0).integers(0, 256, (16, 16, 3), np.uint8)
    written = {
        "photo.jpg": (".jpg", []),
        "lossy.webp": (".webp", [cv2.IMWRITE_WEBP_QUALITY, 80]),
        "lossless.webp": (".webp", [cv2.IMWRITE_WEBP_QUALITY, 101]),  # above 100: VP8L
        "frame.png": (".png", []),
        "scan.tif": (".tiff", []),
        "png-named.jpg": (".png", []),
    }
    for name, (kind, params) in written.items():
        ok, data = cv2.imencode(kind, picture, params)
        assert ok
        (tmp_path / name).write_bytes(data.tobytes())
    got = {name: purpose_for(tmp_path / name) for name in written}
    assert got == {"photo.jpg": "video", "lossy.webp": "video", "lossless.webp": "clean", "frame.png": "clean", "scan.tif": "clean", "png-named.jpg": "clean"}
