import pytest
import torch

from conftest import randomize_
from vsr import load_model
from vsr.archs import SCALES, VARIANTS, build_plainusr, build_plainusr_train_form, reparameterize
from vsr.errors import UsageError, WeightsError


def save(obj, path):
    torch.save(obj, path)
    return path


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("scale", SCALES)
def test_variant_and_scale_are_read_off_the_shapes(tmp_path, variant, scale):
    net = randomize_(build_plainusr(variant, scale))
    model = load_model(save(net.state_dict(), tmp_path / "w.pth"))
    assert (model.variant, model.scale) == (variant, scale)
    assert model.num_params == sum(p.numel() for p in net.parameters())


@pytest.mark.parametrize(
    "wrap",
    [
        lambda sd: {"params_ema": sd, "params": {}},
        lambda sd: {"params": sd},
        lambda sd: {"state_dict": sd, "epoch": 3},
        lambda sd: {f"module.{k}": v for k, v in sd.items()},
        lambda sd: {"params_ema": {f"module.{k}": v for k, v in sd.items()}},
    ],
    ids=["params_ema", "params", "state_dict", "module.", "params_ema+module."],
)
def test_wrappers_are_canonicalised(tmp_path, wrap):
    net = randomize_(build_plainusr("small", 2)).eval()
    model = load_model(save(wrap(net.state_dict()), tmp_path / "w.pth"))
    _assert_same_network(model, net, torch.rand(1, 3, 12, 12))


def test_params_ema_is_preferred_over_params(tmp_path):
    ema, raw = build_plainusr("ultra", 2).state_dict(), build_plainusr("ultra", 2).state_dict()
    model = load_model(save({"params": raw, "params_ema": ema}, tmp_path / "w.pth"))
    assert torch.equal(model.module.head.weight, ema["head.weight"])


def test_training_form_checkpoint_is_reparameterized_on_load(tmp_path):
    train = randomize_(build_plainusr_train_form("medium", 3)).eval()
    model = load_model(save(train.state_dict(), tmp_path / "w.pth"))
    assert (model.variant, model.scale) == ("medium", 3)
    x = torch.rand(1, 3, 15, 13)
    with torch.no_grad():
        assert (model(x) - train(x)).abs().max() < 1e-5


def test_mismatched_shape_names_what_was_expected_and_found(tmp_path):
    sd = build_plainusr("small", 2).state_dict()
    sd["block2.body.3.body.0.weight"] = torch.zeros(5, 16, 1, 1)
    with pytest.raises(WeightsError, match=r"small x2.*block2\.body\.3\.body\.0\.weight has shape \(5, 16, 1, 1\), expected \(4, 16, 1, 1\)"):
        load_model(save(sd, tmp_path / "w.pth"))


def test_missing_keys_are_reported(tmp_path):
    sd = build_plainusr("base", 4).state_dict()
    del sd["blockm.body.3.body.2.bias"]
    with pytest.raises(WeightsError, match="missing 1 keys"):
        load_model(save(sd, tmp_path / "w.pth"))


def test_unknown_width_is_not_a_known_variant(tmp_path):
    sd = {"head.weight": torch.zeros(27, 3, 3, 3), "tail.0.weight": torch.zeros(12, 27, 3, 3), "block3.x": torch.zeros(1)}
    with pytest.raises(WeightsError, match="n_feat 24 is not a known variant"):
        load_model(save(sd, tmp_path / "w.pth"))


def test_foreign_checkpoint_is_refused_in_one_line(tmp_path):
    sd = {"conv_first.weight": torch.zeros(64, 3, 3, 3), "conv_last.weight": torch.zeros(3, 64, 3, 3)}
    with pytest.raises(WeightsError, match="is not a PlainUSR checkpoint: expected keys head.weight") as info:
        load_model(save(sd, tmp_path / "esrgan.pth"))
    assert "\n" not in str(info.value)


def test_pickled_objects_are_not_executed(tmp_path):
    with pytest.raises(WeightsError, match="pickled Python objects"):
        load_model(save(torch.nn.Linear(2, 2), tmp_path / "module.pth"))


@pytest.mark.parametrize("content", [b"", b"not a checkpoint at all"])
def test_garbage_is_refused(tmp_path, content):
    path = tmp_path / "bad.pth"
    path.write_bytes(content)
    with pytest.raises(WeightsError, match="not a PyTorch checkpoint"):
        load_model(path)


def test_missing_file(tmp_path):
    with pytest.raises(WeightsError, match="not found"):
        load_model(tmp_path / "nothere.pth")


def test_scale_conflicting_with_the_file_is_refused(tmp_path):
    path = save(build_plainusr("ultra", 4).state_dict(), tmp_path / "w.pth")
    with pytest.raises(UsageError, match="x4 model but scale 2"):
        load_model(path, scale=2)


def test_half_precision_model(tmp_path):
    path = save(randomize_(build_plainusr("small", 2)).state_dict(), tmp_path / "w.pth")
    model = load_model(path, half=True)
    assert model.dtype == torch.float16
    assert model(torch.rand(1, 3, 16, 16)).dtype == torch.float16


def test_reparameterized_weights_round_trip_through_a_file(tmp_path):
    deployed = reparameterize(randomize_(build_plainusr_train_form("tiny", 2))).eval()
    model = load_model(save(deployed.state_dict(), tmp_path / "w.pth"))
    _assert_same_network(model, deployed, torch.rand(1, 3, 10, 10))


def _assert_same_network(model, net, x):
    """The loaded weights are exactly `net`'s; the outputs agree to float32 rounding (the
    model runs channels_last on the CPU, vsr.device.CHANNELS_LAST: another summation order)."""
    reference = net.state_dict()
    assert model.module.state_dict().keys() == reference.keys()
    assert all(torch.equal(value, reference[key]) for key, value in model.module.state_dict().items())
    with torch.no_grad():
        torch.testing.assert_close(model(x), net(x), rtol=0, atol=1e-5)
