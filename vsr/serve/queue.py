"""The job queue: one SQLite file (`jobs.sqlite`) in the state folder.

Every change is one committed transaction (WAL journal, synchronous=FULL), so a kill -9
leaves the queue as it was after the last change. A job that was running when the server
died is queued again at the next start (`requeue_interrupted`) and resumes from its
segments (vsr.video.segments): nothing finished is lost, and a result is only marked done
once the run renamed it into place.
"""

import fcntl
import json
import os
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from ..errors import OutputError


class JobState(str, Enum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self in (JobState.DONE, JobState.FAILED, JobState.CANCELLED)


@dataclass
class JobRecord:
    """One job as the store keeps it. `options` are upscale_video's keyword options as
    asked (scale, preset, model, codec, crf); `source` is the input file in the job's
    folder (or a server path under an allowed folder), `url` where it is still to fetch."""

    id: str
    name: str  # the input's (sanitised) file name, for people
    source: str
    output: str
    options: dict
    url: str | None = None
    state: JobState = JobState.QUEUED
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    progress: float = 0.0
    frames_done: int = 0
    frames_total: int | None = None
    fps: float | None = None
    eta_s: float | None = None
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    cancel_requested: bool = False
    remove_files: bool = False  # with the cancel: remove the job's files and record once it stopped

    def public(self) -> dict:
        """What the API shows of it."""
        return {
            "id": self.id, "name": self.name, "state": self.state.value, "progress": self.progress,
            "frames_done": self.frames_done, "frames_total": self.frames_total, "fps": self.fps, "eta_s": self.eta_s,
            "error": self.error, "warnings": list(self.warnings), "options": dict(self.options),
            "created": self.created, "started": self.started, "finished": self.finished,
            "has_result": self.state is JobState.DONE,
        }  # fmt: skip


COLUMNS = {
    "id": "TEXT PRIMARY KEY", "name": "TEXT", "source": "TEXT", "output": "TEXT", "options": "TEXT", "url": "TEXT",
    "state": "TEXT", "created": "REAL", "started": "REAL", "finished": "REAL", "progress": "REAL",
    "frames_done": "INTEGER", "frames_total": "INTEGER", "fps": "REAL", "eta_s": "REAL", "error": "TEXT",
    "warnings": "TEXT", "cancel_requested": "INTEGER", "remove_files": "INTEGER",
}  # fmt: skip
JSON_COLUMNS = ("options", "warnings")


def new_job_id() -> str:
    return uuid.uuid4().hex[:12]


class JobStore:
    """The queue in `folder/jobs.sqlite`, shared by the app's and the workers' threads."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.path = self.folder / "jobs.sqlite"
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(f"CREATE TABLE IF NOT EXISTS jobs ({', '.join(f'{k} {v}' for k, v in COLUMNS.items())})")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def add(self, job: JobRecord) -> JobRecord:
        row = self._row_of(job)
        with self._lock:
            self._db.execute(f"INSERT INTO jobs ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", tuple(row.values()))
        return job

    def get(self, job_id: str) -> JobRecord | None:
        with self._lock:
            row = self._db.execute(f"SELECT {', '.join(COLUMNS)} FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return None if row is None else self._job_of(row)

    def all(self) -> list[JobRecord]:
        with self._lock:
            rows = self._db.execute(f"SELECT {', '.join(COLUMNS)} FROM jobs ORDER BY created, rowid").fetchall()
        return [self._job_of(row) for row in rows]

    def update(self, job_id: str, **values) -> None:
        for name in JSON_COLUMNS:
            if name in values:
                values[name] = json.dumps(values[name])
        if "state" in values:
            values["state"] = JobState(values["state"]).value
        with self._lock:
            self._db.execute(f"UPDATE jobs SET {', '.join(f'{k} = ?' for k in values)} WHERE id = ?", (*values.values(), job_id))

    def claim_next(self) -> JobRecord | None:
        """The oldest queued job, now marked running (one transaction: two workers never
        take the same job)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                row = self._db.execute("SELECT id FROM jobs WHERE state = ? ORDER BY created, rowid LIMIT 1", (JobState.QUEUED.value,)).fetchone()
                if row is not None:
                    self._db.execute("UPDATE jobs SET state = ?, started = ? WHERE id = ?", (JobState.RUNNING.value, time.time(), row[0]))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return None if row is None else self.get(row[0])

    def cancel(self, job_id: str, remove_files: bool = False) -> JobState | None:
        """Records a cancel: a queued job is cancelled at once, a running one is asked to
        stop (its worker finishes the cancel). The job's state after it (None: no such job)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            row = self._db.execute("SELECT state FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is None:
                self._db.execute("COMMIT")
                return None
            state = JobState(row[0])
            if state is JobState.QUEUED:
                state = JobState.CANCELLED
                self._db.execute("UPDATE jobs SET state = ?, finished = ? WHERE id = ?", (state.value, time.time(), job_id))
            if not state.finished or remove_files:
                self._db.execute("UPDATE jobs SET cancel_requested = 1, remove_files = ? WHERE id = ?", (int(remove_files), job_id))
            self._db.execute("COMMIT")
        return state

    def requeue_interrupted(self) -> list[str]:
        """Jobs left running by a server that died: queued again (they resume from their
        segments), or cancelled where a cancel had been asked for. Their ids."""
        with self._lock:
            rows = self._db.execute("SELECT id, cancel_requested FROM jobs WHERE state = ?", (JobState.RUNNING.value,)).fetchall()
            for job_id, cancel in rows:
                state = JobState.CANCELLED if cancel else JobState.QUEUED
                self._db.execute("UPDATE jobs SET state = ?, fps = NULL, eta_s = NULL WHERE id = ?", (state.value, job_id))
        return [job_id for job_id, _ in rows]

    def delete(self, job_id: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM jobs WHERE id = ?", (job_id,))

    @staticmethod
    def _row_of(job: JobRecord) -> dict:
        row = {name: getattr(job, name) for name in COLUMNS}
        for name in JSON_COLUMNS:
            row[name] = json.dumps(row[name])
        row["state"] = job.state.value
        row["cancel_requested"] = int(job.cancel_requested)
        row["remove_files"] = int(job.remove_files)
        return row

    @staticmethod
    def _job_of(row: tuple) -> JobRecord:
        values = dict(zip(COLUMNS, row))
        for name in JSON_COLUMNS:
            values[name] = json.loads(values[name]) if values[name] else ({} if name == "options" else [])
        values["state"] = JobState(values["state"])
        values["cancel_requested"] = bool(values["cancel_requested"])
        values["remove_files"] = bool(values["remove_files"])
        return JobRecord(**values)


class StateLock:
    """One server per state folder: a second one would queue the first one's running jobs
    again as if it had died. An flock on `server.lock`, which the system releases when
    the process ends, however it ends (kill -9 included)."""

    def __init__(self, folder: Path):
        self.path = Path(folder) / "server.lock"
        self._file = None

    def acquire(self) -> "StateLock":
        handle = open(self.path, "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise OutputError(f"{self.path.parent} is in use by another vsr serve ({holder})") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        self._file = handle
        return self

    def release(self) -> None:
        if self._file is not None:
            self._file.close()  # closing drops the lock
            self._file = None
