"""Training checkpoint -> deployed weights file (+ a JSON sidecar with its sha256)."""

import datetime
import json
from pathlib import Path

import torch

from ..archs import build_plainusr, build_plainusr_train_form
from ..weights import sha256_of
from ..errors import OutputError
from ..atomic import write_atomically
from .bf16_weights import rounded_state
from .trainer import TrainConfig, deployed_copy, load_checkpoint, save_atomically

EXPORT_FORMAT = "vsr-plainusr/1"


def export_deployed(checkpoint: Path, out: Path, recipe: str) -> dict:
    """Write the EMA weights of `checkpoint`, re-parameterized, to `out` (rounded to bf16
    values if the run trained so: vsr.training.bf16_weights). Returns the metadata, which
    is also stored inside the file and beside it as OUT.json."""
    state = load_checkpoint(checkpoint)
    config = TrainConfig(**state["config"])
    build = build_plainusr if config.form == "deployed" else build_plainusr_train_form
    net = build(config.variant, config.scale)
    net.load_state_dict(state["ema"])
    deployed = deployed_copy(net)
    last_val = state["history"][-1] if state["history"] else None
    meta = {
        "variant": config.variant,
        "scale": config.scale,
        "steps": state["step"],
        "data": config.train,
        "val": config.val,
        "recipe": recipe or " ; ".join(state.get("commands", [])),
        "val_psnr_y": last_val["psnr"] if last_val else None,
        "val_ssim_y": last_val["ssim"] if last_val else None,
        "train_seconds": round(state["train_seconds"], 1),
        "trained_on": state["device"],
        "num_params": sum(p.numel() for p in deployed.parameters()),
        "bf16_exact": config.bf16_weights,
        "torch": str(torch.__version__),
        "exported": datetime.date.today().isoformat(),
        "config": state["config"],
        "bank": state.get("bank"),
    }
    out = Path(out)
    if not out.parent.is_dir():
        raise OutputError(f"cannot write {out}: folder {out.parent} does not exist")
    weights = rounded_state(deployed.state_dict()) if config.bf16_weights else deployed.state_dict()
    save_atomically({"format": EXPORT_FORMAT, "meta": meta, "state_dict": weights}, out)
    sidecar = dict(meta, sha256=sha256_of(out), file=out.name)
    write_atomically(out.with_name(out.name + ".json"), (json.dumps(sidecar, indent=2) + "\n").encode())
    return sidecar
