"""Safety through the HTTP API: moderation before queueing and after recaption, flag mode,
verify with its permissions, red-team reports, and the root certificate."""

from __future__ import annotations

import dataclasses

import pytest
import sqlalchemy as sa

from pipeline.provenance.credentials import read_credentials
from service.core.db.schema import audit_log
from service.core.settings import DEFAULT_ROLES
from service.jobs.runner import PipelineRunner
from tests.pipeline import clips
from tests.service.conftest import App, make_settings


class InstrumentedRunner(PipelineRunner):
    """The real pipeline, recording what reaches the recaptioner and the model; `rewrite`
    stands in for a recaptioner that adds words of its own."""

    def __init__(self, runtime, rewrite=None):
        super().__init__(runtime)
        self.recaptioned: list[str] = []
        self.rendered: list[str] = []
        inner = self.recaptioner.recaption

        def recaption(prompt, target, **kwargs):
            self.recaptioned.append(prompt)
            result = inner(prompt, target, **kwargs)
            if rewrite is not None:
                result = dataclasses.replace(result, prompt=rewrite(result.prompt))
            return result

        self.recaptioner.recaption = recaption

    def _model(self, name):
        model = super()._model(name)
        if not getattr(model, "_instrumented", False):
            generate = model.generate

            def recording(plan, **kwargs):
                self.rendered.append(plan.prompt)
                return generate(plan, **kwargs)

            model.generate = recording
            model._instrumented = True
        return model


def settings_for(tmp_path, **changes):
    roles = {
        **{name: role.model_dump() for name, role in DEFAULT_ROLES.items()},
        "viewer": {"description": "may render, nothing else", "permissions": []},
    }
    return make_settings(tmp_path / "data", **{"roles": roles, **changes})


@pytest.fixture
def app(tmp_path):
    with App(settings_for(tmp_path), runner_factory=InstrumentedRunner) as running:
        yield running


def audit_actions(app, prefix: str) -> list:
    with app.state.engine.connect() as connection:
        return list(
            connection.execute(
                sa.select(audit_log)
                .where(audit_log.c.action.startswith(prefix))
                .order_by(audit_log.c.seq)
            )
        )


# ---------------------------------------------------------------- moderation


@pytest.mark.parametrize(
    "prompt",
    ["a gory beheading in a square", "a g0ry b e h e a d i n g", "a ɡоry\u200b scene"],
)
def test_a_blocked_prompt_is_refused_before_queueing_and_audited(app, prompt):
    headers = app.key()
    response = app.client.post("/v1/videos", json={"prompt": prompt, "seconds": 1}, headers=headers)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "moderation_blocked" and error["param"] == "prompt"
    assert "violence_graphic" in error["message"]
    assert app.client.get("/v1/videos", headers=headers).json()["data"] == []
    [entry] = audit_actions(app, "moderation.blocked")
    assert entry.actor_name == "tester1" and prompt in entry.details


def test_a_blocked_original_never_reaches_the_recaptioner_or_the_model(app):
    headers = app.key()
    assert (
        app.client.post(
            "/v1/videos", json={"prompt": "nud3 people", "seconds": 1}, headers=headers
        ).status_code
        == 400
    )
    video = app.create(headers, prompt="a red kite over the sea")
    assert app.wait_status(video["id"], headers)["status"] == "completed"
    runner = app.runners[0]
    assert runner.recaptioned == ["a red kite over the sea"]
    assert len(runner.rendered) == 1 and "nud" not in runner.rendered[0]


def test_a_rewrite_that_adds_a_sensitive_term_fails_the_job(tmp_path):
    def factory(runtime):
        return InstrumentedRunner(runtime, rewrite=lambda prompt: prompt + " Blood spurting, gore.")

    with App(settings_for(tmp_path), runner_factory=factory) as app:
        headers = app.key()
        video = app.create(headers, prompt="a knight in a castle")
        failed = app.wait_status(video["id"], headers)
        assert failed["status"] == "failed"
        assert failed["error"]["code"] == "moderation_blocked"
        assert app.runners[0].rendered == []  # the model never saw it
        [entry] = audit_actions(app, "moderation.verdict")
        assert (
            '"stage": "revised_prompt"' in entry.details and '"outcome": "blocked"' in entry.details
        )


def test_flag_mode_runs_the_job_confidential_and_labelled(app):
    red = app.key("red1", "red_teamer")
    auditor = app.key("res1", "researcher")  # sees other users' jobs, except confidential ones
    video = app.create(red, prompt="a gory battle scene")
    done = app.wait_status(video["id"], red)
    assert done["status"] == "completed"
    assert done["moderation"] == {"flagged": True, "categories": ["violence_graphic"]}
    assert app.client.get(f"/v1/videos/{video['id']}", headers=auditor).status_code == 404
    [entry] = audit_actions(app, "moderation.flagged")
    assert entry.target_id == video["id"]
    # the flag is in the clip's own credentials
    content = app.client.get(f"/v1/videos/{video['id']}/content", headers=red).content
    verified = app.client.post("/v1/verify", headers=red, files={"file": ("c.mp4", content)}).json()
    assert verified["c2pa"]["assertion"]["moderation_flags"] == ["violence_graphic"]


def test_flag_mode_still_blocks_the_always_blocked_categories(app):
    red = app.key("red1", "red_teamer")
    response = app.client.post(
        "/v1/videos", json={"prompt": "a s3xy schoolgirl", "seconds": 1}, headers=red
    )
    assert response.status_code == 400 and response.json()["error"]["code"] == "moderation_blocked"


# ---------------------------------------------------------------- verify and root.pem


@pytest.fixture
def made(app):
    """(headers of the owner, video id, MP4 bytes) of one clip made through the API."""
    owner = app.key("artist1", "artist")
    video = app.create(owner, prompt="a red kite over the sea", seconds=2)
    done = app.wait_status(video["id"], owner)
    assert done["status"] == "completed" and done["watermark_id"]
    content = app.client.get(f"/v1/videos/{video['id']}/content", headers=owner).content
    return owner, video["id"], content


def verify(app, headers, content: bytes, name="clip.mp4"):
    return app.client.post("/v1/verify", headers=headers, files={"file": (name, content)})


def test_verify_names_the_job_to_its_owner_and_operators(app, made):
    owner, video_id, content = made
    for headers in (owner, app.key("op1", "operator")):
        body = verify(app, headers, content).json()
        assert body["from_openreel"] and body["job_id"] == video_id
        assert body["c2pa"]["state"] == "trusted"
        assert body["watermark"]["detected"] and body["watermark"]["payload_valid"]
        assert body["hash_match"]["matched"]
        assert body["identified_by"] == "c2pa"


def test_verify_after_a_reencode_finds_the_watermark_and_names_the_job(app, made, tmp_path):
    owner, video_id, content = made
    (tmp_path / "in.mp4").write_bytes(content)
    reencoded = clips.write(clips.read(tmp_path / "in.mp4"), tmp_path / "out.mp4", crf=28)
    body = verify(app, owner, reencoded.read_bytes()).json()
    assert body["c2pa"]["state"] == "absent"
    assert body["watermark"]["detected"] and body["identified_by"] == "watermark"
    assert body["job_id"] == video_id


def test_verify_hides_the_job_from_those_who_may_not_see_it(app, made):
    _, _, content = made
    stranger = app.key("artist2", "artist")
    body = verify(app, stranger, content).json()
    assert body["from_openreel"] is True
    assert body["job_id"] is None
    assert "job_id" not in body["c2pa"]["assertion"]
    assert "not visible to you" in body["summary"]


def test_an_unmarked_clip_is_not_from_openreel(app, tmp_path):
    path = clips.write(clips.natural_frames(7), tmp_path / "plain.mp4")
    body = verify(app, app.key(), path.read_bytes()).json()
    assert body["from_openreel"] is False and body["job_id"] is None
    assert body["c2pa"]["state"] == "absent" and not body["watermark"]["detected"]
    assert body["summary"].startswith("Not from OpenReel")


def test_verify_needs_the_permission_a_video_and_a_size_limit(tmp_path):
    settings = settings_for(tmp_path, verify={"max_upload_bytes": 2048})
    with App(settings) as app:
        viewer = app.key("v1", "viewer")
        response = verify(app, viewer, b"x" * 100)
        assert (
            response.status_code == 403 and response.json()["error"]["code"] == "permission_denied"
        )
        artist = app.key()
        bad = verify(app, artist, b"not a video at all")
        assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_file"
        big = verify(app, artist, b"x" * 200_000)
        assert big.status_code == 413 and big.json()["error"]["code"] == "request_too_large"
        none = app.client.post("/v1/verify", headers=artist, files={"other": ("a", b"abc")})
        assert none.status_code == 400 and none.json()["error"]["param"] == "file"
        assert app.client.post("/v1/verify", files={"file": ("a", b"abc")}).status_code == 401


def test_root_pem_is_the_root_the_clips_chain_ends_in(app, made, tmp_path):
    _, _, content = made
    response = app.client.get("/v1/provenance/root.pem")  # public: no key needed
    assert response.status_code == 200
    assert response.text.startswith("-----BEGIN CERTIFICATE-----")
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(content)
    assert read_credentials(clip, response.content).state == "trusted"
    stored = (app.settings.data_dir / "provenance" / "root.pem").read_bytes()
    assert response.content == stored


# ---------------------------------------------------------------- reports


def file_report(app, headers, video_id, **changes):
    body = {
        "video_id": video_id,
        "category": "deepfake",
        "severity": "high",
        "description": "The clip passes for real news footage.",
        **changes,
    }
    return app.client.post("/v1/reports", json=body, headers=headers)


def test_reports_are_filed_by_reporters_and_seen_by_them_and_operators(tmp_path):
    with App(settings_for(tmp_path)) as app:
        red1, red2 = app.key("red1", "red_teamer"), app.key("red2", "red_teamer")
        artist, operator = app.key("artist1", "artist"), app.key("op1", "operator")
        mine = app.create(red1)["id"]
        others = app.create(artist)["id"]

        response = file_report(app, red1, mine)
        assert response.status_code == 200, response.text
        report = response.json()
        assert report["id"].startswith("rep_") and report["reporter"]["name"] == "red1"

        # a role without the report permission; a video the reporter cannot see; bad fields
        assert file_report(app, artist, others).status_code == 403
        assert file_report(app, red1, others).status_code == 404
        bad = file_report(app, red1, mine, category="spam")
        assert bad.status_code == 400 and bad.json()["error"]["param"] == "category"

        # the reporter and operators see it; another reporter does not
        assert [r["id"] for r in app.client.get("/v1/reports", headers=red1).json()["data"]] == [
            report["id"]
        ]
        assert app.client.get("/v1/reports", headers=red2).json()["data"] == []
        assert app.client.get(f"/v1/reports/{report['id']}", headers=red2).status_code == 404
        assert app.client.get(f"/v1/reports/{report['id']}", headers=operator).json() == report
        assert app.client.get("/v1/reports", headers=artist).status_code == 403

        # linked from the audit log
        audit = app.client.get("/v1/admin/audit?action=report.", headers=operator).json()["data"]
        assert audit[0]["target"] == {"type": "report", "id": report["id"]}
        assert audit[0]["details"]["video_id"] == mine
