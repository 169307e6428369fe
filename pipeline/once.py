"""A directory made once and then reused, safely when several processes make it at once."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path


def build_once(target: Path, marker: str, build: Callable[[Path], None]) -> Path:
    """`target`, made by `build(scratch)` unless `target/marker` exists already.

    Each process builds into a scratch folder beside `target` (mode 0700) and renames it into
    place; the first rename wins and the others use what it made."""
    target = Path(target)
    if (target / marker).is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        build(scratch)
        try:
            os.rename(scratch, target)
        except OSError:
            if not (target / marker).is_file():
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target
