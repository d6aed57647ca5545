"""Small synthetic video clips for tests, made and probed with PyAV (no ffmpeg CLI needed).

``make_clip`` writes a clip whose every frame is ``reference_frame(i, size)`` (a colour
gradient whose blue level changes with ``i``, plus a white square that moves one step per
frame, so frame order is checkable), optionally with sine-wave audio tracks, two subtitle
cues, a display rotation, colour tags, chapters, container metadata and a SAR.
``probe`` reads a clip back: stream lists, decoded-frame facts and the audio/subtitle
packet payloads that a stream copy must preserve byte for byte.

How things read back in PyAV 18 / FFmpeg 8:
  * rotation: ``VideoFrame.rotation`` of a decoded frame (counter-clockwise degrees, the
    same value given to ``VideoStream.set_display_rotation``); streams do not expose it.
  * colour: ``frame.color_primaries / color_trc / colorspace / color_range`` (ints).
  * chapters: ``container.chapters()`` gives dicts with start/end in their own time_base
    (mkv rescales to 1/1e9); ``probe`` turns them into (start_s, end_s, title) tuples.
  * mp4/mov store chapters as an extra QuickTime text track, which reads back as a
    ``data`` stream (no codec context, discard=ALL); ``probe`` lists it in ``other``.
  * timestamps: mkv keeps whole milliseconds; mp4/mov keep VFR pts exactly (the track
    timescale is the time_base denominator, doubled until it is >= 10000: 1/1000 -> 1/16000).
  * language: mkv streams without one read back None, mp4/mov streams "und".
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from av.subtitles.subtitle import SubtitleSet

from vsr.clip_writer import ClipContainer, VideoEncoding, open_clip

# Subtitle encoder per container, and the two cues (start ms, end ms, text) make_clip writes.
SUBTITLE_CODECS = {".mkv": "subrip", ".mp4": "mov_text", ".mov": "mov_text", ".webm": "webvtt"}
CUES = [(0, 200, "hello"), (240, 400, "world")]
AUDIO_RATE = 48000


def reference_frame(index: int, size: tuple[int, int] = (64, 48)) -> np.ndarray:
    """The RGB24 picture (height, width, 3) that frame ``index`` of a clip of ``size`` shows."""
    width, height = size
    y, x = np.mgrid[0:height, 0:width]
    rgb = np.empty((height, width, 3), np.uint8)
    rgb[..., 0] = 30 + 190 * x // max(width - 1, 1)
    rgb[..., 1] = 30 + 190 * y // max(height - 1, 1)
    rgb[..., 2] = (40 + 24 * index) % 200
    side = max(4, min(width, height) // 4)
    left = (3 * index) % max(width - side, 1)
    top = (2 * index) % max(height - side, 1)
    rgb[top : top + side, left : left + side] = 255
    return rgb


def _encodable_pix_fmt(pix_fmt: str, size: tuple[int, int], codec: str = "libx264") -> str:
    """Chroma-subsampled formats need even dimensions (libx264 refuses odd ones), so an
    odd-sized 4:2:0 / 4:2:2 clip is written as the matching 4:4:4 format instead, except
    with ffv1, which stores odd 4:2:0 as it is."""
    if codec != "ffv1" and (size[0] % 2 or size[1] % 2):
        return pix_fmt.replace("420", "444").replace("422", "444")
    return pix_fmt


def make_clip(
    path: str | Path,
    *,
    size: tuple[int, int] = (64, 48),
    frames: int = 12,
    rate: int | Fraction = 25,
    pts: list[int] | None = None,
    time_base: Fraction | None = None,
    pix_fmt: str = "yuv420p",
    codec: str = "libx264",
    audio_tracks: int = 0,
    audio_codec: str = "aac",
    audio_languages: list[str] | None = None,
    subtitles: bool = False,
    rotation: int = 0,
    colour: dict[str, int] | None = None,
    chapters: bool = False,
    metadata: dict[str, str] | None = None,
    sar: Fraction | None = None,
    container_options: dict[str, str] | None = None,
    codec_options: dict[str, str] | None = None,
    gop: int | None = None,
) -> Path:
    """Write a synthetic clip to ``path`` (container chosen by its suffix) and return it.

    ``size`` is (width, height). ``pts`` gives explicit frame timestamps in ``time_base``
    (default 1/1000 when ``pts`` is given) for variable frame rate clips and overrides
    ``frames``; otherwise frame i is shown at i/``rate`` s (pts i in the default 1/``rate``).
    Odd sizes with a 4:2:0/4:2:2 ``pix_fmt`` are encoded as 4:4:4 (``_encodable_pix_fmt``).
    Audio track k is a stereo 48 kHz sine of 330 + 110 k Hz as long as the video (webm and
    mkv also take ``audio_codec="libopus"``; webm needs ``codec="libvpx-vp9"``).
    ``subtitles`` adds one stream holding ``CUES``: SubRip in mkv, mov_text in mp4/mov,
    WebVTT in webm; mp4/mov add an empty 2-byte mov_text sample over the gap between cues.
    ``rotation`` is counter-clockwise degrees; it reads back normalised to [-180, 180].
    ``colour`` holds any of color_primaries/color_trc/colorspace/color_range (ints).
    ``chapters`` adds two chapters ("one", "two") that split the clip at its middle.
    ``container_options`` go to the muxer (``{"movflags": "faststart"}``: the mp4 index
    first, so a cut file still opens), ``codec_options`` to the video encoder
    (``{"bf": "3"}``: B-frames, so the decoder holds frames back for reordering).
    ``gop`` sets the keyframe interval in frames (the encoder's default otherwise).
    """
    path = Path(path)
    if pts is None:
        time_base = time_base or 1 / Fraction(rate)
        pts = [round(i / (Fraction(rate) * time_base)) for i in range(frames)]
    time_base = time_base or Fraction(1, 1000)
    # The last frame lasts as long as the one before it (or 1/rate for a single frame).
    step = pts[-1] - pts[-2] if len(pts) > 1 else max(1, round(1 / (Fraction(rate) * time_base)))
    durations = [b - a for a, b in itertools.pairwise(pts)] + [step]
    seconds = float((pts[-1] + step) * time_base)

    options = {"x265-params": "log-level=error"} if codec == "libx265" else {}
    encoding = VideoEncoding(codec, _encodable_pix_fmt(pix_fmt, size, codec), options | (codec_options or {}), colour or {}, gop=gop)
    file = ClipContainer(options=container_options or {}, metadata=metadata or {})
    with open_clip(path, *size, encoding, rate=rate, time_base=time_base, container=file) as clip:
        if sar is not None:
            clip.stream.codec_context.sample_aspect_ratio = sar
        if rotation:
            clip.stream.set_display_rotation(rotation)
        out = clip.container
        audio = [_add_audio(out, audio_codec, audio_languages[k] if audio_languages else None) for k in range(audio_tracks)]
        subtitle = _add_subtitles(out, SUBTITLE_CODECS[path.suffix.lower()]) if subtitles else None
        if chapters:
            cuts, ms = [0, round(seconds * 500), round(seconds * 1000)], Fraction(1, 1000)
            titles = ("one", "two")
            out.set_chapters([{"id": n + 1, "start": cuts[n], "end": cuts[n + 1], "time_base": ms, "metadata": {"title": t}} for n, t in enumerate(titles)])
        for i, (stamp, duration) in enumerate(zip(pts, durations, strict=True)):
            clip.write(reference_frame(i, size), stamp, duration)
        clip.flush()
        for k, stream in enumerate(audio):
            _write_sine(out, stream, 330 + 110 * k, round(seconds * AUDIO_RATE))
        if subtitle is not None:
            _write_cues(out, subtitle)
    return path


def _add_audio(out: av.container.OutputContainer, codec: str, language: str | None) -> av.audio.AudioStream:
    stream = out.add_stream(codec, rate=AUDIO_RATE, layout="stereo")
    if language:
        stream.metadata["language"] = language
    return stream


def _write_sine(out: av.container.OutputContainer, stream: av.audio.AudioStream, hertz: int, samples: int) -> None:
    wave = (0.3 * np.sin(2 * np.pi * hertz * np.arange(samples) / AUDIO_RATE)).astype(np.float32)
    for start in range(0, samples, 1024):  # PyAV re-chunks to the encoder's frame size
        chunk = np.ascontiguousarray(np.stack([wave[start : start + 1024]] * 2))
        frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
        frame.sample_rate, frame.pts, frame.time_base = AUDIO_RATE, start, Fraction(1, AUDIO_RATE)
        out.mux(stream.encode(frame))
    out.mux(stream.encode(None))


def _add_subtitles(out: av.container.OutputContainer, codec: str) -> av.subtitles.stream.SubtitleStream:
    stream = out.add_stream(codec)
    # Text subtitle encoders parse an ASS header; borrow the SubRip decoder's default one.
    decoder = av.CodecContext.create("subrip", "r")
    decoder.open()
    stream.codec_context.subtitle_header = decoder.subtitle_header
    stream.time_base = stream.codec_context.time_base = Fraction(1, 1000)
    return stream


def _write_cues(out: av.container.OutputContainer, stream: av.subtitles.stream.SubtitleStream) -> None:
    for start, end, text in CUES:
        cue = SubtitleSet.create(f"0,0,Default,,0,0,0,,{text}".encode(), 0, end - start, start)
        packet = stream.codec_context.encode_subtitle(cue)
        packet.pts = packet.dts = start
        packet.duration, packet.time_base, packet.stream = end - start, Fraction(1, 1000), stream
        out.mux(packet)


@dataclass
class Track:
    """One stream of a probed file. ``packets``/``times`` (payloads with size > 0 and their
    pts in seconds, demux order) are only collected for audio and subtitle streams."""

    index: int
    type: str
    codec: str
    language: str | None
    packets: list[bytes] = field(default_factory=list)
    times: list[float | None] = field(default_factory=list)


@dataclass
class Probe:
    """What a file holds. width ... sar describe the first video stream, decoded (pix_fmt,
    rotation and colour of its first frame, times = pts in seconds of every frame); duration
    is the container's in seconds; chapters are (start_s, end_s, title)."""

    video: list[Track]
    audio: list[Track]
    subtitles: list[Track]
    other: list[Track]
    width: int
    height: int
    pix_fmt: str
    frames: int
    times: list[float]
    rotation: int
    colour: dict[str, int]
    sar: Fraction | None
    duration: float | None
    metadata: dict[str, str]
    chapters: list[tuple[float, float, str | None]]


def probe(path: str | Path) -> Probe:
    """Demux ``path`` once, decoding its first video stream and collecting audio/subtitle packets."""
    with av.open(str(path)) as container:
        tracks: dict[str, list[Track]] = {"video": [], "audio": [], "subtitle": [], "other": []}
        for s in container.streams:
            codec = s.codec_context.codec.canonical_name if s.codec_context else ""  # "subrip", not "srt"
            track = Track(s.index, s.type, codec, s.metadata.get("language"))
            tracks[s.type if s.type in tracks else "other"].append(track)
        by_index = {t.index: t for group in tracks.values() for t in group}
        stream = container.streams.video[0]
        decoded: list[av.VideoFrame] = []
        for packet in container.demux():
            if packet.stream.index == stream.index:
                decoded += stream.decode(packet)
            elif packet.stream.type in ("audio", "subtitle") and packet.size > 0:
                track = by_index[packet.stream.index]
                track.packets.append(bytes(packet))
                track.times.append(None if packet.pts is None else float(packet.pts * packet.time_base))
        first = decoded[0]
        colour = {n: getattr(first, n) for n in ("color_primaries", "color_trc", "colorspace", "color_range")}
        chapters = [
            (float(c["start"] * c["time_base"]), float(c["end"] * c["time_base"]), c["metadata"].get("title"))
            for c in container.chapters()
        ]
        return Probe(
            video=tracks["video"], audio=tracks["audio"], subtitles=tracks["subtitle"], other=tracks["other"],
            width=first.width, height=first.height, pix_fmt=first.format.name, frames=len(decoded),
            times=[float(f.pts * f.time_base) for f in decoded], rotation=first.rotation, colour=colour,
            sar=stream.sample_aspect_ratio, duration=None if container.duration is None else container.duration / av.time_base,
            metadata=dict(container.metadata), chapters=chapters,
        )  # fmt: skip


def video_frames_rgb(path: str | Path) -> list[np.ndarray]:
    """Every frame of the first video stream as an RGB24 (height, width, 3) array."""
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def decodable_frame_times(path: str | Path, limit_errors: int = 100) -> list[float | None]:
    """The times of the frames FFmpeg's own decoder outputs from a damaged file: a plain
    PyAV loop in which an error ends only the packet (or the demuxer read) that raised it,
    as the ffmpeg tool does, decoded without frame threads, so an error cannot cut the
    final drain short (see vsr/video/io/tail.py). A file that does not open gives none."""
    times: list[float | None] = []
    try:
        container = av.open(str(path), metadata_errors="replace")
    except (av.FFmpegError, UnicodeDecodeError):
        return times
    with container:
        if not container.streams.video:
            return times
        stream = container.streams.video[0]
        stream.thread_type = "SLICE"
        errors = 0
        while errors < limit_errors:
            try:
                for packet in container.demux(stream):
                    try:
                        times += [None if f.pts is None else float(f.pts * f.time_base) for f in stream.decode(packet)]
                    except av.FFmpegError:
                        continue
                break
            except av.FFmpegError:
                errors += 1
    return times
