"""`vsr presets`: the bundled encoding presets for `vsr upscale`, or one preset's settings."""

import argparse

UNSET = {
    "model": "default",
    "crf": "encoder's default",
    "encoder_preset": "encoder's default",
    "pix_fmt": "follow the input",
}
"""How a setting left out of a preset is shown."""

HDR_RULE = "HDR (PQ or HLG) input is written as HEVC Main 10 (libx265) where a preset says libx264; a --codec you name is kept."
"""vsr.video.io.hdr.hdr_encoder's rule, as `vsr presets` says it."""


def add_parser(subparsers) -> None:
    from .examples import RAW, examples

    p = subparsers.add_parser(
        "presets",
        help="list encoding presets for vsr upscale",
        description=__doc__,
        formatter_class=RAW,
        epilog=examples(
            None,
            ("vsr presets", "every bundled preset"),
            ("vsr presets quality", "one preset's settings"),
            ("vsr presets mine.toml", "check a file of your own"),
        ),
    )
    p.add_argument("preset", nargs="?", metavar="NAME", help="show one preset: a bundled name or a .toml file")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..presets import list_presets, load_preset, presets_dir

    if args.preset is not None:
        _show(load_preset(args.preset))
        return 0

    from rich import box
    from .consoles import make_console
    from rich.markup import escape
    from rich.table import Table

    table = Table(title="Encoding presets for vsr upscale (flags override them)", box=box.SIMPLE_HEAD)
    for column in ("name", "model", "scale", "codec", "crf", "encoder\npreset", "batch"):
        table.add_column(column, justify="right" if column in ("scale", "crf", "batch") else "left", no_wrap=True)
    table.add_column("description")
    for preset in list_presets():
        cells = [preset.name, *(_value(preset, key) for key in ("model", "scale", "codec", "crf", "encoder_preset", "batch"))]
        table.add_row(*(escape(c) for c in [*cells, preset.description]))
    console = make_console()
    console.print(table)
    console.print(f"In {escape(str(presets_dir()))}. `vsr presets NAME` shows one; a .toml file of your own works too.")
    console.print(HDR_RULE)
    return 0


def _show(preset) -> None:
    from ..presets import PRESET_KEYS

    print(f"{preset.name}: {preset.description}")
    print(f"  {'file':<15} {preset.path if preset.path is not None else '(none)'}")
    for key in PRESET_KEYS[1:]:
        print(f"  {key:<15} {_value(preset, key)}")


def _value(preset, key: str) -> str:
    value = getattr(preset, key)
    return UNSET.get(key, "-") if value is None else str(value)
