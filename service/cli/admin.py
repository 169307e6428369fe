"""Operator commands on the host: users, keys, the database, configs. They act as
`cli:<os user>` in the audit log."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from service.cli.common import EXIT_OK, settings_or_usage_error


def add_parsers(commands: argparse._SubParsersAction) -> None:
    users = commands.add_parser(
        "users", help="add, list and disable users (in the data dir's database)"
    ).add_subparsers(dest="users_command", metavar="ACTION")
    users.required = True
    add = users.add_parser("add", help="add a user (no key yet: see keys create)")
    add.add_argument("--name", required=True)
    add.add_argument("--role", required=True, help="see roles: in the config")
    add.add_argument("--plan", help="see plans: in the config (default: access.default_plan)")
    add.add_argument("--email")
    add.set_defaults(run=add_user)
    listing = users.add_parser("list", help="every user, one line of JSON each")
    listing.set_defaults(run=list_users)
    disable = users.add_parser("disable", help="disable a user: their keys stop working at once")
    disable.add_argument("name")
    disable.set_defaults(run=disable_user)

    keys = commands.add_parser("keys", help="issue, list and revoke API keys").add_subparsers(
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
    create.add_argument("--plan", help="plan of a new user (default: access.default_plan)")
    create.add_argument("--email", help="email of a new user")
    create.add_argument("--expires-in-days", type=float, help="the key stops working after this")
    create.set_defaults(run=create_key)
    key_list = keys.add_parser("list", help="keys (prefixes only), one line of JSON each")
    key_list.add_argument("--user", help="only this user's keys")
    key_list.set_defaults(run=list_keys)
    revoke = keys.add_parser("revoke", help="revoke a key: refused from the next request on")
    revoke.add_argument("key", help="the key's id or prefix (ork_...)")
    revoke.set_defaults(run=revoke_key)
    for parser in (add, listing, disable, create, key_list, revoke):
        parser.add_argument("--config", type=Path, help="YAML config (default: built-in defaults)")

    db = commands.add_parser("db", help="migrate the database to this version").add_subparsers(
        dest="db_command", metavar="ACTION"
    )
    db.required = True
    upgrade = db.add_parser(
        "upgrade", help="apply the schema migrations (serve and worker also do)"
    )
    upgrade.add_argument("--config", type=Path, help="YAML config (default: built-in defaults)")
    upgrade.set_defaults(run=db_upgrade)

    config = commands.add_parser(
        "config", help="check a config file and print the effective settings"
    ).add_subparsers(dest="config_command", metavar="ACTION")
    config.required = True
    check = config.add_parser(
        "check", help="validate a config and print the effective settings as JSON"
    )
    check.add_argument("file", type=Path, help="YAML config")
    check.set_defaults(run=config_check)


@contextmanager
def _administration(path: Path | None) -> Iterator:
    """The operator's actions on the config's database; a refusal exits 2 (cli.main)."""
    from service.core.runtime import Runtime
    from service.domain.admin import Administration

    runtime = Runtime.open(settings_or_usage_error(path))
    try:
        yield Administration(runtime)
    finally:
        runtime.close()


def _actor():
    from service.domain.audit import Actor

    return Actor(id=None, name=f"cli:{getpass.getuser()}", role="operator")


def add_user(args: argparse.Namespace) -> int:
    with _administration(args.config) as admin:
        user = admin.add_user(_actor(), args.name, args.role, plan=args.plan, email=args.email)
    print(json.dumps({"id": user.id, "name": user.name, "role": user.role, "plan": user.plan}))
    return EXIT_OK


def list_users(args: argparse.Namespace) -> int:
    with _administration(args.config) as admin:
        for user in admin.list_users():
            print(json.dumps(user))
    return EXIT_OK


def disable_user(args: argparse.Namespace) -> int:
    with _administration(args.config) as admin:
        user, changed = admin.disable_user(_actor(), args.name)
    if changed:
        print(f"disabled {user.name}; their keys no longer work", file=sys.stderr)
    else:
        print(f"{user.name} was already disabled; their keys do not work", file=sys.stderr)
    return EXIT_OK


def create_key(args: argparse.Namespace) -> int:
    with _administration(args.config) as admin:
        issued = admin.issue_key(
            _actor(),
            args.user,
            role=args.role,
            plan=args.plan,
            email=args.email,
            expires_in_days=args.expires_in_days,
        )
    user = issued.user
    print(issued.key)
    print(f"created key {issued.prefix}... for {user.name} ({user.role})", file=sys.stderr)
    return EXIT_OK


def list_keys(args: argparse.Namespace) -> int:
    with _administration(args.config) as admin:
        for key in admin.list_keys(user_name=args.user):
            print(json.dumps(key))
    return EXIT_OK


def revoke_key(args: argparse.Namespace) -> int:
    with _administration(args.config) as admin:
        revoked, changed = admin.revoke_key(_actor(), args.key)
    state = "revoked" if changed else "was already revoked:"
    print(f"{state} {revoked['prefix']}", file=sys.stderr)
    return EXIT_OK


def db_upgrade(args: argparse.Namespace) -> int:
    settings = settings_or_usage_error(args.config)
    from service.core.db.engine import create_engine
    from service.core.db.migrate import upgrade

    engine = create_engine(settings.database_url)
    try:
        revision = upgrade(engine)
    finally:
        engine.dispose()
    print(f"database at revision {revision}")
    return EXIT_OK


def config_check(args: argparse.Namespace) -> int:
    settings = settings_or_usage_error(args.file)
    effective = settings.effective()
    effective["models"] = {
        name: settings.resolve_model(name)[1].model_dump(mode="json")
        for name in settings.served_models()
    }
    print(json.dumps(effective, indent=2))
    print(f"{args.file}: valid", file=sys.stderr)
    return EXIT_OK
