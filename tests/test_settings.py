"""vsr.settings: presets, the preset's model fallback, device and precision resolved in one
place; errors whose hints the API and the CLI each word their own way."""

import ast
import re
from pathlib import Path

import pytest

import vsr
from vsr.commands.flags import FLAGS, VALUE_WORDS, flag_words
from vsr.errors import OutputError, UsageError
from vsr.model import default_model_name
from vsr.settings import AUTO_PRESET, resolve_model, resolve_run
from vsr.weights import shipped

VSR = Path(vsr.__file__).parent


def test_the_preset_model_that_is_not_shipped_falls_back_with_a_notice():
    run = resolve_run("quality", device="cpu")  # quality prefers base, which is not trained yet
    assert run.preset.name == "quality" and run.model.model == default_model_name(2, device_type="cpu") and run.model.scale == 2
    assert run.model.notices == ("preset quality prefers base-x2, which this version does not ship; using the default model",)
    assert run.model.load().source == default_model_name(2)


def test_video_runs_live_and_the_api_default_to_the_video_weights():
    """What vsr upscale, vsr live and upscale_video use when no model is named: the weights
    trained on codec-damaged clips, at the size the preset asks for."""
    from vsr.live.models import models_to_cycle

    for scale in (2, 3, 4):
        assert shipped().get(default_model_name(scale)).purpose == "video"
    assert resolve_run("fast", device="cpu").model.load().source == "ultra-x2-video"
    assert resolve_run("fast", scale=4, device="cpu").model.load().source == "ultra-x4-video"
    assert resolve_run("balanced", device="cpu").model.load().source == "small-x2-video"  # the GPU default
    assert resolve_run("balanced", device="cpu").model.notices == ()
    for scale in (3, 4):
        assert resolve_run("balanced", scale=scale, device="cpu").model.load().source == f"small-x{scale}-video"
    assert models_to_cycle(None, 2)[0] == default_model_name(2)
    cycle = models_to_cycle("ultra", 2)  # "ultra" loads ultra-x2-video: m offers the clean ultra-x2 next, not the same file again
    assert cycle[0] == "ultra" and "ultra-x2-video" not in cycle and "ultra-x2" in cycle
    assert resolve_model("ultra", scale=3, device="cpu", purpose="clean").load().source == "ultra-x3"  # measured better on clean input


def test_a_model_named_by_the_caller_wins_without_a_notice():
    run = resolve_run("balanced", model="ultra", device="cpu")
    assert (run.model.model, run.model.scale, run.model.notices) == ("ultra", None, ())
    weights = resolve_run("fast", model=Path("w.pth"), scale=None, device="cpu")
    assert weights.model.scale is None  # the file's own scale, not the preset's


def test_the_shipped_preset_model_is_used_at_the_preset_scale():
    run = resolve_run("fast", scale=4, device="cpu")
    assert (run.model.model, run.model.scale, run.model.notices) == ("ultra", 4, ())


def test_auto_is_the_device_default_and_none_is_no_preset():
    assert resolve_run(AUTO_PRESET, device="cpu").preset.name == "fast"
    bare = resolve_run(None, device="cpu")
    assert (bare.encoder.codec, bare.encoder.crf, bare.encoder.encoder_preset, bare.batch, bare.model.scale) == ("libx264", None, None, 4, 2)


def test_settings_given_override_the_preset_and_another_codec_drops_its_speed_preset():
    run = resolve_run("fast", device="cpu", codec="libx265", crf=30)
    assert (run.encoder.codec, run.encoder.crf, run.encoder.encoder_preset) == ("libx265", 30, None)
    kept = resolve_run("fast", device="cpu", codec="libx265", encoder_preset="slow")
    assert kept.encoder.encoder_preset == "slow"
    with pytest.raises(UsageError, match="batch must be"):
        resolve_run("fast", device="cpu", batch=0)


def test_the_precision_is_auto_unless_told_and_decided_per_file_at_load():
    assert resolve_model(device="cpu").precision == "auto"  # decided per file at load (vsr.precision_policy)
    assert resolve_model(device="cpu", half=True).precision == "fp16"
    assert resolve_model(device="cpu", half=False).precision == "fp32"
    assert resolve_model(device="cpu", precision="bf16").precision == "bf16"
    assert resolve_run("fast", device="cpu", precision="fp32").model.precision == "fp32"
    with pytest.raises(UsageError, match="disagree"):
        resolve_model(device="cpu", half=True, precision="bf16")


def test_a_hint_is_worded_for_the_api_and_for_the_command_line():
    error = OutputError("out.mkv exists", hint="pass {overwrite=True} to replace it")
    assert str(error) == "out.mkv exists; pass overwrite=True to replace it"
    assert error.worded(flag_words) == "out.mkv exists; pass --overwrite to replace it"
    weights = vsr.errors.WeightsError("none at x3", hint="pass {weights=FILE}")
    assert (str(weights), weights.worded(flag_words)) == ("none at x3; pass model=FILE", "none at x3; pass --weights FILE")
    assert flag_words("window", "False") == "--no-window" and flag_words("device", "cpu") == "--device cpu"


def _library_sources():
    return [p for p in VSR.rglob("*.py") if "commands" not in p.parts and p.name != "cli.py"]


def test_every_setting_a_hint_names_has_a_flag():
    named = set()
    for path in VSR.rglob("*.py"):
        for hint in re.findall(r'hint=f?"([^"]*)"', path.read_text()):
            named |= {m.group(1) for m in re.finditer(r"\{+(\w+)(?:=[^{}]*)?\}", hint)}
    assert named, "no hints found: the scan is broken"
    assert named <= set(FLAGS) | {name for name, _ in VALUE_WORDS}, named - set(FLAGS)


def test_the_library_does_not_speak_in_flags():
    """Errors raised outside vsr/commands name settings through hints, never a --flag. Read
    with ast, so a message split over lines or built from f-string parts is caught too."""
    offenders, raises = [], 0
    for path in _library_sources():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
                raises += 1
                words = [c.value for c in ast.walk(node.exc) if isinstance(c, ast.Constant) and isinstance(c.value, str)]
                if any(re.search(r"(^|[\"' (])--[a-z]", w) for w in words):
                    offenders.append(f"{path.relative_to(VSR)}:{node.lineno}")
    assert raises > 50, "too few raises found: the scan is broken"
    assert offenders == []


def test_the_flag_scan_catches_a_message_split_over_lines():
    source = 'raise UsageError(\n    "the scale is wrong: "\n    f"use --scale {x}"\n)\n'
    node = next(n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Raise))
    words = [c.value for c in ast.walk(node.exc) if isinstance(c, ast.Constant) and isinstance(c.value, str)]
    assert any(re.search(r"(^|[\"' (])--[a-z]", w) for w in words)
