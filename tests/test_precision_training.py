"""Training for half precision: chart patches in the batch, the bf16-against-float32 gap
as a loss, and distillation from a teacher's float32 output (vsr.training)."""

import numpy as np
import pytest
import torch

from test_training import image_folder, make_config  # noqa: F401  (a fixture and its config)
from vsr.charts import random_chart, measurement_chart
from vsr.training.bf16_weights import round_to_bf16
from vsr.training.trainer import Trainer


def test_random_charts_are_drawn_from_the_generator_and_are_not_the_measurement_chart():
    a = [random_chart(np.random.default_rng(5), 64, 96) for _ in range(2)]
    assert np.array_equal(a[0], a[1])
    charts = [random_chart(np.random.default_rng(seed), 64, 96) for seed in range(20)]
    assert all(c.shape == (64, 96, 3) and c.dtype == np.uint8 for c in charts)
    assert not any(np.array_equal(c, measurement_chart(64, 96)) for c in charts)
    # high contrast: most charts span (nearly) black to white in at least one channel
    assert sum(int(c.max()) - int(c.min()) > 200 for c in charts) >= 15


def test_chart_patches_lead_each_batch_with_their_exact_truth_and_resume_exactly(image_folder, tmp_path):  # noqa: F811
    from vsr.resize import downscale_uint8

    trainer = Trainer(make_config(image_folder, batch=6, charts=2), tmp_path / "a", torch.device("cpu"))
    lr, hr = trainer.sampler.next_batch()
    assert lr.shape == (6, 3, 16, 16) and hr.shape == (6, 3, 32, 32)
    truth = (hr[0].permute(1, 2, 0) * 255).round().byte().numpy()
    assert torch.equal(lr[0], torch.from_numpy(downscale_uint8(truth, 2)).permute(2, 0, 1).float() / 255)
    # the second is drawn at the LR size (1-px patterns a downscale never holds), its truth nearest-neighbour
    assert torch.equal(hr[1], lr[1].repeat_interleave(2, dim=1).repeat_interleave(2, dim=2))
    state = trainer.sampler.generator.get_state()
    again = trainer.sampler.next_batch()
    trainer.sampler.generator.set_state(state)
    assert all(torch.equal(x, y) for x, y in zip(again, trainer.sampler.next_batch(), strict=True))


def test_the_precision_loss_narrows_the_bf16_gap_on_a_tiny_run(image_folder, tmp_path):  # noqa: F811
    """The same tiny fine-tune with and without the precision loss: with it, the bf16 forward
    ends nearer the float32 one on charts it never trained on."""
    probe = torch.stack([torch.from_numpy(random_chart(np.random.default_rng(100 + i), 24, 24)).permute(2, 0, 1).float() / 255 for i in range(4)])

    def gap_after(weight):
        # one chart patch, drawn at the HR size: LR-size charts (the second on) fix much of the gap by themselves
        config = make_config(image_folder, init_from="ultra-x2-video", steps=60, batch=6, charts=1, precision_weight=weight, lr=1e-3, warmup=5)
        trainer = Trainer(config, tmp_path / str(weight), torch.device("cpu"))
        for _ in range(60):
            trainer.train_step()
        with torch.no_grad():
            sr = trainer.model(probe)
            with torch.autocast("cpu", dtype=torch.bfloat16):
                low = trainer.model(probe)
        return float((low.float() - sr).abs().mean())

    without, with_loss = gap_after(0.0), gap_after(20.0)
    assert with_loss < 0.8 * without, (with_loss, without)


def test_distillation_pulls_the_student_toward_the_teacher(image_folder, tmp_path):  # noqa: F811
    """A tiny run from scratch with the teacher's loss alone weighing in: the distance to the
    teacher on a batch it never trained on falls."""
    config = make_config(image_folder, steps=40, batch=6, teacher="ultra-x2-video", teacher_weight=20.0, lr=2e-3)
    trainer = Trainer(config, tmp_path / "run", torch.device("cpu"))
    probe = make_config(image_folder, batch=6, teacher="ultra-x2-video", seed=1)
    lr, _ = Trainer(probe, tmp_path / "probe", torch.device("cpu")).sampler.next_batch()

    def distance():
        with torch.no_grad():
            return float(trainer._teacher_loss(lr, trainer.model(lr)))

    before = distance()
    losses = [trainer.train_step() for _ in range(40)]
    assert distance() < 0.7 * before and np.mean(losses[-8:]) < np.mean(losses[:4])


@pytest.mark.parametrize("overrides, words", [
    (dict(charts=16), "charts must be"),
    (dict(teacher_weight=1.0), "a teacher weight needs a teacher"),
    (dict(teacher="ultra-x4"), "x4 model"),
    (dict(teacher="ultra-x2-video", chart_teacher="ultra-x2"), "a chart teacher needs a teacher and chart patches"),
    (dict(precision_on="charts", precision_weight=1.0), "needs chart patches and a precision weight"),
    (dict(precision_on="charts", charts=2), "needs chart patches and a precision weight"),
    (dict(precision_on="photos"), "unknown precision-on"),
])  # fmt: skip
def test_bad_precision_training_settings_are_refused(image_folder, tmp_path, overrides, words):  # noqa: F811
    from vsr.errors import UsageError

    with pytest.raises(UsageError, match=words):
        Trainer(make_config(image_folder, **overrides), tmp_path, torch.device("cpu"))


def test_with_a_teacher_the_charts_follow_it_instead_of_their_truth(image_folder, tmp_path):  # noqa: F811
    """Sharp chart truth teaches sharpening that costs dB on codec-damaged video: with a
    teacher, the truth loss reads only the photo patches and the teacher's loss all of them."""
    from vsr.training.trainer import _loss

    config = make_config(image_folder, batch=6, charts=2, teacher="ultra-x2-video", teacher_weight=1.0)
    trainer = Trainer(config, tmp_path, torch.device("cpu"))
    lr, hr = trainer.sampler.next_batch()
    sr = trainer.model(lr)
    assert torch.equal(trainer._truth_loss(sr, hr), _loss("l1", sr[2:], hr[2:]))
    alone = Trainer(make_config(image_folder, batch=6, charts=2), tmp_path / "alone", torch.device("cpu"))
    assert torch.equal(alone._truth_loss(sr, hr), _loss("l1", sr, hr))


def test_a_chart_teacher_sets_the_charts_target(image_folder, tmp_path):  # noqa: F811
    """A teacher right on video can be wrong on charts: with a chart teacher, the chart
    patches follow it and the rest still follow the teacher."""
    from torch.nn import functional as F

    from vsr.training.trainer import _load_teacher

    config = make_config(image_folder, batch=6, charts=2, teacher="ultra-x2-video", teacher_weight=2.0, chart_teacher="ultra-x2")
    trainer = Trainer(config, tmp_path, torch.device("cpu"))
    lr, _ = trainer.sampler.next_batch()
    with torch.no_grad():
        sr = trainer.model(lr)
        video, clean = (_load_teacher(name, 2, torch.device("cpu")) for name in ("ultra-x2-video", "ultra-x2"))
        expected = 2.0 * F.l1_loss(sr, torch.cat([clean(lr[:2]), video(lr[2:])]))
        only_video = 2.0 * F.l1_loss(sr, video(lr))
        assert torch.allclose(trainer._teacher_loss(lr, sr), expected)
        assert not torch.allclose(expected, only_video)


def test_a_precision_loss_on_the_charts_reads_only_the_chart_patches(image_folder, tmp_path):  # noqa: F811
    """--precision-on charts: the photo patches change nothing in the precision loss; with
    `all` they do."""
    def losses(on):
        trainer = Trainer(make_config(image_folder, batch=6, charts=2, precision_weight=1.0, precision_on=on), tmp_path / on, torch.device("cpu"))
        lr, _ = trainer.sampler.next_batch()
        other = lr.clone()
        other[2:] = other[2:].flip(-1)  # other photo patches, the same charts
        state = trainer.rounding.generator.get_state()
        with torch.no_grad():
            first = trainer._precision_loss(lr, trainer.model(lr))
            trainer.rounding.generator.set_state(state)
            second = trainer._precision_loss(other, trainer.model(other))
        return first, second

    first, second = losses("charts")
    assert first > 0 and torch.equal(first, second)
    first, second = losses("all")
    assert not torch.equal(first, second)


def test_bf16_weights_train_through_the_rounding_and_export_the_network_they_trained(image_folder, tmp_path):  # noqa: F811
    """--bf16-weights: the loss falls while every forward uses bf16-rounded weights (the
    gradient passes straight through to float32 ones), and the export stores exactly the
    network that was trained, which fp16 and bf16 then hold without rounding a weight."""
    from vsr.checkpoint import build_deployed, read_checkpoint
    from vsr.training.export import export_deployed

    # x3 from the x2 file: a new nearest-neighbour tail, so there is something to learn; the
    # precision loss on, so its noisy pass runs through the rounded weights too
    config = make_config(image_folder, init_from="ultra-x2", scale=3, steps=30, batch=6, precision_weight=1.0, lr=2e-3, warmup=2,
                         ema_decay=0.0, bf16_weights=True)  # fmt: skip
    trainer = Trainer(config, tmp_path / "run", torch.device("cpu"))
    losses = [trainer.train_step() for _ in range(30)]
    assert np.mean(losses[-6:]) < 0.8 * np.mean(losses[:3]), losses
    latent = {name: p.detach().clone() for name, p in trainer.model.named_parameters()}
    assert not all(torch.equal(p, p.bfloat16().float()) for p in latent.values())  # the float32 weights move freely
    trainer.save()

    meta = export_deployed(tmp_path / "run" / "last.pt", tmp_path / "x3.pth", recipe="test")
    assert meta["bf16_exact"] is True
    exported = read_checkpoint(tmp_path / "x3.pth")
    assert exported.state_dict.keys() == latent.keys()
    for name, t in exported.state_dict.items():
        assert torch.equal(t, round_to_bf16(latent[name])) and torch.equal(t, t.bfloat16().float()) and torch.equal(t, t.half().float())
    probe, _ = trainer.sampler.next_batch()
    with torch.no_grad():
        assert torch.equal(build_deployed(exported)(probe), trainer._forward(probe))
        # the run's checkpoint reads as the same network, and validation scores it
        assert torch.equal(build_deployed(read_checkpoint(tmp_path / "run" / "last.pt"))(probe), trainer._forward(probe))
        assert torch.equal(trainer.deployed_model().module(probe), trainer._forward(probe))


def test_with_an_ema_the_bf16_export_is_the_validated_network(image_folder, tmp_path):  # noqa: F811
    from vsr.checkpoint import read_checkpoint
    from vsr.training.export import export_deployed

    config = make_config(image_folder, init_from="ultra-x2", steps=6, batch=4, ema_decay=0.9, bf16_weights=True)
    trainer = Trainer(config, tmp_path / "run", torch.device("cpu"))
    for _ in range(6):
        trainer.train_step()
    trainer.save()
    export_deployed(tmp_path / "run" / "last.pt", tmp_path / "x2.pth", recipe="test")
    exported = read_checkpoint(tmp_path / "x2.pth").state_dict
    validated = trainer.deployed_model().module.state_dict()
    assert all(torch.equal(exported[k], validated[k]) and torch.equal(exported[k], round_to_bf16(v)) for k, v in trainer.ema.state_dict().items())


def test_without_bf16_weights_the_export_keeps_float32_weights(image_folder, tmp_path):  # noqa: F811
    from vsr.checkpoint import read_checkpoint
    from vsr.training.export import export_deployed

    trainer = Trainer(make_config(image_folder, init_from="ultra-x2", steps=2), tmp_path / "run", torch.device("cpu"))
    trainer.train_step()
    trainer.save()
    assert export_deployed(tmp_path / "run" / "last.pt", tmp_path / "x2.pth", recipe="test")["bf16_exact"] is False
    exported, ema = read_checkpoint(tmp_path / "x2.pth").state_dict, trainer.ema.state_dict()
    assert all(torch.equal(exported[k], v) for k, v in ema.items())
    assert not all(torch.equal(t, t.bfloat16().float()) for t in exported.values())
