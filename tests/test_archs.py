import pytest
import torch
import torch.nn.functional as F

from conftest import randomize_
from vsr.archs import SCALES, VARIANTS, build_plainusr, build_plainusr_train_form, reparameterize
from vsr.archs.attention import LocalImportanceAttention, LocalImportanceAttentionSpeed

# Deployed parameter counts, read off the official checkpoints (x3 has no release).
PARAMS = {
    ("ultra", 2): 13_628, ("ultra", 4): 19_820,
    ("tiny", 2): 48_724, ("tiny", 4): 60_100,
    ("small", 2): 57_236, ("small", 4): 68_612,
    ("medium", 2): 148_932, ("medium", 4): 165_492,
    ("base", 2): 311_364, ("base", 4): 333_108,
    ("large", 2): 707_076, ("large", 4): 734_004,
}  # fmt: skip


def n_params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("variant,scale", PARAMS)
def test_deployed_parameter_counts_match_the_release(variant, scale):
    assert n_params(build_plainusr(variant, scale)) == PARAMS[variant, scale]


def test_x3_differs_from_x2_only_in_the_tail():
    for variant in VARIANTS:
        x2, x3 = build_plainusr(variant, 2), build_plainusr(variant, 3)
        tail_growth = (27 - 12) * (VARIANTS[variant].n_feat + 3) * 9 + (27 - 12)
        assert n_params(x3) - n_params(x2) == tail_growth


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("scale", SCALES)
def test_reparameterized_model_equals_training_form(variant, scale):
    train = randomize_(build_plainusr_train_form(variant, scale), seed=scale).eval()
    deployed = reparameterize(train).eval()
    # odd sizes; every pixel compared, borders included
    x = torch.rand(2, 3, 23, 37, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected, actual = train(x), deployed(x)
    assert actual.shape == (2, 3, 23 * scale, 37 * scale)
    assert expected.std() > 0.05  # the random weights really do something
    assert (expected - actual).abs().max() < 1e-5
    border = torch.ones_like(expected, dtype=torch.bool)
    border[..., scale:-scale, scale:-scale] = False
    assert (expected - actual)[border].abs().max() < 1e-5


def test_reparameterize_does_not_touch_its_input():
    train = randomize_(build_plainusr_train_form("small", 2))
    before = {k: v.clone() for k, v in train.state_dict().items()}
    reparameterize(train)
    assert all(torch.equal(before[k], v) for k, v in train.state_dict().items())
    assert any(".expand." in k for k in train.state_dict())


def test_reparameterized_keys_are_the_release_keys():
    deployed = reparameterize(build_plainusr_train_form("large", 4))
    keys = set(deployed.state_dict())
    assert {"head.weight", "block1.body.4.weight", "block1.body.5.body.3.bias", "tail.0.weight"} <= keys
    assert not any("expand" in k or "asr" in k or "mix" in k for k in keys)


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("scale", SCALES)
def test_untrained_training_form_is_nearest_neighbour_upsampling(variant, scale):
    net = build_plainusr_train_form(variant, scale)
    x = torch.rand(1, 3, 17, 19)
    with torch.no_grad():
        assert torch.equal(net(x), F.interpolate(x, scale_factor=scale, mode="nearest"))


@pytest.mark.parametrize("variant", ["ultra", "small", "large"])
def test_training_step_lowers_l1_and_reaches_every_parameter(variant):
    torch.manual_seed(0)
    net = build_plainusr_train_form(variant, 2).train()
    texture = torch.rand(4, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    hr = F.interpolate(texture, size=(64, 64), mode="bicubic", align_corners=False).clamp(0, 1)
    lr = F.interpolate(hr, scale_factor=0.5, mode="bicubic", antialias=True)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-4)

    def loss_and_step() -> float:
        optimizer.zero_grad()
        loss = F.l1_loss(net(lr), hr)
        loss.backward()  # the release's in-place forward fails here
        optimizer.step()
        return loss.item()

    losses = [loss_and_step() for _ in range(3)]
    # At init the tail ignores the feature channels (exact nearest-neighbour output), so
    # the body's gradient is zero until the tail has moved once; from the second step on
    # every parameter, ASR included, receives a non-zero gradient.
    assert losses[2] < losses[1] < losses[0]
    dead = [n for n, p in net.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert dead == []


def test_asr_starts_unsaturated():
    net = build_plainusr_train_form("small", 2)
    for module in net.modules():
        if module.__class__.__name__ == "ASR":
            a = module()
            assert ((a > 0.2) & (a < 0.8)).all()


def test_ultra_forward_uses_every_block():
    net = randomize_(build_plainusr_train_form("ultra", 2)).eval()
    x = torch.rand(1, 3, 16, 16)
    with torch.no_grad():
        reference = net(x)
        for name in ("block1", "blockm", "block2"):
            block = getattr(net, name).body[0].reduce
            saved = block.bias.clone()
            block.bias.add_(1.0)
            assert not torch.allclose(net(x), reference), f"{name} has no effect on the output"
            block.bias.copy_(saved)


def test_lia_keeps_the_shape_of_the_seed_article_demo():
    x = torch.rand(1, 32, 256, 256)
    assert LocalImportanceAttention(32, reduced=16)(x).shape == (1, 32, 256, 256)
    assert LocalImportanceAttentionSpeed(32)(x).shape == (1, 32, 256, 256)


@pytest.mark.parametrize("variant,min_size", [("ultra", 1), ("small", 7), ("large", 7)])
def test_min_size(variant, min_size):
    net = build_plainusr(variant, 2).eval()
    assert net.min_size == min_size
    with torch.no_grad():
        assert net(torch.rand(1, 3, min_size, min_size)).shape[-1] == 2 * min_size


def test_unknown_scale_is_refused():
    with pytest.raises(ValueError, match="scale"):
        build_plainusr("small", 5)
