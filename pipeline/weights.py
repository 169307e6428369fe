"""A digest of a model's weights, for provenance: which exact files made a clip.

For a model from the Hugging Face hub cache, the files are already named by their content
(large files by SHA-256), so the digest costs nothing. For a local folder every file is read
once; the result is remembered by path, size and modification time.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path

logger = logging.getLogger(__name__)

_MEMO_FILE = "weights-digests.json"


def weights_digest(
    source: str | Path, *, revision: str | None = None, cache_dir: Path | None = None
) -> str | None:
    """`sha256:<hex>` over the model's files and their contents; None if they cannot be found."""
    path = Path(source).expanduser()
    if path.is_dir():
        return _folder_digest(path, cache_dir)
    try:
        from huggingface_hub import snapshot_download

        snapshot = Path(snapshot_download(str(source), revision=revision, local_files_only=True))
    except Exception:  # not in the hub cache (or no hub client): nothing to name it by
        logger.warning("no weights digest for %s: not found in the hub cache", source)
        return None
    lines = []
    for file in sorted(p for p in snapshot.rglob("*") if p.is_file()):
        blob = file.resolve().name  # hub cache blobs are named by their content hash
        lines.append(f"{file.relative_to(snapshot).as_posix()}\t{blob}")
    return _combine(lines)


def _combine(lines: list[str]) -> str:
    return "sha256:" + hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


def _folder_digest(folder: Path, cache_dir: Path | None) -> str:
    files = sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )
    memo_path = cache_dir / _MEMO_FILE if cache_dir is not None else None
    memo = _read_memo(memo_path)
    changed = False
    lines = []
    for file in files:
        stat = file.stat()
        key = f"{file.resolve()}:{stat.st_size}:{stat.st_mtime_ns}"
        digest = memo.get(key)
        if digest is None:
            digest = _file_sha256(file)
            memo[key] = digest
            changed = True
        lines.append(f"{file.relative_to(folder).as_posix()}\t{digest}")
    if changed and memo_path is not None:
        _write_memo(memo_path, memo)
    return _combine(lines)


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def _read_memo(path: Path | None) -> dict[str, str]:
    if path is None or not path.is_file():
        return {}
    try:
        return dict(json.loads(path.read_text()))
    except (OSError, ValueError):
        return {}


def _write_memo(path: Path, memo: dict[str, str]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        scratch = path.with_name(f".{path.name}.{os.getpid()}")
        scratch.write_text(json.dumps(memo, indent=0, sort_keys=True))
        os.replace(scratch, path)
    except OSError as exc:  # a read-only cache only costs a re-read next time
        logger.warning("cannot remember weights digests in %s: %s", path, exc)
