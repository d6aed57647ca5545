"""What `vsr train` shows: a rich progress bar on a terminal, log lines otherwise."""

import time

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

LOG_EVERY_SECONDS = 30.0


class TrainingReporter:
    def __init__(self, trainer) -> None:
        self.trainer = trainer
        self.console = Console(stderr=True)
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("loss {task.fields[loss]:.4f}  lr {task.fields[lr]:.2e}  {task.fields[speed]:.2f} steps/s"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=self.console,
            disable=not self.console.is_terminal,
        )
        self.smoothed: float | None = None
        self.window_start = (time.perf_counter(), trainer.step)
        self.speed = 0.0
        self.last_log = 0.0

    def __enter__(self) -> "TrainingReporter":
        config = self.trainer.config
        self.console.print(
            f"training PlainUSR {config.variant} x{config.scale} on {self.trainer.device}: "
            f"{self.trainer.sampler.describe()}, {config.form} form, batch {config.batch} x {config.patch}px, "
            f"steps {self.trainer.step}->{config.steps}, run dir {self.trainer.run_dir}"
        )
        self.progress.start()
        self.task = self.progress.add_task(
            f"{config.variant} x{config.scale}", total=config.steps, completed=self.trainer.step, loss=0.0, lr=0.0, speed=0.0
        )
        return self

    def __exit__(self, *exc) -> None:
        self.progress.stop()

    def report(self, step: int, loss: float, lr: float, val) -> None:
        self.smoothed = loss if self.smoothed is None else 0.98 * self.smoothed + 0.02 * loss
        now = time.perf_counter()
        t0, s0 = self.window_start
        if now - t0 >= 5.0:
            self.speed = (step - s0) / (now - t0)
            self.window_start = (now, step)
        self.progress.update(self.task, completed=step, loss=self.smoothed, lr=lr, speed=self.speed)
        if val:
            self.console.print(f"step {step}: val PSNR-Y {val.psnr:.3f} dB, SSIM-Y {val.ssim:.4f}")
        if self.progress.disable and (now - self.last_log >= LOG_EVERY_SECONDS or step == self.trainer.config.steps):
            self.last_log = now
            remaining = (self.trainer.config.steps - step) / self.speed if self.speed else float("nan")
            self.console.print(
                f"step {step}/{self.trainer.config.steps} loss {self.smoothed:.4f} lr {lr:.2e} "
                f"{self.speed:.2f} steps/s ETA {remaining / 60:.0f} min"
            )
