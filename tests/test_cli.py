import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch

from conftest import ROOT, randomize_
from vsr.archs import build_plainusr
from vsr.cli import main


@pytest.fixture
def weights(tmp_path):
    path = tmp_path / "small-x2.pth"
    torch.save(randomize_(build_plainusr("small", 2)).state_dict(), path)
    return path


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "photo.png"
    cv2.imwrite(str(path), (np.random.default_rng(0).random((40, 50, 3)) * 255).astype(np.uint8))
    return path


def run_cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_help_lists_the_commands_without_importing_torch():
    probe = "import sys, vsr.cli; vsr.cli.build_parser().format_help(); print(sorted(m for m in ('torch', 'av', 'cv2') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True)
    assert result.stdout.strip() == "[]"
    help_text = subprocess.run([sys.executable, "-m", "vsr", "--help"], capture_output=True, text=True, cwd=ROOT).stdout
    assert "image" in help_text and "models" in help_text


def test_image_end_to_end_in_a_real_process(tmp_path, weights, photo):
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "vsr", "image", photo, "-o", out, "--weights", weights, "--device", "cpu"],
        capture_output=True, text=True, cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    written = cv2.imread(str(out / "photo_x2.png"))
    assert written.shape == (80, 100, 3)
    assert "photo_x2.png (100x80)" in result.stdout


def test_several_inputs_and_a_file_output(tmp_path, capsys, weights, photo):
    second = tmp_path / "second.jpg"
    cv2.imwrite(str(second), np.zeros((30, 30, 3), np.uint8))
    code, _, err = run_cli(capsys, "image", photo, second, "-o", tmp_path / "o", "--weights", weights, "--quiet")
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["photo_x2.png", "second_x2.jpg"]
    code, _, _ = run_cli(capsys, "image", photo, "-o", tmp_path / "single.webp", "--weights", weights, "--quiet")
    assert code == 0 and cv2.imread(str(tmp_path / "single.webp")).shape == (80, 100, 3)


def test_image_takes_for_each_kind_of_file_the_weights_that_measured_best_on_it(tmp_path, capsys, photo):
    """A variant name or no --model: the video weights for a JPEG; for a PNG, whichever
    of the variant's weights scored best on clean input (the registry's psnr_y_val)."""
    from vsr.weights import shipped

    jpeg = tmp_path / "snap.jpg"
    cv2.imwrite(str(jpeg), np.full((30, 40, 3), 128, np.uint8))
    code, out, err = run_cli(capsys, "image", photo, jpeg, "-o", tmp_path / "o", "--model", "ultra", "--scale", "2", "--device", "cpu")
    assert code == 0, err
    registry = shipped()
    lossless = max((e for e in registry.shipped_entries() if (e.variant, e.scale) == ("ultra", 2)), key=lambda e: e.psnr_y_val)
    assert "(ultra-x2-video) on cpu float32" in out  # the JPEG's
    assert f"({lossless.name}) on cpu float32" in out
    assert out.count("model ") == (1 if lossless.name == "ultra-x2-video" else 2)
    code, out, _ = run_cli(capsys, "image", photo, jpeg, "-o", tmp_path / "p", "--model", "ultra-x2", "--device", "cpu")
    assert code == 0 and out.count("model ") == 1 and "(ultra-x2) on cpu" in out  # a named model serves every file


def test_existing_output_is_kept_without_overwrite(tmp_path, capsys, weights, photo):
    target = tmp_path / "o" / "photo_x2.png"
    target.parent.mkdir()
    target.write_bytes(b"precious")
    code, _, err = run_cli(capsys, "image", photo, "-o", tmp_path / "o", "--weights", weights)
    assert code != 0 and "exists; pass --overwrite" in err
    assert target.read_bytes() == b"precious"
    code, _, _ = run_cli(capsys, "image", photo, "-o", tmp_path / "o", "--weights", weights, "--overwrite", "--quiet")
    assert code == 0 and target.read_bytes() != b"precious"


def _bad_inputs(tmp_path, weights, photo):
    tiny = tmp_path / "tiny.png"
    cv2.imwrite(str(tiny), np.zeros((5, 5, 3), np.uint8))
    text = tmp_path / "text.png"
    text.write_text("not an image")
    x4 = tmp_path / "x4.pth"
    torch.save(build_plainusr("ultra", 4).state_dict(), x4)
    out = tmp_path / "out"
    return {
        "missing input": (["image", tmp_path / "nope.png", "-o", out, "--weights", weights], "input not found"),
        "not an image": (["image", text, "-o", out, "--weights", weights], "cannot read"),
        "too small": (["image", tiny, "-o", out, "--weights", weights], "needs at least 7x7"),
        "missing weights": (["image", photo, "-o", out, "--weights", tmp_path / "nope.pth"], "weights file not found"),
        "weights not a checkpoint": (["image", photo, "-o", out, "--weights", text], "not a PyTorch checkpoint"),
        "scale conflicts": (["image", photo, "-o", out, "--weights", x4, "--scale", "2"], "x4 model but scale 2"),
        "unknown model": (["image", photo, "-o", out, "--model", "huge"], "unknown model 'huge'"),
        "no shipped weights": (["image", photo, "-o", out, "--model", "large", "--scale", "3"], "no shipped weights for large-x3"),
        "no cuda": (["image", photo, "-o", out, "--weights", weights, "--device", "cuda:7"], "cuda:7"),
        "bad device": (["image", photo, "-o", out, "--weights", weights, "--device", "tpu"], "bad device 'tpu'"),
        "tiny tile": (["image", photo, "-o", out, "--weights", weights, "--tile", "10"], "--tile must be at least"),
    }


BAD_INPUT_CASES = ["missing input", "not an image", "too small", "missing weights", "weights not a checkpoint",
                   "scale conflicts", "unknown model", "no shipped weights", "no cuda", "bad device", "tiny tile"]  # fmt: skip


@pytest.mark.parametrize("case", BAD_INPUT_CASES)
def test_bad_input_is_one_line_nonzero_and_writes_nothing(tmp_path, capsys, weights, photo, case):
    argv, message = _bad_inputs(tmp_path, weights, photo)[case]
    code, _, err = run_cli(capsys, *argv)
    assert code != 0
    assert message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


@pytest.mark.parametrize(
    "argv",
    [["image", "x.png", "-o", "o", "--scale", "5"], ["image"], ["frobnicate"], ["image", "x", "-o", "o", "--model", "a", "--weights", "b"]],
)
def test_bad_flags_are_one_line_with_exit_2(capsys, argv):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "error:" in err


def test_models_lists_every_variant(capsys):
    code, out, _ = run_cli(capsys, "models")
    assert code == 0
    for variant, params_x2 in [("ultra", "13,628"), ("base", "311,364"), ("large", "707,076")]:
        line = next(line for line in out.splitlines() if f" {variant} " in line)
        assert params_x2 in line
    assert "136.5" in out  # base x2: GMACs per 1080p output frame
