"""`openreel generate` then `openreel verify`: the Must-show path, through the console script."""

from __future__ import annotations

import json

import sqlalchemy as sa

from service.core.db.engine import create_engine
from service.core.db.schema import audit_log
from tests.pipeline import clips
from tests.service.cli.test_generate import run_cli


def test_a_generated_clip_verifies_and_still_names_its_job_after_a_reencode(tmp_path):
    made = run_cli(
        "generate",
        "a red kite over the sea",
        "--model",
        "tiny-wan",
        "--seconds",
        "2",
        "-o",
        "kite.mp4",
        "--quiet",
        cwd=tmp_path,
    )
    assert made.returncode == 0, made.stderr
    job_id = json.loads(made.stdout)["job_id"]

    checked = run_cli("verify", "kite.mp4", cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    body = json.loads(checked.stdout)
    assert body["c2pa"]["state"] == "trusted"
    assert body["c2pa"]["assertion"]["job_id"] == job_id
    assert body["watermark"]["detected"] and body["watermark"]["payload_valid"]
    assert body["job_id"] == job_id

    clips.write(clips.read(tmp_path / "kite.mp4"), tmp_path / "crf28.mp4", crf=28)
    body = json.loads(run_cli("verify", "crf28.mp4", cwd=tmp_path).stdout)
    assert body["c2pa"]["state"] == "absent"
    assert body["watermark"]["detected"] and body["job_id"] == job_id

    clips.write(clips.natural_frames(2), tmp_path / "plain.mp4")
    body = json.loads(run_cli("verify", "plain.mp4", cwd=tmp_path).stdout)
    assert body["from_openreel"] is False and body["summary"].startswith("Not from OpenReel")


def test_a_blocked_prompt_exits_2_writes_nothing_and_is_audited(tmp_path):
    result = run_cli("generate", "a n.u.d.3 w0man", "-o", "x.mp4", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "moderation blocked the prompt" in result.stderr
    assert not (tmp_path / "x.mp4").exists()
    engine = create_engine(f"sqlite:///{tmp_path / 'openreel-data' / 'openreel.db'}")
    with engine.connect() as connection:
        [entry] = connection.execute(
            sa.select(audit_log).where(audit_log.c.action == "moderation.blocked")
        ).all()
    engine.dispose()
    assert json.loads(entry.details)["categories"] == ["sexual"]


def test_verify_of_a_file_that_is_no_video_exits_2(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    for name, message in (("notes.txt", "not a video"), ("missing.mp4", "no such file")):
        result = run_cli("verify", name, cwd=tmp_path)
        assert result.returncode == 2 and message in result.stderr
        assert result.stderr.count("\n") == 1
