"""High-contrast synthetic pictures: the content on which reduced precision fails.

Natural photos hide an ill-conditioned network: its fp16 or bf16 error stays under a
level there and reaches 100+ levels on 1-px lines or small text. Two uses:

- `measurement_chart(height, width)`: one fixed chart (text of several sizes and colours, 1-px
  lines in three directions, a checkerboard, a zone plate and a Siemens star), for
  measuring a network's precision error (vsr.precision_error, benchmarks/precision.py).
- `random_chart(rng, height, width)`: a fresh chart of the same kinds of content, drawn
  from `rng`, for training (vsr.training.charts). Never the fixed chart.

Both return (height, width, 3) uint8 RGB.
"""

import cv2
import numpy as np

_WORDS = ("Sharp", "1il|", "EDGE", "vsr", "0O8B", "Wxyz", "=+#", "ink", "MENU", "12:45", "fps", "Mw")
_FONTS = (cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_PLAIN, cv2.FONT_HERSHEY_DUPLEX, cv2.FONT_HERSHEY_COMPLEX_SMALL)


def lines(height: int, width: int, period: int, direction: str) -> np.ndarray:
    """(height, width) float 0/1: 1-px lines every `period` px, "v", "h" or "d"iagonal."""
    y, x = np.mgrid[0:height, 0:width]
    coordinate = {"v": x, "h": y, "d": x + y}[direction]
    return (coordinate % period == 0).astype(np.float64)


def checkerboard(height: int, width: int, cell: int) -> np.ndarray:
    y, x = np.mgrid[0:height, 0:width]
    return ((y // cell + x // cell) % 2).astype(np.float64)


def zone_plate(height: int, width: int, k: float) -> np.ndarray:
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    r2 = (x - width / 2) ** 2 + (y - height / 2) ** 2
    return 0.5 + 0.5 * np.cos(np.pi * r2 / k)


def siemens_star(height: int, width: int, spokes: int) -> np.ndarray:
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    angle = np.arctan2(y - height / 2, x - width / 2)
    return (np.sin(spokes * angle) > 0).astype(np.float64)


def _paint(canvas: np.ndarray, mask: np.ndarray, ink, paper, top: int, left: int) -> None:
    h, w = mask.shape
    ink, paper = np.asarray(ink, np.float64), np.asarray(paper, np.float64)
    canvas[top : top + h, left : left + w] = (paper + (ink - paper) * mask[..., None]).round().astype(np.uint8)


def measurement_chart(height: int = 64, width: int = 96) -> np.ndarray:
    """The fixed measurement chart: six cells of a 2x3 grid (lines, checkerboard, zone plate,
    star, dark-on-light and light-on-dark text), text in colour across the middle."""
    canvas = np.zeros((height, width, 3), np.uint8)
    ch, cw = height // 2, width // 3
    cells = [
        lines(ch, cw, 2, "v"),
        np.maximum(lines(ch, cw, 2, "h") * (np.arange(cw) < cw // 2), lines(ch, cw, 3, "d") * (np.arange(cw) >= cw // 2)),
        checkerboard(ch, cw, 1),
        zone_plate(ch, cw, 12.0),
        siemens_star(ch, cw, 16),
        checkerboard(ch, cw, 2),
    ]
    colours = [((255, 255, 255), (0, 0, 0)), ((0, 0, 0), (255, 255, 255)), ((255, 40, 40), (20, 20, 255)),
               ((255, 255, 255), (0, 0, 0)), ((0, 0, 0), (240, 220, 30)), ((30, 200, 60), (250, 250, 250))]  # fmt: skip
    for i, (mask, (ink, paper)) in enumerate(zip(cells, colours, strict=True)):
        _paint(canvas, mask, ink, paper, (i // 3) * ch, (i % 3) * cw)
    for row, colour, scale in ((ch - 14, (0, 0, 0), 0.35), (ch + 4, (255, 255, 255), 0.3), (ch + 20, (200, 20, 40), 0.45)):
        cv2.putText(canvas, "Sharp 1il| 0O8", (1, row), cv2.FONT_HERSHEY_SIMPLEX, scale, colour, 1, cv2.LINE_AA)
    return canvas


def random_chart(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A random chart: a background of one kind of pattern in two random colours, with text
    of random sizes, fonts and colours over it."""
    def colour():
        return tuple(int(v) for v in rng.integers(0, 256, 3))

    kind = rng.integers(0, 6)
    if kind == 0:
        mask = lines(height, width, int(rng.integers(2, 5)), str(rng.choice(["v", "h", "d"])))
    elif kind == 1:
        mask = checkerboard(height, width, int(rng.integers(1, 5)))
    elif kind == 2:
        mask = zone_plate(height, width, float(rng.uniform(4, 60)))
    elif kind == 3:
        mask = siemens_star(height, width, int(rng.integers(6, 40)))
    else:  # a flat page: text is the content
        mask = np.zeros((height, width))
    canvas = np.zeros((height, width, 3), np.uint8)
    extremes = rng.random() < 0.5  # black and white, the hardest pair, half the time
    ink, paper = ((0, 0, 0), (255, 255, 255)) if extremes else (colour(), colour())
    if rng.random() < 0.5:
        ink, paper = paper, ink
    _paint(canvas, mask, ink, paper, 0, 0)
    for _ in range(int(rng.integers(0 if kind < 4 else 3, 8))):
        word = " ".join(rng.choice(_WORDS, size=int(rng.integers(1, 4))))
        origin = (int(rng.integers(-20, width)), int(rng.integers(4, height + 8)))
        text_colour = colour() if rng.random() < 0.6 else (tuple(255 - c for c in paper) if rng.random() < 0.5 else ink)
        line = cv2.LINE_AA if rng.random() < 0.6 else cv2.LINE_8
        cv2.putText(canvas, word, origin, _FONTS[int(rng.integers(len(_FONTS)))], float(rng.uniform(0.25, 1.3)), text_colour, int(rng.integers(1, 3)), line)
    return canvas
