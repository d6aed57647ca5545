"""`vsr models`: every known model (shipped with vsr or downloadable), where it comes
from, its licence, whether it is on this machine, and its numbers; then the variants'
cost. `vsr models pull NAME... | --all` downloads official weights into the cache,
verified by sha256 ($VSR_CACHE, $VSR_WEIGHTS_URL for a mirror URL or folder)."""

import argparse
import sys

from .flags import add_offline_flag


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("models", help="list known models; pull official weights", description=__doc__)
    p.set_defaults(run=run_list)
    actions = p.add_subparsers(dest="action", metavar="ACTION", parser_class=type(p))
    pull = actions.add_parser("pull", help="download and verify official weights into the cache", description=__doc__)
    pull.add_argument("names", nargs="*", metavar="NAME", help="e.g. official-small-x2 (see vsr models)")
    pull.add_argument("--all", action="store_true", help="every downloadable model")
    add_offline_flag(pull)
    pull.set_defaults(run=run_pull)


def run_list(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich import box
    from rich.table import Table

    import torch

    from ..archs import SCALES, VARIANTS, build_plainusr
    from ..precision_policy import ANY_CUDA, Errors, capabilities, choose
    from ..complexity import count_macs
    from ..weights import registry
    from ..weights.files import cache_dir

    known = registry()
    weights = Table(title="Known weights (--model NAME)", box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    weights.add_column("name", no_wrap=True)
    for column in ("for", "source", "licence", "here"):
        weights.add_column(column, no_wrap=True)
    cpu = capabilities(torch.device("cpu"))
    for column in ("params", "GMACs", "clean", "CRF 23", "CRF 30", "fp16/bf16", "CUDA", "this CPU"):
        weights.add_column(column, justify="right", no_wrap=True)
    for e in known.entries:
        here = "yes" if known.is_available(e) else "no"
        fp16 = f"{e.fp16_max_error:.1f}/{e.bf16_max_error:.0f}" if e.fp16_max_error == e.fp16_max_error else "-"
        psnr = [f"{v:.2f}" if v == v else "-" for v in (e.psnr_y_val, e.psnr_y_crf23, e.psnr_y_crf30)]
        source = "shipped" if e.shipped else "download"
        auto = [choose("auto", device, Errors.of_entry(e)).name for device in (ANY_CUDA, cpu)]
        weights.add_row(e.name, e.purpose, source, e.licence, here, f"{e.num_params:,}", f"{e.macs_1080p / 1e9:.1f}", *psnr, fp16, *auto)
    variants = Table(title="PlainUSR variants (deployed form)")
    variants.add_column("variant")
    variants.add_column("params x2 / x3 / x4", justify="right")
    variants.add_column("GMACs per 1080p output\nx2 / x3 / x4", justify="right")
    for name in VARIANTS:
        nets = [build_plainusr(name, s) for s in SCALES]
        params = " / ".join(f"{sum(p.numel() for p in net.parameters()):,}" for net in nets)
        macs = " / ".join(f"{count_macs(net, 1080 // s, 1920 // s) / 1e9:.1f}" for net, s in zip(nets, SCALES))
        variants.add_row(name, params, macs)
    console = Console()
    if not console.is_terminal:
        console = Console(width=124)  # a pipe or a log: whole rows, not 80 columns of ellipses
    console.print(weights)
    for site, licence, notice in sorted({(_site(e.source), e.licence, e.notice) for e in known.entries if not e.shipped}):
        console.print(f"download: from {site}; {licence} licence, {notice}", highlight=False)
    console.print(f"Downloads (on first use, or `vsr models pull NAME`) go to {cache_dir()} ($VSR_CACHE).", highlight=False)
    console.print("for: video = trained on codec-damaged clips (x264 CRF 18-35), for what vsr upscale and vsr live are fed;\n"
                  "clean = trained on exact bicubic downscales (lossless frames, PNG). A variant name (--model ultra) or no\n"
                  "--model means the video weights where shipped. here: on this machine and verified. GMACs: per 1920x1080\n"
                  "output. PSNR-Y in dB on the val photos: clean = vsr eval (bicubic LR); CRF 23/30 = vsr eval --video\n"
                  "--frames 10 (x264 pans). fp16/bf16: max error against float32 in 1/255, worst of a photo and a\n"
                  "high-contrast chart (vsr.precision). CUDA, this CPU: what --precision auto runs there\n"
                  "(vsr.precision_policy: fp16 within 1/255 on CUDA, bf16 within 6/255 on a CPU with native bf16).",
                  highlight=False)  # fmt: skip
    console.print(variants)
    console.print("Any other PlainUSR checkpoint also loads: --weights FILE")
    return 0


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
