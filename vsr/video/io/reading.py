"""How an input's frames are read: deinterlaced or not (vsr.video.io.deinterlace) and what
a mid-stream size change does (vsr.video.io.size_change). One frozen value, checked when
it is built, that every path which decodes (a whole input, a segment, a live source) takes."""

from dataclasses import dataclass

from .deinterlace import check_mode
from .size_change import check_policy


@dataclass(frozen=True)
class ReadOptions:
    deinterlace: str = "auto"  # auto, off, field, frame or ivtc
    on_size_change: str = "scale"  # scale (to the first size, counted in a warning) or error

    def __post_init__(self):
        check_mode(self.deinterlace)
        check_policy(self.on_size_change)


DEFAULT_READING = ReadOptions()
