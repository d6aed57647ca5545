"""Which of the input's other streams an output keeps, in FFmpeg's words: `-an` (no audio),
`-sn` (no subtitles), and `--map` specifiers.

A specifier is `[0:]TYPE[:N]` (TYPE: a audio, s subtitles, t attachments, d data; N: the
Nth stream of that type, from 0) or `[0:]INDEX` (the stream's index in the input), and a
leading `-` takes streams out. As in FFmpeg, once any specifier adds streams, only the
streams added are kept; without one every stream is (what the container holds). The
video stream vsr upscales (the input's first) is always kept, so `v` specifiers are
accepted and change nothing. `-an` and `-sn` then remove what is left of their type.

    choose_streams(streams, StreamChoice(maps=("a:1", "s")))  # the second audio, every subtitle
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ...errors import UsageError
from .source import StreamInfo

TYPE_LETTERS = {"v": "video", "a": "audio", "s": "subtitle", "t": "attachment", "d": "data"}
_SPEC = re.compile(r"^(-)?(?:0:)?(?:(?P<type>[vastd])(?::(?P<nth>\d+))?|(?P<index>\d+))$")


@dataclass(frozen=True)
class StreamChoice:
    """What to keep besides the upscaled video, and how audio is written."""

    audio: bool = True  # False: -an
    subtitles: bool = True  # False: -sn
    maps: tuple[str, ...] = ()  # --map specifiers, in order
    audio_codec: str | None = None  # None: copy what the container holds, re-encode the rest; "copy": copy or refuse

    def __post_init__(self):
        object.__setattr__(self, "maps", (self.maps,) if isinstance(self.maps, str) else tuple(self.maps))
        for spec in self.maps:
            if not _SPEC.match(spec):
                raise UsageError(
                    f"cannot read the stream specifier {spec!r}",
                    hint="give {maps} as a, a:1, s, t, d, 0:2 or -a:1 (a leading - takes streams out)",
                )

    @property
    def re_encodes_audio(self) -> bool:
        return self.audio_codec not in (None, "copy")


KEEP_ALL = StreamChoice()


def choose_streams(streams: Sequence[StreamInfo], choice: StreamChoice = KEEP_ALL) -> tuple[StreamInfo, ...]:
    """The streams `choice` keeps, in the input's order."""
    adds = [spec for spec in choice.maps if not spec.startswith("-")]
    kept = {s.index for s in streams} if not adds else set()
    for spec in choice.maps:
        matched = _matching(spec.removeprefix("-"), streams)
        if not matched and not spec.startswith("-") and not spec.lstrip("0:").startswith("v"):
            raise UsageError(f"the stream specifier {spec!r} matches none of the input's streams", hint="change {maps}")
        kept = kept - matched if spec.startswith("-") else kept | matched
    dropped_types = {t for t, keep in (("audio", choice.audio), ("subtitle", choice.subtitles)) if not keep}
    return tuple(s for s in streams if s.index in kept and s.type not in dropped_types)


def _matching(spec: str, streams: Sequence[StreamInfo]) -> set[int]:
    match = _SPEC.match(spec)
    if match["index"] is not None:
        return {s.index for s in streams if s.index == int(match["index"])}
    of_type = [s for s in streams if s.type == TYPE_LETTERS[match["type"]]]
    if match["nth"] is not None:
        nth = int(match["nth"])
        return {of_type[nth].index} if nth < len(of_type) else set()
    return {s.index for s in of_type}
