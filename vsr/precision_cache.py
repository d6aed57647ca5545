"""Measured precision errors of weights files the registry does not know (`--weights FILE`),
kept by the file's sha256 so each file is measured once (vsr.precision_policy asks).

The cache is one small JSON file per weights file, `<cache>/precision/<sha256>.json`
(beside the downloaded weights, vsr.weights.files.cache_dir; $VSR_PRECISION_CACHE names
another folder), holding the errors measured
so far ("fp16", "bf16") and the measurement's version: a changed file has another sha256
and is measured afresh; a changed measurement (CONTENT_VERSION) is measured afresh too.
A cache that cannot be written (read-only home) only means measuring again next time.
"""

import contextlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from torch import nn

from .weights.files import cache_dir, sha256_of

CONTENT_VERSION = 1
"""Bump when vsr.precision's content or method changes, so old figures are not reused."""


CACHE_ENV = "VSR_PRECISION_CACHE"
"""A folder for the cached measurements instead of <cache>/precision (the tests use one)."""


def cache_file(digest: str) -> Path:
    folder = os.environ.get(CACHE_ENV)
    return (Path(folder) if folder else cache_dir().parent / "precision") / f"{digest}.json"


def cached_lookup(path: Path, network: Callable[[], nn.Module], device: str = "cpu") -> Callable[[str], float | None]:
    """precision -> max error in 1/255 of the weights in `path`: from the cache, else
    measured now (vsr.precision.measure_error on `network()`) and stored. "tf32" is not
    measured on the CPU: None."""
    digest = sha256_of(path)

    def lookup(precision: str) -> float | None:
        if precision not in ("fp16", "bf16"):
            return None
        stored = _read(digest)
        if precision in stored:
            return float(stored[precision])
        from .precision import measure_error

        error = max(measure_error(network(), precision, device).values())
        _write(digest, {**_read(digest), precision: error})
        return error

    return lookup


def _read(digest: str) -> dict:
    try:
        data = json.loads(cache_file(digest).read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("version") != CONTENT_VERSION:
        return {}
    return {k: v for k, v in data.items() if k in ("fp16", "bf16") and isinstance(v, (int, float))}


def _write(digest: str, errors: dict) -> None:
    target = cache_file(digest)
    with contextlib.suppress(OSError):
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{digest[:12]}.", suffix=".part")
        try:
            with os.fdopen(fd, "w") as f:
                json.dump({"version": CONTENT_VERSION, **errors}, f)
            os.replace(temp, target)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(temp)
