"""The training loop: patches -> PlainUSR -> L1/Charbonnier -> Adam(W), with warm-up +
cosine learning rate, an EMA of the weights (what gets exported), validation PSNR, and
checkpoints that resume exactly.

Patches come from one of two degradations (`degrade`):
- "clean": bicubic downscales of the photos (vsr.training.patches);
- "video": the codec-degraded bank of vsr.training.bank (pans, blur, noise, a libx264
  round trip, decoded as `vsr upscale` decodes).

A run trains the training form (re-parameterizable blocks) from scratch or from a
training checkpoint, or fine-tunes the deployed form of an existing weights file (vsr's
or the official release's: `init_from` a .pth). At another scale than the file's, the
body is kept and head/tail restart as a nearest-neighbour upsampler.

Schedule: the learning rate rises linearly from 0 over `warmup` steps (Adam's first
steps are sign-sized and would otherwise wreck the nearest-neighbour init), then
follows a cosine from `lr` down to `lr * final_lr_ratio` at `steps`.
"""

import copy
import dataclasses
import json
import math
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from ..archs import build_plainusr, build_plainusr_train_form, init_nearest_upsampler, reparameterize
from ..archs.plainusr import PlainUSR, PlainUSRTrainForm
from ..checkpoint import build_deployed, read_checkpoint
from ..atomic import atomic_path
from ..datasets import list_images, load_pairs
from ..errors import OutputError, TrainingError, UsageError, WeightsError
from ..evaluate import mean, model_upscaler, score
from ..model import SRModel
from .bank import BankSampler, VideoRecipe, load_or_build
from .bf16_weights import forward_with_bf16_weights, rounded_state
from .charts import ChartMix
from .rounding import RoundingNoise
from .patches import PatchSampler

CHECKPOINT_FORMAT = "vsr-train/1"


@dataclass
class TrainConfig:
    variant: str
    scale: int
    train: str  # folder of images or list file
    val: str | None = None
    image_dir: str | None = None  # where list files' names live
    steps: int = 50_000
    batch: int = 16
    patch: int = 64  # LR patch side
    lr: float = 5e-4
    warmup: int = 1000
    final_lr_ratio: float = 0.01
    optimizer: str = "adam"  # adam | adamw
    weight_decay: float = 0.0
    loss: str = "l1"  # l1 | charbonnier
    ema_decay: float = 0.999
    val_every: int = 2000
    save_every: int = 500
    seed: int = 0
    init_from: str | None = None  # a training checkpoint of the same variant (e.g. its x2), or a weights file to fine-tune
    amp: str = "auto"  # auto (bf16 on CUDA) | bf16 | fp16 | off
    degrade: str = "clean"  # clean | video
    bank_clips: int = 1500  # video: clips in the degraded bank
    charts: int = 0  # synthetic high-contrast chart patches in each batch (vsr.training.charts)
    precision_weight: float = 0.0  # weight of |forward under simulated bf16 rounding - clean forward| (training/rounding.py)
    precision_on: str = "all"  # all | charts: the patches that gap is measured on
    teacher: str | None = None  # weights (a file or registry name) whose float32 output every patch is also pulled toward
    teacher_weight: float = 0.0
    chart_teacher: str | None = None  # weights whose float32 output the chart patches follow instead of the teacher's
    bf16_weights: bool = False  # train through bf16-rounded weights and export them (training/bf16_weights.py); fine-tunes only
    form: str = "train"  # train | deployed (set from init_from: a weights file is fine-tuned as deployed)

    def lr_at(self, step: int) -> float:
        if step < self.warmup:
            return self.lr * (step + 1) / self.warmup
        progress = min(1.0, (step - self.warmup) / max(1, self.steps - self.warmup))
        floor = self.lr * self.final_lr_ratio
        return floor + (self.lr - floor) * 0.5 * (1 + math.cos(math.pi * progress))


@dataclass
class ValResult:
    step: int
    psnr: float
    ssim: float


class Trainer:
    def __init__(self, config: TrainConfig, run_dir: Path, device: torch.device) -> None:
        self.config, self.run_dir, self.device = config, Path(run_dir), device
        _check(config)
        torch.manual_seed(config.seed)
        self.model: PlainUSRTrainForm | PlainUSR = self._initial_model().to(device)
        if config.bf16_weights and config.form != "deployed":  # known once the start is read: a weights file is fine-tuned as deployed
            raise UsageError("bf16 weights are trained by fine-tuning a weights file", hint="give {init_from} a .pth or a model name")
        try:
            self.run_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"cannot create run folder {self.run_dir}: {exc.strerror}") from None
        self.ema = copy.deepcopy(self.model).requires_grad_(False)
        self.optimizer = self._make_optimizer()
        self.amp_dtype = _amp_dtype(config.amp, device)
        self.scaler = torch.amp.GradScaler(device.type, enabled=self.amp_dtype == torch.float16)
        self.sampler = self._make_sampler()
        self.teacher = _load_teacher(config.teacher, config.scale, device) if config.teacher else None
        self.chart_teacher = _load_teacher(config.chart_teacher, config.scale, device) if config.chart_teacher else None
        self.rounding = RoundingNoise(self.model, torch.Generator().manual_seed(config.seed + 1))
        self.val_pairs = load_pairs(list_images(config.val, config.image_dir), config.scale) if config.val else []
        self.step = 0
        self.history: list[ValResult] = []
        self.train_seconds = 0.0
        self.commands: list[str] = []  # the command lines that trained this run, in order

    # ----- the loop -----

    def train_step(self) -> float:
        lr, hr = (t.to(self.device, non_blocking=True) for t in self.sampler.next_batch())
        for group in self.optimizer.param_groups:
            group["lr"] = self.config.lr_at(self.step)
        self.optimizer.zero_grad(set_to_none=True)
        with torch.autocast(self.device.type, dtype=self.amp_dtype or torch.float32, enabled=self.amp_dtype is not None):
            sr = self._forward(lr)
        loss = self._truth_loss(sr, hr) + self._teacher_loss(lr, sr) + self._precision_loss(lr, sr)
        self.scaler.scale(loss).backward()
        self._refuse_to_diverge(loss)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self._update_ema()
        self.step += 1
        return loss.item()

    def _forward(self, lr: torch.Tensor) -> torch.Tensor:
        return forward_with_bf16_weights(self.model, lr) if self.config.bf16_weights else self.model(lr)

    def _refuse_to_diverge(self, loss: torch.Tensor) -> None:
        """Stop before a non-finite loss or gradient reaches the weights: one NaN step
        turns every weight into NaN, and the run would go on for hours saving them. (With
        fp16 autocast the GradScaler skips overflowing steps itself, by design.)"""
        if self.scaler.is_enabled():
            return
        grads = [p.grad for p in self.model.parameters() if p.grad is not None]
        if torch.isfinite(loss) and torch.isfinite(torch.nn.utils.get_total_norm(grads)):
            return
        saved = f"{self.checkpoint_path} holds the last saved step" if self.checkpoint_path.exists() else "no checkpoint was saved yet"
        raise TrainingError(
            f"training diverged at step {self.step + 1}: the loss or its gradients are not finite; the weights were left as they were, and {saved}",
            hint="start again with a lower {lr} or {precision_weight}",
        )

    def _truth_loss(self, sr: torch.Tensor, hr: torch.Tensor) -> torch.Tensor:
        """L1 (or Charbonnier) to the HR truth. With a teacher, chart patches are left out:
        their clean bicubic LR with exact sharp truth teaches hard sharpening, which costs
        0.4 dB on codec-damaged input (measured: docs/MODELS.md); the teacher says what a
        video network should do on them instead."""
        first = self.config.charts if self.teacher is not None and self.config.teacher_weight else 0
        return _loss(self.config.loss, sr[first:].float(), hr[first:])

    def _teacher_loss(self, lr: torch.Tensor, sr: torch.Tensor) -> torch.Tensor:
        """Distillation: L1 to the teacher's float32 output, on every patch; the chart
        patches follow the chart teacher where the run has one. A teacher fine-tuned from
        the official files can be right on video and wrong on charts (ultra-x2-video's
        float32 output reaches -48..46 on the measurement chart: docs/MODELS.md), so a
        well-conditioned network says what charts should look like."""
        if self.teacher is None or not self.config.teacher_weight:
            return sr.new_zeros(())
        with torch.no_grad():
            target = self.teacher(lr)
            charts = self.config.charts
            if self.chart_teacher is not None and charts:
                target[:charts] = self.chart_teacher(lr[:charts])
        return self.config.teacher_weight * F.l1_loss(sr.float(), target)

    def _precision_loss(self, lr: torch.Tensor, sr: torch.Tensor) -> torch.Tensor:
        """How far the output moves when every layer is perturbed by bf16-sized rounding
        (vsr.training.rounding), on average and over the worst 1% of values (the measure
        that matters is the max). A network that keeps it small is exact in bf16, and in
        fp16, whose rounding is 8x finer."""
        if not self.config.precision_weight:
            return sr.new_zeros(())
        if self.config.precision_on == "charts":  # where the error is measured; the video patches stay unconstrained
            lr, sr = lr[: self.config.charts], sr[: self.config.charts]
        with self.rounding.active():
            noisy = self._forward(self.rounding.perturb(lr))
        gap = (noisy.float() - sr.float()).abs().flatten()
        worst = gap.topk(max(1, gap.numel() // 100)).values  # the tail: precision fails at a few pixels
        return self.config.precision_weight * (gap.mean() + worst.mean())

    def run(self, stop: threading.Event, report=None) -> None:
        """Train until `config.steps` or until `stop` is set; checkpoints as it goes.
        `report(step, loss, lr, val)` is called after every step."""
        started = time.perf_counter() - self.train_seconds
        while self.step < self.config.steps and not stop.is_set():
            loss = self.train_step()
            self.train_seconds = time.perf_counter() - started
            val = None
            if self.val_pairs and (self.step % self.config.val_every == 0 or self.step == self.config.steps):
                val = self.validate()
            if self.step % self.config.save_every == 0 or self.step == self.config.steps or val:
                self.save()
            if report:
                report(self.step, loss, self.config.lr_at(self.step - 1), val)
        self.save()

    def validate(self) -> ValResult:
        scores = score(model_upscaler(self.deployed_model()), self.val_pairs, self.config.scale)
        result = ValResult(self.step, *mean(scores))
        self.history.append(result)
        with open(self.run_dir / "val.jsonl", "a") as f:
            f.write(json.dumps(dataclasses.asdict(result)) + "\n")
        return result

    def deployed_model(self) -> SRModel:
        module = deployed_copy(self.ema).eval().requires_grad_(False)
        if self.config.bf16_weights:  # validate the network the export stores
            module.load_state_dict(rounded_state(module.state_dict()))
        return SRModel(module, self.config.variant, self.config.scale, "ema", self.device, torch.float32)

    # ----- state -----

    @property
    def checkpoint_path(self) -> Path:
        return self.run_dir / "last.pt"

    def save(self) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        state = {
            "format": CHECKPOINT_FORMAT,
            "config": dataclasses.asdict(self.config),
            "step": self.step,
            "train_seconds": self.train_seconds,
            "device": str(self.device),
            "model": self.model.state_dict(),
            "ema": self.ema.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scaler": self.scaler.state_dict(),
            "sampler_rng": self.sampler.generator.get_state(),
            "rounding_rng": self.rounding.generator.get_state(),
            "history": [dataclasses.asdict(v) for v in self.history],
            "commands": self.commands,
            "bank": getattr(self, "bank_meta", None),
        }
        save_atomically(state, self.checkpoint_path)

    @classmethod
    def resume(cls, path: Path, device: torch.device, steps: int | None = None) -> "Trainer":
        state = load_checkpoint(path)
        config = TrainConfig(**state["config"])
        if steps is not None:
            config.steps = steps
        config.init_from = None  # the checkpoint already holds those weights
        trainer = cls(config, Path(path).parent, device)
        trainer.model.load_state_dict(state["model"])
        trainer.ema.load_state_dict(state["ema"])
        trainer.optimizer.load_state_dict(state["optimizer"])
        trainer.scaler.load_state_dict(state["scaler"])
        trainer.sampler.generator.set_state(state["sampler_rng"])
        if "rounding_rng" in state:
            trainer.rounding.generator.set_state(state["rounding_rng"])
        trainer.step = state["step"]
        trainer.train_seconds = state["train_seconds"]
        trainer.history = [ValResult(**v) for v in state["history"]]
        trainer.commands = list(state.get("commands", []))
        return trainer

    def _make_optimizer(self) -> torch.optim.Optimizer:
        params = self.model.parameters()
        if self.config.optimizer == "adam":
            return torch.optim.Adam(params, lr=self.config.lr, betas=(0.9, 0.99), weight_decay=self.config.weight_decay)
        if self.config.optimizer == "adamw":
            return torch.optim.AdamW(params, lr=self.config.lr, betas=(0.9, 0.99), weight_decay=self.config.weight_decay)
        raise UsageError(f"unknown optimizer {self.config.optimizer!r}: adam or adamw")

    @torch.no_grad()
    def _update_ema(self) -> None:
        decay = min(self.config.ema_decay, (1 + self.step) / (10 + self.step))
        for ema_p, p in zip(self.ema.parameters(), self.model.parameters()):
            ema_p.lerp_(p, 1 - decay)

    def _make_sampler(self) -> PatchSampler | BankSampler:
        c = self.config
        photos = list_images(c.train, c.image_dir)
        batch = c.batch - c.charts
        if c.degrade == "clean":
            base = PatchSampler(load_pairs(photos, c.scale), c.scale, c.patch, batch, c.seed)
        else:
            bank = load_or_build(photos, c.scale, c.seed, VideoRecipe(clips=c.bank_clips), notify=self.notify)
            self.bank_meta = {k: v for k, v in bank.meta.items() if k != "clips"}
            base = BankSampler(bank, c.scale, c.patch, batch, c.seed)
        return ChartMix(base, c.scale, c.patch, c.charts) if c.charts else base

    def notify(self, message: str) -> None:
        print(message, flush=True)

    def _initial_model(self) -> PlainUSRTrainForm | PlainUSR:
        c = self.config
        if c.form == "deployed" and not c.init_from:  # resuming a fine-tune: the checkpoint holds the weights
            return build_plainusr(c.variant, c.scale)
        if not c.init_from:
            return build_plainusr_train_form(c.variant, c.scale)
        path = _weights_or_checkpoint(c.init_from)
        try:
            state = load_checkpoint(path)
        except WeightsError:
            return self._fine_tune_start(path)
        source = state["config"]
        if source["variant"] != c.variant:
            raise UsageError(
                f"the checkpoint to start from, {path}, is PlainUSR {source['variant']}, not {c.variant}",
                hint="give {init_from} a checkpoint of the same variant",
            )
        if source.get("form", "train") != "train":
            raise UsageError(f"the checkpoint to start from, {path}, is a fine-tuning run", hint="export it and give {init_from} the exported weights file")
        model = build_plainusr_train_form(c.variant, c.scale)
        weights = {k: v for k, v in state["ema"].items() if not k.startswith("tail.")}
        missing, unexpected = model.load_state_dict(weights, strict=False)
        assert not unexpected and all(k.startswith("tail.") for k in missing)
        return model

    def _fine_tune_start(self, path: Path) -> PlainUSR:
        """The deployed network of a weights file, to be fine-tuned as it is."""
        checkpoint = read_checkpoint(path)
        if checkpoint.variant != self.config.variant:
            raise UsageError(
                f"the weights to start from, {path}, are PlainUSR {checkpoint.variant}, not {self.config.variant}",
                hint="give {init_from} weights of the same variant",
            )
        self.config.form = "deployed"
        source = build_deployed(checkpoint)
        if checkpoint.scale == self.config.scale:
            return source
        model = PlainUSR(config=source.config, scale=self.config.scale)
        body = {k: v for k, v in source.state_dict().items() if not k.startswith("tail.")}
        model.load_state_dict(body, strict=False)
        init_nearest_upsampler(model)
        return model


def _weights_or_checkpoint(spec: str) -> Path:
    """A path as given, or the verified file of a registry name (`official-ultra-x2` is
    downloaded on first use)."""
    from ..weights import registry

    entry = registry().get(spec) if not Path(spec).exists() else None
    return registry().verified_path(entry) if entry else Path(spec)


def _load_teacher(spec: str, scale: int, device: torch.device) -> torch.nn.Module:
    """The deployed network of a weights file or registry name, float32, frozen."""
    checkpoint = read_checkpoint(_weights_or_checkpoint(spec))
    if checkpoint.scale != scale:
        raise UsageError(f"the teacher {spec} is a x{checkpoint.scale} model, the run trains x{scale}", hint="give {teacher} weights of the run's scale")
    return build_deployed(checkpoint).to(device).eval().requires_grad_(False)


def deployed_copy(net: PlainUSRTrainForm | PlainUSR) -> PlainUSR:
    """The deployed form of a network in either form (a copy; `net` is left as it is)."""
    return copy.deepcopy(net) if isinstance(net, PlainUSR) else reparameterize(net)


def save_atomically(obj, path: Path) -> None:
    """torch.save, never leaving a half-written file under `path`."""
    with atomic_path(path) as temp:
        torch.save(obj, temp)


def _check(config: TrainConfig) -> None:
    for name in ("steps", "batch", "warmup", "val_every", "save_every"):
        if getattr(config, name) < 1:
            raise UsageError(f"{name.replace('_', '-')} must be at least 1, got {getattr(config, name)}")
    if config.degrade not in ("clean", "video"):
        raise UsageError(f"unknown degradation {config.degrade!r}: clean or video")
    if config.patch < 16:
        raise UsageError(f"patch must be at least 16 LR pixels, got {config.patch}")
    if not 0 <= config.charts < config.batch:
        raise UsageError(f"charts must be at least 0 and fewer than the batch ({config.batch}), got {config.charts}")
    if config.teacher_weight and not config.teacher:
        raise UsageError("a teacher weight needs a teacher", hint="name the teacher's weights with {teacher}")
    if config.chart_teacher and not (config.teacher and config.charts):
        raise UsageError("a chart teacher needs a teacher and chart patches", hint="name the teacher with {teacher} and give {charts}")
    if config.precision_on not in ("all", "charts"):
        raise UsageError(f"unknown precision-on {config.precision_on!r}: all or charts")
    if config.precision_on == "charts" and not (config.charts and config.precision_weight):
        raise UsageError("a precision loss on the charts needs chart patches and a precision weight", hint="give {charts} and {precision_weight}")
    if not config.lr > 0:
        raise UsageError(f"lr must be positive, got {config.lr}")


def load_checkpoint(path: Path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"training checkpoint not found: {path}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:
        raise WeightsError(f"cannot read training checkpoint {path}") from None
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise WeightsError(f"{path} is not a vsr training checkpoint ({CHECKPOINT_FORMAT})")
    return state


def _loss(kind: str, sr: torch.Tensor, hr: torch.Tensor) -> torch.Tensor:
    if kind == "l1":
        return F.l1_loss(sr, hr)
    if kind == "charbonnier":
        return torch.sqrt((sr - hr) ** 2 + 1e-6).mean()
    raise UsageError(f"unknown loss {kind!r}: l1 or charbonnier")


def _amp_dtype(amp: str, device: torch.device) -> torch.dtype | None:
    if amp == "off" or (amp == "auto" and device.type != "cuda"):
        return None
    if amp in ("auto", "bf16"):
        return torch.bfloat16
    if amp == "fp16":
        return torch.float16
    raise UsageError(f"unknown mixed precision {amp!r}", hint="set {amp} to auto, bf16, fp16 or off")
