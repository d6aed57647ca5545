"""LatestSlot alone: the producer never waits, a slow consumer gets the newest item, the
rest are counted as dropped; close delivers what is left, then END; stop ends a wait."""

import threading
import time

import pytest

from vsr.live.latest import LatestSlot
from vsr.video.stages.pipeline import END, StageClock, Stopped


def test_put_replaces_an_untaken_item_and_counts_it_dropped():
    slot = LatestSlot(threading.Event())
    assert slot.take() is None
    for item in range(5):
        slot.put(item)  # never blocks
    assert slot.take() == 4 and slot.dropped == 4
    assert slot.take() is None


def test_close_delivers_the_last_item_then_end():
    slot = LatestSlot(threading.Event())
    slot.put("last")
    slot.close()
    assert slot.get() == "last" and slot.get() is END and slot.take() is END


def test_get_waits_for_an_item_and_counts_the_wait():
    slot, clock = LatestSlot(threading.Event()), StageClock("consumer")
    threading.Timer(0.2, slot.put, args=("late",)).start()
    assert slot.get(clock) == "late"
    assert clock.waiting >= 0.15


def test_stop_ends_a_waiting_get_promptly():
    stop = threading.Event()
    slot = LatestSlot(stop)
    threading.Timer(0.1, stop.set).start()
    started = time.perf_counter()
    with pytest.raises(Stopped):
        slot.get()
    assert time.perf_counter() - started < 1.0
