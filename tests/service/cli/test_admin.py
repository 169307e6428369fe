"""Operator commands: keys create, db upgrade, config check."""

from __future__ import annotations

import json

import pytest

from service.cli import main
from service.core.db.engine import create_engine
from service.domain.accounts import authenticate
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
    from service.core.db.migrate import head_revision

    assert main(["db", "upgrade"]) == 0
    assert f"database at revision {head_revision()}" in capsys.readouterr().out


def test_config_check_prints_the_effective_settings(tmp_path, capsys):
    config = tmp_path / "c.yaml"
    config.write_text("limits:\n  max_seconds: 10\n")
    assert main(["config", "check", str(config)]) == 0
    effective = json.loads(capsys.readouterr().out)
    assert effective["limits"]["max_seconds"] == 10
    assert effective["models"]["toy-shapes"]["steps"] == 20  # served models, resolved
    assert effective["worker"]["lease_seconds"] == 60


def test_config_check_refuses_an_invalid_config(tmp_path, capsys):
    config = tmp_path / "c.yaml"
    config.write_text("worker:\n  lease_seconds: 1\n  heartbeat_seconds: 5\n")
    assert exit_code(["config", "check", str(config)]) == 2
    err = capsys.readouterr().err
    assert "heartbeat_seconds must be at most half of lease_seconds" in err and err.count("\n") == 1


def lines(capsys) -> list[dict]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_users_add_list_and_disable(data_dir, capsys):
    assert main(["users", "add", "--name", "ada", "--role", "filmmaker", "--plan", "per_second",
                 "--email", "ada@example.org"]) == 0  # fmt: skip
    added = lines(capsys)[0]
    assert (added["name"], added["role"], added["plan"]) == ("ada", "filmmaker", "per_second")
    assert main(["users", "list"]) == 0
    assert [(u["name"], u["status"]) for u in lines(capsys)] == [("ada", "active")]
    assert main(["users", "disable", "ada"]) == 0
    capsys.readouterr()
    main(["users", "list"])
    assert lines(capsys)[0]["status"] == "disabled"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["users", "add", "--name", "x", "--role", "wizard"], "unknown role 'wizard'"),
        (
            ["users", "add", "--name", "x", "--role", "artist", "--plan", "gold"],
            "unknown plan 'gold'",
        ),
        (
            ["users", "add", "--name", "x", "--role", "artist", "--email", "nope"],
            "is not an email address",
        ),
        (["users", "add", "--name", "two words", "--role", "artist"], "must be one word"),
        (["users", "disable", "nobody"], "no user 'nobody'"),
        (["keys", "revoke", "ork_0000000000000000"], "no active key"),
        (
            ["keys", "create", "--user", "x", "--role", "artist", "--expires-in-days", "0"],
            "must be more than 0",
        ),
    ],
)
def test_user_and_key_commands_refuse_bad_input(data_dir, capsys, args, message):
    assert exit_code(args) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_a_refused_key_leaves_no_user_behind(data_dir, capsys):
    args = ["keys", "create", "--user", "newbie", "--role", "artist", "--expires-in-days", "0"]
    assert exit_code(args) == 2
    assert main(["users", "list"]) == 0
    assert "newbie" not in capsys.readouterr().out


def test_repeating_disable_or_revoke_succeeds_and_says_so(data_dir, capsys):
    main(["keys", "create", "--user", "ada", "--role", "artist"])
    prefix = capsys.readouterr().out.strip()[:20]
    for command, first, again in (
        (["users", "disable", "ada"], "disabled ada", "ada was already disabled"),
        (["keys", "revoke", prefix], f"revoked {prefix}", f"was already revoked: {prefix}"),
    ):
        assert main(command) == 0 and first in capsys.readouterr().err
        assert main(command) == 0 and again in capsys.readouterr().err


def test_keys_list_shows_prefixes_and_revoke_stops_the_key(data_dir, capsys):
    main(["keys", "create", "--user", "tester1", "--role", "artist"])
    key = capsys.readouterr().out.strip()
    assert main(["keys", "list", "--user", "tester1"]) == 0
    listed = lines(capsys)
    assert [k["status"] for k in listed] == ["active"]
    assert key not in json.dumps(listed) and key.startswith(listed[0]["prefix"])
    assert main(["keys", "revoke", listed[0]["prefix"]]) == 0
    engine = create_engine(f"sqlite:///{data_dir / 'openreel.db'}")
    assert authenticate(engine, key) is None
    engine.dispose()
    capsys.readouterr()
    main(["keys", "list"])
    assert lines(capsys)[0]["status"] == "revoked"


def test_cli_actions_are_audited_as_the_os_user(data_dir, capsys):
    import getpass

    from service.domain import audit

    main(["users", "add", "--name", "ada", "--role", "artist"])
    main(["keys", "create", "--user", "ada", "--role", "artist"])
    engine = create_engine(f"sqlite:///{data_dir / 'openreel.db'}")
    rows, _ = audit.entries(engine)
    engine.dispose()
    assert [(r.action, r.actor_name) for r in rows] == [
        ("key.created", f"cli:{getpass.getuser()}"),
        ("user.created", f"cli:{getpass.getuser()}"),
    ]
