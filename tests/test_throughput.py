"""Frame-throughput regression tests on the CPU: ratios measured side by side in one run,
never absolute fps (those live in docs/BENCHMARKS.md).

One benchmark (vsr.bench.run_benchmark) on the bundled 320x180 clip (50 frames), ultra x2,
float32, libx264 crf 23 veryfast, each measurement the fastest of 3. On this project's
2-core CI machine (AMD EPYC, 2026-11-28), 8 runs of exactly this measured:

    efficiency (pipeline / slowest stage alone)  0.844 - 1.041, mean 0.912, sd 0.065
    speed-up (pipeline / naive loop)              0.898 - 0.973, mean 0.927, sd 0.026
    overhead per frame                            -0.76 - 3.03 ms, mean 1.70, sd 1.24
    (the model stage alone: 51-65 fps; the model was the slowest stage in every run)

The floors sit at least 2 sd below the lowest run measured, so a run beside a busy
neighbour passes, while a change that costs the pipeline a fifth of its speed fails the
speed-up floor (0.93 x 0.8 = 0.74 < 0.80). On 2 cores
the model takes ~90% of the work and both cores, so the pipeline cannot beat the naive
loop by much here; on a GPU it does (3.0-3.8x on an H200, docs/BENCHMARKS.md).

Every ratio compares runs made side by side (run_benchmark measures round by round), and
a ratio that misses its bound is measured again, up to TRIES benchmarks, the best one
counting: a neighbour that takes the cores for a while cannot fail the test, a pipeline
that is really slower fails every try. The overhead is a ratio too: the time the pipeline
adds to a frame, over the slowest stage's time per frame (1/efficiency - 1), not ms, which
grow with the load. Measured with two busy loops on both cores: docs/BENCHMARKS.md.
"""

import pytest

from vsr.bench.run import BenchPlan, run_benchmark
from vsr.samples import SAMPLE_CLIP
from vsr.video.io.codecs import EncoderSettings

EFFICIENCY_FLOOR = 0.70
SPEEDUP_FLOOR = 0.80
OVERLAP_FLOOR = 1.03
OVERHEAD_SHARE_BOUND = 0.40  # of the slowest stage's time per frame (quiet machine: -0.04 to 0.18)
TRIES = 3


class Benchmarks:
    """The benchmark runs made so far; one more is made only when a bound is missed."""

    def __init__(self, measure):
        self.measure, self.runs = measure, []

    def best(self, value, good) -> tuple[float, list]:
        """The best `value(run)` (by `good`, which says whether it passes) over up to TRIES runs."""
        values = [value(run) for run in self.runs]
        while not any(map(good, values)) and len(self.runs) < TRIES:
            self.runs.append(self.measure())
            values.append(value(self.runs[-1]))
        passing = [v for v in values if good(v)]
        return (passing or values)[0], [(round(v, 3) if isinstance(v, float) else v, run.fps) for v, run in zip(values, self.runs, strict=True)]


@pytest.fixture(scope="module")
def measured(tmp_path_factory):
    import torch

    from vsr.settings import resolve_model

    plan = BenchPlan(
        clip=SAMPLE_CLIP,
        clip_label=SAMPLE_CLIP.name,
        models=[resolve_model("ultra", scale=2, device="cpu", precision="fp32")],
        scale=2,
        device=torch.device("cpu"),
        batch=4,
        compile=False,
        encoder=EncoderSettings("libx264", 23, "veryfast"),
        repeat=3,
    )
    workdir = tmp_path_factory.mktemp("throughput")
    return Benchmarks(lambda: run_benchmark(plan, workdir=workdir).runs[0])


def test_the_model_is_the_slowest_stage_on_the_cpu(measured):
    slowest, tried = measured.best(lambda run: run.slowest, lambda name: name == "model")
    assert slowest == "model", tried
    assert measured.runs[0].frames == 50


def test_pipeline_efficiency_stays_above_its_floor(measured):
    efficiency, tried = measured.best(lambda run: run.efficiency, lambda value: value >= EFFICIENCY_FLOOR)
    assert efficiency >= EFFICIENCY_FLOOR, tried


def test_pipeline_keeps_up_with_the_naive_loop(measured):
    speedup, tried = measured.best(lambda run: run.speedup, lambda value: value >= SPEEDUP_FLOOR)
    assert speedup >= SPEEDUP_FLOOR, tried


def test_pipeline_overlaps_its_stages(measured):
    """The floor above passes a pipeline that runs its stages one after another: here the
    model is ~95% of the work, so the stages back to back reach ~0.87 of the slowest stage
    alone (serial 44.6 fps vs the pipeline's 46.8 in the stored baseline). This one does
    not: the stages must have worked at the same time, their busy shares adding up to more
    than the wall time. Stages taking turns add up to 1.0 at most. Measured: 1.15 in the
    baseline (2/97/16%), 1.06 on a machine loaded tenfold (1/96/9%)."""
    overlap, tried = measured.best(lambda run: sum(run.busy.values()), lambda value: value >= OVERLAP_FLOOR)
    assert overlap >= OVERLAP_FLOOR, tried


def test_pipeline_overhead_per_frame_stays_below_its_bound(measured):
    share, tried = measured.best(lambda run: run.overhead_ms * run.fps[run.slowest] / 1000, lambda value: value <= OVERHEAD_SHARE_BOUND)
    assert share <= OVERHEAD_SHARE_BOUND, tried
