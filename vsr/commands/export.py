"""`vsr export`: weights for deployment.

    vsr export CHECKPOINT -o FILE                  a training run's EMA weights, re-parameterized
    vsr export --onnx OUT.onnx --model NAME        known weights (or --weights FILE) as ONNX for
                                                   vs-mlrt, chaiNNer or ONNX Runtime (--half: fp16)

The ONNX graph takes NCHW RGB in [0, 1] of any batch, height and width (inputs below the
model's minimum are padded inside), opset 18, with the variant, scale and source in its
metadata; it is checked against PyTorch with ONNX Runtime before it is kept.
"""

import argparse
from pathlib import Path

from .examples import RAW, examples
from .flags import add_offline_flag, add_overwrite_flag


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "export",
        help="export deployed weights (training checkpoint -> .pth, or ONNX)",
        description=__doc__,
        formatter_class=RAW,
        epilog=examples(
            None,
            ("vsr export runs/ultra-x2/last.pt -o ultra-x2.pth", "a training run's weights, re-parameterized"),
            ("vsr export --onnx ultra-x2.onnx --model ultra-x2", "known weights as ONNX"),
            ("vsr export --onnx mine.onnx --weights mine.pth --half", "a weights file as float16 ONNX"),
        ),
    )
    p.add_argument("checkpoint", type=Path, nargs="?", help="a run's last.pt (with -o)")
    p.add_argument("-o", "--output", type=Path, metavar="OUT", help="the weights file to write from CHECKPOINT")
    p.add_argument("--recipe", default="", help="the training command to record (default: the commands stored in the checkpoint)")
    p.add_argument("--onnx", type=Path, metavar="OUT", help="write an ONNX file of --model NAME or --weights FILE")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--model", metavar="NAME", help="known weights for --onnx: ultra-x2, official-small-x2, ... (see vsr models)")
    which.add_argument("--weights", type=Path, metavar="FILE", help="a weights file for --onnx")
    p.add_argument("--scale", type=int, choices=(2, 3, 4), help="with --model VARIANT: the scale")
    p.add_argument("--half", action="store_true", help="--onnx in float16 (input and output float16; SoftPool stays float32)")
    add_overwrite_flag(p)
    add_offline_flag(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..errors import OutputError, UsageError

    if args.onnx is not None:
        if args.checkpoint is not None or args.output is not None:
            raise UsageError("--onnx takes --model NAME or --weights FILE, not a training checkpoint or -o")
        if args.model is None and args.weights is None:
            raise UsageError("--onnx needs --model NAME or --weights FILE")
        if args.onnx.exists() and not args.overwrite:
            raise OutputError(f"{args.onnx} exists; pass --overwrite to replace it")
        return _run_onnx(args)
    if args.checkpoint is None or args.output is None:
        raise UsageError("give a training checkpoint and -o FILE, or --onnx OUT with --model/--weights")
    if args.model or args.weights or args.half:
        raise UsageError("--model, --weights and --half go with --onnx")
    from ..training.export import export_deployed

    if args.output.exists() and not args.overwrite:
        raise OutputError(f"{args.output} exists; pass --overwrite to replace it")

    meta = export_deployed(args.checkpoint, args.output, args.recipe)
    print(f"{args.output}: PlainUSR {meta['variant']} x{meta['scale']}, {meta['steps']} steps, "
          f"val PSNR-Y {meta['val_psnr_y']}, sha256 {meta['sha256']}")  # fmt: skip
    return 0


def _run_onnx(args: argparse.Namespace) -> int:
    from ..onnx_export import export_onnx, require_onnx

    require_onnx()  # before a download or a load: the missing extra is the first thing to say
    from ..model import load_model
    from ..weights import registry, sha256_of

    model = load_model(args.weights if args.weights is not None else args.model, scale=args.scale, device="cpu", half=args.half)
    entry = registry().get(model.source)
    if entry is not None:
        source, licence = f"{entry.name} ({entry.source}, sha256 {entry.sha256})", entry.licence
    else:
        source, licence = f"{args.weights.name} (sha256 {sha256_of(args.weights)})", ""
    result = export_onnx(model, args.onnx, source=source, licence=licence)
    print(f"{args.onnx}: PlainUSR {model.variant} x{model.scale}, {str(model.dtype).removeprefix('torch.')}, opset 18, "
          f"dynamic batch/height/width; ONNX Runtime vs PyTorch: max difference {result.max_error:.2g}")  # fmt: skip
    return 0
