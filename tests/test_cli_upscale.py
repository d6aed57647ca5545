"""`vsr upscale`, `vsr presets` and `vsr demo` as a user runs them: exit codes, one-line
errors, the summary, and Ctrl-C in a real process."""

import os
import signal
import subprocess
import sys

import pytest

from conftest import ROOT
from media import make_clip, probe
from vsr.cli import main


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return make_clip(tmp_path_factory.mktemp("clips") / "clip.mp4", size=(64, 48), frames=10, audio_tracks=1)


def run_cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_upscale_with_a_preset_and_overriding_flags(tmp_path, capsys, clip):
    out = tmp_path / "big.mkv"
    code, stdout, stderr = run_cli(capsys, "upscale", clip, "-o", out, "--preset", "fast", "--crf", "30", "--codec", "libx265", "--device", "cpu")
    assert code == 0, stderr
    assert f"wrote {out}: 10 frames 64x48 -> 128x96" in stdout and "limited by" in stdout
    assert "libx265" in stderr and "ultra x2" in stderr
    assert probe(out).frames == 10 and probe(out).audio[0].packets == probe(clip).audio[0].packets
    assert encoder_settings(out)["crf"] == "30.0"  # x265 writes the settings it ran with into the stream


def encoder_settings(path) -> dict[str, str]:
    """The options x264 and x265 record in their first packets' SEI ("crf=30.0 ...")."""
    import itertools
    import re

    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        data = bytes(stream.codec_context.extradata or b"") + b"".join(bytes(p) for p in itertools.islice(container.demux(stream), 3))
    return {k.decode(): v.decode() for k, v in re.findall(rb"\b([a-z_-]+)=([\w.:/-]+)", data)}


def test_another_codec_under_the_default_preset_drops_x264s_speed_preset(tmp_path, capsys, clip):
    out = tmp_path / "vp9.mkv"
    code, _, stderr = run_cli(capsys, "upscale", clip, "-o", out, "--codec", "libvpx-vp9", "--device", "cpu")
    assert code == 0, stderr
    assert probe(out).frames == 10


def test_an_encoder_option_it_refuses_is_one_line_before_any_work(tmp_path, capsys, clip):
    code, _, stderr = run_cli(capsys, "upscale", clip, "-o", tmp_path / "out.mp4", "--encoder-preset", "bogus", "--device", "cpu")
    assert code == 2 and "--encoder-preset" in stderr and stderr.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_quiet_prints_nothing_and_the_default_output_sits_beside_the_input(tmp_path, capsys):
    src = make_clip(tmp_path / "movie.mov", frames=3)
    code, stdout, stderr = run_cli(capsys, "upscale", src, "--quiet", "--device", "cpu")
    assert (code, stdout, stderr) == (0, "", "")
    assert (tmp_path / "movie_x2.mov").is_file()


@pytest.mark.parametrize(
    "extra,code,words",
    [
        (["--preset", "nope"], 2, "unknown preset"),
        (["--codec", "divx"], 2, "codec"),
        (["--pix-fmt", "rgb24"], 2, "pix-fmt"),
        (["--batch", "0"], 2, "batch"),
        (["-o", "{tmp}/out.xyz"], 2, "cannot write video as .xyz"),
        (["--model", "base"], 1, "no shipped weights for base-x2"),
        (["--weights", "{tmp}/missing.pth"], 1, "missing.pth"),
        (["--device", "cuda:7"], 1, "cuda"),
    ],
)
def test_bad_flags_are_one_line_and_write_nothing(tmp_path, capsys, clip, extra, code, words):
    if "cuda" in words:
        import torch

        if torch.cuda.device_count() > 7:
            pytest.skip("this machine has a cuda:7")
    argv = [a.format(tmp=tmp_path) for a in extra]
    if "-o" not in argv:
        argv += ["-o", str(tmp_path / "out.mp4")]
    result, stdout, stderr = run_cli(capsys, "upscale", clip, *argv)
    assert result == code and words in stderr and stderr.count("\n") == 1, stderr
    assert stderr.startswith("vsr upscale: error:")
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_bad_inputs_are_one_line_with_exit_1(tmp_path, capsys):
    (tmp_path / "text.mp4").write_text("hello\n")
    for name, words in (("missing.mp4", "not found"), ("text.mp4", "not a video")):
        code, _, stderr = run_cli(capsys, "upscale", tmp_path / name, "-o", tmp_path / "out.mp4")
        assert code == 1 and words in stderr and stderr.count("\n") == 1


def test_an_existing_output_is_kept(tmp_path, capsys, clip):
    out = tmp_path / "out.mp4"
    out.write_bytes(b"keep me")
    code, _, stderr = run_cli(capsys, "upscale", clip, "-o", out, "--device", "cpu")
    assert code == 1 and "--overwrite" in stderr and out.read_bytes() == b"keep me"


def _ctrl_c_after_the_model_line(src, out, **popen) -> tuple[int, str]:
    """Run `vsr upscale SRC -o OUT` in a fresh process, send SIGINT once it has printed its
    model line (the stage threads start then), and return its exit code and stderr."""
    process = subprocess.Popen(
        [sys.executable, "-m", "vsr", "upscale", str(src), "-o", str(out), "--device", "cpu"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen,
    )  # fmt: skip
    try:
        printed = ""
        while "PlainUSR ultra x2" not in " ".join(printed.split()) and (line := process.stderr.readline()):
            printed += line  # the model line, however the console wraps it: the run has started
        assert "PlainUSR ultra x2" in " ".join(printed.split()), printed
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
    return process.returncode, stderr


def test_ctrl_c_stops_cleanly_leaves_nothing_and_exits_130(tmp_path):
    src = make_clip(tmp_path / "long.mkv", size=(160, 120), frames=1500)
    code, stderr = _ctrl_c_after_the_model_line(
        src, tmp_path / "out.mkv", env={**os.environ, "PYTHONFAULTHANDLER": "1"}  # a crash shows its threads' stacks in the failure
    )
    assert code == 130, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["long.mkv"]


def test_a_run_started_with_sigint_ignored_ignores_ctrl_c_and_finishes(tmp_path):
    src = make_clip(tmp_path / "in.mkv", size=(64, 48), frames=40)
    code, stderr = _ctrl_c_after_the_model_line(
        src, tmp_path / "out.mkv", preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)  # as a background job (`&`) of a script starts it
    )
    assert code == 0, stderr
    assert probe(tmp_path / "out.mkv").frames == 40


def test_presets_lists_the_bundled_presets(capsys):
    code, stdout, _ = run_cli(capsys, "presets")
    assert code == 0 and all(name in stdout for name in ("fast", "balanced", "quality"))


def test_demo_upscales_the_bundled_clip_and_picture(tmp_path, capsys):
    code, stdout, stderr = run_cli(capsys, "demo", "-o", tmp_path, "--device", "cpu")
    assert code == 0, stderr
    clip_out = tmp_path / "bbb-320x180_x2.mp4"
    assert probe(clip_out).frames == 50 and (probe(clip_out).width, probe(clip_out).height) == (640, 360)
    assert len(probe(clip_out).audio[0].packets) == 94
    assert (tmp_path / "snow-trees_x2.png").is_file()
