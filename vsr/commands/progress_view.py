"""What `vsr upscale` shows: a rich progress bar (frames, fps, ETA) on a terminal, warnings
as they happen, and a summary that says which stage limited the speed."""

import sys

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from .consoles import make_console


class ProgressView:
    def __init__(self, quiet: bool = False, summary_to_stderr: bool = False, part: str | None = None):
        self.quiet, self.part = quiet, part  # part: which part of the input (a trim), for the start line
        self.summary_file = sys.stderr if summary_to_stderr else sys.stdout  # stdout may carry the video
        self.console = make_console(stderr=True)
        self.progress: Progress | None = None
        self.task = None

    def __enter__(self) -> "ProgressView":
        if not self.quiet and self.console.is_terminal:
            self.progress = Progress(
                TextColumn("[bold]upscaling"),
                TextColumn("{task.fields[segments]}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[fps]} fps"),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=self.console,
                transient=True,
            )
            self.progress.start()
            self.task = self.progress.add_task("upscale", total=None, fps="  -- ", segments="")
        return self

    def __exit__(self, *exc) -> None:
        if self.progress:
            self.progress.stop()

    def start(self, source, sink, model) -> None:
        if self.quiet:
            return
        info = source.info
        steps = f"{sink.layout.width}x{sink.layout.height}"
        if sink.plan.resize:  # the network's scale, then FFmpeg's resize: both steps
            steps = f"{steps} (network) -> {sink.plan.size[0]}x{sink.plan.size[1]} (FFmpeg Lanczos)"
        self.console.print(
            f"{source.path}{f' ({self.part})' if self.part else ''}: {info.layout.width}x{info.layout.height} {info.source_format} -> "
            f"{steps} {sink.layout.format} {sink.codec}, {model.description}",
            highlight=False,
        )

    def update(self, done: int, expected: int | None) -> None:
        if self.progress is None:
            return
        task = self.progress.tasks[0]
        fps = f"{done / task.elapsed:6.1f}" if task.elapsed else "  -- "
        self.progress.update(self.task, completed=done, total=expected if expected and expected >= done else None, fps=fps)

    def segments(self, done: int, total: int) -> None:
        """Segments done of all (the frame count and ETA cover only the work left)."""
        if self.progress is not None:
            self.progress.update(self.task, segments=f"segment {min(done + 1, total)}/{total}")
        elif not self.quiet and done == total:
            self.console.print(f"{total} segments done; joining", highlight=False)

    def warn(self, message: str) -> None:
        if not self.quiet:
            self.console.print(f"vsr upscale: warning: {message}", highlight=False, markup=False)

    def summary(self, result) -> None:
        from ..video.stages.ending import RunEnding

        if self.quiet:
            return
        busy = {name: seconds / result.seconds for name, seconds in result.stage_busy.items()} if result.seconds else {}
        limit = max(busy, key=busy.get) if busy else "?"
        shares = ", ".join(f"{name} {share:.0%}" for name, share in busy.items())
        print(
            f"wrote {result.output}: {result.frames} frames {result.size_in[0]}x{result.size_in[1]} -> "
            f"{result.size_out[0]}x{result.size_out[1]} in {result.seconds:.1f} s ({result.fps:.1f} fps); "
            f"stages busy: {shares} (limited by {limit})"
            + (f"; {result.frames_dropped} frame(s) dropped to keep up" if result.frames_dropped else "")
            + (f"; stopped: {ending_words(result)}" if result.ended is not RunEnding.INPUT_ENDED else ""),
            file=self.summary_file,
        )


def ending_words(result) -> str:
    """Why the run stopped, in the summary's words (UpscaleResult.ended)."""
    from ..video.stages.ending import RunEnding

    words = {
        RunEnding.INPUT_ENDED: "the input ended",
        RunEnding.INPUT_LOST: f"the input was lost ({result.lost_because})",
        RunEnding.INTERRUPTED: "interrupted (Ctrl-C)",
        RunEnding.READER_GONE: "the reader closed the output",
        RunEnding.OUTPUT_DROPPED: "the output connection was dropped",
    }
    return words[result.ended]
