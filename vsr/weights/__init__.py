"""The registry of known weights: data, validated by a test.

Every entry names where its file comes from (`source`): "shipped" files live in this
folder, inside the package; any other source is the URL the file is downloaded from, into
the user's cache (vsr.weights.download), and verified by its sha256 before it is used.
"""

import math
import os
import tomllib
from dataclasses import MISSING, dataclass, fields
from functools import cache
from pathlib import Path

from ..constants import PURPOSES
from ..errors import WeightsError
from .files import CUDA_PRECISIONS, SHIPPED, WEIGHTS_DIR, WeightsEntry, sha256_of


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


@cache
def registry() -> Registry:
    """Every known model: the weights vsr ships and the ones it can download."""
    return Registry.from_toml(WEIGHTS_DIR / "registry.toml")


shipped = registry  # the name older callers use; the registry also lists downloadable files
