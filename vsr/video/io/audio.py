"""Audio that is re-encoded rather than copied: on request (`audio_codec`), or because the
output's container cannot hold the input's codec (AAC into WebM becomes Opus).

FFmpeg does the work: the input packet decodes with its own stream's decoder, and PyAV's
audio encoder converts the sample format and rate and cuts the frames to the encoder's
frame size. Timestamps are the input's, so the audio stays in step with the video.
"""

from dataclasses import dataclass

import av

from ...errors import UsageError

DEFAULT_AUDIO = {"webm": "libopus", "ogg": "libopus", "mp4": "aac", "mov": "aac", "matroska": "libopus", "avi": "libmp3lame", "mpegts": "aac"}
"""The encoder for audio a container cannot hold as it is, by FFmpeg's muxer."""
FALLBACK_AUDIO = {"libopus": "opus", "libmp3lame": "mp2"}
"""FFmpeg's own encoder where a build lacks the library."""


@dataclass(frozen=True)
class AudioEncoding:
    """One input audio stream, re-encoded: by input index, with this FFmpeg encoder."""

    index: int
    encoder: str


def audio_encoder_for(container: str, requested: str | None) -> str:
    """The encoder for re-encoded audio in `container`: the one asked for, else the
    container's usual one (with FFmpeg's own in place of a missing library)."""
    encoder = requested or DEFAULT_AUDIO.get(container, "aac")
    if encoder not in av.codecs_available:
        encoder = FALLBACK_AUDIO.get(encoder, encoder)
    try:
        codec = av.codec.Codec(encoder, "w")
    except (ValueError, av.FFmpegError):
        raise UsageError(f"this FFmpeg build has no audio encoder {encoder!r}", hint="choose another {audio_codec}, e.g. aac, libopus, flac") from None
    if codec.type != "audio":
        raise UsageError(f"{encoder} is a {codec.type} encoder, not an audio one", hint="choose another {audio_codec}, e.g. aac, libopus, flac")
    return encoder


class AudioTranscoder:
    """Decodes the input packets of one audio stream and encodes them into `output`."""

    def __init__(self, output: av.container.OutputContainer, template: av.audio.stream.AudioStream, encoder: str):
        rates = av.codec.Codec(encoder, "w").audio_rates
        rate = template.rate if not rates or template.rate in rates else max(rates)
        self.stream = output.add_stream(encoder, rate=rate)
        self.stream.layout = template.layout.name if template.layout.nb_channels <= 2 or encoder != "libmp3lame" else "stereo"
        self.stream.metadata.update(template.metadata)
        self.stream.disposition = template.disposition
        self.output = output

    def write(self, packet: av.Packet) -> None:
        for frame in packet.decode():
            self._mux(self.stream.encode(frame))

    def finish(self) -> None:
        self._mux(self.stream.encode(None))

    def _mux(self, packets) -> None:
        for packet in packets:
            self.output.mux(packet)
