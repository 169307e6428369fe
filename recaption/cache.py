"""Validated rewrites, kept in memory (least recently used first out) and optionally in a
SQLite file that survives restarts. Only validated LLM rewrites are stored: a fallback or a
refusal must be tried again next time."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recaption.config import CacheOptions


@dataclass(frozen=True)
class CachedRewrite:
    prompt: str
    tokens: int | None
    reasons: tuple[str, ...]


def cache_key(**parts: Any) -> str:
    """A stable key for everything that changes a rewrite."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


class RecaptionCache:
    def __init__(self, options: CacheOptions) -> None:
        self._max = options.max_entries
        self._memory: OrderedDict[str, CachedRewrite] = OrderedDict()
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        if options.sqlite_path is not None:
            path = Path(options.sqlite_path).expanduser()
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS recaption_cache ("
                " key TEXT PRIMARY KEY, prompt TEXT NOT NULL, tokens INTEGER,"
                " reasons TEXT NOT NULL, created_at REAL NOT NULL)"
            )

    def get(self, key: str) -> CachedRewrite | None:
        with self._lock:
            hit = self._memory.get(key)
            if hit is not None:
                self._memory.move_to_end(key)
                return hit
            if self._db is None:
                return None
            row = self._db.execute(
                "SELECT prompt, tokens, reasons FROM recaption_cache WHERE key = ?", (key,)
            ).fetchone()
            if row is None:
                return None
            hit = CachedRewrite(prompt=row[0], tokens=row[1], reasons=tuple(json.loads(row[2])))
            self._remember(key, hit)
            return hit

    def put(self, key: str, rewrite: CachedRewrite) -> None:
        with self._lock:
            self._remember(key, rewrite)
            if self._db is not None:
                self._db.execute(
                    "INSERT OR REPLACE INTO recaption_cache VALUES (?, ?, ?, ?, ?)",
                    (key, rewrite.prompt, rewrite.tokens, json.dumps(rewrite.reasons), time.time()),
                )

    def _remember(self, key: str, rewrite: CachedRewrite) -> None:
        self._memory[key] = rewrite
        self._memory.move_to_end(key)
        while len(self._memory) > self._max:
            self._memory.popitem(last=False)

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
