"""`vsr bench`: frames per second of every stage alone, the whole pipeline and the naive
per-frame loop, measured on the same frames in one run; the ratios between them; the
network alone per model, dtype and batch. Prints markdown tables; --json stores
everything with the machine, versions and settings; --compare flags a ratio that fell
more than 10% below a stored baseline (exit 1)."""

import argparse
import shlex
import sys
import tempfile
import time
from pathlib import Path

from .examples import RAW, examples
from .flags import add_encoder_flags, add_model_flags, model_spec


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "bench",
        help="measure frames per second: stages, pipeline, naive loop, network",
        description=__doc__,
        formatter_class=RAW,
        epilog=examples(
            None,
            ("vsr bench", "on the bundled sample clip, with the default model"),
            ("vsr bench --synthetic 1920x1080 --frames 50 --model ultra-x2 small-x2", "two models on a generated 1080p clip"),
            ("vsr bench --json now.json --compare benchmarks/before.json", "store the numbers; exit 1 if a ratio fell more than 10%"),
        ),
    )
    source = p.add_mutually_exclusive_group()
    source.add_argument("clip", nargs="?", type=Path, metavar="CLIP", help="video to measure on (default: the bundled sample clip)")
    source.add_argument("--synthetic", metavar="WxH", help="measure on a generated H.264 testsrc2 clip of this size")
    p.add_argument("--frames", type=int, default=100, metavar="N", help="frames in the --synthetic clip (default 100)")
    add_model_flags(p, several=True)  # a variant vsr does not ship runs with fresh weights: speed only; --compile times the network both ways
    p.add_argument("--batch", type=int, default=4, metavar="N", help="frames per model call in the pipeline on a GPU (default 4; the CPU takes one)")
    add_encoder_flags(p, "the pipeline")
    p.add_argument(
        "--encoders", nargs="+", default=[], metavar="CODEC[:PRESET]",
        help="more encoders to time alone, e.g. libx264:ultrafast libx265:fast h264_nvenc:p4",
    )  # fmt: skip
    p.add_argument(
        "--dtypes", nargs="+", choices=("fp16", "fp32"), metavar="DTYPE", help="network-alone dtypes (default: fp16 and fp32 on CUDA, fp32 on the CPU)"
    )
    p.add_argument("--batches", nargs="+", type=int, metavar="N", help="network-alone batch sizes (default: 1 and --batch on CUDA, 1 on the CPU)")
    p.add_argument("--repeat", type=int, default=1, metavar="N", help="time every measurement N times and keep the fastest (default 1)")
    p.add_argument("--network-only", action="store_true", help="time only the network alone (no video stages)")
    p.add_argument("--json", type=Path, metavar="OUT", help="write every number, the machine and the settings to OUT")
    p.add_argument("--compare", type=Path, metavar="BASELINE", help="a JSON file from an earlier --json: flag ratios that fell more than 10%%")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..bench import report
    from ..constants import DEFAULT_SCALE
    from ..bench.machine import describe_device, describe_machine
    from ..errors import OutputError, UsageError
    from ..device import resolve_half
    from ..settings import resolve_model

    if args.repeat < 1 or args.batch < 1 or any(b < 1 for b in args.batches or []):
        raise UsageError("--repeat, --batch and --batches take numbers of 1 or more")
    if args.network_only and args.compare:
        raise UsageError("--compare compares pipeline ratios, which --network-only does not measure")
    if args.json and not args.json.parent.is_dir():
        raise OutputError(f"output folder does not exist: {args.json.parent}")
    baseline = report.read_baseline(args.compare) if args.compare else None  # a bad file fails before minutes of work
    resolved = resolve_model(None, device=args.device, half=args.half)
    device, half = resolved.device, resolve_half(resolved.device, resolved.half)
    with tempfile.TemporaryDirectory(prefix="vsr-bench-") as temp:  # the clips and videos it writes go with it
        result = _measure(args, device, half, Path(temp))
    date = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    print(f"\nvsr bench, {date}, {describe_device(device)}, x{args.scale or DEFAULT_SCALE}\n")
    if result.runs:
        print(report.stages_table(result.runs) + "\n")
        print(report.encoders_table(result.encoders) + "\n")
    if result.network:
        print(report.network_table(result.network) + "\n")
    if args.json:
        command = "vsr " + shlex.join(args.argv)
        machine = describe_machine(device)
        report.write_json(args.json, machine=machine, command=command, date=date, runs=result.runs, encoders=result.encoders, network=result.network)
        print(f"wrote {args.json}")
    if baseline is not None:
        comparisons = report.compare(result.runs, baseline)
        print(f"\ncompared with {args.compare}:\n\n{report.comparison_table(comparisons)}\n")
        dropped = [c for c in comparisons if c.dropped]
        if dropped:
            names = ", ".join(f"{c.ratio} {c.change:+.0%}" for c in dropped)
            print(f"vsr bench: {len(dropped)} ratio(s) fell more than {report.ALLOWED_DROP:.0%} below {args.compare}: {names}", file=sys.stderr)
            return 1
    return 0


def _measure(args: argparse.Namespace, device, half: bool, workdir: Path):
    """The benchmark the flags describe, on its clip (made in `workdir` for --synthetic)."""
    from ..bench.clips import make_synthetic_clip, parse_size
    from ..bench.models import DTYPES
    from ..bench.run import BenchPlan, run_benchmark
    from ..constants import DEFAULT_SCALE
    from ..video.io.codecs import EncoderSettings
    from ..video.io.source import VideoSource
    from ..samples import SAMPLE_CLIP

    cuda = device.type == "cuda"
    if args.synthetic:
        width, height = parse_size(args.synthetic)
        print(f"making a {args.frames}-frame {width}x{height} testsrc2 clip ...", file=sys.stderr)
        clip, label = make_synthetic_clip(width, height, args.frames, workdir), f"testsrc2 {width}x{height}"
    else:
        clip = args.clip or SAMPLE_CLIP
        VideoSource(clip).close()  # one clear line for a missing or unreadable clip
        label = clip.name
    extra = []
    for text in args.encoders:
        codec, _, preset = text.partition(":")
        extra.append(EncoderSettings(codec, args.crf, preset or None))
    plan = BenchPlan(
        clip=clip,
        clip_label=label,
        models=_models(args, device),
        scale=args.scale or DEFAULT_SCALE,
        device=device,
        dtype=DTYPES["fp16" if half else "fp32"],
        batch=args.batch,
        compile=args.compile,
        encoder=EncoderSettings(args.codec, args.crf, args.encoder_preset),
        extra_encoders=extra,
        network_dtypes=[DTYPES[d] for d in (args.dtypes or (["fp16", "fp32"] if cuda else ["fp32"]))],
        network_batches=args.batches or sorted({1, args.batch} if cuda else {1}),
        repeat=args.repeat,
        network_only=args.network_only,
    )
    return run_benchmark(plan, lambda line: print(f"  {line} ...", file=sys.stderr, flush=True), workdir)


def _models(args: argparse.Namespace, device) -> list[str]:
    """The models to time: --weights, the --model names, or what `vsr upscale` would use on
    this device (its default preset's model: ultra on the CPU, small on a GPU)."""
    from ..model import default_model_name
    from ..settings import AUTO_PRESET, resolve_run

    spec = model_spec(args)
    if spec is None:
        run = resolve_run(AUTO_PRESET, scale=args.scale, device=device)
        return [run.model.model or default_model_name(run.model.scale) or "ultra"]
    return [str(spec)] if not isinstance(spec, list) else spec
