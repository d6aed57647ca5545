import argparse
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from dataclasses import fields

import pytest

from conftest import ROOT
from vsr.archs import SCALES, VARIANTS
from vsr.commands import presets as presets_command
from vsr.errors import UsageError
from vsr.presets import (
    CRF_MAX,
    KNOWN_CODECS,
    PRESET_KEYS,
    VARIANT_NAMES,
    Preset,
    list_presets,
    load_preset,
    presets_dir,
)

PRESET_FILES = sorted((ROOT / "vsr" / "presets").glob("*.toml"))


@pytest.mark.parametrize("path", PRESET_FILES, ids=[p.stem for p in PRESET_FILES])
def test_every_preset_file_is_valid(path):
    raw = tomllib.loads(path.read_text())
    preset = load_preset(str(path))
    assert preset.name == path.stem and preset.path == path.resolve()
    assert set(raw) <= set(PRESET_KEYS) and "description" in raw
    assert {key: getattr(preset, key) for key in raw} == raw  # every value read as written
    assert preset.description.strip() and len(preset.description.splitlines()) == 1
    assert preset.model is None or preset.model in VARIANTS
    assert preset.scale in SCALES
    assert preset.codec in KNOWN_CODECS
    assert preset.crf is None or 0 <= preset.crf <= (CRF_MAX[preset.codec] or preset.crf)
    assert preset.batch >= 1


def test_the_three_presets_are_bundled_and_ordered_by_quality():
    assert presets_dir().resolve() == (ROOT / "vsr" / "presets").resolve()
    bundled = list_presets()
    assert [p.name for p in bundled] == sorted(p.stem for p in PRESET_FILES)
    by_name = {p.name: p for p in bundled}
    fast, balanced, quality = by_name["fast"], by_name["balanced"], by_name["quality"]
    assert (fast.model, balanced.model, quality.model) == ("ultra", "small", "base")
    assert load_preset("fast") == fast
    # bigger model, lower CRF (x265's scale sits above x264's, so this is a weak bound)
    names = list(VARIANTS)
    assert names.index(fast.model) < names.index(balanced.model) < names.index(quality.model)
    assert fast.crf > balanced.crf > quality.crf


def test_the_module_constants_match_the_model_and_the_dataclass():
    assert VARIANT_NAMES == tuple(VARIANTS)  # vsr.constants names them without importing torch
    assert set(PRESET_KEYS) == {f.name for f in fields(Preset)} - {"name", "path"}
    assert set(CRF_MAX) == set(KNOWN_CODECS)


def _preset_file(tmp_path, text, name="mine.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def _usage_error(name_or_path) -> str:
    with pytest.raises(UsageError) as caught:
        load_preset(str(name_or_path))
    message = str(caught.value)
    assert "\n" not in message and message.strip() == message
    return message


def test_unknown_name_lists_the_presets():
    message = _usage_error("fastest")
    assert "unknown preset 'fastest'" in message and "balanced, fast, quality" in message


def test_missing_file_and_a_folder(tmp_path):
    assert _usage_error(tmp_path / "nope.toml") == f"preset file {tmp_path / 'nope.toml'} not found"
    assert _usage_error(tmp_path / "no" / "such") == f"preset file {tmp_path / 'no' / 'such'} not found"  # a path by its "/"
    (tmp_path / "folder.toml").mkdir()
    assert _usage_error(tmp_path / "folder.toml") == f"preset file {tmp_path / 'folder.toml'} is not a file"


def test_invalid_toml_names_the_file_and_tomllib_message(tmp_path):
    text = 'description = "x"\nscale = \n'
    path = _preset_file(tmp_path, text)
    with pytest.raises(tomllib.TOMLDecodeError) as toml_error:
        tomllib.loads(text)
    message = _usage_error(path)
    assert message == f"{path}: invalid TOML: {toml_error.value}"
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b'description = "\xff"\n')
    assert "invalid TOML" in _usage_error(binary)


BAD_FILES = [
    ('description = "x"\ncrff = 20', "unknown key 'crff'; the keys are description, model, scale"),
    ('description = "x"\n[codec]\nname = "libx264"', "codec must be one of"),  # a table is not a value
    ('description = "x"\n[encoding]\ncrf = 20', "unknown key 'encoding'"),
    ("scale = 2", "missing key 'description'"),
    ('description = ""', "description must be one line"),
    ('description = """two\nlines"""', "description must be one line"),
    ("description = 3", "description must be one line of text, got 3"),
    ('description = "x"\nmodel = "huge"', "model must be one of ultra, tiny, small, medium, base, large, got 'huge'"),
    ('description = "x"\nmodel = "ultra-x2"', "model must be one of"),
    ('description = "x"\nmodel = 2', "model must be one of"),
    ('description = "x"\nscale = 5', "scale must be 2, 3 or 4, got 5"),
    ('description = "x"\nscale = "2"', "scale must be 2, 3 or 4, got '2'"),
    ('description = "x"\nscale = 2.0', "scale must be 2, 3 or 4, got 2.0 (float)"),
    ('description = "x"\nscale = true', "got True (bool)"),
    (
        'description = "x"\ncodec = "h264"',
        "codec must be one of libx264, libx265, libsvtav1, libvpx-vp9, ffv1, wrapped_avframe, gif, png, mjpeg, tiff, bmp, "
        "h264_nvenc, hevc_nvenc, av1_nvenc, got 'h264'",
    ),
    ('description = "x"\ncrf = -1', "crf must be an integer from 0 to 51 for libx264, got -1"),
    ('description = "x"\ncrf = 52', "crf must be an integer from 0 to 51 for libx264, got 52"),
    ('description = "x"\ncodec = "libsvtav1"\ncrf = 64', "from 0 to 63 for libsvtav1, got 64"),
    ('description = "x"\ncrf = 20.5', "got 20.5 (float)"),
    ('description = "x"\ncodec = "ffv1"\ncrf = -1', "crf must be an integer of 0 or more, got -1"),
    ('description = "x"\nbatch = 0', "batch must be an integer of 1 or more, got 0"),
    ('description = "x"\nbatch = "4"', "batch must be an integer of 1 or more, got '4'"),
    ('description = "x"\nencoder_preset = ""', "encoder_preset must be a single word"),
    ('description = "x"\nencoder_preset = 5', "encoder_preset must be a single word (or left out), got 5"),
    ('description = "x"\npix_fmt = "yuv 420p"', "pix_fmt must be a single word"),
]


@pytest.mark.parametrize("text, expected", BAD_FILES, ids=[t.replace("\n", " ") for t, _ in BAD_FILES])
def test_each_mistake_is_one_line_naming_the_file(tmp_path, text, expected):
    path = _preset_file(tmp_path, text)
    message = _usage_error(path)
    assert message.startswith(f"{path}: ") and expected in message


def test_a_minimal_file_takes_the_defaults(tmp_path):
    path = _preset_file(tmp_path, 'description = "mine"', "tiny-draft.toml")
    preset = load_preset(str(path))
    assert preset == Preset(name="tiny-draft", description="mine", path=path.resolve())
    assert (preset.model, preset.scale, preset.codec, preset.crf, preset.encoder_preset, preset.batch, preset.pix_fmt) == (
        None, 2, "libx264", None, None, 4, None
    )


def test_merged_overrides_only_what_is_given():
    fast = load_preset("fast")
    merged = fast.merged(crf=30, scale=None, codec="libx265", encoder_preset=None, batch=1, pix_fmt="yuv420p10le")
    assert (merged.crf, merged.codec, merged.batch, merged.pix_fmt) == (30, "libx265", 1, "yuv420p10le")
    assert (merged.name, merged.path, merged.model, merged.scale, merged.encoder_preset) == (
        fast.name, fast.path, fast.model, fast.scale, fast.encoder_preset
    )
    assert load_preset("fast") == fast and fast.crf == 23  # the original is untouched
    assert fast.merged() == fast and fast.merged(crf=None, scale=None) == fast
    assert fast.merged(crf=0).crf == 0  # a falsy override still wins
    assert fast.merged(codec="ffv1").crf == fast.crf  # ffv1 ignores crf, so keeping it is fine


@pytest.mark.parametrize(
    "overrides, expected",
    [
        ({"scale": 5}, "preset fast with scale=5: scale must be 2, 3 or 4, got 5"),
        ({"batch": 0}, "preset fast with batch=0: batch must be an integer of 1 or more, got 0"),
        ({"crf": 60}, "preset fast with crf=60: crf must be an integer from 0 to 51 for libx264, got 60"),
        ({"codec": "h265"}, "codec must be one of"),
        ({"model": "huge"}, "model must be one of"),
    ],
)
def test_merged_values_are_validated(overrides, expected):
    with pytest.raises(UsageError) as caught:
        load_preset("fast").merged(**overrides)
    assert "\n" not in str(caught.value) and expected in str(caught.value)


def test_merged_refuses_keys_it_does_not_know():
    with pytest.raises(TypeError, match="crff"):
        load_preset("fast").merged(crff=20)


def test_a_preset_built_in_code_is_validated_too():
    with pytest.raises(UsageError, match="preset adhoc: batch must be"):
        Preset(name="adhoc", description="x", batch=0)


@pytest.fixture
def parser():
    parser = argparse.ArgumentParser(prog="vsr")
    presets_command.add_parser(parser.add_subparsers(dest="command"))
    return parser


def test_the_command_lists_every_preset(parser, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # one line per preset, so whole descriptions can be matched
    args = parser.parse_args(["presets"])
    assert args.run(args) == 0
    out = capsys.readouterr().out
    rows = {line.split()[0]: line for line in out.splitlines() if line.split() and line.split()[0] in {p.stem for p in PRESET_FILES}}
    assert set(rows) == {p.stem for p in PRESET_FILES}
    for preset in list_presets():
        cells = [preset.name, *(presets_command._value(preset, key) for key in ("model", "scale", "codec", "crf", "encoder_preset", "batch"))]
        assert re.search(r"\s+".join(map(re.escape, [*cells, preset.description])), rows[preset.name]), rows[preset.name]


def test_the_command_shows_one_preset_and_its_file(parser, capsys, tmp_path):
    args = parser.parse_args(["presets", "quality"])
    assert args.run(args) == 0
    out = capsys.readouterr().out
    quality = load_preset("quality")
    assert out.splitlines()[0] == f"quality: {quality.description}"
    assert f"file            {quality.path}" in out
    assert "codec           libx265" in out and "crf             18" in out and "pix_fmt         follow the input" in out

    mine = _preset_file(tmp_path, 'description = "mine"\ncodec = "ffv1"')
    args = parser.parse_args(["presets", str(mine)])
    assert args.run(args) == 0
    out = capsys.readouterr().out
    assert "codec           ffv1" in out and "crf             encoder's default" in out and str(mine) in out

    args = parser.parse_args(["presets", "fastest"])
    with pytest.raises(UsageError, match="unknown preset 'fastest'"):
        args.run(args)


def test_a_built_wheel_carries_the_presets_and_finds_them(tmp_path):
    """Build a wheel from a copy of the project (PEP 517, as pip does), unpack it as an
    install would, and ask presets_dir() from a process that cannot see the checkout."""
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "vsr", src / "vsr", ignore=shutil.ignore_patterns("__pycache__"))
    build = "import sys; from setuptools import build_meta; print(build_meta.build_wheel(sys.argv[1]))"
    result = subprocess.run([sys.executable, "-c", build, str(tmp_path / "dist")], cwd=src, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    wheel = tmp_path / "dist" / result.stdout.strip().splitlines()[-1]

    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        zf.extractall(tmp_path / "site")
    assert {f"vsr/presets/{p.name}" for p in PRESET_FILES} <= names
    assert "vsr/presets/README.md" in names and "vsr/presets/__init__.py" in names

    probe = "import vsr.presets as p; print(p.presets_dir()); print(*(x.name for x in p.list_presets()))"
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}
    result = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    found_dir, found_names = result.stdout.splitlines()
    assert found_dir == str(tmp_path / "site" / "vsr" / "presets")
    assert found_names.split() == sorted(p.stem for p in PRESET_FILES)
