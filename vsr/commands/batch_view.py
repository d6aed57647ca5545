"""What a batch of `vsr upscale` shows on stderr: one bar for the batch (files) and one for
the current file (frames), warnings as they happen, and a final table on stdout."""

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from .progress_view import ProgressView


class BatchView(ProgressView):
    def __enter__(self) -> "BatchView":
        if not self.quiet and self.console.is_terminal:
            self.progress = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[fps]}"),
                TimeElapsedColumn(),
                console=self.console,
                transient=True,
            )
            self.progress.start()
            self.overall = self.progress.add_task("batch", fps="files")
        return self

    def job_started(self, index: int, total: int, job) -> None:
        if self.progress is None:
            return
        self.progress.update(self.overall, completed=index, total=total)
        if self.task is not None:
            self.progress.remove_task(self.task)
        self.task = self.progress.add_task(job.source.name[:40], total=None, fps="  -- fps")

    def update(self, done: int, expected: int | None) -> None:
        if self.progress is None or self.task is None:
            return
        task = self.progress._tasks[self.task]
        fps = f"{done / task.elapsed:6.1f} fps" if task.elapsed else "  -- fps"
        self.progress.update(self.task, completed=done, total=expected if expected and expected >= done else None, fps=fps)

    def summary(self, result) -> None:  # a batch speaks in its table
        pass

    def table(self, outcomes) -> None:
        if self.quiet:
            return
        table = Table(title="vsr upscale batch")
        table.add_column("file", overflow="fold")
        for name in ("frames", "fps"):
            table.add_column(name, justify="right")
        table.add_column("result", overflow="fold")
        for o in outcomes:
            frames, fps = str(o.frames) if o.frames else "-", f"{o.fps:.1f}" if o.fps else "-"
            table.add_row(o.job.label, frames, fps, outcome_words(o), style="red" if o.failed else None)
        Console(soft_wrap=True).print(table)


def outcome_words(outcome) -> str:
    """A batch job's result, in the table's words (vsr.video.batch.JobStatus)."""
    from ..video.batch import JobStatus

    words = {
        JobStatus.NOT_STARTED: "not started",
        JobStatus.DONE: "done",
        JobStatus.SKIPPED_EXISTING: "skipped: output exists",
        JobStatus.FAILED: f"failed: {outcome.failure}",
        JobStatus.INTERRUPTED: "interrupted",
    }
    return words[outcome.status]
