"""One benchmark run: for each model, every stage alone, the pipeline and the naive loop on
the same decoded frames and settings; encode alone per encoder; the network alone per
dtype, batch and compile. `vsr bench` prints and stores what this returns."""

import dataclasses
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

from ..model import compile_model
from ..settings import ModelSettings
from ..video.io.codecs import EncoderSettings, choose_encoder
from . import stages
from .models import model_for_speed, with_dtype
from .naive import naive_loop
from .network import time_network
from .report import EncoderRun, PipelineRun


@dataclass
class BenchPlan:
    clip: Path
    clip_label: str
    models: list[ModelSettings]  # what vsr upscale would load (weights, device, precision)
    scale: int
    device: torch.device
    batch: int  # frames per model call in the pipeline (the CPU takes one)
    compile: bool  # the pipeline and the naive loop use the compiled network
    encoder: EncoderSettings
    extra_encoders: list[EncoderSettings] = field(default_factory=list)
    network_dtypes: list[str] = field(default_factory=list)  # fp32, fp16, bf16; empty: the resolved one, and fp32
    random_weights: bool = False  # fresh weights of the same architecture (speed only; labelled)
    network_batches: list[int] = field(default_factory=list)
    repeat: int = 1
    network_only: bool = False


@dataclass
class BenchResult:
    runs: list[PipelineRun] = field(default_factory=list)
    encoders: list[EncoderRun] = field(default_factory=list)
    network: list[dict] = field(default_factory=list)


def describe_encoder(settings: EncoderSettings) -> str:
    parts = [settings.codec]
    if settings.crf is not None:
        parts.append(f"crf {settings.crf}")
    if settings.encoder_preset:
        parts.append(settings.encoder_preset)
    return " ".join(parts)


def run_benchmark(plan: BenchPlan, progress: Callable[[str], None] = lambda line: None, workdir: Path | None = None) -> BenchResult:
    """Everything the plan asks for; files go to `workdir` (default: a temporary folder
    that is removed afterwards)."""
    if workdir is None:
        with tempfile.TemporaryDirectory(prefix="vsr-bench-") as temp:
            return run_benchmark(plan, progress, Path(temp))
    result = BenchResult()
    progress(f"decoding {plan.clip_label} alone")
    decoded = stages.decode_alone(plan.clip, plan.repeat)
    width, height = decoded.info.layout.width, decoded.info.layout.height
    output = stages.video_plan(decoded.info, plan.scale, plan.encoder, workdir / "pipeline.mkv")
    for notice in output.notices:  # measure, and name, the encoder that really runs
        progress(notice)
    plan = dataclasses.replace(plan, encoder=output.settings)
    for settings in plan.models:
        eager = model_for_speed(settings, plan.random_weights)
        progress(f"model {eager.description}")
        if not plan.network_only:
            result.runs.append(_pipeline_run(plan, decoded, eager, workdir, result, progress))
        for dtype in plan.network_dtypes or list(dict.fromkeys((eager.precision.name, "fp32"))):
            for batch in plan.network_batches:
                for compiled in (False, True) if plan.compile else (False,):
                    network = with_dtype(eager, dtype)
                    network = compile_model(network) if compiled else network
                    how = f"{str(dtype).removeprefix('torch.')}, batch {batch}{', compiled' if compiled else ''}"
                    progress(f"{eager.variant} x{eager.scale} network alone: {how}")
                    result.network.append(time_network(network, width, height, batch).as_dict())
                    del network
                    if plan.device.type == "cuda":
                        torch.cuda.empty_cache()
    return result


def _pipeline_run(plan, decoded, eager, workdir, result, progress) -> PipelineRun:
    model = compile_model(eager) if plan.compile else eager
    naive_model = compile_model(eager) if plan.compile else eager  # compiled afresh for its batch of 1
    output = stages.video_plan(decoded.info, model.scale, plan.encoder, workdir / "pipeline.mkv")
    target, colour = output.layout, output.colour
    label = f"{model.variant} x{model.scale}"
    size_out = (target.width, target.height)
    fps = {"model": 0.0, "encode": 0.0, "pipeline": 0.0, "naive": 0.0}
    busy: dict[str, float] = {}
    encoders = None if result.encoders else []  # the encoders are timed with the first model only
    # Round by round, each measurement once per round, the fastest of each kept: the
    # runs a ratio compares are made side by side, so a neighbour that loads the machine
    # for a while slows both sides of it, not one.
    rounds = max(1, plan.repeat)
    for round_ in range(rounds):
        step = f"{label}{f' (round {round_ + 1} of {rounds})' if rounds > 1 else ''}"
        progress(f"{step}: model stage alone")
        upscaled, model_fps = stages.model_stage_alone(decoded, model, target, colour, plan.batch)
        progress(f"{step}: the whole pipeline")  # next to what its ratios divide by
        pipeline = stages.pipeline(plan.clip, model, plan.batch, plan.encoder, workdir)
        progress(f"{step}: the naive loop")
        naive_fps = naive_loop(plan.clip, naive_model, plan.encoder, workdir, pix_fmt=target.format)
        progress(f"{step}: encode alone ({describe_encoder(plan.encoder)})")
        encode_fps = stages.encode_alone(decoded, upscaled, model.scale, plan.encoder, workdir)
        if encoders is not None and round_ == rounds - 1:
            encoders = _extra_encoders(plan, decoded, upscaled, model.scale, size_out, workdir, progress)
        del upscaled
        if pipeline.fps > fps["pipeline"]:
            busy = pipeline.busy
        for name, value in (("model", model_fps), ("encode", encode_fps), ("pipeline", pipeline.fps), ("naive", naive_fps)):
            fps[name] = max(fps[name], value)
    if encoders is not None:
        result.encoders += [EncoderRun(size_out, describe_encoder(plan.encoder), fps["encode"]), *encoders]
    info = decoded.info
    return PipelineRun(
        clip=plan.clip_label,
        frames=len(decoded.frames),
        size_in=(info.layout.width, info.layout.height),
        size_out=size_out,
        model=label,
        weights=model.source,
        device=str(model.device),
        dtype=str(model.dtype).removeprefix("torch."),
        batch=stages.frames_per_call(model.device, plan.batch),
        compiled=model.is_compiled,
        encoder=describe_encoder(plan.encoder),
        fps={"decode": decoded.fps, **fps},
        busy=busy,
    )


def _extra_encoders(plan, decoded, upscaled, scale, size_out, workdir, progress) -> list[EncoderRun]:
    """Encode alone with each other encoder asked for (once per benchmark)."""
    timed = []
    for settings in plan.extra_encoders:
        if choose_encoder(settings, *size_out)[0] != settings.codec:
            progress(f"{settings.codec} does not open on this machine: not timed")
            continue
        progress(f"encode alone ({describe_encoder(settings)})")
        fps = stages.encode_alone(decoded, upscaled, scale, settings, workdir, plan.repeat)
        timed.append(EncoderRun(size_out, describe_encoder(settings), fps))
    return timed
