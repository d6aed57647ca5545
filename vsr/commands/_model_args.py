"""The model-choosing flags every command shares, and turning them into an SRModel."""

import argparse


def add_model_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--scale", type=int, choices=(2, 3, 4), help="upscaling factor (default 2, or the weights file's)")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--model", metavar="NAME", help="shipped weights: a variant (ultra, tiny, small, medium, base, large) or NAME-xS")
    which.add_argument("--weights", metavar="FILE", help="a weights file: vsr's own or an official PlainUSR checkpoint")
    p.add_argument("--device", default="auto", help="auto (default), cpu, cuda or cuda:N")
    p.add_argument("--half", action="store_true", help="run the model in float16 (fast on GPUs)")


def load_model_from_args(args: argparse.Namespace):
    from pathlib import Path

    from ..model import load_model

    spec = Path(args.weights) if args.weights is not None else args.model
    return load_model(spec, scale=args.scale, device=args.device, half=args.half)
