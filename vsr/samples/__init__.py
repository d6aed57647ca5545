"""The bundled sample media (see README.md here for what they are and their licences):
`vsr demo` upscales them, `vsr bench` measures on the clip, and tests use both."""

from pathlib import Path

SAMPLES = Path(__file__).resolve().parent
SAMPLE_CLIP = SAMPLES / "bbb-320x180.mp4"
"""2 s of Big Buck Bunny, 320x180 H.264 with 5.1 AAC audio."""
SAMPLE_IMAGE = SAMPLES / "snow-trees.png"
"""A 480x270 photo from the validation split (never trained on)."""
