"""Joining finished segment files into the final output by stream copy.

The output is opened by VideoSink from the same OutputPlan (vsr.video.io.plan) as a single
run's (video stream with its colour tags, rotation, aspect ratio and metadata; the audio,
subtitles and attachments the plan copies; chapters and container metadata), so the file
has the same layout and
the same codec header: every segment was encoded by an encoder opened with the same
settings and size, in a container that also stores a global header, and the join checks
that each segment's header equals the output's. The video packets of the segments then go
in as they are (their timestamps are the source's), and the source's audio and subtitle
packets are copied once, merged with the video by time.
"""

import heapq
import itertools
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import av
from av.bitstream import BitStreamFilterContext

from ...errors import OutputError
from ..io.plan import OutputPlan
from ..io.sink import CopiedInput, VideoSink
from ..io.source import VideoSource

ANNEX_B_FILTERS = {"h264": "h264_mp4toannexb", "hevc": "hevc_mp4toannexb"}


def segment_container(codec: str) -> str:
    """The suffix segment files get: mp4 keeps any time_base exactly and stores the dts of
    reordered frames (B-frames); ffv1 (intra-only, dts = pts) does not fit it and uses mkv."""
    from ..io.codecs import codec_fits

    return ".mp4" if codec_fits("mp4", codec) else ".mkv"


def join_segments(
    source: VideoSource,
    segments: list[Path],
    temp: Path,
    plan: OutputPlan,
    notify: Callable[[str], None],
) -> tuple[VideoSink, int]:
    """Write `segments`' video and the source's streams that `plan` copies to `temp` (the
    file written now for `plan.output`); returns the sink and the number of video packets
    written."""
    sink = VideoSink(temp, plan, CopiedInput.of(source.container))
    try:
        for dropped in plan.dropped:
            notify(f"{plan.output.suffix} cannot hold the input's {dropped}; it was left out")
        with av.open(str(source.path), "r", metadata_errors="replace") as copy_from:
            copied = [copy_from.streams[index] for index in plan.copied]
            video = _video_packets(segments, sink)
            others = (p for p in copy_from.demux(copied) if p.size) if copied else iter(())
            written = 0
            for is_video, packet in _by_time(video, others):
                if is_video:
                    packet.stream = sink.video
                    sink.output.mux(packet)
                    written += 1
                else:
                    sink.write_packet(packet)
        sink.finish()
    except BaseException:
        sink.abort()
        raise
    return sink, written


def _video_packets(segments: list[Path], sink: VideoSink) -> Iterator[av.Packet]:
    header = bytes(sink.video.codec_context.extradata or b"")
    for path in segments:
        with av.open(str(path), "r") as segment:
            stream = segment.streams.video[0]
            if not _same_header(header, bytes(stream.codec_context.extradata or b"")):
                raise OutputError(f"{path.name} was encoded with another codec header than the output's", hint="rerun with {resume=restart}")
            to_annex_b = ANNEX_B_FILTERS.get(stream.codec_context.name)
            bsf = BitStreamFilterContext(to_annex_b, stream) if to_annex_b else None
            for packet in segment.demux(stream):
                if not packet.size:
                    continue
                # the encoder's stream (and so the output's header) is Annex B; mp4 stored
                # it length-prefixed. The filter also repeats the parameter sets at each IDR.
                for filtered in bsf.filter(packet) if bsf else (packet,):
                    filtered.time_base = stream.time_base
                    yield filtered


def _same_header(output: bytes, segment: bytes) -> bool:
    """Whether a segment's stored codec header holds the output's: each parameter set of
    the encoder's header (Annex B NAL units for H.264/HEVC, the AV1 sequence header) appears
    byte for byte in the segment's, which its container may wrap (avcC, hvcC, av1C)."""
    units = [unit.strip(b"\x00") for unit in re.split(b"\x00\x00\x01", output)] if b"\x00\x00\x01" in output else [output]
    return all(unit in segment for unit in units if unit)


def _by_time(video: Iterator[av.Packet], others: Iterator[av.Packet]) -> Iterator[tuple[bool, av.Packet]]:
    """(is_video, packet) from the segments' video and the source's other packets, merged
    by decode time (the muxer interleaves the rest); memory stays at one packet per side."""
    counter = itertools.count()

    def keyed(packets: Iterator[av.Packet], is_video: bool):
        last = 0.0
        for packet in packets:
            stamp = packet.dts if packet.dts is not None else packet.pts
            if stamp is not None:
                last = float(stamp * packet.time_base)
            yield last, next(counter), is_video, packet

    for _, _, is_video, packet in heapq.merge(keyed(video, True), keyed(others, False)):
        yield is_video, packet
