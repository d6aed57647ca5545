"""Segments on a Ray cluster (`vsr upscale --ray`): one actor per GPU, or CPU actors.

Where the actors run follows the device setting (`place_workers`): "auto" takes the
cluster's GPUs when it has any, else its CPUs; "cpu" runs CPU actors even beside GPUs;
"cuda" asks for GPUs and fails in one line on a cluster without any. Each actor loads the
model on its own device with the run's precision setting (`half` as resolved: True, False or
None for the precision policy's choice on that device), so a GPU worker runs what `vsr
upscale` would run on that GPU; the driver loads no model at all: it reads the weights'
variant and scale off the file (vsr.model.identify_weights) and records what the workers
report they run (`WorkerModel`), which must be the same on every worker.

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

from ...errors import DeviceError, OutputError, UsageError, VsrError
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

    src: Path  # read again by each actor (its segments), so it must see the same file
    model: str  # a shipped name or a weights file path (visible on every node)
    scale: int
    precision: str  # as the run asked it (auto, fp32, fp16, bf16); auto: the precision policy decides on each worker's device
    compile: bool
    batch: int
    queue_size: int
    output: OutputPlan  # the whole output's plan: each segment's video is encoded as it says


class SegmentWorker:
    """A Ray actor: the model, loaded once; `encode(segment, path)` per task."""

    def __init__(self, spec: WorkerSpec, device: str):
        from ...model import as_model
        from ..io.source import VideoSource

        self.spec, self.failure = spec, None
        try:
            source = VideoSource(spec.src)  # one clear line if this node cannot read the file
            source.close()
            self.sr = as_model(spec.model, scale=spec.scale, device=device, precision=spec.precision, compile=spec.compile)
            self.info = spec.output.video  # the run's own description, deinterlacing included
        except Exception as exc:  # kept for the first call: Ray hands a method's error to the driver whole, a constructor's only as text
            self.failure = exc

    def describe(self) -> "WorkerModel":
        if self.failure is not None:
            raise self.failure
        sr = self.sr
        return WorkerModel(sr.source, sr.variant, sr.scale, sr.name, sr.runs_on, str(sr.dtype).removeprefix("torch."))

    def encode(self, segment: Segment, path: str) -> dict[str, float]:
        from .encode import SegmentWork, encode_segment

        if self.failure is not None:
            raise self.failure
        spec = self.spec
        notes: list[str] = []
        shared = SegmentWork(spec.src, self.info, spec.output, spec.batch, spec.queue_size)
        clocks = encode_segment(shared, segment, Path(path), self.sr, notes.append)
        return {clock.name: clock.busy_seconds for clock in clocks}


@dataclass(frozen=True)
class WorkerModel:
    """What the workers run, as they report it: what the driver records (the manifest, the
    result) in place of a model of its own."""

    source: str
    variant: str
    scale: int
    name: str
    runs_on: str  # e.g. "cuda:0 float32"
    dtype: str  # e.g. "float16"


@dataclass(frozen=True)
class Placement:
    """How many actors, on which device, with which Ray resource options."""

    count: int
    device: str  # "cuda" or "cpu", as each actor sees it (Ray gives an actor its own GPU as cuda:0)
    options: dict


def place_workers(resources: dict, device: str, workers: int | None) -> Placement:
    """The actors for a cluster with `resources` (ray.cluster_resources()) and the device
    setting as given (auto, cpu, cuda): one per GPU, or `workers` (default one per CPU) CPU
    actors that take no GPU."""
    wanted = device.strip().lower()
    gpus = int(resources.get("GPU", 0))
    if wanted not in ("auto", "cpu", "cuda"):
        if wanted.startswith("cuda:"):
            raise UsageError(f"device {device}: each Ray worker is given a GPU of its own", hint="use {device=cuda}")
        raise UsageError(f"bad device {device!r}: expected auto, cpu, cuda or cuda:N")
    if wanted == "cuda" and not gpus:
        raise DeviceError("device cuda asked for, but the Ray cluster has no GPU", hint="use {device=cpu} or {device=auto}")
    if wanted == "cpu" or not gpus:
        return Placement(workers or max(1, int(resources.get("CPU", 1))), "cpu", {"num_cpus": 1, "num_gpus": 0})
    return Placement(gpus, "cuda", {"num_cpus": 1, "num_gpus": 1})


class RayRunner:
    def __init__(self, spec: WorkerSpec, address: str | None, workers: int | None, notify: Callable[[str], None], device: str = "auto"):
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
        try:
            self.placement = place_workers(self.ray.cluster_resources(), device, workers)
        except BaseException:
            self.close()
            raise
        self.count, self.device = self.placement.count, self.placement.device
        self.actor = self.ray.remote(**self.placement.options)(SegmentWorker)
        self.idle: list = []

    def close(self) -> None:
        for actor in self.idle:
            self.ray.kill(actor)
        self.idle = []
        if self.started_here:
            self.ray.shutdown()

    def start(self, segments: int) -> WorkerModel:
        """Start the actors for `segments` segments (each loads the model) and return what
        they run; workers that resolve a different model or precision stop the run."""
        self.idle = [self.actor.remote(self.spec, self.device) for _ in range(min(self.count, max(1, segments)))]
        try:
            described = self.ray.get([actor.describe.remote() for actor in self.idle])
        except self.ray.exceptions.RayTaskError as exc:
            if isinstance(exc.cause, VsrError):
                raise exc.cause from None
            raise
        if len(set(described)) > 1:
            seen = "; ".join(sorted({d.runs_on for d in described}))
            raise DeviceError(f"the Ray workers would not all run the same model the same way ({seen})", hint="name the {device}")
        return described[0]

    def encode(self, job, todo: list[Segment], on_progress, remaining_frames: int) -> Iterator[tuple[Segment, dict[str, float]]]:
        """Run `todo` on the actors; yield (segment, stage seconds) as each finishes."""
        ray = self.ray
        queue = deque(todo)
        attempts: dict[str, int] = {}
        idle, self.idle = self.idle, []
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
