"""Kept windows of long clips: recorded only by the worker that owns the job, given back to
the next attempt in order, and removed with their files once the job has ended."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pipeline.errors import GenerationCancelled
from pipeline.windows import KeptWindow, Window
from service.domain.accounts import ensure_user
from service.jobs.janitor import sweep
from service.jobs.windows import StoredWindows, window_keys
from tests.service.jobs.test_queue import job_values


@pytest.fixture
def claimed(runtime):
    user = ensure_user(runtime.engine, "maker", "filmmaker")
    runtime.queue.enqueue(job_values(user.id, windows=3))
    return runtime.queue.claim("w1", ["tiny-wan"], lease_seconds=30)


def stored(runtime, job, worker, tmp_path) -> StoredWindows:
    scratch = tmp_path / worker
    scratch.mkdir(exist_ok=True)
    return StoredWindows(runtime.storage, runtime.queue, runtime.records, video_id=job.id,
                         worker_id=worker, scratch=scratch)  # fmt: skip


def keep(store, tmp_path: Path, index: int) -> None:
    segment = tmp_path / f"segment-{index}.mp4"
    segment.write_bytes(b"segment %d" % index)
    tail = np.full((1, 4, 4, 3), index, np.uint8)
    store.keep(Window(index, "extend", index * 8, 9, 1, 8), KeptWindow(segment, tail))


def test_windows_kept_by_one_attempt_come_back_to_the_next_in_order(runtime, claimed, tmp_path):
    first = stored(runtime, claimed, "w1", tmp_path)
    keep(first, tmp_path, 0)
    keep(first, tmp_path, 1)
    assert runtime.records.find(claimed.id).windows_done == 2

    again = stored(runtime, claimed, "w1", tmp_path).kept()
    assert sorted(again) == [0, 1]
    assert again[1].segment.read_bytes() == b"segment 1"
    assert int(again[1].tail[0, 0, 0, 0]) == 1


def test_a_worker_that_lost_the_job_keeps_nothing(runtime, claimed, tmp_path):
    other = stored(runtime, claimed, "w2", tmp_path)  # not the claimant
    with pytest.raises(GenerationCancelled):
        keep(other, tmp_path, 0)
    assert runtime.records.kept_windows(claimed.id) == []


def test_a_lost_window_ends_the_run_of_kept_ones(runtime, claimed, tmp_path):
    store = stored(runtime, claimed, "w1", tmp_path)
    for index in range(3):
        keep(store, tmp_path, index)
    runtime.storage.delete(window_keys(claimed.id, 1)[0])  # window 2's segment is gone
    assert sorted(stored(runtime, claimed, "w1", tmp_path).kept()) == [0]


def test_the_janitor_removes_the_windows_of_an_ended_job(runtime, claimed, tmp_path):
    store = stored(runtime, claimed, "w1", tmp_path)
    keep(store, tmp_path, 0)
    segment_key, tail_key = window_keys(claimed.id, 0)
    assert runtime.storage.size(segment_key) > 0
    sweep(runtime)
    assert len(runtime.records.kept_windows(claimed.id)) == 1  # still running: kept
    runtime.queue.fail(claimed.id, "w1", code="internal_error", message="boom")
    assert sweep(runtime)["windows_forgotten"] == 1
    assert runtime.records.kept_windows(claimed.id) == []
    for key in (segment_key, tail_key):
        with pytest.raises(FileNotFoundError):
            runtime.storage.size(key)
