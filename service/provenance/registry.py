"""The outputs registry: every clip made, by watermark id and perceptual fingerprint, so that
verify can name the job a clip came from."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine, Row

from pipeline.provenance.fingerprint import distance, from_hex, to_hex
from service.core.db.schema import outputs


def register_output(
    engine: Engine,
    *,
    mark_id: int,
    key_id: str,
    origin: str,
    job_id: str,
    user_id: str | None,
    model: str,
    fingerprint: Sequence[int],
    source_job_id: str | None = None,
) -> None:
    """Record one clip; a second attempt at the same job's clip (resumed after its worker
    died between registering and completing) replaces the first's record."""
    with engine.begin() as connection:
        connection.execute(
            outputs.delete().where(
                outputs.c.key_id == key_id, outputs.c.mark_id == mark_id, outputs.c.job_id == job_id
            )
        )
        connection.execute(
            outputs.insert().values(
                source_job_id=source_job_id,
                mark_id=mark_id,
                key_id=key_id,
                origin=origin,
                job_id=job_id,
                user_id=user_id,
                model=model,
                fingerprint=to_hex(fingerprint),
                created_at=time.time(),
            )
        )


def mark_taken(engine: Engine, key_id: str, mark_id: int) -> bool:
    with engine.connect() as connection:
        return (
            connection.execute(
                sa.select(outputs.c.seq).where(
                    outputs.c.key_id == key_id, outputs.c.mark_id == mark_id
                )
            ).first()
            is not None
        )


def by_mark(engine: Engine, key_id: str, mark_id: int) -> Row | None:
    with engine.connect() as connection:
        return connection.execute(
            sa.select(outputs).where(outputs.c.key_id == key_id, outputs.c.mark_id == mark_id)
        ).first()


def known_mark_ids(engine: Engine, key_id: str) -> list[int]:
    with engine.connect() as connection:
        return list(
            connection.execute(
                sa.select(outputs.c.mark_id).where(outputs.c.key_id == key_id)
            ).scalars()
        )


@dataclass(frozen=True)
class HashMatch:
    output: Row
    distance: float
    """Mean Hamming distance of the clip's frame hashes to this output's, in bits of 64."""


def nearest(engine: Engine, fingerprint: Sequence[int], *, batch: int = 2000) -> HashMatch | None:
    """The registered output whose fingerprint is closest to `fingerprint`."""
    best: HashMatch | None = None
    with engine.connect() as connection:
        result = connection.execution_options(yield_per=batch).execute(sa.select(outputs))
        for row in result:
            d = distance(fingerprint, from_hex(row.fingerprint))
            if best is None or d < best.distance:
                best = HashMatch(row, d)
    return best


def source_of(engine: Engine, job_id: str) -> str | None:
    """What the clip of `job_id` was made from: a job id, `upload`, or None (from text)."""
    query = sa.select(outputs.c.source_job_id).where(outputs.c.job_id == job_id).limit(1)
    with engine.connect() as connection:
        return connection.execute(query).scalar()
