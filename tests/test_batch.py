"""`vsr upscale A B dir/ -o OUTDIR/`: the plan (names, mirroring, collisions), one model
for the batch, a bad file skipped, the table, the exit status and resuming a batch."""

import pytest

from media import make_clip, probe
from vsr.cli import main
from vsr.errors import UsageError
from vsr.video.batch import plan_batch


@pytest.fixture
def tree(tmp_path):
    src = tmp_path / "in"
    (src / "sub").mkdir(parents=True)
    make_clip(tmp_path / "a.mp4", size=(32, 24), frames=4)
    make_clip(src / "b.mkv", size=(32, 24), frames=5)
    make_clip(src / "sub" / "c.mov", size=(32, 24), frames=3)
    (src / "notes.txt").write_text("not a video")
    return tmp_path


def test_the_plan_mirrors_the_input_tree_with_the_single_file_names(tree):
    jobs = plan_batch([str(tree / "a.mp4"), str(tree / "in")], tree / "out", 2, "libx264", recursive=True)
    assert [(j.source.name, j.output.relative_to(tree / "out").as_posix()) for j in jobs] == [
        ("a.mp4", "a_x2.mp4"),
        ("b.mkv", "b_x2.mkv"),
        ("c.mov", "sub/c_x2.mov"),
    ]
    flat = plan_batch([str(tree / "in")], tree / "out", 2, "libvpx-vp9")
    assert [j.output.name for j in flat] == ["b_x2.mkv"]  # no subfolders without --recursive


def test_colliding_outputs_are_refused_before_any_work(tree, capsys):
    other = tree / "other"
    other.mkdir()
    make_clip(other / "b.mkv", size=(32, 24), frames=2)
    with pytest.raises(UsageError, match="would both be written to"):
        plan_batch([str(tree / "in"), str(other)], tree / "out", 2, "libx264")
    assert main(["upscale", str(tree / "in"), str(other), "-o", str(tree / "out"), "--device", "cpu"]) == 2
    assert "would both be written" in capsys.readouterr().err
    assert not (tree / "out").exists()


def test_a_batch_with_a_bad_file_goes_on_and_a_rerun_skips_finished_files(tree, capsys):
    (tree / "in" / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypisom" + b"junk" * 50)
    argv = ["upscale", str(tree / "a.mp4"), str(tree / "in"), "-o", str(tree / "out"), "--recursive", "--device", "cpu"]
    assert main(argv) == 1
    out, err = (" ".join(text.split()) for text in capsys.readouterr())  # rich wraps at 80 columns
    assert "broken.mp4 failed" in err and "going on" in err
    assert err.count("PlainUSR ultra x2") == 3  # three files upscaled...
    assert "b.mkv" in out and "done" in out and "failed" in out  # ...and the table says so
    for name, frames in (("a_x2.mp4", 4), ("b_x2.mkv", 5), ("sub/c_x2.mov", 3)):
        assert probe(tree / "out" / name).frames == frames
    assert not (tree / "out" / "broken_x2.mp4").exists()

    finished = (tree / "out" / "b_x2.mkv").stat().st_mtime_ns
    (tree / "out" / "a_x2.mp4").unlink()  # as if the first run had died here
    assert main(argv) == 1
    out, err = (" ".join(text.split()) for text in capsys.readouterr())
    assert err.count("exists; skipping") == 2 and err.count("PlainUSR ultra x2") == 1
    assert (tree / "out" / "b_x2.mkv").stat().st_mtime_ns == finished
    assert probe(tree / "out" / "a_x2.mp4").frames == 4


def test_a_batch_loads_the_model_once(tree, capsys, monkeypatch):
    import vsr.model

    loads = []
    real = vsr.model.load_model
    monkeypatch.setattr(vsr.model, "load_model", lambda *a, **k: loads.append(a) or real(*a, **k))
    assert main(["upscale", str(tree / "a.mp4"), str(tree / "in"), "-o", str(tree / "out"), "--device", "cpu", "--quiet"]) == 0
    assert len(loads) == 1
    assert capsys.readouterr().out == ""


def test_a_single_input_keeps_refusing_an_existing_output(tree, capsys):
    out = tree / "a_out.mp4"
    out.write_bytes(b"keep me")
    assert main(["upscale", str(tree / "a.mp4"), "-o", str(out), "--device", "cpu"]) == 1
    assert "--overwrite" in capsys.readouterr().err and out.read_bytes() == b"keep me"


def test_every_job_status_has_the_tables_words(tmp_path):
    from vsr.commands.batch_view import outcome_words
    from vsr.video.batch import Job, JobStatus, Outcome

    job = Job(tmp_path / "a.mp4", tmp_path / "a_x2.mkv", "a.mp4")
    said = {status: outcome_words(Outcome(job, status, failure="InputError: broken")) for status in JobStatus}
    assert said[JobStatus.FAILED] == "failed: InputError: broken" and said[JobStatus.SKIPPED_EXISTING] == "skipped: output exists"
    assert len(set(said.values())) == len(JobStatus)
    assert [s for s in JobStatus if Outcome(job, s).failed] == [JobStatus.FAILED, JobStatus.INTERRUPTED]
