"""`vsr image`: upscale image files (PNG/JPEG/WebP/TIFF/BMP, 8/16-bit, grey/RGB/RGBA)."""

import argparse
from pathlib import Path

from ..constants import DEFAULT_TILE, MIN_IMAGE_TILE, VARIANT_NAMES
from .flags import add_model_flags, model_spec


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "image",
        help="upscale image files",
        description=__doc__,
        epilog="Outputs are named NAME_xS.EXT; with one input, -o may also be a file name.",
    )
    p.add_argument("inputs", nargs="+", type=Path, metavar="IN", help="image files")
    p.add_argument("-o", "--output", type=Path, required=True, metavar="OUT", help="output folder (or file, for one input)")
    add_model_flags(p)
    p.add_argument("--tile", type=int, default=DEFAULT_TILE, help=f"largest input tile side in pixels (default {DEFAULT_TILE})")
    p.add_argument("--overwrite", action="store_true", help="replace outputs that already exist")
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    p.set_defaults(run=run)


def plan_outputs(inputs: list[Path], output: Path, scale: int) -> list[Path]:
    """Where each input goes. A single input may name the output file itself."""
    from ..errors import UsageError
    from ..images import WRITABLE_SUFFIXES

    names_a_file = output.suffix.lower() in WRITABLE_SUFFIXES and not output.is_dir()
    if names_a_file:
        if len(inputs) > 1:
            raise UsageError(f"{len(inputs)} inputs need an output folder, not the file {output}")
        return [output]
    targets = [output / f"{p.stem}_x{scale}{p.suffix if p.suffix.lower() in WRITABLE_SUFFIXES else '.png'}" for p in inputs]
    if len(set(targets)) != len(targets):
        raise UsageError("two inputs would write the same output name; upscale them into different folders")
    return targets


def run(args: argparse.Namespace) -> int:
    import time

    from ..errors import InputError, OutputError, UsageError
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
        model = settings.load(compile=args.compile)
        models[purpose] = loaded.setdefault(model.source, model)  # one model where both kinds resolve to it
    scales = {m.scale for m in models.values()}
    if len(scales) > 1:
        raise UsageError(f"the weights for lossy and lossless files differ in scale ({' and '.join(f'x{s}' for s in sorted(scales))}); give --scale")
    targets = plan_outputs(args.inputs, args.output, scales.pop())
    existing = [t for t in targets if t.exists()]
    if existing and not args.overwrite:
        raise OutputError(f"{existing[0]} exists; pass --overwrite to replace it")
    for target in targets:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"cannot create output folder {target.parent}: {exc.strerror}") from None
    if not args.quiet:
        for model in loaded.values():
            kinds = [k for k, m in models.items() if m is model]
            files = {"video": "lossy files (JPEG, WebP)", "clean": "lossless files"}
            say = f" for {' and '.join(files[k] for k in kinds)}" if len(loaded) > 1 else ""
            print(f"model {model.description}{say}")
    for source, target, purpose in zip(args.inputs, targets, purposes):
        model = models[purpose]
        started = time.perf_counter()
        image = read_image(source)
        result = upscale_image(model, image, tile=args.tile)
        write_image(target, result)
        if not args.quiet:
            seconds = time.perf_counter() - started
            print(f"{source} ({image.width}x{image.height}) -> {target} ({result.width}x{result.height}) in {seconds:.2f} s")
    return 0
