"""--width/--height/--resolution: the network's scale, then FFmpeg's Lanczos resize to the
exact size; the display aspect ratio kept (by the SAR where needed); the start line names
both steps."""

from fractions import Fraction

import cv2
import numpy as np
import pytest

from media import make_clip, probe, reference_frame, video_frames_rgb
from vsr import upscale_video
from vsr.cli import main
from vsr.video.io.output_size import TargetSize, resized


def display_aspect(p) -> Fraction:
    return Fraction(p.width, p.height) * Fraction(p.sar or 1)


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return make_clip(tmp_path_factory.mktemp("clips") / "clip.mp4", size=(32, 24), frames=4, audio_tracks=1)


@pytest.mark.parametrize(
    "flags,size",
    [(["--width", "100"], (100, 76)), (["--height", "30"], (40, 30)), (["--resolution", "100x50"], (100, 50)), (["--resolution", "96x72"], (96, 72))],
)
def test_the_exact_size_is_reached_and_the_picture_keeps_its_shape(tmp_path, capsys, clip, flags, size):
    out = tmp_path / "out.mkv"
    assert main(["upscale", str(clip), "-o", str(out), "--device", "cpu", *flags]) == 0
    err = capsys.readouterr().err
    written = probe(out)
    assert (written.width, written.height, written.frames) == (*size, 4)
    assert display_aspect(written) == Fraction(4, 3)  # 32x24 square pixels: 4:3, whatever the size
    assert f"32x24 yuv420p -> 64x48 (network) -> {size[0]}x{size[1]} (FFmpeg Lanczos)" in err
    assert len(written.audio) == 1
    rgb = cv2.resize(video_frames_rgb(out)[0], (32, 24), interpolation=cv2.INTER_AREA).astype(float)
    assert np.abs(rgb - reference_frame(0, (32, 24))).mean() < 8  # the picture itself, resized


def test_a_non_square_input_keeps_its_display_aspect(tmp_path):
    src = make_clip(tmp_path / "anamorphic.mkv", size=(32, 24), frames=2, sar=Fraction(4, 3))
    result = upscale_video(src, tmp_path / "out.mkv", device="cpu", width=80)
    written = probe(tmp_path / "out.mkv")
    assert result.size_out == (80, 60) and (written.width, written.height) == (80, 60)
    assert display_aspect(written) == Fraction(32 * 4, 24 * 3)


def test_sizes_are_worked_out_as_ffmpegs_scale_filter_does():
    assert resized(64, 48, TargetSize(), None) == (64, 48, None)
    assert resized(64, 48, TargetSize(96, None), None) == (96, 72, None)
    assert resized(64, 48, TargetSize(None, 100), Fraction(2)) == (134, 100, Fraction(2) * Fraction(100 * 64, 134 * 48))
    assert resized(64, 48, TargetSize(64, 64), None) == (64, 64, Fraction(4, 3))
    assert TargetSize.parse("1920x1080") == TargetSize(1920, 1080) and TargetSize.parse("1280:-1") == TargetSize(1280, None)


def test_bad_sizes_are_one_line(tmp_path, capsys, clip):
    code = main(["upscale", str(clip), "-o", str(tmp_path / "x.mkv"), "--resolution", "100x50", "--width", "90"])
    assert code == 2 and "not both" in capsys.readouterr().err
    code = main(["upscale", str(clip), "-o", str(tmp_path / "x.mkv"), "--width", "1"])
    assert code == 2 and "width must be 2 pixels or more" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["upscale", str(clip), "--resolution", "huge"])
    assert "not a size" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
