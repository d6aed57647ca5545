"""`vsr upscale` on damaged files (tests/fuzz.py): 48 cases in every run, 528 more with
`python -m pytest -m long tests/test_fuzz.py` (docs/FUZZ.md: results and bugs found)."""

import pytest

from forked import VsrForker
from fuzz import Case, cases, make_clips, mutate, verdict

LIMIT_SECONDS = 60  # a case takes ~1 s; far more is a hang


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    return make_clips(tmp_path_factory.mktemp("clips"))


@pytest.fixture(scope="module")
def vsr(tmp_path_factory):
    with VsrForker(tmp_path_factory.mktemp("logs")) as forker:
        yield forker


def _run_case(case, clips, vsr, folder):
    damaged = folder / f"damaged-{case.clip}"
    damaged.write_bytes(mutate(clips[case.clip], case.operation, case.seed))
    out_dir = folder / "out"
    out_dir.mkdir()
    output = out_dir / "out.mkv"
    run = vsr.run(["upscale", damaged, "-o", output, "--device", "cpu", "--encoder-preset", "ultrafast"], limit=LIMIT_SECONDS)
    problem = verdict(run, damaged, output)
    assert problem is None, f"{case.name}: {problem}"


@pytest.mark.parametrize("case", cases(range(1)), ids=lambda case: case.name)
def test_a_damaged_file_is_upscaled_or_refused_in_one_line(case, clips, vsr, tmp_path):
    _run_case(case, clips, vsr, tmp_path)


# Every case the long run found a bug with (docs/FUZZ.md), run every time.
REGRESSIONS = [
    Case("hevc.mp4", "flip", 1),  # no codec context on the video stream: a traceback, not one line
    Case("vfr.mp4", "flip", 6),  # a repaired time 1/16000 s on merged with the one before in mkv's 1 ms
    Case("vfr.mp4", "zero", 8),  # (the same, three frames)
]


@pytest.mark.parametrize("case", REGRESSIONS, ids=lambda case: case.name)
def test_cases_that_found_bugs_stay_fixed(case, clips, vsr, tmp_path):
    _run_case(case, clips, vsr, tmp_path)


@pytest.mark.long
@pytest.mark.parametrize("case", cases(range(1, 12)), ids=lambda case: case.name)
def test_long_fuzz(case, clips, vsr, tmp_path):
    _run_case(case, clips, vsr, tmp_path)
