"""The `video` training recipe: a real libx264 round trip decoded as vsr decodes, a bank
built once per settings and cached, training on it, and `vsr eval --video`."""

import json

import av
import cv2
import numpy as np
import pytest
import torch

from vsr import clips
from vsr.metrics import psnr_y
from vsr.training import bank as bank_module
from vsr.training.bank import BankSampler, VideoRecipe, load_or_build
from vsr.training.trainer import TrainConfig, Trainer

SMALL = VideoRecipe(clips=3, frames=4, size=32)


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """Three 320x320 pictures with edges, text and texture (what a codec damages)."""
    folder = tmp_path_factory.mktemp("photos")
    rng = np.random.default_rng(0)
    for i in range(3):
        image = cv2.GaussianBlur(rng.integers(0, 255, (320, 320, 3), dtype=np.uint8), (0, 0), 3)
        for _ in range(12):
            colour = tuple(int(c) for c in rng.integers(0, 255, 3))
            cv2.circle(image, tuple(int(c) for c in rng.integers(0, 320, 2)), int(rng.integers(5, 60)), colour, -1)
        cv2.putText(image, f"vsr {i}", (20, 200), cv2.FONT_HERSHEY_SIMPLEX, 2.0, (255, 255, 255), 3)
        cv2.imwrite(str(folder / f"p{i}.png"), image)
    return sorted(folder.iterdir())


def _clip(photo_path, frames=6, size=48, scale=2):
    rng = np.random.default_rng(1)
    photo = cv2.imread(str(photo_path))[:, :, ::-1].copy()
    view = clips.scene_view(photo, 0.5, size * scale + 40, size * scale + 40, rng)
    pan = clips.random_pan(rng, view.shape, size * scale, size * scale, frames)
    return clips.low_resolution(clips.pan_frames(view, pan, frames, size * scale, size * scale), scale)


def test_the_degradation_is_a_real_h264_4_2_0_round_trip(photos, tmp_path):
    lr = _clip(photos[0])
    path = clips.encode_h264(lr, tmp_path / "clip.mkv", crf=35)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264" and stream.format.name == "yuv420p"
        kinds = {int(frame.pict_type) for frame in container.decode(stream)}
    assert 1 in kinds and kinds & {2, 3}, kinds  # I, and P or B: motion, not only intra blocking
    decoded = clips.decode_rgb(path)
    assert len(decoded) == len(lr) and decoded[0].shape == (3, 48, 48)
    damage = [psnr_y(clips.to_uint8(d), c, 0) for d, c in zip(decoded, lr, strict=True)]
    assert 20 < np.mean(damage) < 40  # artefacts, but the picture is still there
    mild = clips.h264_round_trip(lr, crf=12)
    assert np.mean([psnr_y(clips.to_uint8(d), c, 0) for d, c in zip(mild, lr, strict=True)]) > np.mean(damage) + 5


def test_the_round_trip_decodes_as_vsr_upscale_decodes_not_as_swscale(photos, tmp_path):
    """vsr.clips.decode_rgb is the pipeline's own decode: the same frames VideoSource and
    the engine's conversion give, which differ from PyAV's default rgb24 conversion."""
    path = clips.encode_h264(_clip(photos[1]), tmp_path / "clip.mkv", crf=30)
    ours = clips.decode_rgb(path)
    with av.open(str(path)) as container:
        swscale = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert max(np.abs(clips.to_uint8(o).astype(int) - s.astype(int)).max() for o, s in zip(ours, swscale, strict=True)) > 2


def test_the_bank_is_deterministic_by_seed(photos, tmp_path):
    a = load_or_build(photos, 2, seed=3, recipe=SMALL, cache_dir=tmp_path / "a", notify=lambda m: None)
    b = load_or_build(photos, 2, seed=3, recipe=SMALL, cache_dir=tmp_path / "b", notify=lambda m: None)
    c = load_or_build(photos, 2, seed=4, recipe=SMALL, cache_dir=tmp_path / "c", notify=lambda m: None)
    assert torch.equal(a.lr, b.lr) and np.array_equal(a.views, b.views)
    assert not torch.equal(a.lr, c.lr)
    assert a.lr.shape == (SMALL.clips * SMALL.frames, 3, 32, 32) and a.lr.dtype == torch.float16
    assert set(a.meta["damage_db_percentiles"]) == {"5", "25", "50", "75", "95"} and a.meta["build_seconds"] >= 0


def test_the_bank_is_reused_and_rebuilt_when_anything_that_shapes_it_changes(photos, tmp_path, monkeypatch):
    said = []
    load_or_build(photos, 2, 0, SMALL, tmp_path, notify=said.append)
    assert "building" in said[0] and "built in" in said[1]
    first = sorted(tmp_path.iterdir())
    load_or_build(photos, 2, 0, SMALL, tmp_path, notify=said.append)
    assert "cached" in said[-1] and sorted(tmp_path.iterdir()) == first
    load_or_build(photos, 2, 0, VideoRecipe(clips=3, frames=4, size=32, crf=(30, 35)), tmp_path, notify=said.append)
    assert "building" in said[-2] and len(list(tmp_path.iterdir())) == 2
    monkeypatch.setattr(bank_module, "code_version", lambda: "decode code changed")
    load_or_build(photos, 2, 0, SMALL, tmp_path, notify=said.append)
    assert "building" in said[-2] and len(list(tmp_path.iterdir())) == 3


def test_bank_patches_line_up_with_their_hr_frames(photos, tmp_path):
    """An LR patch is the codec-degraded bicubic downscale of its HR patch: upscaling it
    back with bicubic lands close to the HR patch, and far from a shifted one."""
    bank = load_or_build(photos, 2, 0, SMALL, tmp_path, notify=lambda m: None)
    lr, hr = BankSampler(bank, 2, 16, 8, seed=0).next_batch()
    assert lr.shape == (8, 3, 16, 16) and hr.shape == (8, 3, 32, 32)
    up = torch.nn.functional.interpolate(lr, scale_factor=2, mode="bicubic", align_corners=False)
    aligned = (up - hr)[..., 4:-4, 4:-4].abs().mean()
    shifted = (up[..., :, 2:] - hr[..., :, :-2])[..., 4:-4, 4:-4].abs().mean()
    assert aligned < 0.7 * shifted


def test_a_tiny_run_on_video_degradations_lowers_the_loss_and_resumes(photos, tmp_path, monkeypatch):
    import functools

    from vsr.training import trainer as trainer_module

    monkeypatch.setenv("VSR_CACHE", str(tmp_path / "cache"))
    # views up to 0.8 of the photo: at the default's closest zoom (0.5) 96px clips need 442px photos
    monkeypatch.setattr(trainer_module, "VideoRecipe", functools.partial(VideoRecipe, zoom=(0.15, 0.8)))
    config = TrainConfig(variant="ultra", scale=2, train=str(photos[0].parent), degrade="video", bank_clips=4,
                         steps=40, batch=4, patch=32, lr=2e-3, warmup=5, save_every=20)  # fmt: skip
    trainer = Trainer(config, tmp_path / "run", torch.device("cpu"))
    trainer.notify = lambda message: None
    first = np.mean([trainer.train_step() for _ in range(5)])
    for _ in range(30):
        trainer.train_step()
    last = np.mean([trainer.train_step() for _ in range(5)])
    assert last < 0.8 * first
    trainer.save()
    resumed = Trainer.resume(trainer.checkpoint_path, torch.device("cpu"))
    assert resumed.step == trainer.step and resumed.config.degrade == "video"
    assert resumed.train_step() == pytest.approx(trainer.train_step(), rel=1e-5)


def test_fine_tuning_a_weights_file_at_another_scale_starts_as_nearest_neighbour(photos, tmp_path):
    from vsr.weights import registry

    weights = registry().local_path(registry().get("ultra-x2"))
    config = TrainConfig(variant="ultra", scale=3, train=str(photos[0].parent), init_from=str(weights), steps=1, batch=1, patch=16)
    trainer = Trainer(config, tmp_path / "run", torch.device("cpu"))
    assert trainer.config.form == "deployed"
    x = torch.rand(1, 3, 12, 12)
    with torch.no_grad():
        assert torch.allclose(trainer.model(x), torch.nn.functional.interpolate(x, scale_factor=3, mode="nearest"), atol=1e-6)


def test_eval_video_gives_the_table_and_json(photos, tmp_path, capsys):
    from vsr.cli import main

    out = tmp_path / "eval.json"
    folder = tmp_path / "two"
    folder.mkdir()
    for p in photos[:2]:
        (folder / p.name).write_bytes(cv2.imencode(".png", cv2.resize(cv2.imread(str(p)), (640, 400)))[1].tobytes())
    argv = ["eval", "--video", "--scale", "2", "--images", str(folder), "--frames", "3", "--crf", "28", "--model", "ultra-x2", "--device", "cpu"]
    code = main([*argv, "--json", str(out)])
    assert code == 0
    table = capsys.readouterr().out
    assert "bicubic" in table and "ultra-x2" in table and "CRF 28" in table
    result = json.loads(out.read_text())
    assert result["crfs"] == [28] and {r["method"] for r in result["results"]} == {"bicubic", "ultra (ultra-x2)"}
    assert all(len(r["per_clip"]) == 2 and 15 < r["psnr_y"] < 60 for r in result["results"])
    assert 15 < result["lr_damage_psnr_y"]["28"] < 60
