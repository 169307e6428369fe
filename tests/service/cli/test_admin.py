"""Operator commands: keys create, db upgrade, config check."""

from __future__ import annotations

import json

import pytest

from service.accounts import authenticate
from service.cli import main
from service.db.engine import create_engine
from tests.service.cli.test_generate import exit_code


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENREEL_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def test_keys_create_prints_the_key_alone_and_it_works(data_dir, capsys):
    assert main(["keys", "create", "--user", "tester1", "--role", "artist"]) == 0
    captured = capsys.readouterr()
    key = captured.out.strip()
    assert captured.out == key + "\n" and key.startswith("ork_")
    assert key not in captured.err and "tester1" in captured.err
    engine = create_engine(f"sqlite:///{data_dir / 'openreel.db'}")
    assert authenticate(engine, key).name == "tester1"
    engine.dispose()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--user", "tester1", "--role", "wizard"], "unknown role 'wizard'; roles: artist"),
        (["--user", "  ", "--role", "artist"], "user name must not be empty"),
        (["--role", "artist"], "the following arguments are required: --user"),
    ],
)
def test_keys_create_refuses_bad_input(data_dir, capsys, args, message):
    assert exit_code(["keys", "create", *args]) == 2
    captured = capsys.readouterr()
    assert message in captured.err and captured.out == ""


def test_keys_create_refuses_to_change_a_users_role(data_dir, capsys):
    main(["keys", "create", "--user", "tester1", "--role", "artist"])
    assert exit_code(["keys", "create", "--user", "tester1", "--role", "operator"]) == 2
    assert "exists with role 'artist'" in capsys.readouterr().err


def test_db_upgrade_reports_the_revision(data_dir, capsys):
    assert main(["db", "upgrade"]) == 0
    assert "database at revision 0001" in capsys.readouterr().out


def test_config_check_prints_the_effective_settings(tmp_path, capsys):
    config = tmp_path / "c.yaml"
    config.write_text("limits:\n  max_seconds: 10\n")
    assert main(["config", "check", str(config)]) == 0
    effective = json.loads(capsys.readouterr().out)
    assert effective["limits"]["max_seconds"] == 10
    assert effective["models"]["tiny-wan"]["steps"] == 8  # served models, resolved
    assert effective["worker"]["lease_seconds"] == 60


def test_config_check_refuses_an_invalid_config(tmp_path, capsys):
    config = tmp_path / "c.yaml"
    config.write_text("worker:\n  lease_seconds: 1\n  heartbeat_seconds: 5\n")
    assert exit_code(["config", "check", str(config)]) == 2
    err = capsys.readouterr().err
    assert "heartbeat_seconds must be at most half of lease_seconds" in err and err.count("\n") == 1
