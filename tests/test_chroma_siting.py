"""4:2:0 chroma sits where the stream says (left for H.264/HEVC/AV1 unless tagged): the
conversion agrees with FFmpeg's swscale told the same siting, a colour edge does not move
across a round trip, and the output is tagged with the siting it was written with."""

from fractions import Fraction
from types import SimpleNamespace

import av
import numpy as np
import pytest
import torch

import vsr
from media import make_clip
from vsr.video.io.colour import CHROMA_LOCATIONS, ColourSpec, chroma_location_of, rgb_to_yuv, yuv_to_rgb
from vsr.video.io.planes import PlaneLayout

HEIGHT, WIDTH = 16, 32
# swscale's in_h_chr_pos / in_v_chr_pos (1/256 of a luma sample, for 2x subsampling)
SWSCALE_POSITIONS = {"left": (0, 128), "center": (128, 128), "topleft": (0, 0), "bottom": (128, 256)}


def _chroma_edge_planes() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Grey luma; chroma that steps from one colour to another between chroma columns 7 and 8
    and between chroma rows 3 and 4."""
    y = np.full((HEIGHT, WIDTH), 128, np.uint8)
    u = np.full((HEIGHT // 2, WIDTH // 2), 100, np.uint8)
    v = np.full((HEIGHT // 2, WIDTH // 2), 150, np.uint8)
    u[:, 8:] += 90
    v[:, 8:] -= 90
    u[4:] -= 40
    v[4:] += 40
    return y, u, v


def _swscale_rgb(planes, location: str) -> np.ndarray:
    """FFmpeg's own conversion with the given siting: the `scale` filter with full chroma
    interpolation, into float RGB so nothing rounds."""
    layout = PlaneLayout("yuv420p", WIDTH, HEIGHT)
    frame = layout.write(np.concatenate([p.ravel() for p in planes]))
    frame.pts = 0
    h_pos, v_pos = SWSCALE_POSITIONS[location]
    graph = av.filter.Graph()
    source = graph.add_buffer(width=WIDTH, height=HEIGHT, format="yuv420p", time_base=Fraction(1, 25))
    scale = graph.add(
        "scale",
        f"w={WIDTH}:h={HEIGHT}:flags=bilinear+full_chroma_int+full_chroma_inp+accurate_rnd+bitexact"
        f":in_h_chr_pos={h_pos}:in_v_chr_pos={v_pos}:in_color_matrix=bt709:in_range=tv",
    )
    to_float = graph.add("format", "gbrpf32le")
    sink = graph.add("buffersink")
    source.link_to(scale)
    scale.link_to(to_float)
    to_float.link_to(sink)
    graph.configure()
    graph.push(frame)
    return graph.pull().to_ndarray()  # (H, W, 3) R, G, B


@pytest.mark.parametrize("location", sorted(SWSCALE_POSITIONS))
def test_conversion_matches_swscale_with_the_same_siting(location):
    planes = _chroma_edge_planes()
    expected = _swscale_rgb(planes, location)
    tensors = [torch.from_numpy(p.astype(np.int16))[None] for p in planes]
    ours = yuv_to_rgb(*tensors, ColourSpec("bt709", False, 8, location))[0].permute(1, 2, 0).numpy()
    assert np.abs(ours - expected).max() * 255 < 1.0


def test_left_and_centre_siting_put_the_edge_in_different_places():
    """The check above would pass for any siting if the siting changed nothing."""
    planes = _chroma_edge_planes()
    assert np.abs(_swscale_rgb(planes, "left") - _swscale_rgb(planes, "center")).max() * 255 > 20


def _edge_position(row: np.ndarray) -> float:
    """Sub-pixel position where a rising step crosses its half-way value."""
    half = (row.min() + row.max()) / 2
    i = int(np.argmax(row >= half))
    return i - 1 + (half - row[i - 1]) / (row[i] - row[i - 1])


@pytest.mark.parametrize("location", sorted(CHROMA_LOCATIONS))
def test_a_colour_edge_stays_put_across_a_round_trip(location):
    """RGB with a soft vertical red/blue edge -> 4:2:0 -> RGB: the edge is where it was
    (to a few hundredths of a pixel); decoding with the wrong siting moves it."""
    x = torch.arange(64, dtype=torch.float64)
    ramp = torch.sigmoid((x - 30.3) / 1.5).float()
    red = ramp.expand(16, 64)
    rgb = torch.stack([red, 0.3 * torch.ones_like(red), 1 - red])[None]
    spec = ColourSpec("bt709", True, 10, location)
    planes = rgb_to_yuv(rgb, spec, 8, 32)
    back = yuv_to_rgb(*planes, spec)[0, 0, 8].numpy()
    original = _edge_position(rgb[0, 0, 8].numpy())
    assert abs(_edge_position(back) - original) < 0.05
    other = "center" if CHROMA_LOCATIONS[location][0] == 0 else "left"
    wrong = yuv_to_rgb(*planes, ColourSpec("bt709", True, 10, other))[0, 0, 8].numpy()
    assert abs(_edge_position(wrong) - original) > 0.3


def test_unspecified_siting_follows_ffmpeg_and_a_tag_wins():
    untagged = SimpleNamespace()
    assert chroma_location_of(untagged, "h264") == "left"
    assert chroma_location_of(untagged, "hevc") == "left"
    assert chroma_location_of(untagged, "mjpeg") == "center"
    assert chroma_location_of(untagged, None, jpeg_format=True) == "center"
    assert chroma_location_of(SimpleNamespace(chroma_location=0), "h264") == "left"
    assert chroma_location_of(SimpleNamespace(chroma_location=3), "h264") == "topleft"
    assert chroma_location_of(SimpleNamespace(chroma_location=2), "h264") == "center"


def test_the_output_is_tagged_left_sited(tmp_path):
    """Matroska carries the siting as ChromaSitingHorz = 1 (left) and ChromaSitingVert = 2
    (half-way), written from the encoder's chroma_sample_location."""
    src = make_clip(tmp_path / "in.mp4", frames=2, audio_tracks=0)
    model = vsr.load_model("ultra", scale=2, device="cpu")
    result = vsr.upscale_video(src, tmp_path / "out.mkv", model=model, codec="ffv1", pix_fmt="yuv420p")
    data = result.output.read_bytes()
    assert b"\x55\xb7\x81\x01" in data and b"\x55\xb8\x81\x02" in data
