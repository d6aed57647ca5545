"""One weights file: its registry entry, where it lives (the shipped folder inside the
package, or the user's cache for downloads) and its sha256.

Shared by the registry (vsr.weights) and the downloader (vsr.weights.download); imports
neither.
"""

import hashlib
import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path

WEIGHTS_DIR = Path(__file__).parent
SHIPPED = "shipped"
CUDA_PRECISIONS = ("float16", "float32")
CACHE_ENV = "VSR_CACHE"


@dataclass(frozen=True)
class WeightsEntry:
    name: str  # what users type: --model ultra-x2, --model official-small-x2
    variant: str
    scale: int
    file: str  # the file name: in this folder when shipped, else in the cache and on mirrors
    sha256: str
    source: str  # "shipped", or the https URL the file is downloaded from
    licence: str  # SPDX identifier
    num_params: int  # deployed form
    macs_1080p: int  # multiply-accumulates per 1920x1080 output frame
    purpose: str = "clean"  # what it was trained for: "video" (codec-damaged input) or "clean" (vsr.constants.PURPOSES)
    notice: str = ""  # the copyright line the licence asks to keep
    recipe: str = ""  # the exact training command, or how the file was made
    started_from: str = ""  # the weights or checkpoint its training started from (its recipe's --init-from)
    teacher: str = ""  # the weights its last run was distilled from (that run's --teacher), if any
    train_minutes: float = math.nan  # the recipe's wall time on this project's 2-core CPU (docs/MODELS.md)
    psnr_y_val: float = math.nan  # `vsr eval` on val.txt, clean bicubic LR, Y channel, dB
    psnr_y_crf23: float = math.nan  # `vsr eval --video --frames 10`: x264 CRF 23 clips, Y channel, dB
    psnr_y_crf30: float = math.nan  # the same at CRF 30
    fp16_max_error: float = math.nan  # float16 vs float32 output, worst of vsr.precision's content, in 1/255 levels
    bf16_max_error: float = math.nan  # the same for bf16 (autocast)
    cuda_precision: str = "float16"  # what --device cuda runs it in by default (CUDA_PRECISIONS)

    def path(self, weights_dir: Path = WEIGHTS_DIR) -> Path:
        """Where the file is (shipped: in the package) or goes (downloaded: in the cache);
        nothing is checked or fetched (Registry.verified_path does that)."""
        if self.shipped:
            return weights_dir / self.file
        return cache_dir() / self.file

    @property
    def shipped(self) -> bool:
        return self.source == SHIPPED

    @property
    def half_is_accurate(self) -> bool:
        """False where float16 was measured to stray more than 1/255 from float32."""
        return self.cuda_precision == "float16"


def cache_dir() -> Path:
    """Where downloaded weights live: $VSR_CACHE/weights, else the platform's user cache
    folder (~/.cache/vsr/weights on Linux, ~/Library/Caches/vsr/weights on macOS,
    %LOCALAPPDATA%\\vsr\\Cache\\weights on Windows)."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser() / "weights"
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local")) / "vsr" / "Cache"
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches" / "vsr"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "vsr"
    return base / "weights"


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
