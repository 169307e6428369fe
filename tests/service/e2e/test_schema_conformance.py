"""Schemathesis against a live `openreel serve`, all checks, on SQLite and PostgreSQL, as
an operator and as an artist: no 5xx, and every answer as the OpenAPI document says."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.service.e2e.conftest import Server, make_key, new_data_dir

pytestmark = pytest.mark.slow

SCHEMATHESIS = str(Path(sys.executable).with_name("st"))
SETTINGS = Path(__file__).with_name("schemathesis.toml")
MAX_EXAMPLES = int(os.environ.get("OPENREEL_SCHEMATHESIS_EXAMPLES", "5"))
"""Cases per operation beyond the deterministic coverage phase; raise it for a deep run."""


@pytest.fixture
def live_server(tmp_path, database_url):
    data_dir = new_data_dir(tmp_path / "data")
    config = data_dir / "e2e.yaml"
    config.write_text(
        config.read_text().replace("default_model: tiny-wan", "default_model: toy-shapes")
        + f"database:\n  url: {json.dumps(database_url)}\n"
    )
    keys = {role: make_key(data_dir, f"fuzz-{role}", role) for role in ("operator", "artist")}
    server = Server(data_dir, config)
    yield server, keys
    server.stop()


@pytest.mark.parametrize("role", ["operator", "artist"])
def test_every_answer_conforms_to_the_openapi_document(live_server, role, tmp_path):
    server, keys = live_server
    report = tmp_path / "report.json"
    result = subprocess.run(
        [
            SCHEMATHESIS, "--config-file", str(SETTINGS), "run", f"{server.url}/openapi.json",
            "--checks", "all", "--header", f"Authorization: Bearer {keys[role]}",
            "--phases", "examples,coverage,fuzzing", "--max-examples", str(MAX_EXAMPLES),
            "--seed", "17", "--workers", "1", "--generation-database", "none",
            "--no-color", "--report", "json", "--report-json-path", str(report),
        ],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    summary = result.stdout[-6000:]
    assert result.returncode == 0, summary
    outcome = json.loads(report.read_text())
    assert outcome["failures"] == [] and outcome["errors"] == [], summary
    assert outcome["test_cases"]["generated"] > 500, summary  # it did fuzz
