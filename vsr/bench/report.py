"""A benchmark's results: the ratios that matter, markdown tables, JSON, and the comparison
with a stored baseline.

- efficiency = pipeline fps / fps of the slowest stage alone: how close the threads come
  to the limit the slowest stage sets (1.0: no overhead at all).
- speed-up   = pipeline fps / naive loop fps: what the pipeline's design buys over the
  sequential per-frame loop, with the same network and encoder.
- overhead   = 1/pipeline fps - 1/slowest stage fps, in ms per frame: the time the
  pipeline adds to every frame beyond its slowest stage.
"""

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..atomic import write_atomically
from ..errors import InputError, OutputError, UsageError

FORMAT = "vsr-bench/1"
STAGES = ("decode", "model", "encode")
RATIOS = ("efficiency", "speedup")
ALLOWED_DROP = 0.10  # --compare flags a ratio that falls more than this below the baseline


@dataclass
class PipelineRun:
    clip: str
    frames: int
    size_in: tuple[int, int]
    size_out: tuple[int, int]
    model: str  # "ultra x2"
    weights: str
    device: str
    dtype: str
    batch: int
    compiled: bool
    encoder: str  # "libx264 crf 23 veryfast"
    fps: dict[str, float] = field(default_factory=dict)  # decode, model, encode, pipeline, naive
    busy: dict[str, float] = field(default_factory=dict)  # share of the pipeline's wall time

    @property
    def slowest(self) -> str:
        return min(STAGES, key=lambda name: self.fps[name])

    @property
    def efficiency(self) -> float:
        return self.fps["pipeline"] / self.fps[self.slowest]

    @property
    def speedup(self) -> float:
        return self.fps["pipeline"] / self.fps["naive"]

    @property
    def overhead_ms(self) -> float:
        return 1000 / self.fps["pipeline"] - 1000 / self.fps[self.slowest]

    def key(self) -> str:
        """What must match for two runs to be compared."""
        w, h = self.size_in
        compiled = ", compiled" if self.compiled else ""
        return f"{self.clip} {w}x{h} {self.frames} frames, {self.model}, {self.device.split(':')[0]} {self.dtype}{compiled}, batch {self.batch}, {self.encoder}"

    def as_dict(self) -> dict:
        return asdict(self) | {
            "slowest": self.slowest,
            "efficiency": self.efficiency,
            "speedup": self.speedup,
            "overhead_ms_per_frame": self.overhead_ms,
        }

    @classmethod
    def from_dict(cls, data: dict) -> "PipelineRun":
        """A run as --json wrote it; KeyError/TypeError/ValueError name what is wrong."""
        needed = ("clip", "frames", "size_in", "size_out", "model", "device", "dtype", "batch", "compiled", "encoder", "fps")
        values = {name: data[name] for name in needed}
        values["size_in"], values["size_out"] = tuple(values["size_in"]), tuple(values["size_out"])
        fps = values["fps"]
        for stage in (*STAGES, "pipeline", "naive"):
            if not isinstance(fps.get(stage), (int, float)) or fps[stage] <= 0:
                raise ValueError(f"fps of {stage!r} is {fps.get(stage)!r}, not a positive number")
        return cls(**values, weights=data.get("weights", "?"), busy=data.get("busy", {}))


@dataclass
class EncoderRun:
    size: tuple[int, int]
    encoder: str
    fps: float


@dataclass
class Comparison:
    key: str
    ratio: str
    baseline: float
    now: float

    @property
    def change(self) -> float:
        return self.now / self.baseline - 1

    @property
    def dropped(self) -> bool:
        return self.change < -ALLOWED_DROP


def write_json(path: Path, *, machine: dict, command: str, date: str, runs: list[PipelineRun], encoders: list[EncoderRun], network: list[dict]) -> None:
    report = {
        "format": FORMAT,
        "date": date,
        "command": command,
        "machine": machine,
        "runs": [run.as_dict() for run in runs],
        "encoders": [asdict(e) for e in encoders],
        "network": network,
    }
    try:
        write_atomically(Path(path), (json.dumps(report, indent=2) + "\n").encode())
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc}") from None


def read_baseline(path: Path) -> list[PipelineRun]:
    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise InputError(f"baseline not found: {path}") from None
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read baseline {path}: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InputError(f"{path} is not a vsr bench JSON file (expected format {FORMAT!r})")
    runs = data.get("runs")
    if not isinstance(runs, list) or not runs:
        raise InputError(f"{path} holds no pipeline runs to compare with", hint="was it made with {network_only}?")
    try:
        return [PipelineRun.from_dict(run) for run in runs]
    except KeyError as exc:
        raise InputError(f"{path}: a run lacks {exc}") from None
    except (TypeError, ValueError, AttributeError) as exc:
        raise InputError(f"{path}: a run is malformed ({exc})") from None


def compare(runs: list[PipelineRun], baseline: list[PipelineRun]) -> list[Comparison]:
    by_key = {run.key(): run for run in baseline}
    comparisons = []
    for run in runs:
        old = by_key.get(run.key())
        if old is None:
            continue
        comparisons += [Comparison(run.key(), ratio, getattr(old, ratio), getattr(run, ratio)) for ratio in RATIOS]
    if not comparisons:
        known = "; ".join(sorted(by_key)) or "none"
        raise UsageError(f"no run in the baseline has these settings ({runs[0].key() if runs else '-'}); the baseline holds: {known}")
    return comparisons


def stages_table(runs: list[PipelineRun]) -> str:
    rows = [
        "| clip | in -> out | model | device | batch | decode | model stage | encode | pipeline | naive loop"
        " | slowest | efficiency | speed-up | overhead | busy (d/m/e) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        (wi, hi), (wo, ho) = r.size_in, r.size_out
        busy = "/".join(f"{r.busy.get(name, 0):.0%}" for name in STAGES)
        fps = {name: f"{value:.1f}" for name, value in r.fps.items()}
        rows.append(
            f"| {r.clip} ({r.frames} fr) | {wi}x{hi} -> {wo}x{ho} | {r.model}{' compiled' if r.compiled else ''} | {r.device} {r.dtype} | {r.batch} "
            f"| {fps['decode']} | {fps['model']} | {fps['encode']} | {fps['pipeline']} | {fps['naive']} | {r.slowest} "
            f"| {r.efficiency:.0%} | {r.speedup:.2f}x | {r.overhead_ms:+.2f} ms | {busy} |"
        )
    return "\n".join(rows)


def encoders_table(encoders: list[EncoderRun]) -> str:
    rows = ["| output | encoder | encode fps |", "|---|---|---|"]
    rows += [f"| {e.size[0]}x{e.size[1]} | {e.encoder} | {e.fps:.1f} |" for e in encoders]
    return "\n".join(rows)


def network_table(network: list[dict]) -> str:
    rows = ["| network | input | dtype | batch | compiled | fps | ms/frame | first call |", "|---|---|---|---|---|---|---|---|"]
    for n in network:
        rows.append(
            f"| {n['variant']} x{n['scale']} | {n['width']}x{n['height']} | {n['dtype']} | {n['batch']} | {'yes' if n['compiled'] else 'no'} "
            f"| {n['fps']:.1f} | {n['ms_per_frame']:.2f} | {n['first_call_seconds']:.1f} s |"
        )
    return "\n".join(rows)


def comparison_table(comparisons: list[Comparison]) -> str:
    rows = ["| run | ratio | baseline | now | change | |", "|---|---|---|---|---|---|"]
    for c in comparisons:
        flag = f"DROP > {ALLOWED_DROP:.0%}" if c.dropped else "ok"
        rows.append(f"| {c.key} | {c.ratio} | {c.baseline:.3f} | {c.now:.3f} | {c.change:+.1%} | {flag} |")
    return "\n".join(rows)
