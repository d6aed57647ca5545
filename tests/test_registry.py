"""The registry of shipped weights: every entry checked, and the checks themselves."""

import hashlib

import pytest
import torch

from vsr import load_model
from vsr.archs import build_plainusr
from vsr.checkpoint import read_checkpoint
from vsr.errors import WeightsError
from vsr.weights import Registry, shipped


@pytest.mark.parametrize("entry", shipped().entries, ids=lambda e: e.name)
def test_shipped_entry_is_complete_and_true(entry):
    path = shipped().verified_path(entry)  # present, sha256 matches
    checkpoint = read_checkpoint(path)
    assert (checkpoint.variant, checkpoint.scale, checkpoint.form) == (entry.variant, entry.scale, "deployed")
    assert entry.name == f"{entry.variant}-x{entry.scale}"
    model = load_model(entry.name)
    assert model.num_params == entry.num_params
    assert entry.recipe.startswith("vsr train")


def test_shipped_weight_files_are_all_registered():
    registry = shipped()
    on_disk = {p.name for p in registry.weights_dir.glob("*.pth")}
    assert on_disk == {e.file for e in registry.entries}


def write_registry(tmp_path, file_bytes_sha=None, num_params=57_236, extra=""):
    weights = tmp_path / "small-x2.pth"
    torch.save(build_plainusr("small", 2).state_dict(), weights)
    sha = file_bytes_sha or hashlib.sha256(weights.read_bytes()).hexdigest()
    (tmp_path / "registry.toml").write_text(
        f"""
[[weights]]
name = "small-x2"
variant = "small"
scale = 2
file = "small-x2.pth"
sha256 = "{sha}"
num_params = {num_params}
recipe = "vsr train --variant small --scale 2"
psnr_y_val = 36.0
{extra}"""
    )
    return Registry.from_toml(tmp_path / "registry.toml")


def test_registered_weights_load_by_name_and_by_variant(tmp_path):
    registry = write_registry(tmp_path)
    assert load_model("small-x2", registry=registry).variant == "small"
    assert load_model("small", scale=2, registry=registry).scale == 2
    assert load_model(None, scale=2, registry=registry).source == "small-x2"


def test_hash_mismatch_is_refused_before_loading(tmp_path):
    registry = write_registry(tmp_path, file_bytes_sha="0" * 64)
    with pytest.raises(WeightsError, match="small-x2 are corrupt"):
        load_model("small-x2", registry=registry)


def test_missing_file_is_reported(tmp_path):
    registry = write_registry(tmp_path)
    (tmp_path / "small-x2.pth").unlink()
    with pytest.raises(WeightsError, match="missing"):
        load_model("small-x2", registry=registry)


def test_unknown_key_in_an_entry_is_refused(tmp_path):
    with pytest.raises(WeightsError, match="exactly the keys"):
        write_registry(tmp_path, extra='typo_key = "x"\n')


def test_unshipped_variant_says_what_is_shipped(tmp_path):
    registry = write_registry(tmp_path)
    with pytest.raises(WeightsError, match=r"no shipped weights for base-x2 \(shipped: small-x2\)"):
        load_model("base", registry=registry)
    with pytest.raises(WeightsError, match="no shipped weights for x4"):
        load_model(None, scale=4, registry=registry)


@pytest.mark.parametrize("entry", shipped().entries, ids=lambda e: e.name)
def test_shipped_weights_beat_bicubic_on_the_bundled_sample(entry):
    # snow-trees.png is from the validation split: the weights never saw it. Measured
    # gains at the time of shipping: x2 +1.40 dB, x3 +0.55 dB, x4 +0.34 dB.
    from vsr.samples import SAMPLE_IMAGE
    from vsr.datasets import load_pairs
    from vsr.evaluate import bicubic_upscaler, model_upscaler, score

    pairs = load_pairs([SAMPLE_IMAGE], entry.scale)
    bicubic = score(bicubic_upscaler(entry.scale), pairs, entry.scale)[0]
    ours = score(model_upscaler(load_model(entry.name)), pairs, entry.scale)[0]
    assert ours.psnr > bicubic.psnr + 0.2
    assert ours.ssim > bicubic.ssim
