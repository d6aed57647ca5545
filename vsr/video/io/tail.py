"""The last frames of a broken file: what a frame-threaded decoder drops while draining.

A frame-threaded decoder holds several frames (one per thread, plus the B-frame reorder
delay). At the end of the input it is drained: FFmpeg's receive call hands the held frames
out one by one, and FFmpeg's own tools keep calling it past a damaged frame's error. PyAV
cannot: its drain is one call that stops at the first error, and a second drain is refused
(end of file), so the frames still held after a truncated last packet are lost.

`DecoderTail` keeps the packets of the last group(s) of pictures (from a keyframe on, at
least `KEEP_PACKETS` of them, so a keyframe just before the end does not leave the held
frames out) and, when packets whose time is later than every frame the decoder gave never
came out, decodes that tail again in a fresh decoder without frame threads, which reports
the damaged packet's error when it is sent and drains the rest. Only frames later than the
last one already given are returned, so nothing is repeated or reordered.
"""

from collections import deque

import av

KEEP_PACKETS = 48  # far more than a decoder holds (threads + reorder delay)


class DecoderTail:
    def __init__(self, stream: av.video.stream.VideoStream):
        self.stream = stream
        self._groups: deque[list[av.Packet]] = deque()
        self._latest: int | None = None  # the latest pts the decoder gave out
        self.recovered = 0

    def keep(self, packet: av.Packet) -> None:
        """Call with every video packet, before decoding it."""
        if not packet.size:
            return
        if packet.is_keyframe or not self._groups:
            self._groups.append([])
            while len(self._groups) > 1 and sum(map(len, list(self._groups)[1:])) >= KEEP_PACKETS:
                self._groups.popleft()
        self._groups[-1].append(packet)

    def saw(self, frame: av.VideoFrame) -> None:
        """Call with every frame the decoder gave."""
        if frame.pts is not None and (self._latest is None or frame.pts > self._latest):
            self._latest = frame.pts

    def held_back(self) -> list[av.VideoFrame]:
        """After the drain: the frames, oldest first, that the drain lost and a fresh
        decoder gets from the kept packets (none when nothing is missing)."""
        packets = [p for group in self._groups for p in group]
        missing = {p.pts for p in packets if p.pts is not None and not p.is_discard and (self._latest is None or p.pts > self._latest)}
        self._groups.clear()
        if not missing or self.stream.codec_context is None:
            return []
        try:
            frames = [f for f in _decode_without_frame_threads(self.stream, packets) if f.pts in missing]
        except (av.FFmpegError, ValueError):  # no second decoder for this stream: keep what came
            return []
        frames.sort(key=lambda f: f.pts)
        self.recovered = len(frames)
        return frames


def _decode_without_frame_threads(stream, packets: list[av.Packet]) -> list[av.VideoFrame]:
    source = stream.codec_context
    decoder = av.CodecContext.create(source.codec.name, "r")
    decoder.extradata = source.extradata
    decoder.width, decoder.height = source.width, source.height
    decoder.thread_type = "SLICE"
    frames: list[av.VideoFrame] = []
    for packet in [*packets, None]:
        try:
            frames += decoder.decode(packet)
        except av.EOFError:
            break
        except av.FFmpegError:  # the damaged packet: counted already by the first decode
            continue
    return frames
