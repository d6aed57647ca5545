"""`vsr bench`: frames per second of every stage alone, the whole pipeline and the naive
per-frame loop, measured on the same frames in one run; the ratios between them; the
network alone per model, dtype and batch. It times exactly what `vsr upscale` runs with
the same flags: the same preset, weights, precision and encoder settings (never an
untrained network unless --random-weights, labelled so). Prints markdown tables; --json
stores everything with the machine, versions and settings; --compare flags a ratio that
fell more than 10% below a stored baseline (exit 1)."""

import argparse
import shlex
import sys
import tempfile
import time
from pathlib import Path

from .examples import RAW, examples
from .flags import add_model_flags, flag_words, model_spec


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
    p.add_argument("--preset", metavar="NAME", help="as vsr upscale: fast, balanced, quality or a .toml file (default: fast on the CPU, balanced on a GPU)")
    add_model_flags(p, several=True, presets=True)  # --compile times the network both ways
    p.add_argument("--random-weights", action="store_true", help="time the architecture with fresh random weights (speed only: its pictures are noise)")
    p.add_argument("--batch", type=int, metavar="N", help="frames per model call in the pipeline on a GPU (default: the preset's; the CPU takes one)")
    p.add_argument("--codec", metavar="NAME", help="the pipeline's encoder (default: the preset's, as vsr upscale)")
    p.add_argument("--crf", type=int, metavar="N", help="its quality (default: the preset's)")
    p.add_argument("--encoder-preset", metavar="P", help="its speed preset (default: the preset's)")
    p.add_argument("--pix-fmt", metavar="FMT", help="output pixel format (default: the preset's, else follow the input)")
    p.add_argument(
        "--encoders", nargs="+", default=[], metavar="CODEC[:PRESET]",
        help="more encoders to time alone, e.g. libx264:ultrafast libx265:fast h264_nvenc:p4",
    )  # fmt: skip
    p.add_argument(
        "--dtypes", nargs="+", choices=("fp32", "fp16", "bf16"), metavar="DTYPE", help="network-alone precisions (default: the one vsr upscale runs, and fp32)"
    )
    p.add_argument("--batches", nargs="+", type=int, metavar="N", help="network-alone batch sizes (default: 1 and the batch on CUDA, 1 on the CPU)")
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

    if args.repeat < 1 or (args.batch is not None and args.batch < 1) or any(b < 1 for b in args.batches or []):
        raise UsageError("--repeat, --batch and --batches take numbers of 1 or more")
    if args.network_only and args.compare:
        raise UsageError("--compare compares pipeline ratios, which --network-only does not measure")
    if args.json and not args.json.parent.is_dir():
        raise OutputError(f"output folder does not exist: {args.json.parent}")
    baseline = report.read_baseline(args.compare) if args.compare else None  # a bad file fails before minutes of work
    runs = bench_settings(args)
    if not args.random_weights:
        _check_weights(runs)
    device = runs[0].model.device
    with tempfile.TemporaryDirectory(prefix="vsr-bench-") as temp:  # the clips and videos it writes go with it
        result = _measure(args, runs, Path(temp))
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


def bench_settings(args: argparse.Namespace) -> list:
    """What `vsr upscale` would resolve for these flags (vsr.settings.resolve_run), once per
    model timed: --weights, each --model, or none (the preset's model)."""
    from ..settings import AUTO_PRESET, resolve_run

    spec = model_spec(args)
    specs = spec if isinstance(spec, list) else [spec]
    overrides = dict(batch=args.batch, codec=args.codec, crf=args.crf, encoder_preset=args.encoder_preset, pix_fmt=args.pix_fmt)
    preset = args.preset or AUTO_PRESET
    return [resolve_run(preset, model=s, scale=args.scale, device=args.device, half=args.half, precision=args.precision, **overrides) for s in specs]


def _check_weights(runs: list) -> None:
    """Every model's weights exist (a variant vsr does not ship is an error here, not an
    untrained network), before any clip is made."""
    from ..errors import WeightsError

    for run in runs:
        try:
            run.model.plan()
        except WeightsError as exc:
            raise WeightsError(f"{exc.worded(flag_words)}; --random-weights times the architecture with fresh weights (speed only)") from None


def _measure(args: argparse.Namespace, runs: list, workdir: Path):
    """The benchmark the flags describe, on its clip (made in `workdir` for --synthetic)."""
    from ..bench.clips import make_synthetic_clip, parse_size
    from ..bench.run import BenchPlan, run_benchmark
    from ..constants import DEFAULT_SCALE
    from ..video.io.codecs import EncoderSettings
    from ..video.io.source import VideoSource
    from ..samples import SAMPLE_CLIP

    first = runs[0]
    device = first.model.device
    cuda = device.type == "cuda"
    if args.synthetic:
        width, height = parse_size(args.synthetic)
        print(f"making a {args.frames}-frame {width}x{height} testsrc2 clip ...", file=sys.stderr)
        clip, label = make_synthetic_clip(width, height, args.frames, workdir), f"testsrc2 {width}x{height}"
    else:
        clip = args.clip or SAMPLE_CLIP
        VideoSource(clip).close()  # one clear line for a missing or unreadable clip
        label = clip.name
    for notice in first.model.notices:
        print(f"vsr bench: {notice}", file=sys.stderr)
    encoder = first.encoder
    extra = []
    for text in args.encoders:
        codec, _, preset = text.partition(":")
        extra.append(EncoderSettings(codec, encoder.crf, preset or None))
    plan = BenchPlan(
        clip=clip,
        clip_label=label,
        models=[run.model for run in runs],
        scale=first.model.scale or DEFAULT_SCALE,
        device=device,
        batch=first.batch,
        compile=args.compile,
        encoder=encoder,
        extra_encoders=extra,
        network_dtypes=args.dtypes or [],
        network_batches=args.batches or sorted({1, first.batch} if cuda else {1}),
        repeat=args.repeat,
        network_only=args.network_only,
        random_weights=args.random_weights,
    )
    return run_benchmark(plan, lambda line: print(f"  {line} ...", file=sys.stderr, flush=True), workdir)
