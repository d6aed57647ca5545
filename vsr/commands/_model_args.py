"""The model-choosing flags every command shares, and turning them into an SRModel."""

import argparse


def add_offline_arg(p: argparse.ArgumentParser) -> None:
    """--offline: known weights not yet on this machine are an error, not a download (the
    CLI sets VSR_OFFLINE=1, which vsr.weights.download reads)."""
    p.add_argument("--offline", action="store_true", help="never use the network: official weights must already be in the cache or in a VSR_WEIGHTS_URL folder")


def add_model_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--scale", type=int, choices=(2, 3, 4), help="upscaling factor (default 2, or the weights file's)")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--model", metavar="NAME", help="known weights: a variant (ultra, tiny, small, medium, base, large), NAME-xS, or official-NAME-xS (downloaded on first use; see vsr models)")
    which.add_argument("--weights", metavar="FILE", help="a weights file: vsr's own or an official PlainUSR checkpoint")
    p.add_argument("--device", default="auto", help="auto (default), cpu, cuda or cuda:N")
    p.add_argument("--half", action="store_true", help="run the model in float16 (fast on GPUs)")
    add_offline_arg(p)


def load_model_from_args(args: argparse.Namespace):
    from pathlib import Path

    from ..model import load_model

    spec = Path(args.weights) if args.weights is not None else args.model
    return load_model(spec, scale=args.scale, device=args.device, half=args.half)
