"""What every `openreel` command shares: exit codes, the usage error, quiet libraries."""

from __future__ import annotations

import json
import logging
import sys
import warnings
from pathlib import Path
from typing import Any

from service.core.settings import ConfigError, Settings, load_settings

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class UsageError(Exception):
    """Bad input from the user: reported on one line, exit code 2."""


def quiet_libraries() -> None:
    """Silence diffusers' and transformers' own progress bars and chatter: the command
    draws its own progress on stderr and keeps stdout for its JSON."""
    import diffusers
    import transformers

    diffusers.utils.logging.set_verbosity_error()
    diffusers.utils.logging.disable_progress_bar()
    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=UserWarning, module="torch")


def print_json(value: dict[str, Any]) -> None:
    """One line of JSON on stdout."""
    sys.stdout.write(json.dumps(value, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def settings_or_usage_error(path: Path | None) -> Settings:
    """The settings of the config at `path`, or a UsageError saying why there are none."""
    try:
        return load_settings(path)
    except ConfigError as exc:
        raise UsageError(str(exc)) from None


def log_to_stderr() -> None:
    """Timestamped log lines on stderr, for the long-running commands."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
