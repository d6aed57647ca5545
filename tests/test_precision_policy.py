"""The precision policy (vsr.precision_policy): its decisions per device capability and
measured error, explicit choices, refusals, warnings, TF32, and the cached measurement of
a weights file the registry does not know. Capabilities this machine lacks are stubbed."""

import warnings

import cv2
import numpy as np
import pytest
import torch

import vsr.model
import vsr.precision
import vsr.precision_policy as policy
from vsr.cli import main
from vsr.errors import PrecisionWarning, UsageError
from vsr.model import load_model
from vsr.precision_policy import Capabilities, Errors, choose, precision_from
from vsr.weights import shipped

CPU_BF16 = Capabilities("cpu", "this CPU", fp16=True, fp16_native=False, bf16=True)
CPU_PLAIN = Capabilities("cpu", "this CPU", fp16=True, fp16_native=False, bf16=False)
CPU_NO_FP16 = Capabilities("cpu", "this CPU", fp16=False, fp16_native=False, bf16=False)
CUDA = Capabilities("cuda", "cuda:0 (stub)", fp16=True, fp16_native=True, bf16=True)


def errors(**known) -> Errors:
    return Errors(lambda p: known.get(p), "w-x2")


def never_asked() -> Errors:
    def lookup(precision):
        raise AssertionError(f"{precision} was measured though no decision needed it")

    return Errors(lookup, "w-x2")


def test_auto_on_cuda_is_fp16_only_within_one_level():
    assert choose("auto", CUDA, errors(fp16=0.34)).name == "fp16"
    over = choose("auto", CUDA, errors(fp16=47.4))
    assert over.name == "fp32" and "fp16 strays 47.4/255" in over.reason and not over.tf32
    assert choose("auto", CUDA, errors()).name == "fp32"  # unknown error: float32


def test_auto_on_the_cpu_is_bf16_where_native_and_within_six_levels():
    chosen = choose("auto", CPU_BF16, errors(bf16=2.35))
    assert chosen.name == "bf16" and chosen.dtype == torch.bfloat16
    assert str(chosen).startswith("bf16 (native on this CPU; measured 2.")
    assert choose("auto", CPU_BF16, errors(bf16=6.5)).name == "fp32"
    plain = choose("auto", CPU_PLAIN, never_asked())  # nothing is measured where bf16 is not native
    assert plain.name == "fp32" and plain.reason == "no native bf16 on this CPU"


def test_explicit_half_over_its_bound_runs_with_one_warning_that_gives_the_error():
    chosen = choose("fp16", CUDA, errors(fp16=47.39))
    assert chosen.name == "fp16" and "w-x2 in fp16 strays up to 47/255" in chosen.warning
    assert choose("fp16", CUDA, errors(fp16=0.3)).warning is None
    assert "strays up to 255/255" in choose("bf16", CPU_BF16, errors(bf16=255.0)).warning
    assert choose("fp32", CPU_BF16, never_asked()).warning is None


def test_a_precision_the_device_lacks_is_refused():
    with pytest.raises(UsageError, match="bf16 is not supported natively on this CPU"):
        choose("bf16", CPU_PLAIN, never_asked())
    with pytest.raises(UsageError, match="fp16 is not supported"):
        choose("fp16", CPU_NO_FP16, never_asked())
    assert "emulated on this CPU" in choose("fp16", CPU_PLAIN, errors(fp16=0.1)).reason


def test_half_and_precision_are_one_setting():
    assert [precision_from(None, None), precision_from(None, True), precision_from(None, False)] == ["auto", "fp16", "fp32"]
    assert precision_from("bf16", None) == "bf16" and precision_from("fp16", True) == "fp16"
    with pytest.raises(UsageError, match="disagree"):
        precision_from("bf16", False)
    with pytest.raises(UsageError, match="precision must be one of"):
        precision_from("int8", None)


def test_float32_on_cuda_is_true_float32_unless_tf32_was_measured_within_the_fp16_bound():
    strict = choose("fp32", CUDA, errors())
    assert not strict.tf32 and not choose("auto", CUDA, errors(fp16=47.0)).tf32
    assert choose("fp32", CUDA, errors(tf32=0.5)).tf32 and not choose("fp32", CUDA, errors(tf32=3.0)).tf32
    before = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    with policy.exact_float32(torch.device("cuda"), strict):
        assert not torch.backends.cudnn.allow_tf32 and not torch.backends.cuda.matmul.allow_tf32
    assert (torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32) == before
    with policy.exact_float32(torch.device("cpu"), strict):
        assert torch.backends.cudnn.allow_tf32 == before[0]  # the CPU: nothing touched


def test_this_machines_probe_agrees_with_its_cpuinfo():
    from pathlib import Path

    info = Path("/proc/cpuinfo")
    if not info.is_file():
        pytest.skip("no /proc/cpuinfo here")
    text = info.read_text()
    native = any(f" {flag}" in text for flag in ("avx512_bf16", "amx_bf16")) or "Features" in text and " bf16" in text
    assert policy.capabilities(torch.device("cpu")).bf16 == native


def test_the_cpu_probe_reads_native_bf16_from_the_cpu_flags(monkeypatch):
    monkeypatch.setattr(policy, "cpu_flags", lambda: frozenset({"avx512f", "avx512_bf16"}))
    assert policy.capabilities(torch.device("cpu")).bf16
    monkeypatch.setattr(policy, "cpu_flags", lambda: frozenset({"amx_bf16"}))
    assert policy.capabilities(torch.device("cpu")).bf16
    monkeypatch.setattr(policy, "cpu_flags", lambda: frozenset({"asimd", "bf16"}))  # Arm's Features line
    assert policy.capabilities(torch.device("cpu")).bf16
    monkeypatch.setattr(policy, "cpu_flags", lambda: frozenset({"avx2"}))
    assert not policy.capabilities(torch.device("cpu")).bf16


def test_a_shipped_file_follows_the_registry_on_a_stub_bf16_cpu(monkeypatch):
    monkeypatch.setattr(policy, "cpu_flags", lambda: frozenset({"avx512_bf16"}))
    clean = load_model("ultra-x2", precision="auto")  # bf16 measured 2.35/255
    assert clean.dtype == torch.bfloat16 and clean.precision.name == "bf16"
    assert "native on this CPU; measured 2." in clean.description
    x = torch.rand(1, 3, 24, 32)
    reference = load_model("ultra-x2")(x).float().clamp(0, 1)
    assert float((clean(x).float().clamp(0, 1) - reference).abs().max()) * 255 <= shipped().get("ultra-x2").bf16_max_error + 0.5
    video = load_model("ultra-x2-video", precision="auto")  # bf16 measured 255/255: fp32
    assert video.dtype == torch.float32 and "bf16 strays 255.0/255" in video.description
    monkeypatch.setattr(policy, "cpu_flags", lambda: frozenset())
    assert load_model("ultra-x2", precision="auto").dtype == torch.float32


@pytest.fixture
def own_weights(tmp_path):
    """A weights file no registry knows: ultra-x2 with one weight nudged."""

    def write(nudge: float):
        state = load_model("ultra-x2").module.state_dict()
        first = next(k for k, v in state.items() if v.dtype.is_floating_point)
        state[first] = state[first] + nudge
        path = tmp_path / "mine-x2.pth"
        torch.save(state, path)  # a bare deployed state dict, as the official files are
        return path

    return write


def test_an_unknown_file_is_measured_once_and_again_when_it_changes(own_weights, monkeypatch, tmp_path):
    monkeypatch.setenv("VSR_PRECISION_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(policy, "cpu_flags", lambda: frozenset({"avx512_bf16"}))
    calls = []
    real = vsr.precision.measure_error
    monkeypatch.setattr(vsr.precision, "measure_error", lambda *a, **k: calls.append(a[1]) or real(*a, **k))
    path = own_weights(1e-3)
    first = load_model(path, precision="auto")
    assert calls == ["bf16"] and len(list((tmp_path / "cache").glob("*.json"))) == 1
    again = load_model(path, precision="auto")
    assert calls == ["bf16"] and again.precision == first.precision  # from the cache
    fresh = max(real(load_model(path).module, "bf16").values())
    assert f"measured {fresh:.1f}/255" in str(first.precision)
    own_weights(2e-3)  # the same path, another file
    load_model(path, precision="auto")
    assert calls == ["bf16", "bf16"] and len(list((tmp_path / "cache").glob("*.json"))) == 2


def test_a_cpu_without_native_bf16_measures_nothing(own_weights, monkeypatch):
    monkeypatch.setattr(policy, "cpu_flags", lambda: frozenset())
    monkeypatch.setattr(vsr.precision, "measure_error", lambda *a, **k: pytest.fail("measured"))
    assert load_model(own_weights(1e-3), precision="auto").precision.reason == "no native bf16 on this CPU"


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "in.jpg"
    cv2.imwrite(str(path), (np.random.default_rng(0).random((24, 32, 3)) * 255).astype(np.uint8))
    return path


def test_the_start_line_says_which_precision_and_why(photo, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(policy, "cpu_flags", lambda: frozenset({"avx512_bf16"}))
    assert main(["image", str(photo), "-o", str(tmp_path / "o.png"), "--model", "ultra-x2", "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "(ultra-x2) on cpu bfloat16; bf16 (native on this CPU; measured 2." in out


def test_bf16_on_a_cpu_without_it_is_one_line_and_exit_2(photo, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(policy, "cpu_flags", lambda: frozenset({"avx2"}))
    assert main(["image", str(photo), "-o", str(tmp_path / "o.png"), "--precision", "bf16", "--device", "cpu"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["vsr image: error: bf16 is not supported natively on this CPU; use --precision auto or --precision fp32"]
    assert not (tmp_path / "o.png").exists()


def test_explicit_bf16_over_its_bound_warns_once_with_the_measured_error(photo, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(policy, "cpu_flags", lambda: frozenset({"avx512_bf16"}))
    code = main(["image", str(photo), "-o", str(tmp_path / "o.png"), "--model", "ultra-x2-video", "--precision", "bf16", "--device", "cpu"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 0 and len(err) == 1
    assert err[0].startswith("vsr image: warning: ultra-x2-video in bf16 strays up to 255/255 from float32")


def test_the_half_flags_are_aliases_and_clash_with_precision(photo, tmp_path, capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PrecisionWarning)
        assert main(["image", str(photo), "-o", str(tmp_path / "a.png"), "--model", "ultra-x2", "--no-half", "--device", "cpu"]) == 0
    assert "on cpu float32; fp32 (asked)" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_:
        main(["image", str(photo), "-o", str(tmp_path / "b.png"), "--half", "--precision", "bf16"])
    assert exit_.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_a_preset_may_set_the_precision(tmp_path):
    from vsr.settings import resolve_run

    preset = tmp_path / "strict.toml"
    preset.write_text('description = "strict"\nmodel = "ultra"\nprecision = "fp32"\n')
    assert resolve_run(str(preset), device="cpu").model.precision == "fp32"
    assert resolve_run(str(preset), device="cpu", precision="bf16").model.precision == "bf16"  # a flag wins
    preset.write_text('description = "bad"\nprecision = "fp8"\n')
    with pytest.raises(UsageError, match="precision must be one of auto, fp32, fp16, bf16"):
        resolve_run(str(preset), device="cpu")
