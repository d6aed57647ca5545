"""`vsr image`: upscale image files (PNG/JPEG/WebP/TIFF/BMP, 8/16-bit, grey/RGB/RGBA)."""

import argparse
from pathlib import Path

from ..constants import DEFAULT_TILE, MIN_IMAGE_TILE, VARIANT_NAMES
from .examples import RAW
from .flags import add_model_flags, add_overwrite_flag, model_spec


def add_parser(subparsers) -> None:
    from .examples import examples

    p = subparsers.add_parser(
        "image",
        help="upscale image files",
        description=__doc__,
        epilog=examples(
            "Outputs follow the rules of vsr upscale (README, \"Where outputs go\"): NAME_xS.EXT beside the input, in -o's folder, or -o's file.",
            ("vsr image photo.jpg", "photo_x2.jpg beside the input"),
            ("vsr image scans/*.png -o big/", "into big/ (created if missing); existing outputs are skipped"),
            ("vsr image logo.png -o logo@2x.webp --scale 2", "one input, an output file in another format"),
        ),
        formatter_class=RAW,
    )
    p.add_argument("inputs", nargs="+", type=Path, metavar="IN", help="image files")
    p.add_argument(
        "-o",
        "--output",
        metavar="OUT",
        help="a folder (ends in /, or has no suffix; created if missing) or, for one input, a file (default: beside the input)",
    )
    add_model_flags(p)
    p.add_argument("--tile", type=int, default=DEFAULT_TILE, metavar="PX", help=f"largest input tile side in pixels (default {DEFAULT_TILE})")
    add_overwrite_flag(p)
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    p.set_defaults(run=run)


def plan_outputs(inputs: list[Path], output: str | None, scale: int) -> list[Path]:
    """Where each input goes, by vsr.outputs' rules."""
    from ..errors import UsageError
    from ..images import WRITABLE_SUFFIXES
    from ..outputs import check_suffix, names_folder, refuse_clashes, scaled_name

    def name(p: Path) -> str:
        return scaled_name(p, scale, p.suffix if p.suffix.lower() in WRITABLE_SUFFIXES else ".png")

    if output is None:
        targets = [p.with_name(name(p)) for p in inputs]
    elif names_folder(output):
        targets = [Path(output) / name(p) for p in inputs]
    else:
        if len(inputs) > 1:
            raise UsageError(f"{len(inputs)} inputs need an output folder, not the file {output}")
        check_suffix(Path(output), WRITABLE_SUFFIXES, "an image")
        targets = [Path(output)]
    refuse_clashes(list(zip(inputs, targets)))
    return targets


def run(args: argparse.Namespace) -> int:
    import sys
    import time

    from ..errors import InputError, OutputError, UsageError
    from ..output_lock import claim
    from ..outputs import make_folder
    from ..images import purpose_for, read_image, upscale_image, write_image
    from ..settings import resolve_model

    for path in args.inputs:
        if not path.is_file():
            raise InputError(f"input not found: {path}")
    if args.tile < MIN_IMAGE_TILE:
        raise UsageError(f"--tile must be at least {MIN_IMAGE_TILE} pixels, got {args.tile}")
    spec = model_spec(args)
    # A variant name or no --model: the weights that measured best on each kind of file,
    # lossy (JPEG, lossy WebP: the video weights) or lossless (vsr.images.purpose_for,
    # vsr.weights.Registry.shipped_variant); a named model or file serves every input.
    by_kind = spec is None or spec in VARIANT_NAMES
    purposes = [purpose_for(p) if by_kind else "video" for p in args.inputs]
    models, loaded = {}, {}
    for purpose in dict.fromkeys(purposes):
        settings = resolve_model(spec, scale=args.scale, device=args.device, half=args.half, precision=args.precision, purpose=purpose)
        key = settings.plan().key  # one load where both kinds resolve to the same file (e.g. --model small)
        if key not in loaded:
            loaded[key] = settings.load(compile=args.compile)
        models[purpose] = loaded[key]
    scales = {m.scale for m in models.values()}
    if len(scales) > 1:
        raise UsageError(f"the weights for lossy and lossless files differ in scale ({' and '.join(f'x{s}' for s in sorted(scales))}); give --scale")
    targets = plan_outputs(args.inputs, args.output, scales.pop())
    existing = [t for t in targets if t.exists()]
    if existing and not args.overwrite and len(targets) == 1:
        raise OutputError(f"{existing[0]} exists", hint="pass {overwrite} to replace it")
    for target in dict.fromkeys(t.parent for t in targets):
        make_folder(target)
    if not args.quiet:
        for model in loaded.values():
            kinds = [k for k, m in models.items() if m is model]
            files = {"video": "lossy files (JPEG, WebP)", "clean": "lossless files"}
            say = f" for {' and '.join(files[k] for k in kinds)}" if len(loaded) > 1 else ""
            print(f"model {model.description}{say}")
    for source, target, purpose in zip(args.inputs, targets, purposes):
        if target.exists() and not args.overwrite:
            print(f"vsr image: {target} exists; skipping {source} (--overwrite replaces it)", file=sys.stderr)
            continue
        model = models[purpose]
        started = time.perf_counter()
        with claim(target):
            image = read_image(source)
            result = upscale_image(model, image, tile=args.tile)
            write_image(target, result, replace=args.overwrite)
        if not args.quiet:
            seconds = time.perf_counter() - started
            print(f"{source} ({image.width}x{image.height}) -> {target} ({result.width}x{result.height}) in {seconds:.2f} s")
    return 0
