"""The realtime policies: `drop` keeps the newest frames and counts the rest when the
model is slower than the input; `block` makes the input wait and drops nothing."""

import threading
import time
from dataclasses import dataclass

import av
import numpy as np
import pytest

from media import make_clip, probe
from vsr.model import SRModel, load_model
from vsr.video.stages.pipeline import Pipeline
from vsr.video.stages.realtime import NewestFrames, channel_for
from vsr.video.io.source import DecodedFrame
from vsr.video.stages.upscale import upscale_video


@dataclass
class SlowModel(SRModel):
    """The real model, 80 ms slower per call: slower than a 25 fps input."""

    def __call__(self, x, region=None):
        time.sleep(0.08)
        return super().__call__(x, region)


@pytest.fixture(scope="module")
def slow():
    model = load_model("ultra", scale=2, device="cpu")
    return SlowModel(**{name: getattr(model, name) for name in model.__dataclass_fields__})


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return make_clip(tmp_path_factory.mktemp("rt") / "clip.mkv", size=(32, 24), frames=20, audio_tracks=1)


def test_drop_keeps_the_newest_frames_and_every_packet():
    channel = NewestFrames(3, threading.Event())
    packet = av.Packet(b"audio")
    for i in range(10):
        channel.put(DecodedFrame(i, 1, np.zeros(1, np.uint8)))
        channel.put(packet)
    got = [channel.get() for _ in range(13)]
    assert [item.pts for item in got if isinstance(item, DecodedFrame)] == [7, 8, 9]
    assert sum(item is packet for item in got) == 10 and channel.dropped == 7


def test_auto_drops_only_for_live_inputs():
    pipeline = Pipeline(capacity=4)
    assert isinstance(channel_for("auto", True, pipeline), NewestFrames)
    assert not isinstance(channel_for("auto", False, pipeline), NewestFrames)
    assert isinstance(channel_for("drop", False, pipeline), NewestFrames)


def test_drop_with_a_slow_model_counts_what_it_let_go(tmp_path, clip, slow):
    result = upscale_video(clip, tmp_path / "drop.mkv", model=slow, realtime="drop", queue_size=2)
    assert result.frames_dropped > 0 and result.frames + result.frames_dropped == 20
    written = probe(tmp_path / "drop.mkv")
    assert written.frames == result.frames
    assert written.audio[0].packets == probe(clip).audio[0].packets  # audio is never dropped
    assert written.times == sorted(written.times)


def test_block_with_a_slow_model_keeps_every_frame(tmp_path, clip, slow):
    result = upscale_video(clip, tmp_path / "block.mkv", model=slow, realtime="block", queue_size=2)
    assert result.frames_dropped == 0 and result.frames == 20 == probe(tmp_path / "block.mkv").frames
