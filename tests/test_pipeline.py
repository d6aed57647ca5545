"""The thread/channel machinery: back-pressure, END, and failure in any stage stopping the
others promptly with the error reaching the caller and no thread left behind."""

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from vsr.video.stages.pipeline import END, Pipeline


def _vsr_threads():
    return [t for t in threading.enumerate() if t.name.startswith("vsr-")]


def _three_stage(fail_in=None, items=200, capacity=4):
    pipeline = Pipeline(capacity=capacity)
    a, b = pipeline.channel(), pipeline.channel()
    seen, high_water = [], [0]

    def produce(clock):
        for i in range(items):
            if fail_in == "produce" and i == 50:
                raise OSError("disk vanished")
            a.put(i, clock)
            high_water[0] = max(high_water[0], a._queue.qsize())
        a.put(END, clock)

    def transform(clock):
        while (item := a.get(clock)) is not END:
            if fail_in == "transform" and item == 50:
                raise ValueError("model exploded")
            b.put(item * 2, clock)
        b.put(END, clock)

    def consume(clock):
        while (item := b.get(clock)) is not END:
            if fail_in == "consume" and item == 100:
                raise RuntimeError("encoder refused")
            seen.append(item)
            time.sleep(0.0005)  # slower than the producer: the channels fill up

    for name, work in (("produce", produce), ("transform", transform), ("consume", consume)):
        pipeline.add(name, work)
    return pipeline, seen, high_water


def test_every_item_arrives_in_order_with_bounded_channels():
    pipeline, seen, high_water = _three_stage(capacity=4)
    pipeline.run()
    assert seen == [2 * i for i in range(200)]
    assert high_water[0] <= 4
    assert all(clock.finished >= clock.started > 0 for clock in pipeline.clocks)
    assert not _vsr_threads()


@pytest.mark.parametrize("stage,error", [("produce", OSError), ("transform", ValueError), ("consume", RuntimeError)])
def test_a_failing_stage_stops_the_others_and_its_error_reaches_the_caller(stage, error):
    pipeline, seen, _ = _three_stage(fail_in=stage)
    started = time.monotonic()
    with pytest.raises(error) as raised:
        pipeline.run()
    assert time.monotonic() - started < 5
    assert any(stage in note for note in raised.value.__notes__)
    assert len(seen) < 200
    assert not _vsr_threads()


def test_interrupt_in_the_caller_stops_every_stage():
    pipeline = Pipeline(capacity=2)
    channel = pipeline.channel()

    def forever(clock):
        while True:
            channel.put(1, clock)

    def slow(clock):
        while True:
            channel.get(clock)
            time.sleep(0.01)

    pipeline.add("forever", forever)
    pipeline.add("slow", slow)
    ticks = []

    def interrupt_on_third_tick():
        ticks.append(1)
        if len(ticks) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        pipeline.run(on_tick=interrupt_on_third_tick)
    assert not _vsr_threads()


def test_interrupt_while_the_threads_start_still_stops_and_joins_them(monkeypatch):
    original_start = threading.Thread.start
    started = []

    def start_then_interrupt(thread):
        original_start(thread)
        started.append(thread)
        if len(started) == 2:
            raise KeyboardInterrupt

    pipeline, _, _ = _three_stage(items=100_000)
    monkeypatch.setattr(threading.Thread, "start", start_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        pipeline.run()
    assert not _vsr_threads()


def test_a_stage_launched_by_a_start_that_ctrl_c_cut_short_never_works(monkeypatch):
    """On a loaded machine a Ctrl-C can land in Thread.start after the thread was launched
    but before it reported in: run() cannot see it alive, returns, and its caller closes the
    files; when the thread runs at last it must not touch them (that was a SIGSEGV)."""
    original_start = threading.Thread.start
    late: list[threading.Timer] = []

    def start_late_then_interrupt(thread):
        if thread.name != "vsr-produce":
            return original_start(thread)
        late.append(threading.Timer(0.3, original_start, args=(thread,)))  # runs only later...
        original_start(late[0])
        raise KeyboardInterrupt  # ...and the Ctrl-C is raised in the caller's start()

    pipeline = Pipeline()
    worked = []
    pipeline.add("produce", lambda clock: worked.append(time.monotonic()))
    monkeypatch.setattr(threading.Thread, "start", start_late_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        pipeline.run()
    monkeypatch.undo()
    late[0].join()
    for thread in _vsr_threads():
        thread.join(5)
    assert pipeline.clocks[0].started > 0 and not _vsr_threads()  # the late thread did run, and ended
    assert worked == []


@pytest.mark.parametrize("presses", ["once", "a flood"])
def test_a_ctrl_c_during_the_wait_still_waits_for_a_stage_that_works_on(presses):
    """A KeyboardInterrupt raised inside Thread.join marks a running thread as ended (CPython
    gh-90882, 3.11 and 3.12), and one raised inside threading's locks can leave them held.
    run() handles Ctrl-C at its own safe points, so it raises KeyboardInterrupt only after
    the stage has stopped working, and neither hangs nor escapes early however many
    SIGINTs arrive while it stops (the flood, from another process, is far faster than
    any user). The handler in place is Python's own, as for a library caller."""
    pipeline = Pipeline()
    finished = []
    main = threading.main_thread().ident

    def works_on_after_the_stop(clock):
        time.sleep(0.2)  # the caller is waiting in run() by now
        signal.pthread_kill(main, signal.SIGINT)  # Ctrl-C
        assert pipeline.stop.wait(10)
        if presses == "a flood":
            flood = subprocess.Popen([sys.executable, "-c", FLOOD, str(os.getpid())])
            time.sleep(0.5)
            flood.kill()
            flood.wait()
        time.sleep(0.3)  # inside a long native call (a demux) when the stop came
        finished.append(time.monotonic())

    pipeline.add("decode", works_on_after_the_stop)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            pipeline.run()
        returned = time.monotonic()
    finally:
        signal.signal(signal.SIGINT, previous)
    assert finished and finished[0] <= returned
    assert not _vsr_threads()


FLOOD = """
import os, signal, sys
while True:
    os.kill(int(sys.argv[1]), signal.SIGINT)
"""


def test_a_ctrl_c_that_the_handler_in_place_ignores_does_not_stop_the_run():
    """run() hands each SIGINT to the handler that was in place; one that ignores it (vsr's
    own, while a first Ctrl-C is being cleaned up) leaves the run going."""
    pipeline, seen, _ = _three_stage(items=2000, capacity=2)
    main = threading.main_thread().ident
    handled = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: handled.append(signum))
    try:
        threading.Timer(0.05, signal.pthread_kill, args=(main, signal.SIGINT)).start()
        pipeline.run()
    finally:
        signal.signal(signal.SIGINT, previous)
    assert handled == [signal.SIGINT]
    assert seen == [i * 2 for i in range(2000)] and not pipeline.stop.is_set()


def test_ctrl_c_ends_an_on_tick_blocked_in_a_write():
    """`vsr live | less` fills the pipe and its tick blocks in a write: only the handler
    raising inside that write can end it, so on_tick runs with the handler in charge."""
    pipeline = Pipeline()
    pipeline.add("wait", lambda clock: pipeline.stop.wait(30))
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    with contextlib.suppress(BlockingIOError):
        while True:
            os.write(write_end, bytes(65536))
    os.set_blocking(write_end, True)
    main = threading.main_thread().ident
    threading.Timer(0.3, signal.pthread_kill, args=(main, signal.SIGINT)).start()
    unblocked = []
    watchdog = threading.Timer(10, lambda: unblocked.append(os.close(read_end)))  # if it stays blocked: not a hung suite
    watchdog.start()
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            pipeline.run(on_tick=lambda: os.write(write_end, b"fps 30\n"))
    finally:
        signal.signal(signal.SIGINT, previous)
        watchdog.cancel()
        watchdog.join()
        os.close(write_end)
        if not unblocked:
            os.close(read_end)
    assert not unblocked, "the Ctrl-C did not end the blocked write; closing the pipe did"
    assert not _vsr_threads()


def test_a_ctrl_c_during_the_stop_for_an_error_does_not_replace_the_error():
    pipeline = Pipeline()
    main = threading.main_thread().ident

    def works_on_after_the_stop(clock):
        assert pipeline.stop.wait(10)
        signal.pthread_kill(main, signal.SIGINT)  # the user presses Ctrl-C as the window fails
        time.sleep(0.2)

    def window_fails():
        raise RuntimeError("the window closed")

    pipeline.add("decode", works_on_after_the_stop)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(RuntimeError, match="the window closed"):
            pipeline.run(on_tick=window_fails)
    finally:
        signal.signal(signal.SIGINT, previous)
