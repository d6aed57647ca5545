"""Clips of real-world sources for tests, made with PyAV: interlaced (woven from a known
progressive pan), hard-telecined film (FFmpeg's telecine filter), and a transport stream
whose frame size changes mid-stream. Each factory returns the path and, where there is
one, the truth the clip was made from."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from av.filter import Graph

from vsr.video.io.deinterlace import link_chain
from media import AUDIO_RATE, _add_audio, _write_sine


def pan_frame(index: int, size: tuple[int, int] = (128, 96), step: int = 2) -> np.ndarray:
    """The RGB picture (height, width, 3) of a progressive pan at time `index`: a smooth
    texture of diagonal and horizontal detail that moves `step` pixels right and half as
    many down per frame, so fields of neighbouring frames differ."""
    width, height = size
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    x, y = x + step * index, y + step * index / 2
    rgb = np.empty((height, width, 3), np.uint8)
    rgb[..., 0] = 128 + 90 * np.sin(x / 6.0) * np.cos(y / 9.0)
    rgb[..., 1] = 128 + 90 * np.sin((x + y) / 8.0)
    rgb[..., 2] = 128 + 60 * np.cos(x / 11.0 - y / 7.0)
    return rgb


def weave(first: np.ndarray, second: np.ndarray, top_field_first: bool) -> np.ndarray:
    """One interlaced frame: the first field's lines from `first`, the other's from `second`."""
    out = first.copy()
    later = slice(1, None, 2) if top_field_first else slice(0, None, 2)
    out[later] = second[later]
    return out


def make_interlaced(
    path: Path, *, frames: int = 8, size: tuple[int, int] = (128, 96), top_field_first: bool = True, rate: int = 25, audio: bool = False, gop: int | None = None
) -> list[np.ndarray]:
    """An x264 interlaced clip (flagged top or bottom field first) of `frames` frames at
    `rate`, woven from a pan at twice that rate, with `audio` a stereo AAC sine as long as
    the video, a keyframe every `gop` frames; returns the pan's 2 x `frames` pictures, one
    per field, in time order (the truth a deinterlacer at field rate should give)."""
    truth = [pan_frame(i, size) for i in range(2 * frames)]
    order = "tff=1" if top_field_first else "bff=1"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=rate)
        stream.width, stream.height, stream.pix_fmt = *size, "yuv420p"
        stream.codec_context.options = {"flags": "+ildct+ilme", "x264-params": order, "crf": "4"}
        if gop:
            stream.codec_context.gop_size = gop
        woven = []
        for k in range(frames):
            frame = av.VideoFrame.from_ndarray(weave(truth[2 * k], truth[2 * k + 1], top_field_first), format="rgb24").reformat(format="yuv420p")
            frame.pts = k
            woven.append(frame)
        # x264 takes the field order from each frame's flags, which setfield sets
        sound = _add_audio(out, "aac", None) if audio else None
        for frame in filtered(woven, f"setfield=mode={'tff' if top_field_first else 'bff'}", size, Fraction(1, rate)):
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
        if sound is not None:
            _write_sine(out, sound, 440, frames * AUDIO_RATE // rate)
    return truth


def filtered(frames, filters: str, size: tuple[int, int], time_base: Fraction) -> list[av.VideoFrame]:
    """`frames` (yuv420p VideoFrames with pts, one per tick of `time_base`) through an FFmpeg filter chain."""
    graph = Graph()
    tb = Fraction(time_base)
    spec = f"video_size={size[0]}x{size[1]}:pix_fmt=yuv420p:time_base={tb.numerator}/{tb.denominator}:frame_rate={tb.denominator}/{tb.numerator}"
    link_chain(graph, spec, filters)
    graph.configure()
    out = []
    for frame in [*frames, None]:
        graph.vpush(frame)
        while True:
            try:
                out.append(graph.vpull())
            except (av.BlockingIOError, av.EOFError):
                break
    return out


def bwdif_reference(path: Path) -> list[np.ndarray]:
    """FFmpeg's bwdif at field rate on the decoded clip, as RGB: what vsr must match."""
    with av.open(str(path)) as clip:
        video = clip.streams.video[0]
        decoded = list(clip.decode(video))
        size = (video.width, video.height)
        done = filtered(decoded, "bwdif=mode=send_field:parity=auto:deint=all", size, video.time_base)
    return [frame.to_ndarray(format="rgb24") for frame in done]


def make_telecined(path: Path, *, film_frames: int = 16, size: tuple[int, int] = (128, 96)) -> list[np.ndarray]:
    """Hard-telecined film: `film_frames` pictures at 24000/1001 through FFmpeg's telecine
    filter (2:3 pulldown, top field first) into 30000/1001 interlaced x264; returns the
    film's pictures."""
    film = [pan_frame(4 * i, size) for i in range(film_frames)]
    rate = Fraction(24000, 1001)
    frames = []
    for i, picture in enumerate(film):
        frame = av.VideoFrame.from_ndarray(picture, format="rgb24").reformat(format="yuv420p")
        frame.pts = i
        frames.append(frame)
    telecined = filtered(frames, "telecine=first_field=top:pattern=23", size, 1 / rate)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=Fraction(30000, 1001))
        stream.width, stream.height, stream.pix_fmt = *size, "yuv420p"
        stream.codec_context.options = {"flags": "+ildct+ilme", "x264-params": "tff=1", "crf": "4"}
        for k, frame in enumerate(filtered(telecined, "setfield=mode=tff", size, 1 / rate)):
            frame.pts, frame.time_base = k, Fraction(1001, 30000)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return film


def make_size_change_ts(path: Path, *, sizes=((320, 180), (480, 270)), frames: int = 6, rate: int = 25) -> None:
    """An MPEG-TS whose H.264 video changes size mid-stream (as DVB recordings and joined
    captures do): `frames` frames at each of `sizes`, one continuous timeline."""
    with av.open(str(path), "w", format="mpegts") as out:
        stream = out.add_stream("libx264", rate=rate)
        stream.width, stream.height, stream.pix_fmt = *sizes[0], "yuv420p"
        stream.codec_context.options = {"x264-params": "repeat-headers=1", "bf": "0"}
        n = 0
        for width, height in sizes:
            encoder = av.CodecContext.create("libx264", "w")
            encoder.width, encoder.height, encoder.pix_fmt = width, height, "yuv420p"
            encoder.time_base, encoder.framerate = Fraction(1, rate), Fraction(rate)
            encoder.options = {"x264-params": "repeat-headers=1", "bf": "0"}
            for _ in range(frames):
                frame = av.VideoFrame.from_ndarray(pan_frame(n, (width, height)), format="rgb24").reformat(format="yuv420p")
                frame.pts, frame.time_base = n, Fraction(1, rate)
                for packet in encoder.encode(frame):
                    packet.stream = stream
                    out.mux(packet)
                n += 1
            for packet in encoder.encode(None):
                packet.stream = stream
                out.mux(packet)


def make_mixed(path: Path, *, progressive: int = 4, interlaced: int = 4, size: tuple[int, int] = (128, 96), rate: int = 25) -> None:
    """Mixed content in one Matroska stream: `progressive` progressive frames, then
    `interlaced` frames woven top field first and flagged so (two x264 runs joined, as
    broadcast and edited captures are), at `rate` frames per second throughout."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=rate)
        stream.width, stream.height, stream.pix_fmt = *size, "yuv420p"
        stream.time_base = Fraction(1, 1000)
        n = 0
        for count, woven in ((progressive, False), (interlaced, True)):
            encoder = av.CodecContext.create("libx264", "w")
            encoder.width, encoder.height, encoder.pix_fmt = *size, "yuv420p"
            encoder.time_base, encoder.framerate = Fraction(1, rate), Fraction(rate)
            options = {"x264-params": "repeat-headers=1" + (":tff=1" if woven else ""), "bf": "0", "crf": "4"}
            encoder.options = options | ({"flags": "+ildct+ilme"} if woven else {})
            frames = []
            for k in range(n, n + count):
                picture = weave(pan_frame(2 * k, size), pan_frame(2 * k + 1, size), True) if woven else pan_frame(2 * k, size)
                frame = av.VideoFrame.from_ndarray(picture, format="rgb24").reformat(format="yuv420p")
                frame.pts = k
                frames.append(frame)
            if woven:
                frames = filtered(frames, "setfield=mode=tff", size, Fraction(1, rate))
            for frame in [*frames, None]:
                for packet in encoder.encode(frame):
                    packet.pts, packet.dts = packet.pts * 1000 // rate, packet.dts * 1000 // rate
                    packet.time_base, packet.stream = Fraction(1, 1000), stream
                    out.mux(packet)
            n += count


MASTER_DISPLAY = "G(13250,34500)B(7500,3000)R(34000,16000)WP(15635,16450)L(10000000,1)"
"""BT.2020 primaries, D65, 0.0001 to 1000 cd/m2, as x265 takes it (and as an HDR10 master says)."""


def make_hdr(path: Path, *, transfer: str = "pq", frames: int = 4, size: tuple[int, int] = (64, 48), metadata: bool = True, gop: int | None = None) -> None:
    """A 10-bit x265 BT.2020 clip with PQ (HDR10: `metadata` adds the mastering display and
    MaxCLL 1000 / MaxFALL 400 in SEI) or HLG transfer, tagged so in the stream and frames,
    with a keyframe every `gop` frames."""
    trc = {"pq": (16, "smpte2084"), "hlg": (18, "arib-std-b67")}[transfer]
    params = f"log-level=error:colorprim=bt2020:transfer={trc[1]}:colormatrix=bt2020nc"
    if metadata:
        params += f":hdr10=1:master-display={MASTER_DISPLAY}:max-cll=1000,400"
    tags = {"color_primaries": 9, "color_trc": trc[0], "colorspace": 9, "color_range": 1}
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx265", rate=25)
        stream.width, stream.height, stream.pix_fmt = *size, "yuv420p10le"
        for name, value in tags.items():
            setattr(stream.codec_context, name, value)
        stream.codec_context.options = {"x265-params": params}
        if gop:
            stream.codec_context.gop_size = gop
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(pan_frame(i, size), format="rgb24").reformat(format="yuv420p10le")
            frame.pts = i
            for name, value in tags.items():
                setattr(frame, name, value)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))


def make_soft_telecined(path: Path, *, film_frames: int = 12, size: tuple[int, int] = (128, 96)) -> list[np.ndarray]:
    """Soft-telecined film: progressive 24000/1001 H.264 whose pictures carry 2:3 pulldown
    flags (x264 `pulldown=32`: repeat-field pic_struct), which a player shows at 29.97i.
    Returns the film's pictures."""
    film = [pan_frame(4 * i, size) for i in range(film_frames)]
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=Fraction(24000, 1001))
        stream.width, stream.height, stream.pix_fmt = *size, "yuv420p"
        stream.codec_context.options = {"x264-params": "pulldown=32:fake-interlaced=1", "crf": "4"}
        for i, picture in enumerate(film):
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24").reformat(format="yuv420p")
            frame.pts = i
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return film
