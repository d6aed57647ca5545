"""`vsr models`: the PlainUSR variants, their cost, and which weights are shipped."""

import argparse


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("models", help="list model variants and shipped weights", description=__doc__)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from ..archs import SCALES, VARIANTS, build_plainusr
    from ..complexity import count_macs
    from ..weights import shipped

    registry = shipped()
    table = Table(title="PlainUSR variants (deployed form)")
    table.add_column("variant")
    table.add_column("params x2 / x3 / x4", justify="right")
    table.add_column("GMACs per 1080p output\nx2 / x3 / x4", justify="right")
    table.add_column("shipped weights (val PSNR-Y)")
    for name in VARIANTS:
        nets = [build_plainusr(name, s) for s in SCALES]
        params = " / ".join(f"{sum(p.numel() for p in net.parameters()):,}" for net in nets)
        macs = " / ".join(f"{count_macs(net, 1080 // s, 1920 // s) / 1e9:.1f}" for net, s in zip(nets, SCALES))
        weights = [f"{e.name} ({e.psnr_y_val:.2f} dB)" for e in registry.entries if e.variant == name]
        table.add_row(name, params, macs, ", ".join(weights) or "none yet")
    console = Console()
    console.print(table)
    console.print("Any official PlainUSR checkpoint also loads: --weights PlainUSRS_Rep_x2.pth")
    return 0
