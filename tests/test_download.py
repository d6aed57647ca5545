"""Downloading known weights, against a loopback HTTP server in the test process (127.0.0.1
only): good, wrong, missing, refused, cut and offline, mirrors, and first use."""

import dataclasses
import hashlib
import http.server
import json
import os
import re
import socket
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import OFFICIAL, randomize_
from vsr import load_model
from vsr.archs import build_plainusr
from vsr.cli import main
from vsr.errors import DownloadError
from vsr.weights import registry
from vsr.weights.download import pull
from vsr.weights.files import cache_dir

URL_ROOT = "https://example.invalid/release/"


class WeightsServer(http.server.ThreadingHTTPServer):
    """Serves `files` by path; a path in `cut` sends half its bytes under the full
    Content-Length and hangs up; one in `slow` pauses half-way."""

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.files: dict[str, bytes] = {}
        self.cut: set[str] = set()
        self.slow: set[str] = set()
        self.requests: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's name)
        server: WeightsServer = self.server  # type: ignore[assignment]
        server.requests.append(self.path)
        body = server.files.get(self.path)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        half = len(body) // 2
        self.wfile.write(body[:half])
        self.wfile.flush()
        if self.path in server.cut:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if self.path in server.slow:
            time.sleep(0.3)
        self.wfile.write(body[half:])

    def log_message(self, *args):  # quiet
        pass


@pytest.fixture
def server():
    s = WeightsServer()
    thread = threading.Thread(target=s.serve_forever, daemon=True)
    thread.start()
    yield s
    s.shutdown()
    s.server_close()
    thread.join(timeout=5)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("VSR_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("VSR_OFFLINE", "0")  # whatever the machine running the tests has
    monkeypatch.delenv("VSR_WEIGHTS_URL", raising=False)
    return cache_dir()


def fabricated(tmp_path, name="ultra-x2.pth", variant="ultra", scale=2):
    """A real PlainUSR checkpoint (random weights) and a registry entry for it."""
    path = tmp_path / name
    torch.save(randomize_(build_plainusr(variant, scale)).state_dict(), path)
    data = path.read_bytes()
    entry = dataclasses.replace(
        registry().get(f"official-{variant}-x{scale}"), file=name, sha256=hashlib.sha256(data).hexdigest(), source=URL_ROOT + name
    )
    return entry, data


def cached_files(cache: Path) -> list[str]:
    return sorted(p.name for p in cache.iterdir()) if cache.exists() else []


def test_good_pull_is_verified_cached_and_not_fetched_twice(tmp_path, server, cache, monkeypatch):
    entry, data = fabricated(tmp_path)
    server.files["/w/ultra-x2.pth"] = data
    monkeypatch.setenv("VSR_WEIGHTS_URL", server.url + "/w/")
    seen = []
    path, fetched = pull(entry, progress=lambda done, total: seen.append((done, total)))
    assert fetched and path == cache / "ultra-x2.pth" and path.read_bytes() == data
    assert seen[-1] == (len(data), len(data))
    assert pull(entry) == (path, False)
    assert server.requests == ["/w/ultra-x2.pth"]  # the second pull asked nothing
    assert cached_files(cache) == ["ultra-x2.pth"]


def test_hash_mismatch_is_refused_and_nothing_is_cached(tmp_path, server, cache, monkeypatch):
    entry, data = fabricated(tmp_path)
    server.files["/w/ultra-x2.pth"] = data[:-10] + b"0123456789"
    monkeypatch.setenv("VSR_WEIGHTS_URL", server.url + "/w")
    with pytest.raises(DownloadError) as caught:
        pull(entry)
    line = str(caught.value)
    assert "\n" not in line and f"{server.url}/w/ultra-x2.pth" in line and "sha256" in line
    assert entry.sha256 in line and str(cache) in line  # what was expected, and where to put it
    assert cached_files(cache) == []


def other_model_bytes(tmp_path) -> bytes:
    return fabricated(tmp_path, "x4.pth", "ultra", 4)[1]


@pytest.mark.parametrize(
    "served,message",
    [
        (lambda tmp_path: b"PK\x03\x04 not a checkpoint", "not a PlainUSR checkpoint; nothing was cached"),
        (other_model_bytes, "holds PlainUSR ultra x4, not ultra x2"),
    ],
    ids=["not-a-checkpoint", "another-model"],
)
def test_a_file_with_the_right_hash_but_the_wrong_content_is_refused(tmp_path, server, cache, monkeypatch, served, message):
    # as if the registry listed a wrong file: the checkpoint check is the last line of defence
    body = served(tmp_path)
    entry = dataclasses.replace(fabricated(tmp_path)[0], sha256=hashlib.sha256(body).hexdigest())
    server.files["/w/ultra-x2.pth"] = body
    monkeypatch.setenv("VSR_WEIGHTS_URL", server.url + "/w")
    with pytest.raises(DownloadError, match=message):
        pull(entry)
    assert cached_files(cache) == []


def test_404_names_the_url_and_caches_nothing(tmp_path, server, cache, monkeypatch):
    entry, _ = fabricated(tmp_path)
    monkeypatch.setenv("VSR_WEIGHTS_URL", server.url + "/nothing-here")
    with pytest.raises(DownloadError, match=r"nothing-here/ultra-x2.pth: the server answered HTTP 404"):
        pull(entry)
    assert cached_files(cache) == []


def test_refused_connection_is_one_line(tmp_path, cache, monkeypatch):
    entry, _ = fabricated(tmp_path)
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("VSR_WEIGHTS_URL", f"http://127.0.0.1:{port}")
    with pytest.raises(DownloadError, match=r"unreachable \(Connection refused\)"):
        pull(entry)
    assert cached_files(cache) == []


def test_a_transfer_cut_in_the_middle_leaves_nothing(tmp_path, server, cache, monkeypatch):
    entry, data = fabricated(tmp_path)
    server.files["/w/ultra-x2.pth"] = data
    server.cut.add("/w/ultra-x2.pth")
    monkeypatch.setenv("VSR_WEIGHTS_URL", server.url + "/w")
    with pytest.raises(DownloadError, match="the transfer was cut after"):
        pull(entry)
    assert cached_files(cache) == []  # no partial file, no temporary one


def test_offline_never_touches_the_network(tmp_path, server, cache, monkeypatch):
    entry, data = fabricated(tmp_path)
    server.files["/w/ultra-x2.pth"] = data
    monkeypatch.setenv("VSR_WEIGHTS_URL", server.url + "/w")
    monkeypatch.setenv("VSR_OFFLINE", "1")
    with pytest.raises(DownloadError, match=r"not in the cache and vsr is offline .* put it in .*cache.* by hand"):
        pull(entry)
    assert server.requests == [] and cached_files(cache) == []


def test_offline_on_the_command_line_holds_for_that_command_only(cache, monkeypatch, capsys):
    monkeypatch.delenv("VSR_OFFLINE")
    assert main(["models", "pull", "official-ultra-x2", "--offline"]) == 1
    assert "vsr is offline" in capsys.readouterr().err
    assert "VSR_OFFLINE" not in os.environ  # a later main() in this process may download


def test_a_folder_mirror_works_offline(tmp_path, cache, monkeypatch):
    entry, data = fabricated(tmp_path)
    monkeypatch.setenv("VSR_WEIGHTS_URL", str(tmp_path))  # holds ultra-x2.pth
    monkeypatch.setenv("VSR_OFFLINE", "1")
    path, fetched = pull(entry)
    assert fetched and path.read_bytes() == data
    monkeypatch.setenv("VSR_WEIGHTS_URL", str(tmp_path / "empty"))
    with pytest.raises(DownloadError, match="not in the mirror folder"):
        pull(dataclasses.replace(entry, file="other.pth"))


def test_a_wrong_file_put_in_the_cache_by_hand_is_replaced(tmp_path, server, cache, monkeypatch):
    entry, data = fabricated(tmp_path)
    cache.mkdir(parents=True)
    (cache / "ultra-x2.pth").write_bytes(b"truncated")
    server.files["/w/ultra-x2.pth"] = data
    monkeypatch.setenv("VSR_WEIGHTS_URL", server.url + "/w")
    assert pull(entry)[1] and (cache / "ultra-x2.pth").read_bytes() == data


def test_two_pulls_at_once_fetch_once_and_both_succeed(tmp_path, server, cache, monkeypatch):
    entry, data = fabricated(tmp_path)
    server.files["/w/ultra-x2.pth"] = data
    server.slow.add("/w/ultra-x2.pth")  # the second pull starts while the first is mid-way
    monkeypatch.setenv("VSR_WEIGHTS_URL", server.url + "/w")
    results, errors = [], []

    def one_pull():
        try:
            results.append(pull(entry))
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=one_pull) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == [] and sorted(fetched for _, fetched in results) == [False, True]
    assert server.requests == ["/w/ultra-x2.pth"]
    assert cached_files(cache) == ["ultra-x2.pth"]


def test_models_pull_reports_each_failure_and_exits_non_zero(server, cache, monkeypatch, capsys):
    monkeypatch.setenv("VSR_WEIGHTS_URL", server.url + "/none")
    code = main(["models", "pull", "official-ultra-x2", "official-ultra-x4"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 2 and all("HTTP 404" in line for line in err)
    assert main(["models", "pull", "no-such-model"]) == 2


# The real release files, served from ../shared by the loopback server.


@pytest.fixture
def official_server(server):
    if not OFFICIAL.is_dir():
        pytest.skip(f"{OFFICIAL} is absent")
    for entry in registry().entries:
        if not entry.shipped:
            server.files[f"/mirror/{entry.file}"] = (OFFICIAL / entry.file).read_bytes()
    return server


@pytest.mark.shared
def test_pulled_official_model_reproduces_the_reference_output(official_server, cache, monkeypatch, capsys):
    monkeypatch.setenv("VSR_WEIGHTS_URL", official_server.url + "/mirror")
    assert main(["models", "pull", "official-small-x2", "official-ultra-x4"]) == 0
    assert "official-small-x2: " in capsys.readouterr().out
    reference = np.load(OFFICIAL / "reference_outputs.npz")
    x = torch.from_numpy(reference["input_uint8_hwc"]).permute(2, 0, 1)[None].float() / 255
    for name, key in (("official-small-x2", "PlainUSRS_Rep_x2"), ("official-ultra-x4", "PlainUSRU_Rep_x4")):
        model = load_model(name, device="cpu")
        assert model.source == name
        out = model(x)[0].permute(1, 2, 0).numpy()
        assert np.abs(out - reference[key]).max() < 1e-5
    assert len(official_server.requests) == 2  # loading did not fetch again


@pytest.mark.shared
def test_first_use_on_the_command_line_downloads_with_a_notice(official_server, cache, tmp_path, monkeypatch, capsys):
    import cv2

    monkeypatch.setenv("VSR_WEIGHTS_URL", official_server.url + "/mirror")
    photo = tmp_path / "in.png"
    cv2.imwrite(str(photo), np.random.default_rng(0).integers(0, 256, (24, 32, 3), dtype=np.uint8))
    out = tmp_path / "out.png"
    assert main(["image", str(photo), "-o", str(out), "--model", "official-ultra-x2", "--device", "cpu"]) == 0
    err = capsys.readouterr().err
    assert "official-ultra-x2 is not on this machine yet: downloading PlainUSRU_Rep_x2.pth" in err
    assert cv2.imread(str(out)).shape == (48, 64, 3)
    assert cached_files(cache) == ["PlainUSRU_Rep_x2.pth"]
    # offline now: the cached file is used, a missing one is one line and exit 1
    assert main(["image", str(photo), "-o", str(out), "--model", "official-ultra-x2", "--overwrite", "--offline"]) == 0
    code = main(["image", str(photo), "-o", str(tmp_path / "b.png"), "--model", "official-base-x2", "--offline"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1 and "vsr is offline" in err[0]
    assert len(official_server.requests) == 1


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")
def test_a_full_disk_is_one_line_and_leaves_nothing(tmp_path, server, cache, monkeypatch):
    import builtins

    from vsr.weights import download

    entry, data = fabricated(tmp_path)
    server.files["/w/ultra-x2.pth"] = data
    monkeypatch.setenv("VSR_WEIGHTS_URL", server.url + "/w")
    # the kernel's own ENOSPC: the download is written to /dev/full instead of the cache
    monkeypatch.setattr(download, "open", lambda path, mode: builtins.open("/dev/full", "wb", buffering=0), raising=False)
    with pytest.raises(DownloadError, match=r"cannot write in .*cache/weights: the disk is full; nothing was cached"):
        pull(entry)
    assert cached_files(cache) == []


@pytest.mark.shared
def test_vsr_models_lists_every_model_and_what_is_here(tmp_path, cache, capsys):
    cache.mkdir(parents=True)
    (cache / "PlainUSRS_Rep_x2.pth").write_bytes((OFFICIAL / "PlainUSRS_Rep_x2.pth").read_bytes())  # put by hand
    assert main(["models", "--json"]) == 0
    listed = {row["name"]: row for row in json.loads(capsys.readouterr().out)["weights"]}
    assert main(["models"]) == 0
    table = capsys.readouterr().out
    for entry in registry().entries:
        row = listed[entry.name]
        assert row["purpose"] == entry.purpose and row["source"] == entry.source and row["licence"] == "MIT"
        assert row["here"] == (entry.shipped or entry.name == "official-small-x2")
        assert re.search(rf"(^|\s){re.escape(entry.name)}(\s|$)", table, re.M)  # in the table, whole
        assert f"{entry.num_params:,}" in table
