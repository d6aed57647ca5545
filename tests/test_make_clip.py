"""vsr.clip_writer (how vsr writes a clip) and vsr.samples.make_clip (the demo clip and the
benchmark inputs, made from a real clip): what they write, and that a failure leaves nothing."""

import av
import numpy as np
import pytest
from conftest import SHARED
from media import probe, reference_frame

from vsr.clip_writer import BT709_TAGS, VideoEncoding, open_clip
from vsr.samples import SAMPLE_CLIP
from vsr.samples.make_clip import main


def test_a_clip_takes_arrays_and_frames_at_the_given_times(tmp_path):
    encoding = VideoEncoding(options={"crf": "10", "preset": "ultrafast"}, colour=BT709_TAGS)
    with open_clip(tmp_path / "clip.mkv", 64, 48, encoding, rate=25) as clip:
        for t in range(3):
            clip.write(reference_frame(t), pts=t)
        big = av.VideoFrame.from_ndarray(np.repeat(np.repeat(reference_frame(3), 2, 0), 2, 1), format="rgb24")
        clip.write(big, pts=5)  # another size and format: converted
    info = probe(tmp_path / "clip.mkv")
    assert (info.width, info.height, info.pix_fmt, info.frames) == (64, 48, "yuv420p", 4)
    assert info.times == pytest.approx([0, 0.04, 0.08, 0.2])
    assert info.colour == BT709_TAGS


def test_an_atomic_clip_that_fails_leaves_nothing(tmp_path):
    with pytest.raises(RuntimeError), open_clip(tmp_path / "clip.mp4", 64, 48, atomic=True) as clip:
        clip.write(reference_frame(0), pts=0)
        raise RuntimeError("stopped half way")
    assert list(tmp_path.iterdir()) == []


def test_a_benchmark_input_is_resized_repeated_and_keeps_the_audio(tmp_path, capsys):
    out = tmp_path / "in.mp4"
    assert main([str(SAMPLE_CLIP), str(out), "--size", "160x90", "--frames", "10", "--repeat", "3"]) == 0
    assert f"{out}: " in capsys.readouterr().out
    info, source = probe(out), probe(SAMPLE_CLIP)
    assert (info.width, info.height, info.frames) == (160, 90, 30)
    start = source.times[0]
    assert info.times == pytest.approx([start + i / 25 for i in range(30)], abs=1e-3)
    assert info.colour == BT709_TAGS
    (audio,), (source_audio,) = info.audio, source.audio  # copied once: the packets that start within the 10 frames
    kept = len(audio.packets)
    assert audio.packets == source_audio.packets[:kept] and audio.language == source_audio.language
    assert source_audio.times[kept - 1] < start + 0.4 <= source_audio.times[kept]
    data = out.read_bytes()
    assert data.index(b"moov") < data.index(b"mdat")  # faststart: the index first


@pytest.mark.parametrize(
    "args, code, words",
    [
        (["missing.mp4", "out.mp4", "--size", "64x36"], 1, "cannot read missing.mp4"),
        ([str(SAMPLE_CLIP), "out.mp4", "--size", "64x36", "--frames", "60"], 1, "has 50 frames, not 60; ask for fewer --frames"),
        ([str(SAMPLE_CLIP), "out.mp4", "--size", "63x36"], 2, "width and height must be even"),
        ([str(SAMPLE_CLIP), "out.mp4"], 2, "the clip needs a size: WIDTHxHEIGHT"),
        ([str(SAMPLE_CLIP), "out.xyz", "--size", "64x36"], 2, "cannot write .xyz"),
    ],
)
def test_bad_input_is_one_line_and_leaves_nothing(tmp_path, monkeypatch, capsys, args, code, words):
    monkeypatch.chdir(tmp_path)
    assert main(args) == code
    err = capsys.readouterr().err
    assert words in err and err.count("\n") == 1 and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.shared
def test_the_demo_recipe_remakes_the_bundled_clip(tmp_path):
    """Byte for byte with the same x264 build and thread count; here: the same streams,
    metadata, timestamps and audio bytes, and pictures within encoder noise of the bundled."""
    out = tmp_path / "demo.mp4"
    assert main([str(SHARED / "media" / "bigbuckbunny.mp4"), str(out), "--recipe", "demo"]) == 0
    made, bundled = probe(out), probe(SAMPLE_CLIP)
    assert (made.width, made.height, made.frames, made.times) == (bundled.width, bundled.height, 50, bundled.times)
    recipe = [{k: v for k, v in m.items() if k != "encoder"} for m in (made.metadata, bundled.metadata)]  # encoder: the muxer's version (Lavf62.12.102 ...)
    assert recipe[0] == recipe[1] and "CC-BY 3.0" in made.metadata["copyright"]
    assert (made.colour, [t.codec for t in made.audio]) == (bundled.colour, ["aac"])
    assert made.audio[0].packets == bundled.audio[0].packets
    with av.open(str(out)) as a, av.open(str(SAMPLE_CLIP)) as b:
        for x, y in zip(a.decode(video=0), b.decode(video=0), strict=True):
            mse = np.mean((x.to_ndarray().astype(float) - y.to_ndarray().astype(float)) ** 2)
            assert mse < 10  # PSNR > 38 dB: the same recipe (another thread count encodes a little differently)
