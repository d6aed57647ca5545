"""The registry of known weights: data, validated by a test.

Every entry names where its file comes from (`source`): "shipped" files live in this
folder, inside the package; any other source is the URL the file is downloaded from, into
the user's cache (vsr.weights.download), and verified by its sha256 before it is used.
"""

import hashlib
import math
import os
import tomllib
from dataclasses import MISSING, dataclass, fields
from functools import cache
from pathlib import Path

from ..constants import PURPOSES
from ..errors import WeightsError

WEIGHTS_DIR = Path(__file__).parent
SHIPPED = "shipped"
CUDA_PRECISIONS = ("float16", "float32")


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
    psnr_y_val: float = math.nan  # `vsr eval` on val.txt, clean bicubic LR, Y channel, dB
    psnr_y_crf23: float = math.nan  # `vsr eval --video --frames 10`: x264 CRF 23 clips, Y channel, dB
    psnr_y_crf30: float = math.nan  # the same at CRF 30
    fp16_max_error: float = math.nan  # float16 vs float32 output, worst of vsr.precision's content, in 1/255 levels
    bf16_max_error: float = math.nan  # the same for bf16 (autocast)
    fp16_p999_error: float = math.nan  # 99.9th percentile of the fp16 error (earlier measurement; being replaced)
    cuda_precision: str = "float16"  # what --device cuda runs it in by default (CUDA_PRECISIONS)

    def path(self, weights_dir: Path = WEIGHTS_DIR) -> Path:
        """Where the file is (shipped: in the package) or goes (downloaded: in the cache);
        nothing is checked or fetched (Registry.verified_path does that)."""
        if self.shipped:
            return weights_dir / self.file
        from .download import cache_dir

        return cache_dir() / self.file

    @property
    def shipped(self) -> bool:
        return self.source == SHIPPED

    @property
    def half_is_accurate(self) -> bool:
        """False where float16 was measured to stray more than 1.5/255 from float32."""
        return self.cuda_precision == "float16"




@dataclass(frozen=True)
class Registry:
    entries: tuple[WeightsEntry, ...]
    weights_dir: Path  # where shipped files are

    @classmethod
    def from_toml(cls, path: str | os.PathLike) -> "Registry":
        path = Path(path)
        data = tomllib.loads(path.read_text())
        entries = [_entry(table, path) for table in data.get("weights", [])]
        names = [e.name for e in entries]
        if len(set(names)) != len(names):
            raise WeightsError(f"{path}: a name appears twice")
        return cls(tuple(entries), path.parent)

    def names(self) -> list[str]:
        return [e.name for e in self.entries]

    def shipped_entries(self) -> list[WeightsEntry]:
        return [e for e in self.entries if e.shipped]

    def get(self, name: str) -> WeightsEntry | None:
        return next((e for e in self.entries if e.name == name), None)

    def shipped_for(self, variant: str, scale: int, purpose: str) -> WeightsEntry | None:
        """The shipped weights of this variant and scale trained for `purpose`, if any."""
        return next((e for e in self.shipped_entries() if (e.variant, e.scale, e.purpose) == (variant, scale, purpose)), None)

    def shipped_variant(self, variant: str, scale: int, purpose: str) -> WeightsEntry | None:
        """What a variant name means for input of this kind. "video" (compressed input): its
        video weights, else its clean ones. "clean" (lossless input): of its shipped
        weights, the one that measured best on clean input (psnr_y_val; the clean weights
        where none is measured higher), so video weights that beat them there serve too."""
        if purpose == "video":
            return self.shipped_for(variant, scale, "video") or self.shipped_for(variant, scale, "clean")
        candidates = [e for e in (self.shipped_for(variant, scale, "clean"), self.shipped_for(variant, scale, "video")) if e]
        return max(candidates, key=lambda e: -math.inf if math.isnan(e.psnr_y_val) else e.psnr_y_val, default=None)

    def find_file(self, path: str | os.PathLike) -> WeightsEntry | None:
        """The entry whose file this is, by sha256 (an official file passed as --weights)."""
        path = Path(path)
        if not path.is_file() or path.stat().st_size > 64 << 20:
            return None
        digest = sha256_of(path)
        return next((e for e in self.entries if e.sha256 == digest), None)

    def local_path(self, entry: WeightsEntry) -> Path:
        """Where the entry's file is (shipped) or goes (downloaded into the cache)."""
        return entry.path(self.weights_dir)

    def is_available(self, entry: WeightsEntry) -> bool:
        """The file is on this machine and its sha256 matches (nothing is downloaded)."""
        path = self.local_path(entry)
        return path.is_file() and sha256_of(path) == entry.sha256

    def verified_path(self, entry: WeightsEntry) -> Path:
        """The entry's file, checked by sha256; a downloadable file not yet in the cache is
        downloaded first (vsr.weights.download, which says so on stderr)."""
        if not entry.shipped:
            from .download import ensure_downloaded

            return ensure_downloaded(entry)
        path = self.local_path(entry)
        if not path.is_file():
            raise WeightsError(f"shipped weights {entry.name} are missing ({path}): reinstall vsr")
        digest = sha256_of(path)
        if digest != entry.sha256:
            raise WeightsError(f"shipped weights {entry.name} are corrupt: sha256 {digest[:12]}..., expected {entry.sha256[:12]}...")
        return path


def _entry(table: dict, path: Path) -> WeightsEntry:
    known = {f.name for f in fields(WeightsEntry)}
    required = {f.name for f in fields(WeightsEntry) if f.default is MISSING}
    name = table.get("name", "?")
    if not required <= set(table) <= known:
        missing, unknown = sorted(required - set(table)), sorted(set(table) - known)
        raise WeightsError(
            f"{path}: entry {name} must have the keys {sorted(required)} and may have {sorted(known - required)}"
            f" (missing {missing}, unknown {unknown})"
        )
    entry = WeightsEntry(**table)
    if entry.source != SHIPPED and not entry.source.startswith("https://"):
        raise WeightsError(f"{path}: entry {name}: source must be \"{SHIPPED}\" or an https URL, got {entry.source!r}")
    if entry.purpose not in PURPOSES:
        raise WeightsError(f"{path}: entry {name}: purpose must be one of {', '.join(PURPOSES)}")
    if entry.cuda_precision not in CUDA_PRECISIONS:
        raise WeightsError(f"{path}: entry {name}: cuda_precision must be one of {', '.join(CUDA_PRECISIONS)}")
    if len(entry.sha256) != 64:
        raise WeightsError(f"{path}: entry {name}: sha256 must be 64 hex digits")
    return entry


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@cache
def registry() -> Registry:
    """Every known model: the weights vsr ships and the ones it can download."""
    return Registry.from_toml(WEIGHTS_DIR / "registry.toml")


shipped = registry  # the name older callers use; the registry also lists downloadable files
