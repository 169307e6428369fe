"""Schemathesis against a live `openreel serve`, all checks, on SQLite and PostgreSQL, as
an operator and as an artist: no 5xx, and every answer as the OpenAPI document says."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from service.core.runtime import Runtime
from tests.service.conftest import make_settings, new_key
from tests.service.e2e.conftest import Server, new_data_dir

pytestmark = pytest.mark.slow

SCHEMATHESIS = str(Path(sys.executable).with_name("st"))
SETTINGS = Path(__file__).with_name("schemathesis.toml")
MAX_EXAMPLES = int(os.environ.get("OPENREEL_SCHEMATHESIS_EXAMPLES", "5"))
"""Cases per operation beyond the deterministic coverage phase; raise it for a deep run."""


def fuzz(url: str, key: str, report: Path) -> tuple[subprocess.CompletedProcess, dict]:
    result = subprocess.run(
        [
            SCHEMATHESIS, "--config-file", str(SETTINGS), "run", f"{url}/openapi.json",
            "--checks", "all", "--header", f"Authorization: Bearer {key}",
            "--phases", "examples,coverage,fuzzing", "--max-examples", str(MAX_EXAMPLES),
            "--seed", "17", "--workers", "1", "--generation-database", "none",
            "--no-color", "--report", "json", "--report-json-path", str(report),
        ],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    return result, json.loads(report.read_text())


def test_every_answer_conforms_to_the_openapi_document(tmp_path, database_url):
    data_dir = new_data_dir(tmp_path / "data")
    config = data_dir / "e2e.yaml"
    config.write_text(
        config.read_text().replace("default_model: tiny-wan", "default_model: toy-shapes")
        + f"database:\n  url: {json.dumps(database_url)}\n"
    )
    # The keys, made in this process on the server's database (which this migrates).
    runtime = Runtime.open(make_settings(data_dir, database={"url": database_url}))
    keys = {role: new_key(runtime.engine, f"fuzz-{role}", role) for role in ("operator", "artist")}
    runtime.close()
    server = Server(data_dir, config)
    try:
        for role, key in keys.items():
            result, outcome = fuzz(server.url, key, tmp_path / f"{role}.json")
            failures = json.dumps(outcome["failures"], indent=1)[:6000]
            summary = f"as {role}:\n{result.stdout[-3000:]}\nfailures: {failures}"
            assert result.returncode == 0, summary
            assert outcome["failures"] == [] and outcome["errors"] == [], summary
            assert outcome["test_cases"]["generated"] > 500, summary  # it did fuzz
    finally:
        server.stop()
