"""Outputs are safe and follow one set of rules in `vsr upscale` and `vsr image`
(vsr.outputs, vsr.output_lock, vsr.atomic): a lock beside the output, a rename that never
replaces a file that appeared meanwhile, an unwritable output named before any decoding,
folders, suffixes, inputs never overwritten, skip-or-abort on existing outputs."""

import os
import subprocess
import sys

import cv2
import numpy as np
import pytest

from media import make_clip, probe
from vsr import upscale_video
from vsr.cli import main
from vsr.errors import OutputError
from vsr.output_lock import claim, lock_path


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return make_clip(tmp_path_factory.mktemp("clips") / "clip.mp4", size=(32, 24), frames=3)


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "photo.png"
    cv2.imwrite(str(path), np.random.default_rng(1).integers(0, 255, (20, 24, 3), dtype=np.uint8))
    return path


def run_cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def a_dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


# -- the lock -------------------------------------------------------------------------


def test_an_output_another_run_is_writing_is_one_line_and_exit_1_and_left_alone(tmp_path, capsys, clip):
    out = tmp_path / "same.mp4"
    lock = lock_path(out)
    lock.write_text(f"{os.getppid()}\n")  # a process that runs: as if another vsr held it
    code, _, err = run_cli(capsys, "upscale", clip, "-o", out, "--device", "cpu")
    assert code == 1 and err.count("\n") == 1
    assert f"{out} is being written by another vsr run (pid {os.getppid()})" in err
    assert lock.read_text() == f"{os.getppid()}\n" and sorted(p.name for p in tmp_path.iterdir()) == [lock.name]


def test_two_processes_aimed_at_one_output_one_waits_for_nothing(tmp_path, clip):
    """A real second process, while the first holds the claim: exit 1 at once."""
    out = tmp_path / "same.mp4"
    with claim(out):
        second = subprocess.run(
            [sys.executable, "-m", "vsr", "upscale", str(clip), "-o", str(out), "--device", "cpu"], capture_output=True, text=True, timeout=120
        )
        assert second.returncode == 1 and "being written by another vsr run" in second.stderr, second.stderr
        assert not out.exists() and lock_path(out).exists()
    assert not lock_path(out).exists()  # released with the claim


def test_a_stale_lock_from_a_dead_process_is_taken_over(tmp_path, capsys, clip):
    out = tmp_path / "out.mp4"
    lock_path(out).write_text(f"{a_dead_pid()}\n")
    code, _, err = run_cli(capsys, "upscale", clip, "-o", out, "--device", "cpu", "--quiet")
    assert code == 0, err
    assert probe(out).frames == 3 and not lock_path(out).exists()


def test_an_empty_lock_left_by_a_killed_writer_is_stale(tmp_path):
    out = tmp_path / "out.mp4"
    lock_path(out).write_text("")
    with claim(out) as lock:
        assert lock.read_text() == f"{os.getpid()}\n"


def test_claims_nest_in_one_process(tmp_path):
    out = tmp_path / "out.mp4"
    with claim(out):
        with claim(out):
            pass
        assert lock_path(out).exists()
    assert not lock_path(out).exists()


# -- the final rename -----------------------------------------------------------------


def test_a_file_that_appears_during_the_run_is_never_replaced(tmp_path, clip):
    out = tmp_path / "out.mp4"

    def someone_else_writes(source, sink, model):
        out.write_bytes(b"written meanwhile")

    with pytest.raises(OutputError, match="appeared while this run wrote it") as caught:
        upscale_video(clip, out, device="cpu", on_start=someone_else_writes)
    assert out.read_bytes() == b"written meanwhile"
    kept = tmp_path / "out.1.mp4"
    assert str(kept) in str(caught.value) and probe(kept).frames == 3  # nothing lost
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.1.mp4", "out.mp4"]


def test_with_overwrite_the_finished_file_replaces_one_that_appeared(tmp_path, clip):
    out = tmp_path / "out.mp4"
    upscale_video(clip, out, device="cpu", overwrite=True, on_start=lambda *a: out.write_bytes(b"x"))
    assert probe(out).frames == 3


# -- unwritable outputs ---------------------------------------------------------------


@pytest.mark.parametrize("where,reason", [("/sys/x.mp4", None), ("{tmp}/a-file/x.mp4", "it is a file")])
def test_an_unwritable_output_is_named_with_the_reason_before_any_decoding(tmp_path, capsys, clip, monkeypatch, where, reason):
    from vsr.video.stages import upscale

    out = where.format(tmp=tmp_path)
    (tmp_path / "a-file").write_text("a file where a folder would be")
    if out.startswith("/sys") and os.access("/sys", os.W_OK) and not os.path.ismount("/sys"):
        pytest.skip("/sys is writable here")

    def no_decoding(*args, **kwargs):
        raise AssertionError("the input was opened before the output was checked")

    monkeypatch.setattr(upscale, "VideoSource", no_decoding)
    code, _, err = run_cli(capsys, "upscale", clip, "-o", out, "--device", "cpu")
    assert code == 1 and err.count("\n") == 1 and "libx264" not in err
    assert out.rsplit("/", 1)[0] in err
    assert (reason or "denied") in err or "Read-only" in err, err


def test_y_is_overwrite(tmp_path, capsys, clip, photo):
    out = tmp_path / "out.mp4"
    out.write_bytes(b"old")
    assert run_cli(capsys, "upscale", clip, "-o", out, "-y", "--device", "cpu", "--quiet")[0] == 0
    assert probe(out).frames == 3
    image_out = tmp_path / "big.png"
    image_out.write_bytes(b"old")
    assert run_cli(capsys, "image", photo, "-o", image_out, "-y", "--device", "cpu", "--quiet")[0] == 0
    assert cv2.imread(str(image_out)).shape == (40, 48, 3)


# -- one set of rules for upscale and image -------------------------------------------


@pytest.mark.parametrize("folder", ["new/deeper/", "plain"])
def test_upscale_writes_into_a_folder_that_does_not_exist_yet(tmp_path, capsys, clip, folder):
    code, _, err = run_cli(capsys, "upscale", clip, "-o", f"{tmp_path}/{folder}", "--device", "cpu", "--quiet")
    assert code == 0, err
    assert probe(tmp_path / folder / "clip_x2.mp4").frames == 3


@pytest.mark.parametrize("folder", ["new/deeper/", "plain"])
def test_image_writes_into_a_folder_that_does_not_exist_yet(tmp_path, capsys, photo, folder):
    code, _, err = run_cli(capsys, "image", photo, "-o", f"{tmp_path}/{folder}", "--device", "cpu", "--quiet")
    assert code == 0, err
    assert (tmp_path / folder / "photo_x2.png").is_file()


def test_a_suffix_the_command_cannot_write_is_refused_not_made_a_folder(tmp_path, capsys, photo, clip):
    code, _, err = run_cli(capsys, "image", photo, "-o", tmp_path / "x.gif", "--device", "cpu")
    assert code == 2 and "cannot write an image as .gif" in err and err.count("\n") == 1
    code, _, err = run_cli(capsys, "upscale", clip, "-o", tmp_path / "x.xyz", "--device", "cpu")
    assert code == 2 and "cannot write video as .xyz" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["photo.png"]


def test_an_input_is_never_overwritten_even_with_y(tmp_path, capsys, photo, clip):
    before = photo.read_bytes()
    code, _, err = run_cli(capsys, "image", photo, "-o", photo, "-y", "--device", "cpu")
    assert code == 2 and "would overwrite the input" in err and photo.read_bytes() == before
    code, _, err = run_cli(capsys, "upscale", clip, "-o", clip, "-y", "--device", "cpu")
    assert code == 2 and "would overwrite the input" in err


def test_image_batches_skip_existing_outputs_with_a_notice_as_upscale_does(tmp_path, capsys, photo):
    second = tmp_path / "second.png"
    cv2.imwrite(str(second), np.zeros((20, 20, 3), np.uint8))
    (tmp_path / "o").mkdir()
    (tmp_path / "o" / "photo_x2.png").write_bytes(b"precious")
    code, _, err = run_cli(capsys, "image", photo, second, "-o", tmp_path / "o", "--device", "cpu", "--quiet")
    assert code == 0 and "photo_x2.png exists; skipping" in err
    assert (tmp_path / "o" / "photo_x2.png").read_bytes() == b"precious" and (tmp_path / "o" / "second_x2.png").is_file()


def test_without_o_the_outputs_sit_beside_their_inputs(tmp_path, capsys, photo):
    clip = make_clip(tmp_path / "a.mkv", size=(32, 24), frames=2)
    other = make_clip(tmp_path / "b.mp4", size=(32, 24), frames=2)
    assert run_cli(capsys, "upscale", clip, other, "--device", "cpu", "--quiet")[0] == 0
    assert probe(tmp_path / "a_x2.mkv").frames == 2 and probe(tmp_path / "b_x2.mp4").frames == 2
    assert run_cli(capsys, "image", photo, "--device", "cpu", "--quiet")[0] == 0
    assert (tmp_path / "photo_x2.png").is_file()


def test_a_still_image_given_to_upscale_is_written_as_an_image(tmp_path, capsys, photo):
    code, out, err = run_cli(capsys, "upscale", photo, "--device", "cpu")
    assert code == 0, err
    written = cv2.imread(str(tmp_path / "photo_x2.png"))
    assert written.shape == (40, 48, 3)
    assert not list(tmp_path.glob("*.mkv")) and "photo_x2.png" in out
