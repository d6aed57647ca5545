"""Segments on a Ray cluster (`vsr upscale --ray`): one actor per GPU, or CPU actors.

The driver (the `vsr upscale` process) plans the segments, keeps the manifest and joins the
output exactly as a single-machine run does; Ray actors only encode segments. Each actor
loads the model once and writes each segment file straight into the work folder, which
must be on storage every node sees at the same path (NFS, a shared volume): no frame or
segment goes through Ray's object store; a task returns only its stage timings.

A task whose actor dies (a killed process, a lost node, an out-of-memory kill) is given
to another actor, and a fresh actor replaces the dead one; a segment that fails
`ATTEMPTS` times stops the job with its name and the last reason. Errors that retrying
cannot fix (a vsr error: bad input or settings) stop it at once.

Ray is an optional extra (`pip install "vsr[ray]"`), imported only here, only when asked.
The cluster is the one at `address` (or Ray's own RAY_ADDRESS); with neither, a local Ray is
started for this run, bound to the loopback address, and shut down at the end.
"""

import os
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ...errors import OutputError, UsageError, VsrError
from ..io.plan import OutputPlan
from .cutting import InexactSegment, Segment

ATTEMPTS = 3


def import_ray():
    try:
        import ray
    except ImportError:
        raise UsageError("Ray is not installed", hint="pip install 'vsr[ray]' to use {ray}") from None
    return ray


@dataclass(frozen=True)
class WorkerSpec:
    """All an actor needs to encode segments of one job (sent once, when it starts)."""

    src: Path  # read again by each actor (for its VideoInfo), so it must see the same file
    model: str  # a shipped name or a weights file path (visible on every node)
    scale: int
    precision: str  # the driver's resolved precision (fp32, fp16, bf16; vsr.precision_policy)
    compile: bool
    batch: int
    queue_size: int
    output: OutputPlan  # the whole output's plan: each segment's video is encoded as it says


class SegmentWorker:
    """A Ray actor: the model, loaded once; `encode(segment, path)` per task."""

    def __init__(self, spec: WorkerSpec, device: str):
        from ...model import as_model
        from ..io.source import VideoSource

        source = VideoSource(spec.src)
        source.close()
        self.spec, self.info = spec, source.info
        self.sr = as_model(spec.model, scale=spec.scale, device=device, precision=spec.precision, compile=spec.compile)

    def encode(self, segment: Segment, path: str) -> dict[str, float]:
        from .encode import SegmentWork, encode_segment

        spec = self.spec
        notes: list[str] = []
        shared = SegmentWork(spec.src, self.info, spec.output, spec.batch, spec.queue_size)
        clocks = encode_segment(shared, segment, Path(path), self.sr, notes.append)
        return {clock.name: clock.busy_seconds for clock in clocks}


class RayRunner:
    def __init__(self, spec: WorkerSpec, address: str | None, workers: int | None, notify: Callable[[str], None]):
        address = address or os.environ.get("RAY_ADDRESS")
        if not address:
            # Ray's switch for a single-machine instance (read when ray is imported): its
            # node listens on the loopback address only, not the machine's outward one.
            os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
        self.ray = import_ray()
        self.spec, self.notify = spec, notify
        self.started_here = False
        if not self.ray.is_initialized():
            if address:
                self.ray.init(address=address, log_to_driver=False)
            else:
                self.ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
                self.started_here = True
        resources = self.ray.cluster_resources()
        gpus = int(resources.get("GPU", 0))
        if gpus:
            self.count, self.device = gpus, "cuda"
            self.actor = self.ray.remote(num_gpus=1)(SegmentWorker)
        else:
            self.count, self.device = workers or max(1, int(resources.get("CPU", 1))), "cpu"
            self.actor = self.ray.remote(num_cpus=1)(SegmentWorker)

    def close(self) -> None:
        if self.started_here:
            self.ray.shutdown()

    def encode(self, job, todo: list[Segment], on_progress, remaining_frames: int) -> Iterator[tuple[Segment, dict[str, float]]]:
        """Run `todo` on the actors; yield (segment, stage seconds) as each finishes."""
        ray = self.ray
        queue = deque(todo)
        attempts: dict[str, int] = {}
        idle = [self.actor.remote(self.spec, self.device) for _ in range(min(self.count, len(todo)))]
        running: dict = {}  # task ref -> (actor, segment)
        frames_done = 0
        try:
            while queue or running:
                while queue and idle:
                    actor, segment = idle.pop(), queue.popleft()
                    running[actor.encode.remote(segment, str(job.path_of(segment)))] = (actor, segment)
                (ref,), _ = ray.wait(list(running), num_returns=1)
                actor, segment = running.pop(ref)
                try:
                    seconds = ray.get(ref)
                except ray.exceptions.RayActorError as exc:  # the worker process or its node died
                    ray.kill(actor)
                    idle.append(self.actor.remote(self.spec, self.device))
                    self._retry(segment, attempts, queue, f"its worker died ({type(exc).__name__})")
                    continue
                except ray.exceptions.RayTaskError as exc:
                    cause = exc.cause
                    if isinstance(cause, (VsrError, InexactSegment)):
                        raise cause from None
                    idle.append(actor)
                    self._retry(segment, attempts, queue, f"{type(cause).__name__}: {cause}")
                    continue
                idle.append(actor)
                frames_done += segment.frames
                if on_progress:
                    on_progress(frames_done, remaining_frames)
                yield segment, seconds
        finally:
            for actor, _ in running.values():
                ray.kill(actor)
            for actor in idle:
                ray.kill(actor)

    def _retry(self, segment: Segment, attempts: dict[str, int], queue: deque, reason: str) -> None:
        attempts[segment.name] = attempts.get(segment.name, 0) + 1
        if attempts[segment.name] >= ATTEMPTS:
            raise OutputError(f"{segment.name} failed {ATTEMPTS} times; the last time {reason}")
        self.notify(f"{segment.name} failed ({reason}); retrying it on another worker")
        queue.appendleft(segment)
