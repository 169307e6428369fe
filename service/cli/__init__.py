"""The `openreel` command line.

Bad input exits with code 2 and one line on stderr; a failure while working exits with 1;
an interrupt exits with 130. Heavy imports (torch, diffusers) happen only in the commands
that need them, after their input has been checked.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

from service.cli import admin, generate, moderation, recaption, serve, toy, verify, worker
from service.cli.common import EXIT_INTERRUPTED, EXIT_USAGE, UsageError
from service.domain.errors import DomainError


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # argparse prints the whole usage block; one line says enough and fits a log.
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="openreel",
        description="OpenReel: prompt-to-video on open models.",
        epilog="Every command keeps its database, outputs and keys in the data dir: "
        "$OPENREEL_DATA_DIR, or data_dir in --config, else ./openreel-data in the current "
        "directory (so run serve, keys and users from the same place, or set the variable).",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True
    generate.add_parser(commands)
    recaption.add_parser(commands)
    serve.add_parser(commands)
    worker.add_parser(commands)
    verify.add_parser(commands)
    toy.add_parser(commands)
    moderation.add_parser(commands)
    admin.add_parsers(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (UsageError, DomainError) as exc:  # a refusal of the domain is bad input too
        print(f"openreel {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"openreel {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def run() -> NoReturn:
    """Console-script entry point."""
    sys.exit(main())
