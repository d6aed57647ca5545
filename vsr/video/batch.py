"""Several inputs in one run: `vsr upscale A.mp4 B.mkv dir/ -o OUTDIR/`.

`plan_batch` decides everything before any work: the video files (folders searched by
suffix, subfolders with `recursive`), and each one's output, NAME_xS in a container that
fits the codec (the single-file rule), mirrored under OUTDIR: a file named directly goes
to OUTDIR itself, a file found in a folder keeps its path relative to that folder. Two
inputs that would write the same output are refused before anything starts.

`run_planned` upscales the jobs in turn with one loaded model. A file that fails is named
and skipped and the batch goes on; an output that already exists is skipped (so rerunning
an interrupted batch finishes it) unless `overwrite`. Ctrl-C abandons the current file
(nothing half-written is left) and stops the batch.
"""

import enum
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from ..errors import InputError, UsageError, VsrError
from ..outputs import refuse_clashes
from .io.codecs import default_output
from .io.endpoints import classify
from .io.job import NO_HOOKS, Hooks, UpscaleJob

VIDEO_SUFFIXES = frozenset(
    ".mp4 .m4v .mkv .mov .webm .avi .ts .mts .m2ts .flv .wmv .mpg .mpeg .3gp .ogv .nut .y4m .mxf".split()
)


@dataclass(frozen=True)
class Job:
    source: Path
    output: Path
    label: str  # the input as the user would name it


class JobStatus(enum.Enum):
    """How one job of a batch went; the words for each are the view's (vsr.commands)."""

    NOT_STARTED = "not_started"
    DONE = "done"
    SKIPPED_EXISTING = "skipped_existing"  # its output exists and overwrite is off
    FAILED = "failed"  # Outcome.failure says why
    INTERRUPTED = "interrupted"  # Ctrl-C: the batch stopped here


@dataclass
class Outcome:
    job: Job
    status: JobStatus = JobStatus.NOT_STARTED
    failure: str = ""  # the error, when FAILED
    frames: int = 0
    fps: float = 0.0

    @property
    def failed(self) -> bool:
        return self.status in (JobStatus.FAILED, JobStatus.INTERRUPTED)


def find_videos(folder: Path, recursive: bool, exclude: Path | None = None) -> list[Path]:
    found = folder.rglob("*") if recursive else folder.iterdir()
    videos = []
    for path in found:
        if not path.is_file() or path.suffix.lower() not in VIDEO_SUFFIXES or path.name.startswith("."):
            continue
        if exclude is not None and path.resolve().is_relative_to(exclude):
            continue  # an earlier run's outputs inside the folder being searched
        videos.append(path)
    return sorted(videos)


def plan_batch(inputs: list[str], outdir: Path | None, scale: int, codec: str, *, recursive: bool = False) -> list[Job]:
    """The jobs of a batch, by vsr.outputs' rules; `outdir` None: each output beside its input."""
    if outdir is not None and outdir.exists() and not outdir.is_dir():
        raise UsageError(f"{outdir} is a file; several inputs need an output folder")
    if outdir is not None and not outdir.exists() and outdir.suffix.lower() in VIDEO_SUFFIXES:
        raise UsageError(f"several inputs need an output folder, not a file name like {outdir.name}")
    outdir_resolved = None if outdir is None else outdir.resolve()
    jobs: list[Job] = []
    seen: set[Path] = set()
    for text in inputs:
        if not classify(text).is_file:
            raise UsageError(f"{text}: a pipe, URL or device is upscaled on its own, not in a batch with other inputs")
        given = Path(text)
        if given.is_dir():
            found = find_videos(given, recursive, exclude=outdir_resolved)
            if not found:
                raise InputError(f"no video files in {given}", hint=None if recursive else "subfolders are searched with {recursive=True}")
            pairs = [(path, path.relative_to(given).parent) for path in found]
        elif given.is_file():
            pairs = [(given, Path())]
        else:
            raise InputError(f"input not found: {given}")
        for path, relative in pairs:
            if path.resolve() in seen:
                continue
            seen.add(path.resolve())
            beside = default_output(path, scale, codec)
            output = beside if outdir is None else outdir / relative / beside.name
            jobs.append(Job(path, output, str(path)))
    refuse_clashes([(job.source, job.output) for job in jobs])
    return jobs


def run_planned(jobs: list[Job], template: UpscaleJob, model, hooks: Hooks = NO_HOOKS, on_job: Callable[[int, int, Job], None] | None = None) -> list[Outcome]:
    """Upscale each job with `model` (an SRModel, loaded once) as `template` says, with
    the job's input and output in place of the template's: a local file is upscaled in
    resumable segments with its own work folder beside its output where the template has
    segment options, as a single file would be (vsr.video.io.job.run_kind decides). Never
    raises for one file's failure; returns an Outcome per job."""
    from .segments.segmented import run_job

    notify = hooks.notify or (lambda message: None)
    outcomes = [Outcome(job) for job in jobs]
    for index, (job, outcome) in enumerate(zip(jobs, outcomes)):
        if on_job:
            on_job(index, len(jobs), job)
        if job.output.exists() and not template.overwrite:
            outcome.status = JobStatus.SKIPPED_EXISTING
            notify(f"{job.output} exists; skipping {job.label}")
            continue
        try:
            result = run_job(replace(template, source=classify(job.source), output=classify(job.output)), hooks, model)
        except KeyboardInterrupt:
            outcome.status = JobStatus.INTERRUPTED
            break
        except VsrError as exc:
            outcome.status, outcome.failure = JobStatus.FAILED, str(exc)
            notify(f"{job.label} failed: {exc}; going on with the next file")
        except Exception as exc:  # a file FFmpeg or vsr chokes on must not end the batch
            outcome.status, outcome.failure = JobStatus.FAILED, f"{type(exc).__name__}: {exc}"
            notify(f"{job.label} failed: {outcome.failure}; going on with the next file")
        else:
            outcome.status, outcome.frames, outcome.fps = JobStatus.DONE, result.frames, result.fps
    return outcomes
