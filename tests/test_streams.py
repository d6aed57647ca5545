"""`vsr upscale` on pipes and network streams, through real subprocess pipes and real
sockets on 127.0.0.1 only: stdin -> stdout, an http server, a TCP MPEG-TS sender."""

import functools
import http.server
import signal
import socket
import subprocess
import sys
import threading
import time

import av
import pytest

from conftest import ROOT
from media import make_clip, probe, reference_frame
from vsr.cli import main
from vsr.clip_writer import ClipContainer, VideoEncoding, open_clip
from vsr.errors import InputError
from vsr.video.stages.ending import RunEnding
from vsr.video.stages.upscale import upscale_video

VSR = [sys.executable, "-m", "vsr", "upscale"]


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return make_clip(tmp_path_factory.mktemp("streams") / "clip.mkv", size=(64, 48), frames=12, audio_tracks=1)


def test_stdin_to_stdout_through_real_pipes_equals_the_file_path(tmp_path, clip, capsys):
    by_file = tmp_path / "by_file.mkv"
    assert main(["upscale", str(clip), "-o", str(by_file), "--device", "cpu"]) == 0
    capsys.readouterr()
    by_pipe = tmp_path / "by_pipe.mkv"
    with open(by_pipe, "wb") as stdout:  # input= feeds stdin through a real (non-seekable) pipe
        done = subprocess.run([*VSR, "-", "-o", "-", "--device", "cpu"], input=clip.read_bytes(), stdout=stdout, stderr=subprocess.PIPE, cwd=ROOT, timeout=120)
    stderr = done.stderr.decode()
    assert done.returncode == 0, stderr
    assert "wrote stdout: 12 frames" in stderr  # the summary went to stderr, stdout is the stream only
    piped, filed = probe(by_pipe), probe(by_file)
    assert (piped.width, piped.height, piped.frames) == (128, 96, 12)
    assert piped.times == filed.times
    assert piped.audio[0].packets == filed.audio[0].packets == probe(clip).audio[0].packets
    assert piped.audio[0].times == filed.audio[0].times
    assert piped.colour == filed.colour


def test_a_pipe_output_in_mpegts_says_what_it_cannot_carry(tmp_path):
    src = make_clip(tmp_path / "subs.mkv", size=(64, 48), frames=12, audio_tracks=1, subtitles=True)
    out = tmp_path / "out.ts"
    with open(out, "wb") as stdout:
        done = subprocess.run(
            [*VSR, str(src), "-o", "-", "--format", "mpegts", "--device", "cpu"], stdout=stdout, stderr=subprocess.PIPE, text=True, cwd=ROOT, timeout=120
        )
    assert done.returncode == 0, done.stderr
    assert "cannot hold the input's subtitle stream" in done.stderr
    written = probe(out)
    assert written.frames == 12 and len(written.audio) == 1


def test_moov_at_the_end_on_stdin_is_refused_in_one_line(tmp_path):
    mp4 = make_clip(tmp_path / "clip.mp4", size=(320, 240), frames=40)  # PyAV writes the index last
    done = subprocess.run([*VSR, "-", "-o", str(tmp_path / "o.mkv"), "--device", "cpu"], input=mp4.read_bytes(), capture_output=True, cwd=ROOT, timeout=120)
    done.stderr = done.stderr.decode()
    assert done.returncode == 1
    assert done.stderr.strip().count("\n") == 0 and "index (moov) at the end" in done.stderr
    assert not (tmp_path / "o.mkv").exists()


@pytest.fixture
def http_server(tmp_path):
    handler = functools.partial(_QuietHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    thread.join(5)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def test_an_http_input_from_a_loopback_server(tmp_path, http_server):
    src = make_clip(tmp_path / "served.mp4", size=(64, 48), frames=8, audio_tracks=1)
    result = upscale_video(f"{http_server}/served.mp4", tmp_path / "out.mkv", model="ultra", device="cpu")
    assert result.frames == 8 and result.ended is RunEnding.INPUT_ENDED
    assert probe(tmp_path / "out.mkv").audio[0].packets == probe(src).audio[0].packets


def test_url_failures_are_one_line_each(tmp_path, http_server, capsys):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()  # accepts the connection, never answers
    port = silent.getsockname()[1]
    cases = [
        (f"{http_server}/missing.mp4", "404 Not Found"),
        ("gopherx://127.0.0.1/x", "does not speak the gopherx:// protocol"),
        ("tcp://127.0.0.1:1", "connection refused"),
        (f"http://127.0.0.1:{port}/x.mp4", "nothing came for 1 s"),
    ]
    try:
        for url, expected in cases:
            started = time.perf_counter()
            code = main(["upscale", url, "-o", str(tmp_path / "o.mkv"), "--timeout", "1", "--device", "cpu"])
            err = capsys.readouterr().err
            assert code == 1 and expected in err and err.count("\n") == 1, err
            assert url in err  # as typed: never turned into a path
            assert time.perf_counter() - started < 8
    finally:
        silent.close()
    assert not (tmp_path / "o.mkv").exists()


def test_stdout_that_is_a_terminal_is_refused(monkeypatch, capsys, clip):
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    assert main(["upscale", str(clip), "-o", "-"]) == 2
    assert "terminal" in capsys.readouterr().err


class TcpSender:
    """A PyAV writer thread: MPEG-TS over a TCP connection it accepts on 127.0.0.1, at
    `rate` frames a second, until `frames` are sent or `stop()`; then it closes."""

    def __init__(self, frames: int | None, rate: float = 50, hold_open: bool = False):
        self.server = socket.create_server(("127.0.0.1", 0))
        self.url = f"tcp://127.0.0.1:{self.server.getsockname()[1]}"
        self.frames, self.rate, self.sent, self.hold_open = frames, rate, 0, hold_open
        self._stop = threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.thread.join(10)
        self.server.close()

    def _run(self) -> None:
        try:
            conn, _ = self.server.accept()
            live = VideoEncoding(options={"tune": "zerolatency", "preset": "ultrafast"})
            with conn, conn.makefile("wb") as wire, open_clip(wire, 64, 48, live, container=ClipContainer("mpegts")) as clip:
                index = 0
                while not self._stop.is_set() and (self.frames is None or index < self.frames):
                    clip.write(reference_frame(index, (64, 48)), pts=index)
                    index += 1
                    self.sent = index
                    time.sleep(1 / self.rate)
                clip.flush()
                wire.flush()
                while self.hold_open and not self._stop.wait(0.05):
                    pass  # silent, but the connection stays up
        except (OSError, av.FFmpegError) as exc:  # the receiver went away
            self.error = exc


def test_a_tcp_stream_ended_by_the_sender_gives_a_playable_output(tmp_path):
    sender = TcpSender(frames=30)
    try:
        result = upscale_video(sender.url, tmp_path / "out.mkv", model="ultra", device="cpu", timeout=5, realtime="block")
    finally:
        sender.stop()
    assert result.ended is RunEnding.INPUT_ENDED
    assert result.frames == 30 == probe(tmp_path / "out.mkv").frames


def test_a_tcp_stream_stopped_by_sigint_is_finished_and_playable(tmp_path):
    sender = TcpSender(frames=None, rate=25)
    out = tmp_path / "live.mkv"
    process = subprocess.Popen([*VSR, sender.url, "-o", str(out), "--device", "cpu"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = [process.stderr.readline() for _ in range(1)]
        while "float32" not in lines[-1] and lines[-1] and len(lines) < 5:  # notices may come first
            lines.append(process.stderr.readline())
        assert "float32" in lines[-1], lines  # running: the start line, whole (a pipe is never wrapped)
        time.sleep(1.5)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
        sender.stop()
    assert process.returncode == 130, stderr
    assert "stopped: interrupted (Ctrl-C)" in stdout and "Traceback" not in stderr
    written = probe(out)
    assert written.frames > 5 and (written.width, written.height) == (128, 96)
    assert [p.name for p in tmp_path.iterdir()] == ["live.mkv"]  # no temporary file left


def test_a_stream_that_falls_silent_ends_after_the_timeout_with_its_frames_kept(tmp_path):
    sender = TcpSender(frames=10, hold_open=True)
    try:
        started = time.perf_counter()
        result = upscale_video(sender.url, tmp_path / "out.mkv", model="ultra", device="cpu", timeout=1, realtime="block")
        assert time.perf_counter() - started < 10
    finally:
        sender.stop()
    assert result.ended is RunEnding.INPUT_LOST and "1 s" in result.lost_because, (result.ended, result.lost_because)
    assert result.frames == 10 and probe(tmp_path / "out.mkv").frames == 10


def test_an_unreadable_pipe_input_is_one_line(tmp_path):
    with pytest.raises(InputError, match="stdin is empty"):
        with open("/dev/null", "rb") as empty:
            saved, sys.stdin = sys.stdin, type("Stdin", (), {"buffer": empty})()
            try:
                upscale_video("-", tmp_path / "o.mkv", model="ultra", device="cpu")
            finally:
                sys.stdin = saved


def test_an_output_url_streams_mpegts_over_tcp(tmp_path, clip):
    receiver = socket.create_server(("127.0.0.1", 0))
    received = tmp_path / "received.ts"

    def receive() -> None:
        conn, _ = receiver.accept()
        with conn, open(received, "wb") as f:
            while chunk := conn.recv(65536):
                f.write(chunk)

    thread = threading.Thread(target=receive, daemon=True)
    thread.start()
    try:
        result = upscale_video(clip, f"tcp://127.0.0.1:{receiver.getsockname()[1]}", model="ultra", device="cpu", timeout=5)
        thread.join(10)
    finally:
        receiver.close()
    assert result.output.startswith("tcp://") and result.frames == 12
    written = probe(received)
    assert written.frames == 12 and (written.width, written.height) == (128, 96) and len(written.audio) == 1


def test_a_reader_that_quits_early_ends_the_run_quietly_with_exit_0(tmp_path):
    src = make_clip(tmp_path / "long.mkv", size=(160, 120), frames=150)
    process = subprocess.Popen([*VSR, str(src), "-o", "-", "--device", "cpu"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=False)
    try:
        assert len(process.stdout.read(4096)) == 4096
        process.stdout.close()  # like `| head -c 4096`
        stderr = process.stderr.read().decode()
        process.wait(60)
    finally:
        process.kill()
    assert process.returncode == 0, stderr
    assert "stopped: the reader closed the output" in " ".join(stderr.split())
    assert "Traceback" not in stderr and "Exception ignored" not in stderr


def test_urls_and_pipes_are_not_batched(tmp_path, clip, capsys):
    assert main(["upscale", str(clip), "http://127.0.0.1:1/x.mp4", "-o", str(tmp_path / "out")]) == 2
    assert "http://127.0.0.1:1/x.mp4: a pipe, URL or device is upscaled on its own" in capsys.readouterr().err


def test_every_run_ending_has_the_summarys_words():
    from types import SimpleNamespace

    from vsr.commands.progress_view import ending_words

    said = {ending: ending_words(SimpleNamespace(ended=ending, lost_because="no data for 1 s")) for ending in RunEnding}
    assert said[RunEnding.INPUT_LOST] == "the input was lost (no data for 1 s)"
    assert said[RunEnding.INTERRUPTED] == "interrupted (Ctrl-C)"
    assert len(set(said.values())) == len(RunEnding)
