"""upscale_frames keeps a batch in flight on CUDA (copies overlap compute) and none on the
CPU; the code that holds batches back runs here with `in_flight` asked for directly."""

import numpy as np
import pytest

import vsr
from vsr.errors import WeightsError
from vsr.video.stages.frames_api import _upscaled


@pytest.fixture(scope="module")
def ultra_x2():
    return vsr.load_model("ultra", scale=2, device="cpu")


def _arrays(count, size=(24, 16)):
    rng = np.random.default_rng(3)
    return [rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8) for _ in range(count)]


def _consumed_before_each_output(frames, outputs):
    taken, seen = [], 0

    def counted():
        nonlocal seen
        for frame in frames:
            seen += 1
            yield frame

    results = []
    for out in outputs(counted()):
        taken.append(seen)
        results.append(out)
    return taken, results


@pytest.mark.parametrize("in_flight", [0, 1, 2])
def test_batches_held_in_flight_give_the_same_frames_in_order(ultra_x2, in_flight):
    frames = _arrays(5) + _arrays(2, size=(20, 18)) + _arrays(2)  # two layout changes
    expected = list(vsr.upscale_frames(frames, model=ultra_x2, batch=2))
    taken, got = _consumed_before_each_output(frames, lambda it: _upscaled(it, ultra_x2, 2, in_flight))
    assert len(got) == len(expected) == 9
    assert all(np.array_equal(a, b) for a, b in zip(got, expected, strict=True))
    # the first output comes once 1 + in_flight batches of 2 were queued
    assert taken[0] == 2 * (1 + in_flight)


def test_on_the_cpu_each_batch_comes_back_as_soon_as_it_is_queued(ultra_x2):
    taken, _ = _consumed_before_each_output(_arrays(6), lambda it: vsr.upscale_frames(it, model=ultra_x2, batch=3))
    assert taken == [3, 3, 3, 6, 6, 6]


def test_a_bad_model_still_fails_when_iterated_not_when_called():
    frames = vsr.upscale_frames(_arrays(1), model="no-such-model")
    with pytest.raises(WeightsError, match="no-such-model"):
        next(frames)
