"""GIF output: each frame gets its own 256-colour palette, made and applied by FFmpeg's
filters (palettegen, paletteuse) through PyAV's filter graph, as `ffmpeg -vf
"split[a][b];[a]palettegen=stats_mode=single[p];[b][p]paletteuse=new=1"` does.

A palette per frame keeps the colours of each frame (a GIF of a video pans and fades) and
streams: nothing waits for the end of the input. FFmpeg converts the frames to RGB with
their own colour tags on the way in.
"""

from fractions import Fraction

import av


class PaletteFilter:
    """Frames of one size and pixel format in, pal8 frames with their palettes out."""

    def __init__(self, width: int, height: int, pix_fmt: str, time_base: Fraction):
        self.graph = av.filter.Graph()
        source = self.graph.add_buffer(width=width, height=height, format=pix_fmt, time_base=time_base)
        split = self.graph.add("split")
        make = self.graph.add("palettegen", "stats_mode=single")
        use = self.graph.add("paletteuse", "new=1")
        sink = self.graph.add("buffersink")
        source.link_to(split)
        split.link_to(use, 0, 0)
        split.link_to(make, 1, 0)
        make.link_to(use, 0, 1)
        use.link_to(sink)
        self.graph.configure()

    def push(self, frame: av.VideoFrame | None) -> list[av.VideoFrame]:
        """The frames ready after `frame` (None: the end, flushing what is held)."""
        self.graph.push(frame)
        ready = []
        while True:
            try:
                ready.append(self.graph.pull())
            except (av.BlockingIOError, av.EOFError):
                return ready
