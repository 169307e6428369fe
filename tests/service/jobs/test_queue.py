"""The job queue on SQLite and on the real PostgreSQL: every state change of a job."""

from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa

from service.core.db.schema import videos
from service.core.runtime import Runtime
from service.domain import audit
from service.domain.accounts import ensure_user
from service.jobs.queue import DuplicateIdempotencyKey, JobQueue
from service.jobs.worker import Worker
from tests.service.conftest import FAST_WORKER, FastRunner, make_settings


def job_values(user_id: str, number: int = 0, **changes) -> dict:
    return {
        "id": f"video_{number:04d}_{time.monotonic_ns()}",
        "user_id": user_id,
        "model": "tiny-wan",
        "model_name": "tiny-wan",
        "prompt": f"prompt {number}",
        "negative_prompt": "",
        "seconds": "1",
        "size": "64x64",
        "width": 64,
        "height": 64,
        "num_frames": 17,
        "fps": 16,
        "seed": number,
        "steps": 2,
        "guidance": 5.0,
        "max_attempts": 2,
        "max_running": 100,  # no per-user cap unless a test sets one
        **changes,
    }


@pytest.fixture
def user(runtime):
    return ensure_user(runtime.engine, "tester1", "artist")


def test_claim_takes_the_highest_priority_then_the_oldest(runtime, user):
    queue = runtime.queue
    first = queue.enqueue(job_values(user.id, 1))
    second = queue.enqueue(job_values(user.id, 2))
    urgent = queue.enqueue(job_values(user.id, 3, priority=100))
    other_model = queue.enqueue(job_values(user.id, 4, model_name="tiny-ltx", priority=500))
    claimed = [queue.claim("w1", ["tiny-wan"], lease_seconds=30).id for _ in range(3)]
    assert claimed == [urgent.id, first.id, second.id]
    assert queue.claim("w1", ["tiny-wan"], lease_seconds=30) is None
    assert queue.claim("w2", ["tiny-ltx"], lease_seconds=30).id == other_model.id


def test_a_user_at_their_running_cap_waits_while_others_are_served(runtime, user):
    queue = runtime.queue
    other = ensure_user(runtime.engine, "someone", "artist")
    first = queue.enqueue(job_values(user.id, 1, max_running=1))
    second = queue.enqueue(job_values(user.id, 2, max_running=1))
    theirs = queue.enqueue(job_values(other.id, 3, max_running=1))
    assert queue.claim("w1", ["tiny-wan"], lease_seconds=30).id == first.id
    assert queue.claim("w2", ["tiny-wan"], lease_seconds=30).id == theirs.id  # not `second`
    assert queue.claim("w3", ["tiny-wan"], lease_seconds=30) is None
    queue.complete(first.id, "w1", retention_seconds=60)
    assert queue.claim("w3", ["tiny-wan"], lease_seconds=30).id == second.id


def test_a_user_behind_a_deep_queue_of_a_user_at_their_cap_is_still_served(runtime, user):
    queue = runtime.queue
    deep = [
        job_values(
            user.id,
            n,
            max_running=1,
            priority=10,
            fair_rank=n + 1,
            status="queued",
            created_at=time.time(),
        )
        for n in range(JobQueue.HEAD_ROWS + 20)
    ]
    with runtime.engine.begin() as connection:
        connection.execute(videos.insert(), deep)
    other = ensure_user(runtime.engine, "someone", "artist")
    late = queue.enqueue(job_values(other.id, 999, max_running=1))  # below all of them
    assert queue.claim("w1", ["tiny-wan"], lease_seconds=30).id == deep[0]["id"]
    # The head's every job is the capped user's: the claim looks past it, per user.
    assert queue.claim("w2", ["tiny-wan"], lease_seconds=30).id == late.id
    assert queue.claim("w3", ["tiny-wan"], lease_seconds=30) is None
    queue.complete(deep[0]["id"], "w1", retention_seconds=60)
    assert queue.claim("w3", ["tiny-wan"], lease_seconds=30).id == deep[1]["id"]


def test_a_job_waiting_out_a_back_off_is_not_claimed_before_its_time(runtime, user):
    queue = runtime.queue
    waiting = queue.enqueue(job_values(user.id, 1, not_before=time.time() + 3600))
    ready = queue.enqueue(job_values(user.id, 2))
    assert queue.claim("w1", ["tiny-wan"], lease_seconds=30).id == ready.id
    assert queue.claim("w1", ["tiny-wan"], lease_seconds=30) is None
    with runtime.engine.begin() as connection:
        connection.execute(
            videos.update().where(videos.c.id == waiting.id).values(not_before=time.time() - 1)
        )
    claimed = queue.claim("w1", ["tiny-wan"], lease_seconds=30)
    assert claimed.id == waiting.id and claimed.not_before is None


def test_fair_share_serves_a_user_with_fewer_jobs_first(runtime, user):
    queue = runtime.queue
    other = ensure_user(runtime.engine, "someone", "artist")
    busy = [queue.enqueue(job_values(user.id, n, fair_rank=n + 1)) for n in range(3)]
    newcomer = queue.enqueue(job_values(other.id, 9, fair_rank=1))  # queued last
    order = [queue.claim("w", ["tiny-wan"], lease_seconds=30).id for _ in range(4)]
    assert order == [busy[0].id, newcomer.id, busy[1].id, busy[2].id]


def test_a_claim_records_worker_lease_and_attempt(runtime, user):
    runtime.queue.enqueue(job_values(user.id))
    before = time.time()
    job = runtime.queue.claim("w1", ["tiny-wan"], lease_seconds=30)
    assert (job.status, job.worker_id, job.attempts) == ("in_progress", "w1", 1)
    assert job.lease_expires_at >= before + 30 and job.started_at >= before


def drain(runtime: Runtime, workers: int, jobs: int) -> list[str]:
    """`workers` workers, each with its own database engine, drain `jobs` jobs."""
    user = ensure_user(runtime.engine, "drainer", "artist")
    for number in range(jobs):
        runtime.queue.enqueue(job_values(user.id, number))
    runs: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()
    threads = []
    runtimes = []
    for number in range(workers):
        settings = make_settings(
            runtime.settings.data_dir, database={"url": runtime.settings.database_url}
        )
        own = Runtime.open(settings, migrate=False)
        runtimes.append(own)
        runner = FastRunner(own.storage, steps=1)
        worker = Worker(
            queue=own.queue,
            registry=own.workers,
            runner=runner,
            settings=settings.worker,
            models=["tiny-wan"],
            retention_seconds=3600,
            worker_id=f"worker-{number}",
        )
        runner.ran = runs  # one shared record of every run, across workers
        runner.lock = lock
        threads.append(threading.Thread(target=worker.run, args=(stop,)))
    for thread in threads:
        thread.start()

    def all_done() -> bool:
        with runtime.engine.connect() as connection:
            completed = connection.exec_driver_sql(
                "SELECT count(*) FROM videos WHERE status = 'completed'"
            ).scalar_one()
        return completed == jobs

    deadline = time.monotonic() + 120
    while not all_done() and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    for thread in threads:
        thread.join()
    for own in runtimes:
        own.close()
    return runs


@pytest.fixture
def open_runtime(tmp_path):
    opened = []

    def open_for(url: str) -> Runtime:
        opened.append(Runtime.open(make_settings(tmp_path / "data", database={"url": url})))
        return opened[-1]

    yield open_for
    for runtime in opened:
        runtime.close()


def test_two_workers_on_sqlite_run_every_job_exactly_once(open_runtime, tmp_path):
    runs = drain(open_runtime(f"sqlite:///{tmp_path / 'q.db'}"), workers=2, jobs=100)
    assert len(runs) == 100 and len(set(runs)) == 100


def test_four_workers_on_postgresql_run_every_job_exactly_once(open_runtime, postgres_url):
    runs = drain(open_runtime(postgres_url), workers=4, jobs=100)
    assert len(runs) == 100 and len(set(runs)) == 100


def test_an_outcome_and_its_audit_entry_commit_together_or_not_at_all(runtime, user):
    queue = runtime.queue
    done, failed = queue.enqueue(job_values(user.id, 1)), queue.enqueue(job_values(user.id, 2))
    for job in (done, failed):
        queue.claim("w1", ["tiny-wan"], lease_seconds=30)
    worker = audit.Actor(id=None, name="worker:w1")

    def entry(action, video_id):
        return audit.entry(action, worker, target_type="video", target_id=video_id,
                           details={"worker": "w1"})  # fmt: skip

    assert queue.complete(
        done.id, "w1", retention_seconds=60, audit=entry("video.completed", done.id)
    )
    # Not this worker's: neither the change nor its entry.
    assert not queue.fail(
        failed.id, "w2", code="x", message="x", audit=entry("video.failed", failed.id)
    )
    assert queue.fail(
        failed.id, "w1", code="boom", message="m", audit=entry("video.failed", failed.id)
    )
    assert not queue.complete(
        done.id, "w1", retention_seconds=60, audit=entry("video.completed", done.id)
    )
    entries, _ = audit.entries(runtime.engine, action="video.")
    assert sorted((e.action, e.target_id) for e in entries) == [
        ("video.completed", done.id),
        ("video.failed", failed.id),
    ]
    assert runtime.records.find(failed.id).error_code == "boom"


def test_an_audit_entry_that_cannot_be_written_leaves_the_job_running(runtime, user):
    queue = runtime.queue
    job = queue.enqueue(job_values(user.id))
    queue.claim("w1", ["tiny-wan"], lease_seconds=30)
    broken = {**audit.entry("video.completed", audit.SYSTEM, target_id=job.id), "action": None}
    with pytest.raises(sa.exc.IntegrityError):
        queue.complete(job.id, "w1", retention_seconds=60, audit=broken)
    assert runtime.records.find(job.id).status == "in_progress"


def test_heartbeat_extends_the_lease_and_reports_cancel(runtime, user):
    queue = runtime.queue
    queue.enqueue(job_values(user.id))
    job = queue.claim("w1", ["tiny-wan"], lease_seconds=1)
    beat = queue.heartbeat(job.id, "w1", lease_seconds=60)
    assert beat.owned and not beat.cancel_requested
    assert runtime.records.find(job.id).lease_expires_at > time.time() + 50
    queue.cancel(job.id)
    assert queue.heartbeat(job.id, "w1", lease_seconds=60).cancel_requested
    assert not queue.heartbeat(job.id, "someone-else", lease_seconds=60).owned


def test_reaper_requeues_a_dead_workers_job_then_fails_it_as_worker_lost(runtime, user):
    clock = {"now": 1000.0}
    queue = JobQueue(runtime.engine, clock=lambda: clock["now"])
    job = queue.enqueue(job_values(user.id, max_attempts=2))
    queue.claim("dead-1", ["tiny-wan"], lease_seconds=10)
    clock["now"] += 5
    assert queue.reap() == {"cancelled": [], "worker_lost": [], "requeued": []}  # lease still good
    clock["now"] += 10
    assert queue.reap()["requeued"] == [job.id]
    assert runtime.records.find(job.id).status == "queued"
    again = queue.claim("dead-2", ["tiny-wan"], lease_seconds=10)
    assert again.attempts == 2
    clock["now"] += 20
    assert queue.reap()["worker_lost"] == [job.id]
    lost = runtime.records.find(job.id)
    assert (lost.status, lost.error_code) == ("failed", "worker_lost")


def test_a_reaped_worker_cannot_overwrite_the_next_attempt(runtime, user):
    clock = {"now": 1000.0}
    queue = JobQueue(runtime.engine, clock=lambda: clock["now"])
    job = queue.enqueue(job_values(user.id))
    queue.claim("slow", ["tiny-wan"], lease_seconds=10)
    clock["now"] += 20
    queue.reap()
    queue.claim("fresh", ["tiny-wan"], lease_seconds=10)
    assert not queue.complete(job.id, "slow", retention_seconds=60, video_key="x")
    assert not queue.fail(job.id, "slow", code="internal_error", message="late")
    assert not queue.report_progress(job.id, "slow", progress=50, stage="denoise").owned
    assert queue.complete(job.id, "fresh", retention_seconds=60, video_key="y")
    assert runtime.records.find(job.id).video_key == "y"


def test_cancel_fails_a_queued_job_at_once_and_flags_a_running_one(runtime, user):
    queue = runtime.queue
    queued = queue.enqueue(job_values(user.id, 1))
    running = queue.enqueue(job_values(user.id, 2, priority=10))
    queue.claim("w1", ["tiny-wan"], lease_seconds=30)
    row = queue.cancel(queued.id)
    assert (row.status, row.error_code) == ("failed", "cancelled")
    row = queue.cancel(running.id)
    assert row.status == "in_progress" and row.cancel_requested


def test_release_gives_the_job_back_without_spending_an_attempt(runtime, user):
    queue = runtime.queue
    job = queue.enqueue(job_values(user.id))
    queue.claim("w1", ["tiny-wan"], lease_seconds=30)
    assert queue.release(job.id, "w1")
    released = runtime.records.find(job.id)
    assert (released.status, released.attempts, released.worker_id) == ("queued", 0, None)


def test_list_pages_through_a_users_videos_in_both_orders(runtime, user):
    queue, records = runtime.queue, runtime.records
    other = ensure_user(runtime.engine, "someone", "artist")
    ids = [queue.enqueue(job_values(user.id, n)).id for n in range(5)]
    queue.enqueue(job_values(other.id, 99))
    page, more = records.list_videos(user_id=user.id, after=None, limit=2, order="desc")
    assert [r.id for r in page] == ids[::-1][:2] and more
    page, more = records.list_videos(user_id=user.id, after=page[-1].id, limit=2, order="desc")
    assert [r.id for r in page] == ids[::-1][2:4] and more
    page, more = records.list_videos(user_id=user.id, after=page[-1].id, limit=2, order="desc")
    assert [r.id for r in page] == ids[:1] and not more
    page, more = records.list_videos(user_id=user.id, after=ids[1], limit=10, order="asc")
    assert [r.id for r in page] == ids[2:] and not more


def test_an_idempotency_key_is_one_job_per_user(runtime, user):
    queue = runtime.queue
    queue.enqueue(job_values(user.id, 1, idempotency_key="k1"))
    with pytest.raises(DuplicateIdempotencyKey):
        queue.enqueue(job_values(user.id, 2, idempotency_key="k1"))
    other = ensure_user(runtime.engine, "someone", "artist")
    queue.enqueue(job_values(other.id, 3, idempotency_key="k1"))  # another user's key space
    assert queue.forget_idempotency_keys(older_than=time.time() + 1) == 2
    queue.enqueue(job_values(user.id, 4, idempotency_key="k1"))  # free again


def test_only_the_idempotency_constraint_means_a_taken_key(runtime, user):
    import sqlalchemy as sa

    first = runtime.queue.enqueue(job_values(user.id, 1, idempotency_key="k1"))
    # Other constraints refusing a job that carries a key are not a taken key, even where
    # the driver's message quotes the row (PostgreSQL does, and this key reads "idempotency").
    for refused in (
        job_values(user.id, 2, id=first.id, idempotency_key="idempotency-2"),  # unique id
        job_values(user.id, 3, prompt=None, idempotency_key="idempotency-3"),  # not null
    ):
        with pytest.raises(sa.exc.IntegrityError):
            runtime.queue.enqueue(refused)


def test_queue_position_counts_what_is_ahead_for_the_same_model(runtime, user):
    queue, records = runtime.queue, runtime.records
    a = queue.enqueue(job_values(user.id, 1))
    b = queue.enqueue(job_values(user.id, 2))
    urgent = queue.enqueue(job_values(user.id, 3, priority=5))
    queue.enqueue(job_values(user.id, 4, model_name="tiny-ltx"))
    assert [records.queue_position(records.find(j.id)) for j in (urgent, a, b)] == [1, 2, 3]


def test_expired_and_deleted_outputs_are_listed_for_deletion(runtime, user):
    queue = runtime.queue
    expiring = queue.enqueue(job_values(user.id, 1))
    keeping = queue.enqueue(job_values(user.id, 2))
    for _ in range(2):
        queue.claim("w1", ["tiny-wan"], lease_seconds=30)
    queue.complete(expiring.id, "w1", retention_seconds=0.0, video_key="a")
    queue.complete(keeping.id, "w1", retention_seconds=3600, video_key="b")
    assert [j.id for j in runtime.records.outputs_to_delete(now=time.time())] == [expiring.id]
    queue.mark_deleted(keeping.id)
    deletable = runtime.records.outputs_to_delete(now=time.time())
    assert {j.id for j in deletable} == {expiring.id, keeping.id}


def test_fast_worker_settings_are_valid():
    assert FAST_WORKER["heartbeat_seconds"] * 2 <= FAST_WORKER["lease_seconds"]
