"""Fixtures for the service: settings with fast timings, a stand-in generator, the app,
and databases: SQLite in a temporary folder and the real PostgreSQL in a fresh schema."""

from __future__ import annotations

import os
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from pipeline.errors import GenerationCancelled
from service.core.settings import Settings
from service.domain.accounts import ensure_user, issue_key
from service.jobs.outputs import OUTPUTS, output_key

POSTGRES_URL = os.environ.get(
    "OPENREEL_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REQUIRE_POSTGRES = os.environ.get("OPENREEL_REQUIRE_POSTGRES") == "1"

FAST_WORKER = {
    "poll_seconds": 0.05,
    "lease_seconds": 2.0,
    "heartbeat_seconds": 0.2,
    "progress_seconds": 0.0,
    "shutdown_grace_seconds": 1.0,
}


def deep_merge(base: dict, changes: dict) -> dict:
    merged = dict(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def make_settings(data_dir: Path, **changes: Any) -> Settings:
    base = {
        "data_dir": data_dir,
        "default_model": "tiny-wan",  # the embedded default (toy-shapes) has its own tests
        "worker": FAST_WORKER,
        "server": {"janitor_interval_seconds": 0.2},
    }
    return Settings(**deep_merge(base, changes))


def wait_for(predicate: Callable[[], Any], *, timeout: float = 30.0, every: float = 0.02) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout} s waiting for {predicate}")


class MovableClock:
    """Wall time that a test moves forward: the app under test reads it everywhere (queue,
    quotas, idempotency, invitations), so no test patches `time.time` under running threads."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


class FastRunner:
    """A stand-in generator for queue and API tests: a few quick 'steps' (cancel is checked
    at each), then small placeholder files in the real storage."""

    CONTENT = bytes(range(256)) * 40  # 10 KiB of known bytes, for range requests

    def __init__(
        self, storage, *, steps: int = 3, step_seconds: float = 0.0, error: Exception | None = None
    ):
        self.storage = storage
        self.steps = steps
        self.step_seconds = step_seconds
        self.error = error
        self.ran: list[str] = []
        self.lock = threading.Lock()

    def prepare(self, models: list[str]) -> None:
        pass

    def run(self, job, report, should_cancel) -> dict:
        with self.lock:
            self.ran.append(job.id)
        report(1, "recaption")
        report(5, "denoise", revised_prompt=f"{job.prompt}, in detail")
        for step in range(self.steps):
            if should_cancel():
                raise GenerationCancelled(step, self.steps)
            time.sleep(self.step_seconds)
            report(5 + 85 * (step + 1) // self.steps, "denoise")
        if self.error is not None:
            raise self.error
        keys = {}
        with tempfile.TemporaryDirectory() as scratch:
            source = Path(scratch) / "output"
            source.write_bytes(self.CONTENT)
            for variant, (_, media_type) in OUTPUTS.items():
                self.storage.put_file(output_key(job.id, variant), source, media_type)
                keys[f"{variant}_key"] = output_key(job.id, variant)
        return {**keys, "run_seconds": 0.01, "denoise_seconds": 0.01}


@pytest.fixture(scope="session")
def postgres_available() -> bool:
    try:
        engine = sa.create_engine(POSTGRES_URL)
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
        engine.dispose()
        return True
    except Exception as exc:
        if REQUIRE_POSTGRES:
            pytest.fail(
                f"PostgreSQL is required (OPENREEL_REQUIRE_POSTGRES=1) but {POSTGRES_URL} failed: {exc}"
            )
        return False


@pytest.fixture
def postgres_url(postgres_available):
    """A URL to the real PostgreSQL whose tables live in a schema of this test's own."""
    if not postgres_available:
        pytest.skip(
            f"PostgreSQL is not reachable at {POSTGRES_URL}; CI sets OPENREEL_REQUIRE_POSTGRES=1 "
            "so that this is a failure there"
        )
    schema = f"test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(sa.text(f"CREATE SCHEMA {schema}"))
    yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    with admin.begin() as connection:
        connection.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'openreel.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def runtime(tmp_path, database_url):
    """Settings, a migrated database (SQLite or PostgreSQL), the queue and local storage."""
    from service.core.runtime import Runtime

    settings = make_settings(tmp_path / "data", database={"url": database_url})
    opened = Runtime.open(settings)
    yield opened
    opened.close()


def new_key(engine, name: str = "tester1", role: str = "artist") -> str:
    return issue_key(engine, ensure_user(engine, name, role)).key


class App:
    """The app under TestClient, with its embedded workers running a FastRunner."""

    def __init__(self, settings: Settings, *, runner_factory=None, **runner_options):
        from fastapi.testclient import TestClient

        from service.api.app import create_app

        self.settings = settings
        self.runners: list = []
        self.clock = MovableClock()

        def factory(runtime):
            if runner_factory is not None:
                runner = runner_factory(runtime)
            else:
                runner = FastRunner(runtime.storage, **runner_options)
            self.runners.append(runner)
            return runner

        self.client = TestClient(create_app(settings, runner_factory=factory, clock=self.clock))

    def __enter__(self) -> App:
        self.client.__enter__()
        self.state = self.client.app.state
        if self.settings.server.embedded_workers:
            wait_for(lambda: all(w.ready.is_set() for w in self.state.workers))
        return self

    def __exit__(self, *exc_info) -> None:
        self.client.__exit__(*exc_info)

    def key(self, name: str = "tester1", role: str = "artist") -> dict[str, str]:
        return {"Authorization": f"Bearer {new_key(self.state.engine, name, role)}"}

    def create(self, headers: dict, **body) -> dict:
        response = self.client.post(
            "/v1/videos", json={"prompt": "a red kite", "seconds": 1, **body}, headers=headers
        )
        assert response.status_code == 200, response.text
        return response.json()

    def wait_status(self, video_id: str, headers: dict, statuses=("completed", "failed")) -> dict:
        def finished():
            video = self.client.get(f"/v1/videos/{video_id}", headers=headers).json()
            return video if video.get("status") in statuses else None

        return wait_for(finished)


@pytest.fixture
def app_factory(tmp_path):
    opened: list[App] = []

    def make(runner_options: dict | None = None, **settings_changes) -> App:
        settings = make_settings(tmp_path / "data", **settings_changes)
        app = App(settings, **(runner_options or {}))
        opened.append(app)
        return app.__enter__()

    yield make
    for app in reversed(opened):
        app.__exit__(None, None, None)
