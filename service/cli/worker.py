"""`openreel worker`: a standalone worker, the way GPU hosts join a deployment."""

from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path

from service.cli.common import (
    EXIT_OK,
    UsageError,
    log_to_stderr,
    quiet_libraries,
    settings_or_usage_error,
)


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "worker",
        help="render queued jobs from the shared database and storage",
        description="Claim and render jobs of the configured models until SIGTERM or Ctrl-C. "
        "A running job may finish within worker.shutdown_grace_seconds; a second signal "
        "gives it back to the queue at once.",
    )
    parser.add_argument("--config", type=Path, help="YAML config (default: built-in defaults)")
    parser.add_argument("--max-jobs", type=int, help="stop after this many jobs")
    parser.add_argument(
        "--until-idle", action="store_true", help="stop when no job is waiting (batch hosts)"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    settings = settings_or_usage_error(args.config)
    if args.max_jobs is not None and args.max_jobs < 1:
        raise UsageError(f"--max-jobs must be 1 or more, got {args.max_jobs}")

    log_to_stderr()
    quiet_libraries()
    from service.core.runtime import Runtime
    from service.jobs.runner import PipelineRunner
    from service.jobs.worker import Worker

    runtime = Runtime.open(settings)
    worker = Worker.for_runtime(runtime, PipelineRunner(runtime))
    stop = threading.Event()

    def on_signal(signum, frame) -> None:
        if stop.is_set():  # asked twice: give the running job back now
            worker.settings = worker.settings.model_copy(update={"shutdown_grace_seconds": 0})
        stop.set()
        worker.wake.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        worker.run(stop, max_jobs=args.max_jobs, until_idle=args.until_idle)
    finally:
        runtime.close()
    return EXIT_OK
