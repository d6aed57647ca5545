import threading

import cv2
import numpy as np
import pytest
import torch

from vsr import load_model
from vsr.metrics import psnr_y, ssim_y, y_channel
from vsr.resize import downscale_uint8, resize_bicubic
from vsr.errors import TrainingError
from vsr.training.export import export_deployed
from vsr.training.trainer import TrainConfig, Trainer
from vsr.weights import shipped


@pytest.fixture(scope="module")
def image_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("photos")
    rng = np.random.default_rng(0)
    for i in range(4):
        coarse = rng.random((12, 12, 3)).astype(np.float32)
        texture = cv2.resize(coarse, (96, 96), interpolation=cv2.INTER_CUBIC)
        cv2.imwrite(str(folder / f"img{i}.png"), (np.clip(texture, 0, 1) * 255).astype(np.uint8))
    (folder / "val.txt").write_text("img0.png\n# a comment\nimg1.png\n")
    return folder


def make_config(folder, **overrides) -> TrainConfig:
    settings = dict(variant="ultra", scale=2, train=str(folder), val=str(folder / "val.txt"), steps=8,
                    batch=4, patch=16, lr=2e-3, warmup=2, val_every=4, save_every=4)  # fmt: skip
    settings.update(overrides)
    return TrainConfig(**settings)


def test_a_short_run_lowers_the_loss(image_folder, tmp_path):
    torch.manual_seed(0)
    trainer = Trainer(make_config(image_folder, steps=40, batch=8), tmp_path, torch.device("cpu"))
    losses = [trainer.train_step() for _ in range(40)]
    assert np.mean(losses[-8:]) < 0.8 * np.mean(losses[:4])


def test_resume_continues_with_the_same_step_and_the_same_next_loss(image_folder, tmp_path):
    config = make_config(image_folder)
    straight = Trainer(config, tmp_path / "a", torch.device("cpu"))
    expected = [straight.train_step() for _ in range(6)]

    first = Trainer(config, tmp_path / "b", torch.device("cpu"))
    head = [first.train_step() for _ in range(3)]
    first.save()
    resumed = Trainer.resume(tmp_path / "b" / "last.pt", torch.device("cpu"))
    assert resumed.step == 3
    tail = [resumed.train_step() for _ in range(3)]
    assert head + tail == expected


def test_stop_event_saves_a_checkpoint_at_the_current_step(image_folder, tmp_path):
    trainer = Trainer(make_config(image_folder, steps=100), tmp_path, torch.device("cpu"))
    stop = threading.Event()

    def report(step, loss, lr, val):
        if step == 5:
            stop.set()  # what Ctrl-C does

    trainer.run(stop, report)
    assert Trainer.resume(tmp_path / "last.pt", torch.device("cpu")).step == 5


def test_validation_and_export_round_trip(image_folder, tmp_path):
    trainer = Trainer(make_config(image_folder), tmp_path, torch.device("cpu"))
    trainer.run(threading.Event())
    assert [v.step for v in trainer.history] == [4, 8]
    meta = export_deployed(tmp_path / "last.pt", tmp_path / "ultra-x2.pth", recipe="vsr train --variant ultra")
    assert meta["steps"] == 8 and meta["val_psnr_y"] == trainer.history[-1].psnr
    model = load_model(tmp_path / "ultra-x2.pth")
    x = torch.rand(1, 3, 20, 24)
    expected = trainer.deployed_model()(x)
    torch.testing.assert_close(model(x), expected, rtol=0, atol=1e-5)  # channels_last on the CPU sums in another order
    # the exported weights score what validation measured
    assert (tmp_path / "ultra-x2.pth.json").is_file()


def test_x4_can_start_from_an_x2_checkpoint_with_a_new_tail(image_folder, tmp_path):
    x2 = Trainer(make_config(image_folder), tmp_path / "x2", torch.device("cpu"))
    x2.train_step()
    x2.save()
    x4 = Trainer(make_config(image_folder, scale=4, init_from=str(tmp_path / "x2" / "last.pt")), tmp_path / "x4", torch.device("cpu"))
    assert torch.equal(x4.model.block1.body[0].expand.weight, x2.ema.block1.body[0].expand.weight)
    assert x4.model.tail[0].weight.shape[0] == 48


def test_psnr_and_ssim_known_values():
    rng = np.random.default_rng(0)
    hr = rng.integers(0, 246, (32, 40, 3), dtype=np.uint8)
    assert psnr_y(hr, hr, 2) == float("inf")
    assert ssim_y(hr, hr, 2) == pytest.approx(1.0)
    brighter = hr + 10  # every Y value moves by 10 * (65.481 + 128.553 + 24.966) / 255
    dy = 10 * 219.0 / 255
    assert psnr_y(brighter, hr, 2) == pytest.approx(20 * np.log10(255 / dy), abs=1e-9)
    assert ssim_y(brighter, hr, 4) < 1.0


def test_y_channel_is_bt601_studio_range():
    assert y_channel(np.array([[[0, 0, 0]]], np.uint8))[0, 0] == pytest.approx(16.0)
    assert y_channel(np.array([[[255, 255, 255]]], np.uint8))[0, 0] == pytest.approx(235.0)


def test_bicubic_downscale_of_a_flat_image_is_flat_and_resize_is_exact_at_scale_one():
    flat = np.full((24, 30, 3), 77, np.uint8)
    assert (downscale_uint8(flat, 3) == 77).all()
    x = torch.rand(3, 9, 11, dtype=torch.float64)
    assert torch.allclose(resize_bicubic(x, 9, 11), x)


def test_train_export_and_eval_commands(image_folder, tmp_path, capsys):
    import json

    from vsr.cli import main

    weights = tmp_path / "ultra-x2.pth"
    code = main(["train", "--variant", "ultra", "--scale", "2", "--train", str(image_folder), "--val", "none",
                 "--steps", "3", "--batch", "2", "--patch", "16", "--warmup", "1", "--device", "cpu",
                 "--run-dir", str(tmp_path / "run"), "--export", str(weights)])  # fmt: skip
    assert code == 0 and weights.is_file()
    code = main(["train", "--variant", "ultra", "--scale", "2", "--train", str(image_folder), "--run-dir", str(tmp_path / "run")])
    assert code != 0 and "last.pt exists" in capsys.readouterr().err
    report = tmp_path / "eval.json"
    code = main(["eval", "--scale", "2", "--images", str(image_folder), "--weights", str(weights), "--device", "cpu", "--json", str(report)])
    assert code == 0
    results = json.loads(report.read_text())["results"]
    assert results[0]["method"] == "bicubic" and str(weights) in results[-1]["method"]
    shipped_x2 = [e.name for e in shipped().shipped_entries() if e.scale == 2]
    assert len(results) == 2 + len(shipped_x2)  # bicubic, every shipped x2 model, the file
    assert len(results[-1]["per_image"]) == 4 and all(np.isfinite(r["psnr_y"]) for r in results)


def test_validation_before_the_first_save_and_a_fresh_run_folder(image_folder, tmp_path):
    trainer = Trainer(make_config(image_folder, steps=2, val_every=1, save_every=500), tmp_path / "new" / "run", torch.device("cpu"))
    trainer.run(threading.Event())
    assert (tmp_path / "new" / "run" / "last.pt").is_file() and len(trainer.history) == 2


def test_a_training_checkpoint_loads_its_ema_weights(image_folder, tmp_path):
    trainer = Trainer(make_config(image_folder), tmp_path, torch.device("cpu"))
    for _ in range(3):
        trainer.train_step()
    trainer.save()
    x = torch.rand(1, 3, 16, 16)
    torch.testing.assert_close(load_model(tmp_path / "last.pt")(x), trainer.deployed_model()(x), rtol=0, atol=1e-5)


@pytest.mark.parametrize(
    "argv,message",
    [
        (["--variant", "ultra", "--scale", "2", "--batch", "0"], "batch must be at least 1"),
        (["--variant", "ultra", "--scale", "2", "--val-every", "0"], "val-every must be at least 1"),
        (["--variant", "ultra", "--scale", "2", "--patch", "4"], "patch must be at least 16"),
        (["--variant", "ultra", "--scale", "4", "--patch", "64"], "smaller than a 64px LR patch"),
        (["--variant", "ultra"], "--variant and --scale are required"),
        (["--resume", "RUN", "--lr", "0.1"], "--lr cannot change a resumed run"),
        (["--variant", "ultra", "--scale", "2", "--bf16-weights"], "bf16 weights are trained by fine-tuning a weights file"),
    ],
)
def test_train_refuses_bad_settings_in_one_line(image_folder, tmp_path, capsys, argv, message):
    from vsr.cli import main

    argv = [str(tmp_path / "last.pt") if a == "RUN" else a for a in argv]
    fresh = ["train", "--train", str(image_folder), "--val", "none", "--device", "cpu", "--run-dir", str(tmp_path / "r"), *argv]
    code = main(fresh if "--resume" not in argv else ["train", *argv])
    err = capsys.readouterr().err
    assert code != 0 and message in err and len(err.strip().splitlines()) == 1


def test_ctrl_c_saves_a_checkpoint_and_exits_130(image_folder, tmp_path):
    import signal
    import subprocess
    import sys

    from conftest import ROOT

    run_dir = tmp_path / "run"
    process = subprocess.Popen(
        [sys.executable, "-m", "vsr", "train", "--variant", "ultra", "--scale", "2", "--train", str(image_folder),
         "--val", "none", "--steps", "1000000", "--batch", "2", "--patch", "16", "--device", "cpu", "--run-dir", str(run_dir)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert "training PlainUSR ultra x2" in process.stderr.readline()  # the SIGINT handler is in place
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 130, err
    assert "checkpoint saved" in out and "--resume" in out
    assert Trainer.resume(run_dir / "last.pt", torch.device("cpu")).step >= 0


def test_a_list_file_finds_its_images_in_photos_beside_it(image_folder, tmp_path):
    from vsr.datasets import list_images

    (tmp_path / "photos").symlink_to(image_folder, target_is_directory=True)
    (tmp_path / "split.txt").write_text("img2.png\nimg3.png\n")
    assert [p.name for p in list_images(tmp_path / "split.txt")] == ["img2.png", "img3.png"]


def test_a_diverging_step_stops_the_run_before_the_weights_or_the_checkpoint_change(image_folder, tmp_path):
    trainer = Trainer(make_config(image_folder, steps=100), tmp_path, torch.device("cpu"))
    trainer.train_step()
    trainer.save()
    saved = (tmp_path / "last.pt").read_bytes()
    with torch.no_grad():
        trainer.model.head.weight[0, 0, 0, 0] = float("inf")  # what an overflow in one step leaves
    before = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    with pytest.raises(TrainingError, match="diverged at step 2") as caught:
        trainer.run(threading.Event())
    assert "precision_weight" in str(caught.value)
    assert all(torch.equal(v, before[k]) for k, v in trainer.model.state_dict().items())
    assert trainer.step == 1 and (tmp_path / "last.pt").read_bytes() == saved
