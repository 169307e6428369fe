"""Operator commands: `openreel keys create`, `openreel db upgrade`, `openreel config check`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from service.cli.common import EXIT_OK, UsageError, settings_or_usage_error


def add_parsers(commands: argparse._SubParsersAction) -> None:
    keys = commands.add_parser("keys", help="API keys").add_subparsers(
        dest="keys_command", metavar="ACTION"
    )
    keys.required = True
    create = keys.add_parser(
        "create",
        help="make an API key for a user (created if new) and print it, alone, on stdout",
        description="The key is shown once and stored only as a hash.",
    )
    create.add_argument("--user", required=True, help="user name")
    create.add_argument("--role", required=True, help="the user's role (see roles: in the config)")
    create.add_argument("--config", type=Path, help="YAML config (default: built-in defaults)")
    create.set_defaults(run=create_key)

    db = commands.add_parser("db", help="the database").add_subparsers(
        dest="db_command", metavar="ACTION"
    )
    db.required = True
    upgrade = db.add_parser(
        "upgrade", help="apply the schema migrations (serve and worker also do)"
    )
    upgrade.add_argument("--config", type=Path, help="YAML config (default: built-in defaults)")
    upgrade.set_defaults(run=db_upgrade)

    config = commands.add_parser("config", help="configs").add_subparsers(
        dest="config_command", metavar="ACTION"
    )
    config.required = True
    check = config.add_parser(
        "check", help="validate a config and print the effective settings as JSON"
    )
    check.add_argument("file", type=Path, help="YAML config")
    check.set_defaults(run=config_check)


def create_key(args: argparse.Namespace) -> int:
    settings = settings_or_usage_error(args.config)
    if args.role not in settings.roles:
        raise UsageError(f"unknown role {args.role!r}; roles: {', '.join(sorted(settings.roles))}")
    from service.accounts import AccountError, ensure_user, issue_key
    from service.runtime import Runtime

    runtime = Runtime.open(settings)
    try:
        user = ensure_user(runtime.engine, args.user, args.role)
        issued = issue_key(runtime.engine, user)
    except AccountError as exc:
        raise UsageError(str(exc)) from None
    finally:
        runtime.close()
    print(issued.key)
    print(f"created key {issued.prefix}... for {user.name} ({user.role})", file=sys.stderr)
    return EXIT_OK


def db_upgrade(args: argparse.Namespace) -> int:
    settings = settings_or_usage_error(args.config)
    from service.db.engine import create_engine
    from service.db.migrate import upgrade

    engine = create_engine(settings.database_url)
    try:
        revision = upgrade(engine)
    finally:
        engine.dispose()
    print(f"database at revision {revision}")
    return EXIT_OK


def config_check(args: argparse.Namespace) -> int:
    settings = settings_or_usage_error(args.file)
    effective = settings.model_dump(mode="json")
    effective["models"] = {
        name: settings.resolve_model(name)[1].model_dump(mode="json")
        for name in settings.served_models()
    }
    print(json.dumps(effective, indent=2))
    print(f"{args.file}: valid", file=sys.stderr)
    return EXIT_OK
