"""The work folder's `manifest.json`: which input, which settings, which segments are done.

It is rewritten whole after every finished segment: written to a temporary file, flushed
to disk (fsync) and renamed over the old one, so a kill -9 or a power cut leaves either the
old manifest or the new one, never half of one. A segment is listed only after its file was
complete, flushed and checked; its size and sha256 are recorded so a file damaged later is
found and redone.
"""

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ...errors import UsageError
from .cutting import Segment

VERSION = 1
NAME = "manifest.json"
EDGE = 1 << 20  # the fingerprint hashes the first and the last MiB


def fingerprint(path: Path, streams: list[str]) -> dict:
    """What identifies the input: size, mtime, stream layout, hash of its first and last MiB."""
    stat = path.stat()
    with open(path, "rb") as f:
        head = hashlib.sha256(f.read(EDGE)).hexdigest()
        f.seek(max(0, stat.st_size - EDGE))
        tail = hashlib.sha256(f.read(EDGE)).hexdigest()
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "streams": streams, "head_sha256": head, "tail_sha256": tail}


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass
class Manifest:
    source: dict
    settings: dict
    segments: list[dict]  # Segment fields, in order
    done: dict[str, dict] = field(default_factory=dict)  # name -> {frames, first_pts, last_pts, bytes, sha256, file}
    version: int = VERSION

    @classmethod
    def new(cls, source: dict, settings: dict, plan: list[Segment]) -> "Manifest":
        return cls(source, settings, [asdict(s) for s in plan])

    @classmethod
    def load(cls, folder: Path) -> "Manifest | None":
        try:
            data = json.loads((folder / NAME).read_text())
            return cls(**data) if data.get("version") == VERSION else None
        except (OSError, ValueError, TypeError):
            return None

    def plan(self) -> list[Segment]:
        return [Segment(**s) for s in self.segments]

    def save(self, folder: Path) -> None:
        temp = folder / f".{NAME}.tmp"
        with open(temp, "w") as f:
            json.dump(asdict(self), f, indent=1)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, folder / NAME)
        fsync_file(folder)  # the rename itself reaches the disk

    def differences(self, source: dict, settings: dict) -> list[str]:
        """What differs from the input and settings of this run, in words; [] when it matches."""
        changed = [key for key in source if self.source.get(key) != source[key]]
        found = [f"the input changed ({', '.join(changed)})"] if changed else []
        for key in sorted(set(settings) | set(self.settings)):
            then, now = self.settings.get(key), settings.get(key)
            if then != now:
                found.append(f"{key} {then} -> {now}")
        return found

    def check_matches(self, folder: Path, source: dict, settings: dict) -> None:
        differences = self.differences(source, settings)
        if differences:
            raise UsageError(
                f"the work folder {folder} belongs to another run ({'; '.join(differences)})",
                hint="rerun with those settings, or pass {resume=restart} to discard it",
            )
