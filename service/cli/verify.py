"""`openreel verify FILE`: did OpenReel make this clip? The operator's view on the host: the job
id is always named."""

from __future__ import annotations

import argparse
from pathlib import Path

from service.cli.common import EXIT_OK, UsageError, print_json, settings_or_usage_error


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "verify",
        help="check whether a clip was made by this OpenReel (C2PA, watermark, hash index)",
        description="Check a video file: its C2PA credentials against this service's root, "
        "the invisible watermark, and a perceptual-hash match against every output. Prints "
        "one line of JSON; exits 0 whatever the answer, 2 when the file cannot be read.",
    )
    parser.add_argument("file", type=Path, help="the video file to check")
    parser.add_argument("--config", type=Path, help="YAML config (default: built-in defaults)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    settings = settings_or_usage_error(args.config)
    if not args.file.is_file():
        raise UsageError(f"{args.file}: no such file")
    from service.core.runtime import Runtime
    from service.provenance.marks import Provenance
    from service.provenance.verification import NotAVideo, verify_file

    runtime = Runtime.open(settings)
    try:
        result = verify_file(
            args.file,
            settings=settings,
            engine=runtime.engine,
            provenance=Provenance(settings),
            can_see=lambda job_id: True,
        )
    except NotAVideo as exc:
        raise UsageError(f"{args.file}: {exc}") from None
    finally:
        runtime.close()
    print_json(result.to_dict())
    return EXIT_OK
