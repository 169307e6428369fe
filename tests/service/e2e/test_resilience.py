"""Crashes and restarts with real processes: nothing queued is lost, nothing runs twice
to completion."""

from __future__ import annotations

import io
import signal
import subprocess
import time
from pathlib import Path

import av
import httpx
import pytest
import sqlalchemy as sa

from tests.service.e2e.conftest import E2E_CONFIG, OPENREEL, environment, make_key

# Tiny jobs made slow (many denoising steps) so that there is a 'mid-job' to crash in.
SLOW_MODEL = """
models:
  tiny-wan:
    family: wan2.1
    source: builtin:tiny-wan
    device: cpu
    dtype: float32
    sizes: [64x64]
    default_seconds: 1
    steps: 120
    max_steps: 200
"""


@pytest.fixture
def slow_config(data_dir):
    path = data_dir / "slow.yaml"
    path.write_text(
        E2E_CONFIG.replace("shutdown_grace_seconds: 20", "shutdown_grace_seconds: 0.5") + SLOW_MODEL
    )
    (data_dir / "e2e.yaml").write_text(path.read_text())  # servers started by fixture use it
    return path


def create(server, key: str, prompt: str) -> str:
    response = httpx.post(
        f"{server.url}/v1/videos",
        json={"prompt": prompt, "recaption": "off"},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status_code == 200, response.text
    return response.json()["id"]


def video(server, key: str, video_id: str) -> dict:
    return httpx.get(
        f"{server.url}/v1/videos/{video_id}", headers={"Authorization": f"Bearer {key}"}
    ).json()


def wait_until(check, timeout: float = 120.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError("timed out")


def attempts(data_dir, video_id: str) -> int:
    engine = sa.create_engine(f"sqlite:///{data_dir / 'openreel.db'}")
    with engine.connect() as connection:
        value = connection.execute(
            sa.text("SELECT attempts FROM videos WHERE id = :id"), {"id": video_id}
        ).scalar_one()
    engine.dispose()
    return value


def start_worker(config: Path, data_dir: Path, log: Path | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [OPENREEL, "worker", "--config", str(config)],
        env=environment(data_dir),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL if log is None else log.open("w"),
    )


def crash_then_finish(server, key, video_id, config, data_dir, *, crash_when, logs=(None, None)):
    """A worker SIGKILLed (no goodbye: its lease must run out) once `crash_when(video)`
    holds, then a second worker that takes the job over; returns the video just after the
    crash and the video once it ended."""
    first = start_worker(config, data_dir, logs[0])
    try:
        wait_until(lambda: crash_when(video(server, key, video_id)))
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        crashed = video(server, key, video_id)
        second = start_worker(config, data_dir, logs[1])
        try:
            done = wait_until(
                lambda: (
                    (v := video(server, key, video_id))["status"] in ("completed", "failed") and v
                )
            )
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(timeout=60)
    finally:
        if first.poll() is None:
            first.kill()
    return crashed, done


def test_a_worker_killed_mid_job_loses_the_job_to_another_worker_which_completes_it(
    start_server, data_dir, slow_config
):
    server = start_server(workers=0)  # the API alone; workers join as separate processes
    key = make_key(data_dir)
    video_id = create(server, key, "a red kite")

    crashed, done = crash_then_finish(
        server, key, video_id, slow_config, data_dir, crash_when=lambda v: v["progress"] >= 10
    )
    assert crashed["status"] == "in_progress"
    assert done["status"] == "completed", done
    assert attempts(data_dir, video_id) == 2  # re-run once
    content = httpx.get(
        f"{server.url}/v1/videos/{video_id}/content", headers={"Authorization": f"Bearer {key}"}
    )
    assert content.status_code == 200 and content.content[4:8] == b"ftyp"


def test_jobs_queued_when_the_server_stops_all_complete_after_a_restart(
    start_server, data_dir, slow_config
):
    server = start_server(workers=1)
    key = make_key(data_dir)
    ids = [create(server, key, f"clip {n}") for n in range(3)]
    wait_until(lambda: video(server, key, ids[0])["status"] == "in_progress")
    # uvicorn shuts down cleanly, then re-raises SIGTERM so process managers see it.
    assert server.stop(signal.SIGTERM) in (0, -signal.SIGTERM)
    assert "Application shutdown complete" in (data_dir / f"serve-{server.port}.log").read_text()

    engine = sa.create_engine(f"sqlite:///{data_dir / 'openreel.db'}")
    with engine.connect() as connection:
        statuses = dict(connection.execute(sa.text("SELECT id, status FROM videos")).all())
    engine.dispose()
    assert "in_progress" not in statuses.values()
    assert sum(status == "queued" for status in statuses.values()) >= 2

    restarted = start_server(workers=1)
    finished = [
        wait_until(
            lambda i=video_id: (
                (v := video(restarted, key, i))["status"] in ("completed", "failed") and v
            )
        )
        for video_id in ids
    ]
    assert [v["status"] for v in finished] == ["completed"] * 3


# A long clip of 5 windows (9 frames, then 8 more each: 41 frames, 2.5625 s), each slow
# enough to be killed in.
LONG_MODEL = """
models:
  tiny-wan-i2v:
    family: wan2.1
    source: builtin:tiny-wan-i2v
    device: cpu
    dtype: float32
    modes: [text, image, extend]
    sizes: [64x64]
    default_seconds: 1
    steps: 30
    max_steps: 200
    window_frames: 9
"""


def test_a_worker_killed_in_window_3_of_5_leaves_windows_1_2_for_the_next_worker(
    start_server, data_dir, tmp_path
):
    config = data_dir / "long.yaml"
    config.write_text(
        E2E_CONFIG.replace("shutdown_grace_seconds: 20", "shutdown_grace_seconds: 0.5").replace(
            "default_model: tiny-wan", "default_model: tiny-wan-i2v"
        )
        + LONG_MODEL
    )
    (data_dir / "e2e.yaml").write_text(config.read_text())
    server = start_server(workers=0)
    key = make_key(data_dir, role="filmmaker")
    response = httpx.post(
        f"{server.url}/v1/videos",
        json={"prompt": "a red kite", "recaption": "off", "seconds": "2.5625"},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status_code == 200, response.text
    video_id = response.json()["id"]
    assert response.json()["windows"]["total"] == 5

    logs = [tmp_path / "first.log", tmp_path / "second.log"]

    crashed, done = crash_then_finish(
        server, key, video_id, config, data_dir, logs=logs,
        crash_when=lambda v: v["windows"]["done"] >= 2,  # in window 3
    )  # fmt: skip
    kept = crashed["windows"]["done"]
    assert 2 <= kept < 5
    assert done["status"] == "completed", done
    assert done["frames"] == 41
    # every window was made once: the second worker made only those the first had not kept
    # (the first may die between recording a window and logging it: at most `kept` lines)
    made = [log.read_text().count("kept window") for log in logs]
    assert made[1] == 5 - kept and kept - 1 <= made[0] <= kept, (made, kept)
    assert done["windows"] == {"total": 5, "done": 5, "current": None, "resumed": kept}
    assert attempts(data_dir, video_id) == 2
    content = httpx.get(
        f"{server.url}/v1/videos/{video_id}/content", headers={"Authorization": f"Bearer {key}"}
    )
    frames = 0
    with av.open(io.BytesIO(content.content)) as container:
        frames = sum(1 for _ in container.decode(container.streams.video[0]))
    assert frames == 41
    # the kept windows are removed once the clip is recorded as made (by the janitor)
    engine = sa.create_engine(f"sqlite:///{data_dir / 'openreel.db'}")

    def windows_left() -> int:
        with engine.connect() as connection:
            return connection.execute(sa.text("SELECT count(*) FROM video_windows")).scalar_one()

    try:
        wait_until(lambda: windows_left() == 0, timeout=30)
    finally:
        engine.dispose()
    assert (data_dir / "outputs" / "videos" / video_id / "video.mp4").is_file()
    assert not list((data_dir / "outputs").glob(f"**/{video_id}/windows/*"))
