"""`openreel serve`: the HTTP API, with its embedded worker(s), on one machine."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from service.cli.common import (
    EXIT_OK,
    UsageError,
    log_to_stderr,
    quiet_libraries,
    settings_or_usage_error,
)
from service.domain.audit import scrub


class ScrubSecrets(logging.Filter):
    """Invitation codes travel in a URL path (/v1/invitations/{code}/redeem): cut them to
    their prefix before the access log writes the request line."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.args = tuple(scrub(arg) for arg in record.args)
        return True


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "serve",
        help="run the OpenAI-compatible HTTP API and its embedded worker",
        description="Serve /v1/videos. Applies database migrations first. Stops cleanly on "
        "SIGTERM: a running job may finish within worker.shutdown_grace_seconds, then goes "
        "back to the queue.",
    )
    parser.add_argument("--config", type=Path, help="YAML config (default: built-in defaults)")
    parser.add_argument("--host", help="address to listen on (default: server.host)")
    parser.add_argument("--port", type=int, help="port (default: server.port)")
    parser.add_argument(
        "--workers", type=int, help="embedded workers (default: server.embedded_workers)"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    settings = settings_or_usage_error(args.config)
    server = settings.server.model_copy(
        update={
            key: value
            for key, value in (
                ("host", args.host),
                ("port", args.port),
                ("embedded_workers", args.workers),
            )
            if value is not None
        }
    )
    if not 0 <= server.port <= 65535:
        raise UsageError(f"--port must be from 0 to 65535, got {server.port}")
    if not 0 <= server.embedded_workers <= 8:
        raise UsageError(f"--workers must be from 0 to 8, got {server.embedded_workers}")
    settings = settings.model_copy(update={"server": server})

    log_to_stderr()
    if server.embedded_workers:
        quiet_libraries()
    import uvicorn

    from service.api.app import create_app

    logging.getLogger("uvicorn.access").addFilter(ScrubSecrets())
    uvicorn.run(
        create_app(settings, freeze_startup_heap=True),
        host=server.host,
        port=server.port,
        log_level="info",
    )
    return EXIT_OK
