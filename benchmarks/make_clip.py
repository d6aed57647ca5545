"""Make a benchmark input from a real clip: every frame resized (bicubic, swscale) to
WxH and encoded with libx264 (crf 18, preset veryfast), the video played REPEAT times in a
row (so runs last long enough to time), audio copied once.

    python benchmarks/make_clip.py ../shared/media/bigbuckbunny.mp4 bbb-1080p.mp4 1920x1080 3
"""

import sys
from pathlib import Path

import av


def main(src: str, dst: str, size: str, repeat: str = "1") -> int:
    width, height = map(int, size.lower().split("x"))
    frames = []
    with av.open(src) as inp, av.open(dst, "w") as out:
        video_in = inp.streams.video[0]
        video = out.add_stream("libx264", rate=video_in.average_rate)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.codec_context.time_base = video_in.time_base
        video.codec_context.options = {"crf": "18", "preset": "veryfast"}
        for name in ("color_primaries", "color_trc", "colorspace"):
            setattr(video.codec_context, name, 1)  # BT.709, what an HD clip is
        audio = {s: out.add_stream_from_template(s) for s in inp.streams.audio}
        for packet in inp.demux():
            if packet.stream in audio and packet.size:
                packet.stream = audio[packet.stream]
                out.mux(packet)
            elif packet.stream is video_in:
                for frame in packet.decode():
                    frames.append(frame.reformat(width=width, height=height, format="yuv420p", interpolation="BICUBIC"))
        start, step = frames[0].pts, frames[1].pts - frames[0].pts
        for index in range(len(frames) * int(repeat)):
            frame = frames[index % len(frames)]
            frame.pts, frame.time_base = start + index * step, video_in.time_base
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
    print(f"{dst}: {Path(dst).stat().st_size / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
