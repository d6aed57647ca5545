"""`vsr models`: every known model (shipped with vsr or downloadable), where it comes
from, its licence, whether it is on this machine, and its numbers; then the variants'
cost. `vsr models pull NAME... | --all` downloads official weights into the cache,
verified by sha256 ($VSR_CACHE, $VSR_WEIGHTS_URL for a mirror URL or folder)."""

import argparse
import json
import sys

from .flags import add_offline_flag


def add_parser(subparsers) -> None:
    from .examples import RAW, examples

    p = subparsers.add_parser(
        "models",
        help="list known models; pull official weights",
        description=__doc__,
        formatter_class=RAW,
        epilog=examples(
            "* marks the model vsr upscale, live and image run on this machine when no --model is named.",
            ("vsr models", "the table (wide terminals get one row per model, narrow ones stacked cells)"),
            ("vsr models --json | jq '.weights[] | select(.default)'", "the same as data (--json OUT writes a file)"),
            ("vsr models pull official-small-x2", "download and verify official weights"),
        ),
    )
    p.add_argument(
        "--json", nargs="?", const="-", metavar="OUT", help="the list as JSON (every field, the default marked) instead of tables: to OUT, else stdout"
    )
    p.set_defaults(run=run_list)
    actions = p.add_subparsers(dest="action", metavar="ACTION", parser_class=type(p))
    pull = actions.add_parser("pull", help="download and verify official weights into the cache", description=__doc__)
    pull.add_argument("names", nargs="*", metavar="NAME", help="e.g. official-small-x2 (see vsr models)")
    pull.add_argument("--all", action="store_true", help="every downloadable model")
    add_offline_flag(pull)
    pull.set_defaults(run=run_pull)


WIDE = 120
"""Columns the one-row-per-model table needs; a narrower console gets stacked cells."""


def run_list(args: argparse.Namespace) -> int:
    from ..weights import registry
    from ..weights.files import cache_dir
    from .consoles import make_console

    known = registry()
    default = default_model_name()
    if getattr(args, "json", None):
        text = json.dumps(listing(known, default), indent=2) + "\n"
        if args.json == "-":
            sys.stdout.write(text)
        else:
            from pathlib import Path

            from ..atomic import write_atomically

            write_atomically(Path(args.json), text.encode())
        return 0
    console = make_console()
    if not console.is_terminal:
        console = make_console(width=WIDE)  # a pipe or a log: one row per model, for grep
    print_tables(console, known, default)
    console.print(f"Downloads (on first use, or `vsr models pull NAME`) go to {cache_dir()} ($VSR_CACHE).", highlight=False)
    console.print("Any other PlainUSR checkpoint also loads: --weights FILE", highlight=False)
    return 0


def default_model_name() -> str | None:
    """The known weights vsr upscale runs here when no --model is named (vsr.settings), or
    None when they cannot be loaded (nothing shipped at the default scale)."""
    from ..errors import VsrError
    from ..settings import AUTO_PRESET, resolve_run

    try:
        return resolve_run(AUTO_PRESET, device="auto").model.load().source
    except VsrError:
        return None


def listing(known, default: str | None) -> dict:
    """What `vsr models --json` prints: every entry's fields, where it is, and the default."""
    import dataclasses

    weights = []
    for e in known.entries:
        fields = {k: (None if isinstance(v, float) and v != v else v) for k, v in dataclasses.asdict(e).items()}
        weights.append({**fields, "here": known.is_available(e), "default": e.name == default})
    return {"default": default, "weights": weights}


def print_tables(console, known, default: str | None) -> None:
    """The weights table (one row per model on a wide console, stacked cells on a narrow
    one: a name is never wrapped), the notes, and the variants' cost."""
    from rich import box
    from rich.table import Table

    import torch

    from ..archs import SCALES, VARIANTS, build_plainusr
    from ..precision_policy import ANY_CUDA, Errors, capabilities, choose
    from ..complexity import count_macs

    wide = console.width >= WIDE
    weights = Table(title="Known weights (--model NAME)", box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    weights.add_column("", no_wrap=True)
    weights.add_column("name", no_wrap=True)
    headers = ("for", "source", "licence", "here") if wide else ("for\nsource", "licence\nhere")
    for column in headers:
        weights.add_column(column, no_wrap=True)
    cpu = capabilities(torch.device("cpu"))
    numbers = ("params", "GMACs", "clean", "CRF 23", "CRF 30", "fp16/bf16", "CUDA", "this CPU")
    if not wide:
        numbers = ("params\nGMACs", "PSNR clean\nCRF 23\nCRF 30", "fp16/bf16\nCUDA\nthis CPU")
    for column in numbers:
        weights.add_column(column, justify="right", no_wrap=True)
    for e in known.entries:
        here = "yes" if known.is_available(e) else "no"
        fp16 = f"{e.fp16_max_error:.1f}/{e.bf16_max_error:.0f}" if e.fp16_max_error == e.fp16_max_error else "-"
        psnr = [f"{v:.2f}" if v == v else "-" for v in (e.psnr_y_val, e.psnr_y_crf23, e.psnr_y_crf30)]
        source = "shipped" if e.shipped else "download"
        cuda, on_cpu = [choose("auto", device, Errors.of_entry(e)).name for device in (ANY_CUDA, cpu)]  # what auto runs there
        mark = "*" if e.name == default else ""
        params, macs = f"{e.num_params:,}", f"{e.macs_1080p / 1e9:.1f}"
        if wide:
            weights.add_row(mark, e.name, e.purpose, source, e.licence, here, params, macs, *psnr, fp16, cuda, on_cpu)
        else:
            weights.add_row(mark, e.name, f"{e.purpose}\n{source}", f"{e.licence}\n{here}", f"{params}\n{macs}", "\n".join(psnr), f"{fp16}\n{cuda}\n{on_cpu}")
    variants = Table(title="PlainUSR variants (deployed form)")
    variants.add_column("variant")
    variants.add_column("params x2 / x3 / x4", justify="right")
    variants.add_column("GMACs per 1080p output\nx2 / x3 / x4", justify="right")
    for name in VARIANTS:
        nets = [build_plainusr(name, s) for s in SCALES]
        params = " / ".join(f"{sum(p.numel() for p in net.parameters()):,}" for net in nets)
        macs = " / ".join(f"{count_macs(net, 1080 // s, 1920 // s) / 1e9:.1f}" for net, s in zip(nets, SCALES))
        variants.add_row(name, params, macs)
    console.print(weights)
    for site, licence, notice in sorted({(_site(e.source), e.licence, e.notice) for e in known.entries if not e.shipped}):
        console.print(f"download: from {site}; {licence} licence, {notice}", highlight=False)
    marked = f"* {default}: what vsr upscale, live and image run here when no --model is named. " if default else ""
    console.print(marked + NOTES, highlight=False)
    console.print(variants)


NOTES = (
    "for: video = trained on codec-damaged clips (x264 CRF 18-35), for what vsr upscale and vsr live are fed; "
    "clean = trained on exact bicubic downscales (lossless frames, PNG). A variant name (--model ultra) or no "
    "--model means the video weights where shipped. here: on this machine and verified. GMACs: per 1920x1080 "
    "output. PSNR-Y in dB on the val photos: clean = vsr eval (bicubic LR); CRF 23/30 = vsr eval --video "
    "--frames 10 (x264 pans). fp16/bf16: max error against float32 in 1/255, worst of a photo and a "
    "high-contrast chart (vsr.precision). CUDA, this CPU: what --precision auto runs there "
    "(vsr.precision_policy: fp16 within 1/255 on CUDA, bf16 within 6/255 on a CPU with native bf16)."
)


def _site(url: str) -> str:
    """Where a download comes from, in a few words: github owner/repo@commit, else the host."""
    from urllib.parse import urlparse

    parts = urlparse(url)
    if parts.netloc == "raw.githubusercontent.com":
        owner, repo, commit = parts.path.split("/")[1:4]
        return f"github.com/{owner}/{repo} at {commit[:7]}"
    return parts.netloc


def run_pull(args: argparse.Namespace) -> int:
    from ..errors import UsageError, VsrError
    from ..weights import registry
    from ..weights.download import pull, source_of, stderr_progress

    known = registry()
    downloadable = [e for e in known.entries if not e.shipped]
    if args.all == bool(args.names):
        raise UsageError("name the models to pull (see vsr models), or pass --all, not both")
    entries = downloadable if args.all else [known.get(name) for name in args.names]
    unknown = [name for name, entry in zip(args.names, entries) if entry is None]
    if unknown:
        raise UsageError(f"unknown model {', '.join(unknown)}; downloadable: {', '.join(e.name for e in downloadable)}")
    failed = 0
    for entry in entries:
        if entry.shipped:
            print(f"{entry.name}: ships with vsr, nothing to download")
            continue
        try:
            with stderr_progress(f"{entry.name} ({entry.file})") as progress:
                path, fetched = pull(entry, progress=progress)
        except VsrError as exc:  # one line each; the others are still pulled
            print(f"vsr models pull: error: {exc}", file=sys.stderr)
            failed += 1
            continue
        done = f"downloaded from {source_of(entry)}" if fetched else "already there"
        print(f"{entry.name}: {path} (sha256 verified; {done})")
    return 1 if failed else 0
