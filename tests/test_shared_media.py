"""Real clips from ../shared/media (skipped when it is absent): 5.1 audio passthrough on
H.264/AAC, and an old AVI with packed B-frames and a corrupt audio packet."""

import av
import pytest

import vsr
from conftest import SHARED
from media import probe

pytestmark = pytest.mark.shared
MEDIA = SHARED / "media"


@pytest.fixture(scope="module")
def ultra_x2():
    return vsr.load_model("ultra", scale=2, device="cpu")


def test_big_buck_bunny_keeps_every_frame_time_and_its_5_1_audio(tmp_path, ultra_x2):
    src = MEDIA / "bigbuckbunny.mp4"
    result = vsr.upscale_video(src, tmp_path / "bbb_x2.mp4", model=ultra_x2, encoder_preset="ultrafast")
    before, after = probe(src), probe(result.output)
    assert result.frames == after.frames == 132 and (after.width, after.height) == (2560, 1440)
    assert after.times == pytest.approx(before.times, abs=1e-6)
    assert after.audio[0].packets == before.audio[0].packets and len(after.audio[0].packets) > 200
    with av.open(str(result.output)) as out:
        assert out.streams.audio[0].codec_context.channels == 6
    assert abs(after.duration - before.duration) < 0.05
    assert result.warnings == []


def test_avi_with_a_corrupt_audio_packet_completes_with_all_270_frames(tmp_path, ultra_x2):
    src = MEDIA / "Megamind.avi"
    result = vsr.upscale_video(src, tmp_path / "megamind_x2.mkv", model=ultra_x2, encoder_preset="ultrafast")
    before, after = probe(src), probe(result.output)
    assert result.frames == after.frames == 270 and (after.width, after.height) == (1440, 1056)
    assert after.audio[0].codec == "ac3" and after.audio[0].packets == before.audio[0].packets
    step = 125 / 2997  # 23.976 fps; the AVI has no presentation times, so frame k sits at k steps
    assert after.times == pytest.approx([(k + 1) * step for k in range(270)], abs=1e-3)
    assert not any("damaged" in w for w in result.warnings)
