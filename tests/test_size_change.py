"""Mid-stream changes (vsr.video.io.size_change): a transport stream whose frame size
changes comes out whole at the first size, with one warning that counts the frames;
`on_size_change="error"` keeps the refusal; a change of matrix or range is converted."""

import av
import numpy as np
import pytest
from source_media import make_size_change_ts, pan_frame
from test_cli import run_cli

import vsr
from vsr.errors import InputError
from vsr.video.io.size_change import FrameConformer


@pytest.fixture(scope="module")
def ultra_x2():
    return vsr.load_model("ultra", scale=2, device="cpu")


def test_a_size_change_in_a_ts_comes_out_whole_at_the_first_size(tmp_path, ultra_x2):
    src = tmp_path / "dvb.ts"
    make_size_change_ts(src, sizes=((320, 180), (480, 270)), frames=5)
    with av.open(str(src)) as clip:
        before = [(f.width, f.height, float(f.time)) for f in clip.decode(video=0)]
    assert {(w, h) for w, h, _ in before} == {(320, 180), (480, 270)}
    result = vsr.upscale_video(src, tmp_path / "out.mkv", model=ultra_x2)
    with av.open(str(result.output)) as clip:
        frames = list(clip.decode(video=0))
    assert result.frames == len(frames) == 10
    assert {(f.width, f.height) for f in frames} == {(640, 360)}
    assert [float(f.time) for f in frames] == pytest.approx([t for _, _, t in before], abs=1e-3)
    assert [w for w in result.warnings if "mid-stream" in w] == [
        "the input changes mid-stream: 5 frame(s) of another size (480x270) were scaled to the first frame's 320x180"
    ]
    # the scaled frames show the picture, stretched to the first size (as FFmpeg scales)
    last = frames[-1].to_ndarray(format="rgb24")[::2, ::2].astype(float)
    truth = av.VideoFrame.from_ndarray(pan_frame(9, (480, 270)), format="rgb24").reformat(width=320, height=180).to_ndarray(format="rgb24")
    assert np.abs(last - truth).mean() < 12


def test_the_refusal_stays_available(tmp_path, ultra_x2, capsys):
    src = tmp_path / "dvb.ts"
    make_size_change_ts(src, frames=3)
    with pytest.raises(InputError, match="frame size changes from 320x180 to 480x270 at frame 3 of .*on_size_change=scale"):
        vsr.upscale_video(src, tmp_path / "out.mkv", model=ultra_x2, on_size_change="error")
    assert not (tmp_path / "out.mkv").exists()
    code, _, err = run_cli(capsys, "upscale", src, "-o", tmp_path / "cli.mkv", "--model", "ultra", "--device", "cpu", "--on-size-change", "error", "--quiet")
    assert code == 1 and "--on-size-change scale" in err and not (tmp_path / "cli.mkv").exists()


def test_a_matrix_or_range_change_is_converted_to_the_first_and_counted():
    first = av.VideoFrame.from_ndarray(pan_frame(0, (64, 48)), format="rgb24").reformat(format="yuv420p", dst_colorspace="ITU709")
    first.colorspace, first.color_range = 1, 1  # bt709, limited
    conformer = FrameConformer(first)
    assert conformer.conform(first) is first
    full = av.VideoFrame.from_ndarray(pan_frame(0, (64, 48)), format="rgb24").reformat(format="yuvj420p")
    full.colorspace, full.color_range = 5, 2  # bt601, full
    made = conformer.conform(full)
    assert (made.format.name, made.colorspace, made.color_range) == ("yuv420p", 1, 1)
    # the same picture: converted, not just retagged
    assert np.abs(made.to_ndarray(format="rgb24").astype(float) - first.to_ndarray(format="rgb24")).mean() < 4
    assert conformer.report() == (
        "the input changes mid-stream: 1 frame(s) in another pixel format or matrix/range (yuvj420p (matrix 5, range 2)) "
        "were converted to the first's yuv420p (matrix 1, range 1)"
    )
