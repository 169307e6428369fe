"""A live `openreel serve` on loopback, with the tiny diffusers model, for end-to-end tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

OPENREEL = str(Path(sys.executable).with_name("openreel"))

# Fast leases and polling, so that crash recovery shows within seconds.
E2E_CONFIG = """
default_model: tiny-wan
worker:
  poll_seconds: 0.1
  lease_seconds: 3
  heartbeat_seconds: 0.5
  progress_seconds: 0.2
  shutdown_grace_seconds: 20
server:
  janitor_interval_seconds: 0.5
api:
  poll_after_ms: 200
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def environment(data_dir: Path) -> dict[str, str]:
    return {**os.environ, "OPENREEL_DATA_DIR": str(data_dir), "OMP_NUM_THREADS": "1"}


def openreel(data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [OPENREEL, *args], env=environment(data_dir), capture_output=True, text=True, timeout=120
    )


class Server:
    def __init__(self, data_dir: Path, config: Path, *, workers: int = 1) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = (data_dir / f"serve-{self.port}.log").open("w")
        self.process = subprocess.Popen(
            [
                OPENREEL,
                "serve",
                "--config",
                str(config),
                "--port",
                str(self.port),
                "--workers",
                str(workers),
            ],
            env=environment(data_dir),
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self._wait("/readyz" if workers else "/healthz")

    def _wait(self, path: str, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"openreel serve exited with {self.process.returncode}; see {self.log.name}"
                )
            try:
                if httpx.get(self.url + path, timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"openreel serve did not answer {path} in {timeout} s")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=timeout)
        self.log.close()
        return self.process.returncode


def new_data_dir(path: Path) -> Path:
    """A data dir with the end-to-end config in it."""
    path.mkdir(exist_ok=True)
    (path / "e2e.yaml").write_text(E2E_CONFIG)
    return path


@pytest.fixture
def data_dir(tmp_path) -> Path:
    return new_data_dir(tmp_path / "data")


@pytest.fixture(scope="module")
def module_server(tmp_path_factory):
    """One live server for a whole module (it takes seconds to start), per test process:
    its tests share it, each as users of its own."""
    data = new_data_dir(tmp_path_factory.mktemp("e2e") / "data")
    server = Server(data, data / "e2e.yaml")
    yield server
    server.stop(signal.SIGKILL)


@pytest.fixture
def start_server(data_dir):
    servers: list[Server] = []

    def start(workers: int = 1) -> Server:
        servers.append(Server(data_dir, data_dir / "e2e.yaml", workers=workers))
        return servers[-1]

    yield start
    for server in servers:
        server.stop(signal.SIGKILL)


def make_key(data_dir: Path, user: str = "tester1", role: str = "artist") -> str:
    result = openreel(
        data_dir,
        "keys",
        "create",
        "--user",
        user,
        "--role",
        role,
        "--config",
        str(data_dir / "e2e.yaml"),
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()
