"""`vsr train`: train PlainUSR on folders or lists of HR images, for clean or compressed input.

Ctrl-C saves a checkpoint and stops; `vsr train --resume RUN/last.pt` continues exactly.
`--export FILE` writes the re-parameterized EMA weights when training ends.
"""

import argparse
from pathlib import Path

from ..constants import SCALES, VARIANT_NAMES
from ..interrupt import EXIT_CODE
from .examples import RAW, examples
from .flags import add_device_flag, photo_set

CONFIG_FLAGS = ("steps", "batch", "patch", "lr", "warmup", "optimizer", "weight_decay", "loss", "ema_decay",
                "val_every", "save_every", "seed", "init_from", "amp", "degrade", "bank_clips",
                "charts", "precision_weight", "precision_on", "teacher", "teacher_weight", "chart_teacher", "bf16_weights")  # fmt: skip
"""Flags that become TrainConfig fields (None: the TrainConfig default)."""


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "train",
        help="train PlainUSR weights",
        description=__doc__,
        formatter_class=RAW,
        epilog=examples(
            None,
            ("vsr train --variant ultra --scale 2 --steps 2000", "a short run on the project's photos, into runs/ultra-x2"),
            ("vsr train --variant small --scale 2 --degrade video --export small-x2.pth", "for video, written as deployed weights at the end"),
            ("vsr train --resume runs/ultra-x2/last.pt", "continue an interrupted run"),
        ),
    )
    p.add_argument("--variant", choices=VARIANT_NAMES, help="network size")
    p.add_argument("--scale", type=int, choices=SCALES)
    p.add_argument("--train", metavar="PATH", help="HR images: a folder or a list file (default: train.txt in $VSR_DATASETS, else ../shared/datasets)")
    p.add_argument("--val", metavar="PATH", help="validation images (default: val.txt beside --train's default; 'none' to skip)")
    p.add_argument("--image-dir", metavar="DIR", help="folder the names in list files refer to (default: the list's folder, or photos/ beside it)")
    p.add_argument("--steps", type=int, help="total optimizer steps (default 50000; with --resume: a new total)")
    p.add_argument("--batch", type=int, metavar="N", help="patches per step (default 16)")
    p.add_argument("--patch", type=int, help="LR patch side in pixels (default 64)")
    p.add_argument("--lr", type=float, help="peak learning rate, after a linear warm-up, then cosine (default 5e-4)")
    p.add_argument("--warmup", type=int, help="warm-up steps (default 1000)")
    p.add_argument("--optimizer", choices=("adam", "adamw"), help="default adam")
    p.add_argument("--weight-decay", type=float, help="default 0")
    p.add_argument("--loss", choices=("l1", "charbonnier"), help="default l1")
    p.add_argument("--ema-decay", type=float, help="default 0.999")
    p.add_argument("--val-every", type=int, help="validate every N steps (default 2000)")
    p.add_argument("--save-every", type=int, help="checkpoint every N steps (default 500)")
    p.add_argument("--seed", type=int, help="default 0")
    p.add_argument("--init-from", metavar="CKPT", help="start from a training checkpoint of the same variant (x2 -> x3/x4: new tail), "
                   "or fine-tune weights (a file, or a model name such as official-ultra-x2) in their deployed form")  # fmt: skip
    p.add_argument("--degrade", choices=("clean", "video"), help="clean: bicubic downscales (default); video: pans through a real libx264 "
                   "round trip (CRF 18-35, 4:2:0), blur and noise, decoded as vsr upscale decodes, from a bank built once and cached")  # fmt: skip
    p.add_argument("--bank-clips", type=int, help="video: clips of 8 frames in the degraded bank (default 1500)")
    p.add_argument("--charts", type=int, metavar="N", help="synthetic high-contrast chart patches (text, 1-px lines, checkerboards, "
                   "zone plates, stars) in each batch (default 0)")  # fmt: skip
    p.add_argument("--precision-weight", type=float, metavar="W", help="weight of the gap between a forward pass under simulated bf16 rounding "
                   "(2^-8 noise on the input and every conv output) and a clean one, to keep the weights exact in half precision (default 0)")  # fmt: skip
    p.add_argument("--precision-on", choices=("all", "charts"), help="the patches that gap is measured on (default all; charts: only the "
                   "chart patches, where half precision goes wrong, leaving the video patches unconstrained)")  # fmt: skip
    p.add_argument("--teacher", metavar="WEIGHTS", help="distil: also pull every patch toward these weights' float32 output (a file or a model name); "
                   "chart patches then follow it instead of their HR truth")  # fmt: skip
    p.add_argument("--teacher-weight", type=float, metavar="W", help="weight of the distillation loss (default 0; 1 with --teacher)")
    p.add_argument("--chart-teacher", metavar="WEIGHTS", help="the chart patches follow these weights' float32 output instead of "
                   "--teacher's (e.g. a clean, well-conditioned network of the same scale)")  # fmt: skip
    p.add_argument("--bf16-weights", action="store_true", default=None, help="fine-tune through weights rounded to bf16 values and "
                   "export those: fp16 and bf16 runs then round no weight (needs --init-from weights; default off)")  # fmt: skip
    p.add_argument("--amp", choices=("auto", "bf16", "fp16", "off"), help="mixed precision (default auto: bf16 on CUDA)")
    add_device_flag(p)
    p.add_argument("--threads", type=int, help="CPU threads for torch")
    p.add_argument("--run-dir", type=Path, help="where checkpoints go (default runs/VARIANT-xS)")
    p.add_argument("--resume", type=Path, metavar="CKPT", help="continue a run from its last.pt")
    p.add_argument("--export", type=Path, metavar="FILE", help="write deployed weights here when training ends")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import shlex
    import signal
    import threading

    import torch

    from ..device import resolve_device
    from ..errors import UsageError
    from ..training.export import export_deployed
    from ..training.progress import TrainingReporter
    from ..training.trainer import TrainConfig, Trainer

    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    config_flags = {f: getattr(args, f) for f in CONFIG_FLAGS if getattr(args, f) is not None}
    if args.teacher and args.teacher_weight is None:
        config_flags["teacher_weight"] = 1.0
    if args.resume:
        given = sorted((set(config_flags) - {"steps"}) | {f for f in ("variant", "scale", "train", "val", "image_dir", "run_dir") if getattr(args, f)})
        if given:
            flags = ", ".join("--" + f.replace("_", "-") for f in given)
            raise UsageError(f"{flags} cannot change a resumed run (its settings are in the checkpoint); only --steps, --export, --device and --threads apply")
        trainer = Trainer.resume(args.resume, device, steps=args.steps)
    else:
        if not args.variant or not args.scale:
            raise UsageError("--variant and --scale are required (or --resume a run)")
        train = args.train or photo_set("train.txt")
        val = None if args.val == "none" else (args.val or photo_set("val.txt"))
        config = TrainConfig(variant=args.variant, scale=args.scale, train=train, val=val, image_dir=args.image_dir, **config_flags)
        run_dir = args.run_dir or Path("runs") / f"{args.variant}-x{args.scale}"
        if (run_dir / "last.pt").exists():
            raise UsageError(f"{run_dir}/last.pt exists: --resume it, or choose another --run-dir")
        trainer = Trainer(config, run_dir, device)
    trainer.commands.append("vsr " + shlex.join(args.argv))

    stop = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        with TrainingReporter(trainer) as reporter:
            trainer.run(stop, reporter.report)
    finally:
        signal.signal(signal.SIGINT, previous)
    if stop.is_set():
        print(f"stopped at step {trainer.step}; checkpoint saved: {trainer.checkpoint_path} (continue with --resume)")
        return EXIT_CODE
    print(f"finished {trainer.step} steps; checkpoint: {trainer.checkpoint_path}")
    if args.export:
        meta = export_deployed(trainer.checkpoint_path, args.export, recipe="")
        print(f"exported {args.export} (sha256 {meta['sha256'][:12]}..., val PSNR-Y {meta['val_psnr_y']})")
    return 0
