"""vsr live's --record: the upscaled frames, planned and written as `vsr upscale` writes
them (plan_output, VideoSink), timed by the capture clock in milliseconds."""

from fractions import Fraction
from pathlib import Path

import av

from ..errors import OutputError
from ..video.io.codecs import EncoderSettings
from ..video.io.plan import plan_output, rgb_frames
from ..video.io.sink import VideoSink


class Recorder:
    """The upscaled frames into a video file through VideoSink (as vsr upscale writes)."""

    def __init__(self, temp: Path, target: Path, width: int, height: int, rate: float | None, scale: int, settings: EncoderSettings, notify):
        frames = rgb_frames(width, height, rate, time_base=Fraction(1, 1000))  # the capture clock, in milliseconds
        plan = plan_output(frames, (), scale, settings, target)
        for notice in plan.notices:
            notify(notice)
        self.sink = VideoSink(temp, plan)
        self.target = target
        self._started: float | None = None
        self._last_pts = -1
        self.frames = 0

    def stamp(self, captured: float) -> int:
        """The pts of a frame, in ms of the capture clock, strictly increasing."""
        if self._started is None:
            self._started = captured
        pts = max(self._last_pts + 1, round((captured - self._started) * 1000))
        self._last_pts = pts
        return pts

    def write(self, pts: int, packed) -> None:
        """`packed`: the frame's planes on the host (vsr.live.transfer.OnHost), waited for here."""
        pixels = packed.wait()
        try:
            self.sink.write_frame(pts, None, pixels)
        except (av.FFmpegError, OSError) as exc:  # a full disk, a removed drive
            raise OutputError(f"recording to {self.target} failed after {self.frames} frames: {getattr(exc, 'strerror', None) or exc}") from None
        self.frames += 1
