"""The registry of weights shipped inside the package: data, validated by a test."""

import hashlib
import os
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from ..errors import WeightsError

WEIGHTS_DIR = Path(__file__).parent


@dataclass(frozen=True)
class ShippedWeights:
    name: str
    variant: str
    scale: int
    file: str
    sha256: str
    num_params: int
    recipe: str
    psnr_y_val: float

    def path(self, weights_dir: Path = WEIGHTS_DIR) -> Path:
        return weights_dir / self.file


@dataclass(frozen=True)
class Registry:
    entries: tuple[ShippedWeights, ...]
    weights_dir: Path

    @classmethod
    def from_toml(cls, path: str | os.PathLike) -> "Registry":
        path = Path(path)
        data = tomllib.loads(path.read_text())
        fields = set(ShippedWeights.__dataclass_fields__)
        entries = []
        for table in data.get("weights", []):
            if set(table) != fields:
                raise WeightsError(f"{path}: entry {table.get('name', '?')} must have exactly the keys {sorted(fields)}")
            entries.append(ShippedWeights(**table))
        return cls(tuple(entries), path.parent)

    def names(self) -> list[str]:
        return [e.name for e in self.entries]

    def get(self, name: str) -> ShippedWeights | None:
        return next((e for e in self.entries if e.name == name), None)

    def verified_path(self, entry: ShippedWeights) -> Path:
        """The entry's file, after checking that it is present and its sha256 matches."""
        path = entry.path(self.weights_dir)
        if not path.is_file():
            raise WeightsError(f"shipped weights {entry.name} are missing ({path}): reinstall vsr")
        digest = sha256_of(path)
        if digest != entry.sha256:
            raise WeightsError(f"shipped weights {entry.name} are corrupt: sha256 {digest[:12]}..., expected {entry.sha256[:12]}...")
        return path


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@cache
def shipped() -> Registry:
    return Registry.from_toml(WEIGHTS_DIR / "registry.toml")
