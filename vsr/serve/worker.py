"""The threads that run queued jobs, one at a time by default (`jobs`), each model loaded
once and kept for every job that asks for it.

A job runs through vsr's own resumable run (vsr.video.segments.segmented.run_job): the
result is written under a temporary name and renamed when complete, and a long input is
upscaled in segments recorded in a work folder beside the result, so a server killed
half-way resumes the job from its segments at the next start (JobStore.requeue_interrupted).

Cancel and shutdown use the run's own progress hook: raising from `on_progress` stops every
stage of the pipeline at its next safe point, joins the threads and removes the temporary
output (vsr.video.stages.pipeline). A cancelled job's work folder is removed; a job stopped
by the server's shutdown keeps it, and resumes at the next start.
"""

import logging
import shutil
import threading
import time
import urllib.error
import urllib.request
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlparse

from ..errors import InputError, VsrError
from .options import ServerDefaults, build_upscale
from .queue import JobRecord, JobState, JobStore
from .security import safe_name

log = logging.getLogger("vsr.serve")
SAVE_EVERY = 0.25  # seconds between progress writes to the store
FETCH_CHUNK = 1 << 20
FETCH_TIMEOUT = 30.0
URL_SCHEMES = ("http", "https")


class JobCancelled(Exception):
    """Raised inside a run's hook: the job was cancelled."""


class ServerStopping(Exception):
    """Raised inside a run's hook: the server is shutting down; the job resumes at the next start."""


def job_folder(state: Path, job_id: str) -> Path:
    return state / "jobs" / job_id


class Workers:
    """`count` threads that take queued jobs from `store` and run them."""

    def __init__(self, store: JobStore, defaults: ServerDefaults, count: int = 1, max_fetch: int | None = None):
        self.store, self.defaults, self.count, self.max_fetch = store, defaults, count, max_fetch
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._cancels: dict[str, threading.Event] = {}
        self._models: dict[tuple, object] = {}
        self._lock = threading.Lock()  # guards _cancels
        self._loading = threading.Lock()  # guards _models: held through a load, which may download

    def start(self) -> None:
        for job_id in self.store.requeue_interrupted():
            log.info("job %s was running when the server stopped; it resumes", job_id)
        for index in range(self.count):
            thread = threading.Thread(target=self._loop, name=f"vsr-serve-worker-{index}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 30.0) -> None:
        """Stop taking jobs and stop the running ones (they resume at the next start)."""
        self._stop.set()
        self._wake.set()
        with self._lock:
            for event in self._cancels.values():
                event.set()
        for thread in self._threads:
            thread.join(timeout)

    def wake(self) -> None:
        """A job was queued."""
        self._wake.set()

    def cancel(self, job_id: str) -> None:
        """Ask the running job `job_id` to stop (the store records the request first)."""
        with self._lock:
            event = self._cancels.get(job_id)
        if event is not None:
            event.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            job = self.store.claim_next()
            if job is None:
                self._wake.wait(0.5)
                self._wake.clear()
                continue
            try:
                self._run(job)
            except Exception:  # the store itself failed (a full disk): said, and the worker goes on
                log.exception("job %s: the queue could not record its end", job.id)

    def _run(self, job: JobRecord) -> None:
        event = threading.Event()
        with self._lock:
            self._cancels[job.id] = event
        progress = _Progress(self.store, job, event, self._stop)
        try:
            progress.check()
            if job.output and Path(job.output).is_file():  # renamed into place, then the server died before saying so
                self._finished_before(job)
                return
            if job.url:
                job = self._fetch(job, progress)
            result = self._upscale(job, progress)
            progress.save(force=True)
            self.store.update(job.id, state=JobState.DONE, progress=1.0, frames_done=result.frames, frames_total=result.frames,
                              fps=round(progress.fps() or result.fps, 2), eta_s=0.0, finished=time.time(), warnings=progress.warnings)  # fmt: skip
        except ServerStopping:
            progress.save(force=True)
            current = self.store.get(job.id)
            if current is not None and current.cancel_requested:  # cancelled as the server stopped
                self._clean_up_cancelled(job)
                self.store.update(job.id, state=JobState.CANCELLED, fps=None, eta_s=None, finished=time.time())
            else:
                self.store.update(job.id, state=JobState.QUEUED, fps=None, eta_s=None)  # it resumes at the next start
        except JobCancelled:
            self._clean_up_cancelled(job)
            self.store.update(job.id, state=JobState.CANCELLED, fps=None, eta_s=None, finished=time.time(), warnings=progress.warnings)
        except VsrError as exc:
            self.store.update(job.id, state=JobState.FAILED, error=str(exc), fps=None, eta_s=None, finished=time.time(), warnings=progress.warnings)
        except Exception as exc:  # a bug in vsr: said in the job and logged with its traceback
            log.exception("job %s failed", job.id)
            self.store.update(job.id, state=JobState.FAILED, error=f"internal error: {exc}", finished=time.time(), warnings=progress.warnings)
        finally:
            with self._lock:
                self._cancels.pop(job.id, None)
            after = self.store.get(job.id)
            if after is not None and after.remove_files and after.state.finished:
                remove_job(self.store, job.id)

    def _upscale(self, job: JobRecord, progress: "_Progress"):
        from ..video.io.codecs import default_output
        from ..video.io.endpoints import classify
        from ..video.io.job import Hooks
        from ..video.segments.segmented import run_job

        source = Path(job.source)
        planned = build_upscale(source, job.options, self.defaults)
        for notice in planned.settings.model.notices:
            progress.warn(notice)
        model = self._model_for(planned.settings.model)
        progress.check()
        folder = job_folder(self.store.folder, job.id)
        folder.mkdir(parents=True, exist_ok=True)  # a server path's job has none yet
        output = folder / default_output(Path(job.name), model.scale, planned.encoder.codec).name
        if job.output != str(output):
            self.store.update(job.id, output=str(output))
        hooks = Hooks(notify=progress.warn, on_progress=progress.frames, on_start=progress.started, on_segments=progress.segments)
        return run_job(replace(planned, output=classify(output)), hooks, model)

    def _finished_before(self, job: JobRecord) -> None:
        """A result at its final name is complete (vsr writes it under a temporary name and
        renames it last): the job is done, not run again."""
        from .frames import frame_times

        frames = len(frame_times(Path(job.output)) or ()) or job.frames_total
        self.store.update(job.id, state=JobState.DONE, progress=1.0, frames_done=frames, frames_total=frames, eta_s=0.0, finished=time.time())

    def _model_for(self, settings):
        """One load per model, shared by every job (and worker) that asks for it."""
        key = settings.plan().key  # the file and precision it resolves to: "ultra", "ultra-x2-video" and {} share one load
        with self._loading:
            model = self._models.get(key)
            if model is None:
                model = self._models[key] = settings.load()
        return model

    def _fetch(self, job: JobRecord, progress: "_Progress") -> JobRecord:
        """A URL job's input, fetched into the job's folder first (so it runs, resumes and
        compares like an upload), at most `max_fetch` bytes."""
        target = Path(job.source)
        if not target.exists():
            fetch(job.url, target, self.max_fetch, progress.check)
        self.store.update(job.id, url=None)
        return replace(job, url=None)

    def _clean_up_cancelled(self, job: JobRecord) -> None:
        from ..video.segments.segmented import work_folder

        current = self.store.get(job.id)
        if current is not None and current.output:
            shutil.rmtree(work_folder(Path(current.output)), ignore_errors=True)


def remove_job(store: JobStore, job_id: str) -> None:
    """The job's files (upload, result, work folder) and its record."""
    shutil.rmtree(job_folder(store.folder, job_id), ignore_errors=True)
    store.delete(job_id)


def fetch(url: str, target: Path, limit: int | None, check) -> None:
    """`url` (http or https) streamed into `target` through a temporary name; more than
    `limit` bytes is refused. `check()` is called between chunks (it raises to stop)."""
    check_url(url)
    temp = target.with_name(f".{target.name}.part")
    try:
        with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT) as answer, open(temp, "wb") as out:
            declared = answer.headers.get("content-length", "")
            size = int(declared) if declared.isdigit() else 0
            if limit is not None and size > limit:
                raise InputError(f"{url} is {size} bytes, more than the {limit} this server takes")
            written = 0
            while chunk := answer.read(FETCH_CHUNK):
                check()
                written += len(chunk)
                if limit is not None and written > limit:
                    raise InputError(f"{url} is more than the {limit} bytes this server takes")
                out.write(chunk)
        temp.replace(target)
    except urllib.error.HTTPError as exc:
        raise InputError(f"cannot fetch {url}: HTTP {exc.code} {exc.reason}") from None
    except OSError as exc:  # urllib's URLError is one
        raise InputError(f"cannot fetch {url}: {getattr(exc, 'reason', None) or exc}") from None
    finally:
        temp.unlink(missing_ok=True)


def check_url(url: str) -> None:
    """Only http and https URLs with a host are fetched (not file:, ftp:, or a stream)."""
    parsed = urlparse(url)
    if parsed.scheme.lower() not in URL_SCHEMES or not parsed.netloc:
        raise InputError(f"{url}: only {' and '.join(URL_SCHEMES)} URLs can be fetched")


def url_name(url: str) -> str:
    return safe_name(Path(urlparse(url).path).name, fallback="video.mp4")


class _Progress:
    """The run's hooks for one job: progress, fps and ETA saved to the store (at most every
    SAVE_EVERY seconds), warnings as they come, and the cancel and stop checks."""

    def __init__(self, store: JobStore, job: JobRecord, cancel: threading.Event, stopping: threading.Event):
        self.store, self.job, self.cancel, self.stopping = store, job, cancel, stopping
        self.warnings: list[str] = []
        self.total = job.frames_total
        self.base = 0  # frames done by earlier runs of this job (segments kept)
        self.done = 0
        self.expected: int | None = None
        self.began: float | None = None
        self.saved = 0.0

    def check(self) -> None:
        if self.cancel.is_set():
            raise ServerStopping if self.stopping.is_set() else JobCancelled
        if self.stopping.is_set():
            raise ServerStopping

    def warn(self, message: str) -> None:
        if self.cancel.is_set() and not self.stopping.is_set():
            return  # what a cancelled run says as it stops (its segments are kept...) is not so: they are removed
        self.warnings.append(message)
        self.store.update(self.job.id, warnings=self.warnings)

    def started(self, source, sink, model) -> None:
        self.check()
        if source.info.frames_estimated:
            self.total = source.info.frames_estimated

    def segments(self, done: int, total: int) -> None:
        self.check()

    def frames(self, done: int, expected: int | None) -> None:
        self.check()
        now = time.perf_counter()
        if self.began is None:
            self.began = now
            if expected is not None and self.total:
                self.base = max(0, self.total - expected)  # a resumed run counts only what is left
        self.done, self.expected = done, expected
        self.save()

    def fps(self) -> float | None:
        """Frames this run upscaled per second (a resumed run counts only its own)."""
        elapsed = time.perf_counter() - self.began if self.began is not None else 0.0
        return self.done / elapsed if elapsed > 0 and self.done else None

    def save(self, force: bool = False) -> None:
        now = time.perf_counter()
        if not force and now - self.saved < SAVE_EVERY:
            return
        self.saved = now
        fps = self.fps()
        total = self.total or (self.base + self.expected if self.expected else None)
        frames_done = self.base + self.done
        progress = min(1.0, frames_done / total) if total else 0.0
        eta = (total - frames_done) / fps if fps and total else None
        self.store.update(self.job.id, frames_done=frames_done, frames_total=total, progress=round(progress, 4),
                          fps=None if fps is None else round(fps, 2), eta_s=None if eta is None else round(eta, 1))  # fmt: skip
