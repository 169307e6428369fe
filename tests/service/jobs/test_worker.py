"""The worker: outcomes always recorded, failures coded, cancel and shutdown honoured."""

from __future__ import annotations

import json
import os
import threading
import time

import pytest

from service.domain import audit
from service.domain.accounts import ensure_user
from service.jobs.production import JobFailed
from service.jobs.worker import Worker
from tests.service.conftest import FastRunner, wait_for
from tests.service.jobs.test_queue import job_values


@pytest.fixture
def user(runtime):
    return ensure_user(runtime.engine, "tester1", "artist")


def make_worker(runtime, runner, **settings) -> Worker:
    return Worker(
        queue=runtime.queue,
        registry=runtime.workers,
        runner=runner,
        settings=runtime.settings.worker.model_copy(update=settings),
        models=["tiny-wan"],
        retention_seconds=3600,
        worker_id="w1",
    )


def run_in_background(worker: Worker) -> tuple[threading.Event, threading.Thread]:
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    thread.start()
    return stop, thread


class ExplodingRunner(FastRunner):
    """Fails the jobs whose prompt names an error, succeeds on the others."""

    ERRORS = {
        "crash": RuntimeError("the VAE returned NaNs"),
        "oom": RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB"),
        "disk full": OSError(28, "No space left on device", "/srv/openreel/outputs/v1.mp4"),
        "read-only": OSError(30, "Read-only file system", "/srv/openreel/outputs"),
        "refused": JobFailed(
            "moderation_blocked", "Your request was blocked by our moderation system."
        ),
    }

    def run(self, job, report, should_cancel):
        error = self.ERRORS.get(job.prompt)
        if error is not None:
            raise error
        return super().run(job, report, should_cancel)


@pytest.mark.parametrize(
    ("prompt", "code"),
    [
        ("crash", "internal_error"),
        ("oom", "out_of_memory"),
        ("refused", "moderation_blocked"),
        ("disk full", "storage_unavailable"),
        ("read-only", "storage_unavailable"),
    ],
)
def test_a_failing_job_fails_with_its_code_and_the_worker_goes_on(runtime, user, prompt, code):
    bad = runtime.queue.enqueue(job_values(user.id, 1, prompt=prompt, max_attempts=1))
    good = runtime.queue.enqueue(job_values(user.id, 2, prompt="a kite"))
    worker = make_worker(runtime, ExplodingRunner(runtime.storage))
    worker.run(threading.Event(), max_jobs=2)
    failed = runtime.records.find(bad.id)
    assert (failed.status, failed.error_code) == ("failed", code)
    assert failed.error_message and "/srv" not in failed.error_message  # no server path
    assert runtime.records.find(good.id).status == "completed"


class StorageBackRunner(FastRunner):
    """Storage full on the first `failures` attempts, then back."""

    def __init__(self, storage, failures: int) -> None:
        super().__init__(storage)
        self.failures = failures

    def run(self, job, report, should_cancel):
        if job.attempts <= self.failures:
            raise OSError(28, "No space left on device", "/srv/openreel/outputs/v1.mp4")
        return super().run(job, report, should_cancel)


def test_a_storage_fault_puts_the_job_back_after_a_back_off(runtime, user):
    job = runtime.queue.enqueue(job_values(user.id, 1, max_attempts=3))
    worker = make_worker(runtime, StorageBackRunner(runtime.storage, failures=1))
    claimed = runtime.queue.claim("w1", ["tiny-wan"], lease_seconds=30)
    assert worker.execute(claimed, threading.Event()) == "retried:storage_unavailable"
    waiting = runtime.records.find(job.id)
    assert waiting.status == "queued" and waiting.attempts == 1 and waiting.error_code is None
    assert waiting.not_before == pytest.approx(time.time() + 30, abs=5)  # the first back-off
    assert runtime.queue.claim("w1", ["tiny-wan"], lease_seconds=30) is None  # waiting it out
    (entry,), _ = audit.entries(runtime.engine, action="video.retried")
    assert json.loads(entry.details)["error_code"] == "storage_unavailable"


def test_storage_back_within_the_attempts_completes_the_job(runtime, user):
    job = runtime.queue.enqueue(job_values(user.id, 1, max_attempts=3))
    worker = make_worker(runtime, StorageBackRunner(runtime.storage, failures=2),
                         storage_retry_seconds=0)  # fmt: skip
    worker.run(threading.Event(), max_jobs=3)
    done = runtime.records.find(job.id)
    assert (done.status, done.attempts) == ("completed", 3)


def test_storage_faults_past_the_attempts_fail_the_job_as_storage_unavailable(runtime, user):
    job = runtime.queue.enqueue(job_values(user.id, 1, max_attempts=2))
    worker = make_worker(runtime, StorageBackRunner(runtime.storage, failures=5),
                         storage_retry_seconds=0)  # fmt: skip
    worker.run(threading.Event(), max_jobs=2)
    failed = runtime.records.find(job.id)
    assert (failed.status, failed.error_code, failed.attempts) == (
        "failed",
        "storage_unavailable",
        2,
    )
    assert "/srv" not in failed.error_message


def test_a_completed_job_has_its_outputs_progress_and_expiry(runtime, user):
    job = runtime.queue.enqueue(job_values(user.id))
    make_worker(runtime, FastRunner(runtime.storage)).run(threading.Event(), max_jobs=1)
    done = runtime.records.find(job.id)
    assert (done.status, done.progress, done.revised_prompt) == (
        "completed",
        100,
        "prompt 0, in detail",
    )
    assert done.video_key and runtime.storage.size(done.video_key) == len(FastRunner.CONTENT)
    assert done.expires_at == pytest.approx(done.completed_at + 3600)


def test_cancel_stops_a_running_job_at_the_next_step(runtime, user):
    job = runtime.queue.enqueue(job_values(user.id))
    runner = FastRunner(runtime.storage, steps=200, step_seconds=0.02)
    stop, thread = run_in_background(make_worker(runtime, runner))
    wait_for(lambda: runtime.records.find(job.id).progress >= 10)
    runtime.queue.cancel(job.id)
    cancelled = wait_for(lambda: (row := runtime.records.find(job.id)).status == "failed" and row)
    assert cancelled.error_code == "cancelled"
    assert cancelled.progress < 90  # it stopped part-way, not at the end
    stop.set()
    thread.join()


def test_on_shutdown_a_long_job_is_given_back_after_the_grace_period(runtime, user):
    job = runtime.queue.enqueue(job_values(user.id))
    runner = FastRunner(runtime.storage, steps=500, step_seconds=0.02)
    worker = make_worker(runtime, runner, shutdown_grace_seconds=0.3)
    stop, thread = run_in_background(worker)
    wait_for(lambda: runtime.records.find(job.id).status == "in_progress")
    stop.set()  # as SIGTERM does
    thread.join(timeout=10)
    released = runtime.records.find(job.id)
    assert (released.status, released.attempts, released.worker_id) == ("queued", 0, None)


def test_on_shutdown_a_job_that_finishes_within_the_grace_period_completes(runtime, user):
    job = runtime.queue.enqueue(job_values(user.id))
    runner = FastRunner(runtime.storage, steps=10, step_seconds=0.02)
    worker = make_worker(runtime, runner, shutdown_grace_seconds=30)
    stop, thread = run_in_background(worker)
    wait_for(lambda: runtime.records.find(job.id).status == "in_progress")
    stop.set()
    thread.join(timeout=10)
    assert runtime.records.find(job.id).status == "completed"


def test_a_job_taken_away_is_not_overwritten(runtime, user):
    job = runtime.queue.enqueue(job_values(user.id))
    claimed = runtime.queue.claim("w1", ["tiny-wan"], lease_seconds=30)
    worker = make_worker(runtime, FastRunner(runtime.storage))
    runtime.queue.release(job.id, "w1")  # as if reaped while the worker was busy
    runtime.queue.claim("w2", ["tiny-wan"], lease_seconds=30)
    worker.execute(claimed, threading.Event())
    assert runtime.records.find(job.id).worker_id == "w2"
    assert runtime.records.find(job.id).status == "in_progress"


def test_progress_writes_are_throttled(runtime, user, monkeypatch):
    job = runtime.queue.enqueue(job_values(user.id))
    writes = []
    original = runtime.queue.report_progress

    def counting(*args, **kwargs):
        writes.append(kwargs["progress"])
        return original(*args, **kwargs)

    monkeypatch.setattr(runtime.queue, "report_progress", counting)
    runner = FastRunner(runtime.storage, steps=100)
    make_worker(runtime, runner, progress_seconds=60).run(threading.Event(), max_jobs=1)
    # one write per stage change (recaption, then denoising with the revised prompt), none
    # per step within the 60 s window
    assert writes == [1, 5]
    assert runtime.records.find(job.id).status == "completed"


def test_a_starting_worker_removes_the_scratch_a_killed_one_left(tmp_path):
    import subprocess

    from service.jobs.outputs import SCRATCH_PREFIX, remove_dead_scratch

    dead = subprocess.Popen(["true"])
    dead.wait()
    left = tmp_path / f"{SCRATCH_PREFIX}{dead.pid}-x1y2"
    (left / "window-0001").mkdir(parents=True)
    (left / "video.mp4").write_bytes(b"half a video")
    ours = tmp_path / f"{SCRATCH_PREFIX}{os.getpid()}-a1b2"
    ours.mkdir()
    assert remove_dead_scratch(str(tmp_path)) == [left]
    assert not left.exists() and ours.exists()
