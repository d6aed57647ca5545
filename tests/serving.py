"""A real `vsr serve` process for tests: started on a free loopback port, spoken to over
HTTP on 127.0.0.1 only, and stopped by the test."""

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def segments_done(folder: Path) -> int:
    """Segments recorded as done in the job's work folder (vsr.video.segments.manifest)."""
    for manifest in folder.glob("*.vsr-work/manifest.json"):
        try:
            return len(json.loads(manifest.read_text())["done"])
        except (OSError, ValueError):
            return 0
    return 0


class Server:
    def __init__(self, state: Path, *flags: str, port: int | None = None):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        argv = [sys.executable, "-m", "vsr", "serve", "--state", str(state), "--port", str(self.port), "--device", "cpu", *flags]
        self.process = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        first = self.process.stdout.readline()
        assert first.startswith(f"vsr serve: {self.url}/"), first + self.process.stderr.read()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # the line comes before uvicorn listens
            try:
                self.get("/api/jobs")
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("vsr serve never answered")

    def request(self, method: str, path: str, body: dict | None = None) -> dict:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method, headers={"content-type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.loads(answer.read())

    def get(self, path: str) -> dict:
        return self.request("GET", path)

    def wait(self, job_id: str, done, timeout: float = 120.0) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = self.get(f"/api/jobs/{job_id}")
            if done(job):
                return job
            time.sleep(0.1)
        raise AssertionError(f"job {job_id} never got there: {job}")

    def stop(self, signal_number: int, timeout: float = 60.0) -> tuple[int, str]:
        self.process.send_signal(signal_number)
        try:
            _, stderr = self.process.communicate(timeout=timeout)
        finally:
            self.process.kill()
        return self.process.returncode, stderr
