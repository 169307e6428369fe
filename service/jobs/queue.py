"""The job queue, kept in the `videos` table: one method per state change of a job.

    queued ──claim──▶ in_progress ──complete──▶ completed
      │                 ├──fail──▶ failed (error code)
      │                 ├──retry_later──▶ queued, after a back-off (storage fault)
      │                 ├──release──▶ queued            (worker shutting down)
      │                 └──reap──▶ queued (next attempt), or failed worker_lost
      └──cancel──▶ failed cancelled      in_progress ──cancel──▶ flagged; the worker stops

A long clip's worker keeps each finished window (`keep_window`), so the job's next attempt
resumes after it; the windows are forgotten when the job ends (`forget_windows`).

Every state change is one transaction. Most are one statement, run in autocommit (no
BEGIN/COMMIT round trips): a claim is an UPDATE of the best queued row (with FOR UPDATE SKIP
LOCKED on PostgreSQL), so two workers never get the same job. Those of several statements
(a guarded enqueue, cancel, delete, reap) run in one transaction. Changes by a worker name
the worker, so one whose lease was reaped cannot overwrite the job's next attempt.

Reads are in `service.jobs.records`, the worker registry in `service.jobs.workers`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine, Row

from service.core.db.errors import violated_constraint
from service.core.db.prepared import PreparedStatement
from service.core.db.schema import audit_log, video_windows, videos
from service.jobs.status import COMPLETED, FAILED, IN_PROGRESS, QUEUED

IDEMPOTENCY_CONSTRAINT = "uq_videos_user_idempotency"

Guard = Callable[[sa.Connection, int], dict[str, Any]]
"""guard(connection, pending) -> more columns; raises to refuse the job."""


class DuplicateIdempotencyKey(Exception):
    """Another job of this user already holds the idempotency key."""


@dataclass(frozen=True)
class Heartbeat:
    owned: bool
    """False when the job is no longer this worker's (reaped, or finished elsewhere)."""
    cancel_requested: bool


class JobQueue:
    def __init__(self, engine: Engine, *, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.clock = clock
        self._postgres = engine.dialect.name == "postgresql"
        self._single = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._claims: dict[tuple[str, ...], tuple[PreparedStatement, PreparedStatement]] = {}
        self._owned_updates: dict[tuple, tuple[PreparedStatement, ...]] = {}
        self._user_locks: dict[str, threading.Lock] = {}
        self._locks_lock = threading.Lock()
        self._held = threading.local()

    @contextmanager
    def _hot(self) -> Iterator[sa.Connection]:
        """An autocommit connection kept by the calling thread for the workers' hot path
        (claim, heartbeat, progress, outcome): a pool checkout per statement cost a third
        of a worker's CPU per job. On any database error it is closed and the next call
        takes a fresh one from the pool."""
        connection = getattr(self._held, "connection", None)
        if connection is None or connection.closed:
            connection = self._held.connection = self._single.connect()
        try:
            yield connection
        except sa.exc.DBAPIError:
            self._held.connection = None
            connection.close()
            raise

    def close_connections(self) -> None:
        """Give back the calling thread's kept connection (a worker thread that ends)."""
        connection = getattr(self._held, "connection", None)
        self._held.connection = None
        if connection is not None:
            connection.close()

    # ------------------------------------------------------------------ the API's side

    def enqueue(self, values: dict[str, Any]) -> Row:
        """Insert a queued job; DuplicateIdempotencyKey if the user's key is taken."""
        values = {"status": QUEUED, "created_at": self.clock(), **values}
        with self._single.connect() as connection:
            return self._insert(connection, values)

    # One statement, its values passed as parameters: building `.values(**values)` for the
    # row's fifty columns cost more than the insert (a third of a create's time).
    _INSERT = videos.insert().returning(*videos.c)

    @classmethod
    def _insert(cls, connection: sa.Connection, values: dict[str, Any]) -> Row:
        try:
            return connection.execute(cls._INSERT, values).one()
        except sa.exc.IntegrityError as exc:
            if violated_constraint(exc, videos) == IDEMPOTENCY_CONSTRAINT:
                raise DuplicateIdempotencyKey(values["idempotency_key"]) from exc
            raise

    def enqueue_guarded(
        self,
        values: dict[str, Any],
        guard: Guard,
        *,
        then: Callable[[sa.Connection, Row], None] | None = None,
    ) -> Row:
        """Insert a queued job after `guard(connection, pending)` has checked the user's
        quotas and limits (raising to refuse) and returned more columns to store. `pending`
        counts the user's queued and running jobs. The check and the insert are one
        transaction under a per-user lock, so simultaneous requests cannot slip past a
        quota together; `then(connection, job)` writes what must stand or fall with the
        job (its audit entries) in the same transaction."""
        user_id = values["user_id"]
        values = {"status": QUEUED, "created_at": self.clock(), **values}
        with self._user_lock(user_id), self.engine.begin() as connection:
            if self._postgres:
                connection.execute(
                    sa.text("SELECT pg_advisory_xact_lock(hashtext(:user))"), {"user": user_id}
                )
            pending = connection.execute(
                sa.select(sa.func.count()).where(
                    videos.c.user_id == user_id, videos.c.status.in_((QUEUED, IN_PROGRESS))
                )
            ).scalar_one()
            values.update(guard(connection, pending))
            job = self._insert(connection, values)
            if then is not None:
                then(connection, job)
            return job

    def _user_lock(self, user_id: str) -> threading.Lock:
        """In-process lock per user: SQLite writers in one process need it; PostgreSQL's
        advisory lock covers other processes."""
        with self._locks_lock:
            return self._user_locks.setdefault(user_id, threading.Lock())

    def forget_idempotency_keys(self, older_than: float) -> int:
        """Free keys used before `older_than`, so they can name new requests."""
        with self._single.connect() as connection:
            return connection.execute(
                videos.update()
                .where(videos.c.idempotency_key.is_not(None), videos.c.created_at < older_than)
                .values(idempotency_key=None, request_hash=None)
            ).rowcount

    def set_priority(self, video_id: str, priority: int) -> Row | None:
        """Move a queued job up or down the queue; None unless it is queued."""
        with self._single.connect() as connection:
            return connection.execute(
                videos.update()
                .where(videos.c.id == video_id, videos.c.status == QUEUED)
                .values(priority=priority)
                .returning(*videos.c)
            ).first()

    def cancel(self, video_id: str) -> Row | None:
        """Queued: failed with code cancelled at once. Running: flagged for its worker, which
        stops at the next step. Finished: unchanged. Returns the row as it now is."""
        with self.engine.begin() as connection:
            self._cancel(connection, video_id)
            return connection.execute(sa.select(videos).where(videos.c.id == video_id)).first()

    def _cancel(self, connection: sa.Connection, video_id: str) -> None:
        connection.execute(
            videos.update()
            .where(videos.c.id == video_id, videos.c.status == QUEUED)
            .values(
                status=FAILED,
                error_code="cancelled",
                error_message="cancelled before it started",
                completed_at=self.clock(),
            )
        )
        connection.execute(
            videos.update()
            .where(videos.c.id == video_id, videos.c.status == IN_PROGRESS)
            .values(cancel_requested=True)
        )

    def mark_deleted(self, video_id: str) -> Row | None:
        """Cancel the job if it is not finished, and hide it from its owner for good; None
        if it was deleted already."""
        with self.engine.begin() as connection:
            self._cancel(connection, video_id)
            return connection.execute(
                videos.update()
                .where(videos.c.id == video_id, videos.c.deleted_at.is_(None))
                .values(deleted_at=self.clock())
                .returning(*videos.c)
            ).first()

    def mark_files_deleted(self, video_id: str) -> None:
        with self._single.connect() as connection:
            connection.execute(
                videos.update().where(videos.c.id == video_id).values(files_deleted_at=self.clock())
            )

    # ------------------------------------------------------------------ the workers' side

    def claim(self, worker_id: str, models: Sequence[str], *, lease_seconds: float) -> Row | None:
        """Take the best queued job of one of `models` whose user is below their running
        limit, or None: highest priority, then fair share, then oldest."""
        models = tuple(models)
        prepared = self._claims.get(models)
        if prepared is None:
            prepared = self._claims[models] = (
                PreparedStatement(self.engine, self._build_claim(self._queue_head(models))),
                PreparedStatement(self.engine, self._build_claim(self._users_best(models))),
            )
        now = self.clock()
        values = {"worker_id": worker_id, "now": now, "lease": now + lease_seconds}
        values.update({f"model_{n}": name for n, name in enumerate(models)})
        with self._hot() as connection:
            for statement in prepared:
                row = statement.execute(connection, values)[1]
                if row is not None:
                    return row
        return None

    # Both candidate sets below cost the same at any queue depth. The head of the queue
    # holds the answer unless its first HEAD_ROWS jobs all belong to users already running
    # their limit (one user with a deep queue, say); then each queued user's best job, found
    # by an index probe per user, is the answer.
    HEAD_ROWS = 64

    @staticmethod
    def _claimable(table, model_count: int) -> list:
        queued = sa.literal_column(f"'{QUEUED}'")
        now = sa.bindparam("now", type_=sa.Double())
        return [
            table.c.status == queued,
            table.c.deleted_at.is_(None),
            sa.or_(*(table.c.model_name == sa.bindparam(f"model_{n}") for n in range(model_count))),
            sa.or_(table.c.not_before.is_(None), table.c.not_before <= now),
        ]

    @staticmethod
    def _claim_order(table) -> list:
        return [table.c.priority.desc(), table.c.fair_rank.asc(), table.c.seq.asc()]

    def _window(self, table, *conditions, limit: int | None = None):
        """Claimable rows of `table` in claim order, as a subquery. On PostgreSQL each row is
        locked as the claim reads it (SKIP LOCKED: rows another worker is taking are passed
        over), and the claim reads only up to its first row whose user may start a job."""
        window = (
            sa.select(table.c.seq, table.c.user_id, table.c.max_running, table.c.priority,
                      table.c.fair_rank)
            .where(*conditions)
            .order_by(*self._claim_order(table))
            .limit(limit)
        )  # fmt: skip
        if self._postgres:
            window = window.with_for_update(skip_locked=True)
        return window.subquery("window")

    def _queue_head(self, models: tuple[str, ...]):
        """The first HEAD_ROWS claimable jobs."""
        head = videos.alias("head")
        return self._window(head, *self._claimable(head, len(models)), limit=self.HEAD_ROWS)

    def _users_best(self, models: tuple[str, ...]):
        """Each user's best claimable job: the users with queued jobs are walked as a
        loose index scan (the next user id after the last one), so a user's thousands of
        jobs cost one probe."""
        queued = sa.literal_column(f"'{QUEUED}'")
        first, following, best = (
            videos.alias("first"),
            videos.alias("following"),
            videos.alias("best"),
        )
        users = (
            sa.select(sa.func.min(first.c.user_id).label("user_id"))
            .where(first.c.status == queued)
            .cte("queued_users", recursive=True)
        )
        users = users.union_all(
            sa.select(
                sa.select(sa.func.min(following.c.user_id))
                .where(following.c.status == queued, following.c.user_id > users.c.user_id)
                .scalar_subquery()
            ).where(users.c.user_id.is_not(None))
        )
        users_best = (
            sa.select(best.c.seq)
            .where(best.c.user_id == users.c.user_id, *self._claimable(best, len(models)))
            .order_by(*self._claim_order(best))
            .limit(1)
            .scalar_subquery()
        )
        candidate = videos.alias("candidate")
        return self._window(
            candidate,
            candidate.c.seq.in_(sa.select(users_best).where(users.c.user_id.is_not(None))),
            candidate.c.status == queued,
        )

    def _build_claim(self, window):
        """UPDATE the first job of `window` whose user may start one more."""
        # Literal statuses: a parameter would keep PostgreSQL's cached generic plan from
        # proving the queued-rows index applies.
        queued = sa.literal_column(f"'{QUEUED}'")
        running = videos.alias("running")
        running_of_user = (
            sa.select(sa.func.count())
            .where(
                running.c.user_id == window.c.user_id,
                running.c.status == sa.literal_column(f"'{IN_PROGRESS}'"),
            )
            .scalar_subquery()
        )
        # No ORDER BY here: the window's rows stream in claim order, and this takes the first
        # that passes, so only the rows read up to it are checked (and, on PostgreSQL,
        # locked). Sorting them again would read, check and lock the whole window.
        best = sa.select(window.c.seq).where(running_of_user < window.c.max_running).limit(1)
        now = sa.bindparam("now", type_=sa.Double())
        return (
            videos.update()
            .where(videos.c.seq == best.scalar_subquery(), videos.c.status == queued)
            .values(
                status=IN_PROGRESS,
                worker_id=sa.bindparam("worker_id"),
                attempts=videos.c.attempts + 1,
                lease_expires_at=sa.bindparam("lease", type_=sa.Double()),
                heartbeat_at=now,
                started_at=sa.func.coalesce(videos.c.started_at, now),
                not_before=None,
                progress=0,
                stage="starting",
            )
            .returning(*videos.c)
        )

    def _update_owned(
        self,
        video_id: str,
        worker_id: str,
        values: dict[str, Any],
        *,
        report_cancel: bool = False,
        audit: dict[str, Any] | None = None,
    ):
        """UPDATE the job if it is still `worker_id`'s; the statement for each set of columns
        is compiled once. Returns the row count, or the cancel flag row with `report_cancel`.
        With `audit` (an audit_log row), the entry is written in the same transaction, and
        only if the job was changed."""
        key = (tuple(sorted(values)), report_cancel, audit is not None)
        prepared = self._owned_updates.get(key)
        if prepared is None:
            prepared = self._owned_updates[key] = self._prepare_owned(*key)
        parameters = {"owned_id": video_id, "owned_by": worker_id}
        parameters.update({f"set_{name}": value for name, value in values.items()})
        if audit is None:
            with self._hot() as connection:
                rowcount, row = prepared[0].execute(connection, parameters)
            return row if report_cancel else rowcount
        parameters.update({f"audit_{name}": value for name, value in audit.items()})
        if self._postgres:  # one statement: the change and, from its RETURNING, the entry
            with self._hot() as connection:
                return prepared[0].execute(connection, parameters)[0]
        with self.engine.begin() as connection:
            rowcount = prepared[0].execute(connection, parameters)[0]
            if rowcount == 1:
                prepared[1].execute(connection, parameters)
            return rowcount

    def _prepare_owned(
        self, names: tuple[str, ...], report_cancel: bool, audited: bool
    ) -> tuple[PreparedStatement, ...]:
        statement = (
            videos.update()
            .where(
                videos.c.id == sa.bindparam("owned_id"),
                videos.c.worker_id == sa.bindparam("owned_by"),
                videos.c.status == sa.literal_column(f"'{IN_PROGRESS}'"),
            )
            .values({name: sa.bindparam(f"set_{name}") for name in names})
        )
        if report_cancel:
            statement = statement.returning(videos.c.cancel_requested)
        if not audited:
            return (PreparedStatement(self.engine, statement),)
        columns = [column.name for column in audit_log.c if column.name != "seq"]
        entry = {
            name: sa.bindparam(f"audit_{name}", type_=audit_log.c[name].type) for name in columns
        }
        if self._postgres:
            changed = statement.returning(videos.c.id).cte("changed")
            entry["target_id"] = changed.c.id
            insert = audit_log.insert().from_select(
                columns, sa.select(*(entry[name] for name in columns)).select_from(changed)
            )
            return (PreparedStatement(self.engine, insert),)
        return (
            PreparedStatement(self.engine, statement),
            PreparedStatement(self.engine, audit_log.insert().values(entry)),
        )

    @staticmethod
    def _beat(row) -> Heartbeat:
        if row is None:
            return Heartbeat(owned=False, cancel_requested=True)
        return Heartbeat(owned=True, cancel_requested=bool(row.cancel_requested))

    def heartbeat(self, video_id: str, worker_id: str, *, lease_seconds: float) -> Heartbeat:
        now = self.clock()
        values = {"heartbeat_at": now, "lease_expires_at": now + lease_seconds}
        return self._beat(self._update_owned(video_id, worker_id, values, report_cancel=True))

    def report_progress(
        self, video_id: str, worker_id: str, *, progress: int, stage: str, **fields: Any
    ) -> Heartbeat:
        """Write progress (and any other columns, e.g. the revised prompt); say whether the
        job is still this worker's and whether a cancel was asked for."""
        values = {"progress": progress, "stage": stage, **fields}
        return self._beat(self._update_owned(video_id, worker_id, values, report_cancel=True))

    def complete(
        self,
        video_id: str,
        worker_id: str,
        *,
        retention_seconds: float,
        audit: dict[str, Any] | None = None,
        **fields: Any,
    ) -> bool:
        """Completed, if still `worker_id`'s; `audit` is the entry recording it, committed
        with it (see `service.domain.audit.entry`)."""
        now = self.clock()
        values = {
            "status": COMPLETED,
            "progress": 100,
            "stage": "done",
            "completed_at": now,
            "expires_at": now + retention_seconds,
            "lease_expires_at": None,
            **fields,
        }
        return self._update_owned(video_id, worker_id, values, audit=audit) == 1

    def fail(
        self,
        video_id: str,
        worker_id: str,
        *,
        code: str,
        message: str,
        audit: dict[str, Any] | None = None,
        **fields: Any,
    ) -> bool:
        values = {
            "status": FAILED,
            "error_code": code,
            "error_message": message[:2000],
            "completed_at": self.clock(),
            "lease_expires_at": None,
            **fields,
        }
        return self._update_owned(video_id, worker_id, values, audit=audit) == 1

    def retry_later(
        self, video_id: str, worker_id: str, *, delay: float, audit: dict[str, Any] | None = None
    ) -> bool:
        """Put the job back in the queue, not to be claimed for `delay` seconds (back-off
        after a fault that is not the job's); the attempt counts. Its kept windows stay."""
        values = {
            "status": QUEUED,
            "worker_id": None,
            "lease_expires_at": None,
            "not_before": self.clock() + delay,
            "progress": 0,
            "stage": None,
        }
        return self._update_owned(video_id, worker_id, values, audit=audit) == 1

    def release(self, video_id: str, worker_id: str) -> bool:
        """Give a job back untouched (the worker is stopping): this attempt does not count."""
        statement = (
            videos.update()
            .where(
                videos.c.id == video_id,
                videos.c.worker_id == worker_id,
                videos.c.status == IN_PROGRESS,
            )
            .values(
                status=QUEUED,
                worker_id=None,
                lease_expires_at=None,
                attempts=videos.c.attempts - 1,
                progress=0,
                stage=None,
            )
        )
        with self._single.connect() as connection:
            return connection.execute(statement).rowcount == 1

    def reap(self) -> dict[str, list[str]]:
        """Jobs whose worker stopped heart-beating: cancelled ones fail as cancelled, those out
        of attempts fail as worker_lost, the rest go back to the queue. One transaction, so
        a job is settled by exactly one of the three."""
        now = self.clock()
        lost = sa.and_(videos.c.status == IN_PROGRESS, videos.c.lease_expires_at < now)
        ended = {"completed_at": now, "lease_expires_at": None, "status": FAILED}
        changes = {
            "cancelled": (
                videos.c.cancel_requested.is_(True),
                {**ended, "error_code": "cancelled", "error_message": "cancelled; its worker stopped"},
            ),
            "worker_lost": (
                videos.c.attempts >= videos.c.max_attempts,
                {
                    **ended,
                    "error_code": "worker_lost",
                    "error_message": "the worker running this job stopped answering, too many times",
                },
            ),
            "requeued": (
                sa.true(),
                {"status": QUEUED, "worker_id": None, "lease_expires_at": None, "progress": 0,
                 "stage": None},
            ),
        }  # fmt: skip
        outcome: dict[str, list[str]] = {}
        with self.engine.begin() as connection:
            for name, (condition, values) in changes.items():
                statement = videos.update().where(lost, condition).values(**values)
                outcome[name] = list(connection.execute(statement.returning(videos.c.id)).scalars())
        return outcome

    # ------------------------------------------------------------------ windows of long clips

    def keep_window(
        self,
        video_id: str,
        worker_id: str,
        *,
        index: int,
        segment_key: str,
        tail_key: str,
        frames: int,
    ) -> bool:
        """Record a finished window of a job still `worker_id`'s; False when it is not."""
        owned = sa.and_(
            videos.c.id == video_id,
            videos.c.worker_id == worker_id,
            videos.c.status == IN_PROGRESS,
        )
        with self.engine.begin() as connection:
            job = connection.execute(
                videos.update()
                .where(owned)
                .values(windows_done=index + 1)
                .returning(videos.c.attempts)
            ).first()
            if job is None:
                return False
            connection.execute(
                video_windows.delete().where(
                    video_windows.c.video_id == video_id, video_windows.c.index == index
                )
            )
            connection.execute(
                video_windows.insert().values(
                    video_id=video_id,
                    index=index,
                    segment_key=segment_key,
                    tail_key=tail_key,
                    frames=frames,
                    attempt=job.attempts,
                    worker_id=worker_id,
                    made_at=self.clock(),
                )
            )
        return True

    def forget_windows(self, video_id: str) -> None:
        """The job's kept windows are no longer needed (its files are removed first)."""
        with self._single.connect() as connection:
            connection.execute(video_windows.delete().where(video_windows.c.video_id == video_id))
