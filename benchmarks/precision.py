"""How far fp16 and bf16 stray from float32, per model in the registry, on the built-in
measurement content of vsr.precision: a high-contrast chart (text of several sizes and
colours, 1-px lines, checkerboards, a zone plate, a Siemens star) and a natural photo crop.
Max error in 1/255 levels after clamping to [0, 1]. fp16 is a float16 copy of the
network; bf16 is torch.autocast(bfloat16) around the float32 network. Prints a markdown
table beside the figures recorded in registry.toml; --json stores it.

    python benchmarks/precision.py --json benchmarks/precision-cpu.json
    python benchmarks/precision.py --models ultra-x2-video --weights runs/x/last.pt

Official models are loaded from the cache (vsr models pull) or, with --official DIR, from
a folder holding the release files.
"""

import argparse
import json
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import vsr  # noqa: E402, F401  (first: it sets allocator/OpenMP defaults torch reads at import)

import torch  # noqa: E402

from vsr.checkpoint import build_deployed, read_checkpoint  # noqa: E402
from vsr.precision import measure  # noqa: E402
from vsr.weights import registry  # noqa: E402


def network(path: Path) -> torch.nn.Module:
    return build_deployed(read_checkpoint(path))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="*", help="registry names (default: all, unless --weights)")
    parser.add_argument("--weights", nargs="*", type=Path, default=[], help="other weights files")
    parser.add_argument("--official", type=Path, help="a folder with the official release files (instead of the cache)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    known = registry()
    names = args.models if args.models is not None else ([] if args.weights else known.names())
    targets = []
    for name in names:
        entry = known.get(name)
        path = args.official / entry.file if args.official and not entry.shipped else known.verified_path(entry)
        targets.append((name, path, entry))
    targets += [(str(path), path, None) for path in args.weights]
    rows = []
    print("| model | fp16 charts | fp16 photo | bf16 charts | bf16 photo | recorded fp16 / bf16 |")
    print("|---|---|---|---|---|---|")
    for name, path, entry in targets:
        started = time.perf_counter()
        errors = measure(network(path))
        seconds = time.perf_counter() - started
        recorded = f"{entry.fp16_max_error} / {entry.bf16_max_error}" if entry else "-"
        rows.append({"model": name, **errors.__dict__, "fp16": errors.fp16, "bf16": errors.bf16, "seconds": round(seconds, 2)})
        print(f"| {name} | {errors.fp16_charts:.2f} | {errors.fp16_photo:.2f} | {errors.bf16_charts:.2f} | {errors.bf16_photo:.2f} | {recorded} |", flush=True)
    if args.json:
        meta = {"torch": torch.__version__, "machine": platform.processor() or platform.machine(), "threads": torch.get_num_threads(),
                "content": "vsr.precision.content(): the measurement chart and a photo crop, 64x96",
                "unit": "1/255 levels, after clamping to [0, 1]"}  # fmt: skip
        args.json.write_text(json.dumps({"meta": meta, "results": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
