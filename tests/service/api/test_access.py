"""Access: roles and their limits, quotas, priority and fair share, the way in, the audit log."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from service.core.settings import DEFAULT_ROLES, RoleSettings
from tests.service.conftest import wait_for

ROLES = ["red_teamer", "researcher", "artist", "filmmaker", "operator"]


def role(**changes) -> RoleSettings:
    return RoleSettings(**{"permissions": ["verify"], **changes})


@pytest.fixture
def app(app_factory):
    return app_factory(server={"embedded_workers": 0})


@pytest.fixture
def keys(app):
    return {name: app.key(f"{name}1", name) for name in ROLES}


def claim_all(app, count: int) -> list[str]:
    claimed = []
    for _ in range(count):
        job = app.state.runtime.queue.claim("test-worker", ["tiny-wan"], lease_seconds=60)
        claimed.append(job.id)
        app.state.runtime.queue.complete(job.id, "test-worker", retention_seconds=60)
    return claimed


# ---------------------------------------------------------------- the matrix


def test_every_role_against_every_route(app, keys):
    artist_video = app.create(keys["artist"])["id"]
    red_video = app.create(keys["red_teamer"])["id"]  # red teamers' videos are confidential
    routes = {
        # route: expected status per role (in ROLES order)
        ("POST", "/v1/videos"): [200, 200, 200, 200, 200],
        ("GET", "/v1/videos"): [200, 200, 200, 200, 200],
        ("GET", "/v1/usage"): [200, 200, 200, 200, 200],
        ("GET", "/v1/usage?user=artist1"): [403, 403, 200, 403, 200],
        ("GET", f"/v1/videos/{artist_video}"): [404, 200, 200, 404, 200],
        ("GET", f"/v1/videos/{red_video}"): [200, 404, 404, 404, 200],
        # a remix edits its source clip, and this one is still queued: 409 video_not_ready
        ("POST", f"/v1/videos/{artist_video}/remix"): [404, 403, 409, 404, 409],
        ("GET", "/v1/admin/users"): [403, 403, 403, 403, 200],
        ("GET", "/v1/admin/keys"): [403, 403, 403, 403, 200],
        ("GET", "/v1/admin/videos"): [403, 403, 403, 403, 200],
        ("GET", "/v1/admin/access-requests"): [403, 403, 403, 403, 200],
        ("GET", "/v1/admin/invitations"): [403, 403, 403, 403, 200],
        ("GET", "/v1/admin/audit"): [403, 403, 403, 403, 200],
        ("GET", "/v1/admin/config"): [403, 403, 403, 403, 200],
        ("POST", "/v1/admin/invitations"): [403, 403, 403, 403, 201],
    }
    bodies = {
        "/v1/videos": {"prompt": "a kite", "seconds": 1},
        "/v1/admin/invitations": {"role": "artist"},
    }
    failures = []
    for (method, path), expected in routes.items():
        for name, status in zip(ROLES, expected, strict=True):
            body = bodies.get(path.split("?")[0], {"prompt": "a boat"})
            response = app.client.request(method, path, headers=keys[name], json=body)
            if response.status_code != status:
                failures.append(f"{name} {method} {path}: {response.status_code}, wanted {status}")
            if response.status_code >= 400:
                assert set(response.json()["error"]) == {"message", "type", "param", "code"}
    assert failures == []


def test_only_owners_and_administrators_change_a_video(app, keys):
    video = app.create(keys["artist"])["id"]
    researcher = app.client.delete(f"/v1/videos/{video}", headers=keys["researcher"])
    assert (
        researcher.status_code == 403 and researcher.json()["error"]["code"] == "permission_denied"
    )
    assert app.client.delete(f"/v1/videos/{video}", headers=keys["filmmaker"]).status_code == 404
    assert (
        app.client.post(f"/v1/videos/{video}/cancel", headers=keys["operator"]).status_code == 200
    )


def test_listing_is_the_callers_own_and_everyone_for_administrators(app, keys):
    mine = app.create(keys["artist"])["id"]
    theirs = app.create(keys["red_teamer"])["id"]
    artist_list = [
        v["id"] for v in app.client.get("/v1/videos", headers=keys["artist"]).json()["data"]
    ]
    operator_list = [
        v["id"] for v in app.client.get("/v1/videos", headers=keys["operator"]).json()["data"]
    ]
    assert artist_list == [mine]
    assert set(operator_list) == {mine, theirs}
    filtered = app.client.get("/v1/videos?user=red_teamer1", headers=keys["operator"]).json()[
        "data"
    ]
    assert [v["id"] for v in filtered] == [theirs]
    refused = app.client.get("/v1/videos?user=red_teamer1", headers=keys["artist"])
    assert refused.status_code == 403


# ---------------------------------------------------------------- role limits


@pytest.mark.parametrize(
    ("limits", "body", "status", "param", "code", "message"),
    [
        (
            {"max_seconds": 1},
            {"seconds": 2},
            403,
            "seconds",
            "role_limit_exceeded",
            "limit of 1 s per video",
        ),
        (
            {"max_pixels": 64 * 64},
            {"size": "128x128"},
            403,
            "size",
            "role_limit_exceeded",
            "limit of 4096 pixels",
        ),
        ({"max_steps": 4}, {"steps": 8}, 403, "steps", "role_limit_exceeded", "limit of 4 steps"),
        (
            {"allowed_models": ["tiny-ltx"]},
            {},
            403,
            "model",
            "role_limit_exceeded",
            "may not use the model",
        ),
    ],
)
def test_each_role_limit_is_refused_naming_it(
    app_factory, limits, body, status, param, code, message
):
    app = app_factory(
        server={"embedded_workers": 0}, roles={**DEFAULT_ROLES, "tester": role(**limits)}
    )
    headers = app.key("t1", "tester")
    response = app.client.post(
        "/v1/videos", json={"prompt": "a kite", "seconds": 1, **body}, headers=headers
    )
    assert response.status_code == status
    error = response.json()["error"]
    assert (error["param"], error["code"]) == (param, code)
    assert message in error["message"]


def test_default_steps_are_lowered_to_the_roles_limit(app_factory):
    app = app_factory(
        server={"embedded_workers": 0}, roles={**DEFAULT_ROLES, "tester": role(max_steps=3)}
    )
    assert app.create(app.key("t1", "tester"))["steps"] == 3  # tiny-wan's default is 8


def test_pending_jobs_past_the_roles_limit_get_429(app_factory):
    app = app_factory(
        server={"embedded_workers": 0}, roles={**DEFAULT_ROLES, "tester": role(max_pending_jobs=2)}
    )
    headers = app.key("t1", "tester")
    app.create(headers)
    app.create(headers)
    response = app.client.post(
        "/v1/videos", json={"prompt": "a kite", "seconds": 1}, headers=headers
    )
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "concurrency_limit_exceeded"
    assert int(response.headers["retry-after"]) >= 1


def test_a_full_queue_gets_429_with_retry_after(app_factory):
    app = app_factory(server={"embedded_workers": 0}, access={"max_queued_jobs": 2})
    app.create(app.key("a1", "artist"))
    app.create(app.key("f1", "filmmaker"))
    response = app.client.post(
        "/v1/videos", json={"prompt": "x", "seconds": 1}, headers=app.key("o1", "operator")
    )
    assert response.status_code == 429 and response.json()["error"]["code"] == "queue_full"
    assert "retry-after" in response.headers


# ---------------------------------------------------------------- quotas and usage


def test_a_spent_daily_quota_is_429_until_it_resets(app_factory):
    app = app_factory(
        server={"embedded_workers": 0},
        roles={**DEFAULT_ROLES, "tester": role(quota_seconds_per_day=3)},
    )
    headers = app.key("t1", "tester")
    app.create(headers, seconds=2)  # 33 frames at 16 fps: 2.06 s
    refused = app.client.post("/v1/videos", json={"prompt": "again", "seconds": 2}, headers=headers)
    assert refused.status_code == 429
    error = refused.json()["error"]
    assert error["code"] == "quota_exceeded"
    assert (
        "role daily quota of 3 video-seconds" in error["message"]
        and "resets at" in error["message"]
    )
    resets_at = refused.headers["x-openreel-quota-resets-at"]
    assert resets_at.endswith("T00:00:00Z")
    assert app.create(headers, seconds=0.5)["status"] == "queued"  # what is left still fits
    app.clock.advance(86400)
    assert app.create(headers, seconds=2)["status"] == "queued"


def test_the_plan_monthly_quota_applies_too(app_factory):
    app = app_factory(
        server={"embedded_workers": 0},
        roles={**DEFAULT_ROLES, "tester": role()},
        plans={"tiny": {"kind": "free", "monthly_seconds": 1.5}},
        access={"default_plan": "tiny"},
    )
    from service.domain.accounts import ensure_user, issue_key

    user = ensure_user(app.state.engine, "t1", "tester", plan="tiny")
    headers = {"Authorization": f"Bearer {issue_key(app.state.engine, user).key}"}
    app.create(headers, seconds=1)
    refused = app.client.post("/v1/videos", json={"prompt": "x", "seconds": 1}, headers=headers)
    assert (
        refused.status_code == 429
        and "plan monthly quota of 1.5" in refused.json()["error"]["message"]
    )


def test_failed_videos_do_not_use_quota(app_factory):
    app = app_factory(
        server={"embedded_workers": 0},
        roles={**DEFAULT_ROLES, "tester": role(quota_seconds_per_day=2.5)},
    )
    headers = app.key("t1", "tester")
    first = app.create(headers, seconds=2)
    app.client.post(f"/v1/videos/{first['id']}/cancel", headers=headers)
    assert app.create(headers, seconds=2)["status"] == "queued"


def test_usage_reports_seconds_quota_and_cost_under_the_plan(app_factory):
    app = app_factory()  # with a worker: usage is charged for completed videos
    engine = app.state.engine
    from service.domain.accounts import ensure_user, issue_key

    user = ensure_user(engine, "payer", "artist", plan="per_second")
    headers = {"Authorization": f"Bearer {issue_key(engine, user).key}"}
    for _ in range(2):
        app.wait_status(app.create(headers, seconds=1)["id"], headers)  # 17 frames: 1.0625 s each
    usage = app.client.get("/v1/usage", headers=headers).json()
    assert (usage["user"], usage["plan"], usage["role"]) == ("payer", "per_second", "artist")
    assert usage["day"]["video_seconds"] == pytest.approx(2.125)
    assert usage["day"]["quota_seconds"] == 300 and usage["day"][
        "remaining_seconds"
    ] == pytest.approx(297.875)
    assert usage["month"]["completed_videos"] == 2
    assert usage["month"]["gpu_seconds"] == pytest.approx(0.02)
    assert usage["cost"] == {
        "currency": "USD",
        "amount": 0.21,
        "basis": "0.1 per generated second x 2.125 s",
    }
    assert usage["day"]["resets_at"].endswith("T00:00:00Z")


# ---------------------------------------------------------------- scheduling


def test_red_team_jobs_are_claimed_before_artists_jobs_queued_earlier(app, keys):
    artist_first = app.create(keys["artist"])["id"]
    red_later = app.create(keys["red_teamer"])["id"]
    assert claim_all(app, 2) == [red_later, artist_first]


def test_fair_share_between_two_users_of_one_role(app_factory):
    app = app_factory(
        server={"embedded_workers": 0}, roles={**DEFAULT_ROLES, "tester": role(max_pending_jobs=10)}
    )
    busy, calm = app.key("busy", "tester"), app.key("calm", "tester")
    busy_jobs = [app.create(busy, prompt=f"busy {n}")["id"] for n in range(3)]
    calm_job = app.create(calm, prompt="calm")["id"]  # queued last, but its user has only this one
    assert claim_all(app, 4) == [busy_jobs[0], calm_job, busy_jobs[1], busy_jobs[2]]


# ---------------------------------------------------------------- the way in


def test_waitlist_approval_invitation_redeem_and_key(app, keys):
    request = app.client.post(
        "/v1/access-requests",
        json={"name": "Ada", "email": "ada@example.org", "wanted_role": "filmmaker",
              "motivation": "short films about kites over hills"},
    )  # fmt: skip
    assert request.status_code == 201 and request.json()["status"] == "pending"
    pending = app.client.get(
        "/v1/admin/access-requests?status=pending", headers=keys["operator"]
    ).json()["data"]
    assert [r["email"] for r in pending] == ["ada@example.org"]

    approved = app.client.post(
        f"/v1/admin/access-requests/{request.json()['id']}/approve",
        json={"plan": "subscription"},
        headers=keys["operator"],
    ).json()
    code = approved["invitation"]["code"]
    assert approved["status"] == "approved" and approved["invitation"]["role"] == "filmmaker"

    redeemed = app.client.post(f"/v1/invitations/{code}/redeem", json={"name": "ada"})
    assert redeemed.status_code == 201
    key = redeemed.json()["key"]
    assert redeemed.json()["user"] == {
        "id": redeemed.json()["user"]["id"],
        "name": "ada",
        "role": "filmmaker",
        "plan": "subscription",
    }
    works = app.client.post(
        "/v1/videos",
        json={"prompt": "a kite", "seconds": 1},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert works.status_code == 200

    again = app.client.post(f"/v1/invitations/{code}/redeem", json={"name": "ada2"})
    assert again.status_code == 404 and again.json()["error"]["code"] == "invitation_invalid"
    twice = app.client.post(
        f"/v1/admin/access-requests/{request.json()['id']}/approve", headers=keys["operator"]
    )
    assert twice.status_code == 404


def test_expired_invitations_are_refused(app, keys):
    code = app.client.post(
        "/v1/admin/invitations", json={"role": "artist"}, headers=keys["operator"]
    ).json()["code"]
    app.clock.advance(8 * 86400)  # invitations last 7 days
    response = app.client.post(f"/v1/invitations/{code}/redeem", json={"name": "late"})
    assert response.status_code == 404


def test_a_rejected_request_makes_no_invitation(app, keys):
    request = app.client.post(
        "/v1/access-requests",
        json={
            "name": "Bob",
            "email": "bob@example.org",
            "wanted_role": "artist",
            "motivation": "I would like to try it",
        },
    ).json()
    rejected = app.client.post(
        f"/v1/admin/access-requests/{request['id']}/reject", headers=keys["operator"]
    ).json()
    assert rejected == {"id": request["id"], "object": "access_request", "status": "rejected"}
    assert app.client.get("/v1/admin/invitations", headers=keys["operator"]).json()["data"] == []


@pytest.mark.parametrize(
    ("body", "param"),
    [
        (
            {
                "name": "A",
                "email": "not-an-email",
                "wanted_role": "artist",
                "motivation": "ten letters!",
            },
            "email",
        ),
        (
            {
                "name": "A",
                "email": "a@b.org",
                "wanted_role": "wizard",
                "motivation": "ten letters!",
            },
            "wanted_role",
        ),
        (
            {"name": "A", "email": "a@b.org", "wanted_role": "artist", "motivation": "short"},
            "motivation",
        ),
        (
            {"name": "A", "email": "a@b.org", "wanted_role": "artist", "motivation": "x" * 5000},
            "motivation",
        ),
        ({"name": "A", "email": "a@b.org", "wanted_role": "artist"}, "motivation"),
    ],
)
def test_access_requests_are_validated(app, body, param):
    response = app.client.post("/v1/access-requests", json=body)
    assert response.status_code == 400 and response.json()["error"]["param"] == param


def test_access_requests_are_rate_limited_per_address(app_factory):
    app = app_factory(server={"embedded_workers": 0}, access={"access_requests_per_hour": 2})
    body = {
        "name": "A",
        "email": "a@b.org",
        "wanted_role": "artist",
        "motivation": "ten letters at least",
    }
    assert [app.client.post("/v1/access-requests", json=body).status_code for _ in range(3)] == [
        201,
        201,
        429,
    ]


def test_revoked_keys_and_disabled_users_are_refused_at_once(app, keys):
    from service.domain.accounts import ensure_user, issue_key

    engine = app.state.engine
    issued = issue_key(engine, ensure_user(engine, "artist1", "artist"))
    headers = {"Authorization": f"Bearer {issued.key}"}
    assert app.client.get("/v1/videos", headers=headers).status_code == 200
    revoke = app.client.post(f"/v1/admin/keys/{issued.prefix}/revoke", headers=keys["operator"])
    assert revoke.status_code == 200
    assert app.client.get("/v1/videos", headers=headers).status_code == 401
    app.client.post("/v1/admin/users/filmmaker1/disable", headers=keys["operator"])
    assert app.client.get("/v1/videos", headers=keys["filmmaker"]).status_code == 401


@pytest.mark.parametrize(
    ("body", "status", "param", "code"),
    [
        ({"name": "two words", "role": "artist"}, 400, "name", "invalid_value"),
        ({"name": "   ", "role": "artist"}, 400, "name", None),  # blank after stripping
        ({"name": "ada", "role": "wizard"}, 400, "role", "invalid_value"),
        ({"name": "ada", "role": "artist", "plan": "gold"}, 400, "plan", "invalid_value"),
        ({"name": "ada", "role": "artist", "email": "nope"}, 400, "email", "invalid_value"),
        ({"name": "operator1", "role": "artist"}, 409, "name", "name_taken"),
    ],
)
def test_adding_a_user_says_what_is_wrong_with_the_status_it_deserves(
    app, keys, body, status, param, code
):
    response = app.client.post("/v1/admin/users", json=body, headers=keys["operator"])
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["param"] == param
    if code is not None:
        assert error["code"] == code
    if status == 400:
        assert "already exists" not in error["message"]


def test_repeating_an_idempotent_admin_action_answers_as_the_first_did(app, keys):
    admin = keys["operator"]
    for _ in range(2):
        response = app.client.post("/v1/admin/users/artist1/disable", headers=admin)
        assert response.status_code == 200 and response.json()["status"] == "disabled"
    prefix = app.client.get("/v1/admin/keys?user=artist1", headers=admin).json()["data"][0]
    for _ in range(2):
        response = app.client.post(f"/v1/admin/keys/{prefix['prefix']}/revoke", headers=admin)
        assert response.status_code == 200 and response.json()["status"] == "revoked"
    # each change is audited once: the repeats changed nothing
    audit = app.client.get("/v1/admin/audit?action=user.disabled", headers=admin).json()
    assert len(audit["data"]) == 1
    audit = app.client.get("/v1/admin/audit?action=key.revoked", headers=admin).json()
    assert len(audit["data"]) == 1
    # what does not exist is still a 404
    missing = app.client.post("/v1/admin/users/nobody/disable", headers=admin)
    assert missing.status_code == 404 and missing.json()["error"]["param"] == "name"
    missing = app.client.post("/v1/admin/keys/ork_0000000000000000/revoke", headers=admin)
    assert missing.status_code == 404


def test_administrators_move_queued_videos_and_cancel_any(app, keys):
    artist_video = app.create(keys["artist"])["id"]
    red_video = app.create(keys["red_teamer"])["id"]
    moved = app.client.post(
        f"/v1/admin/videos/{artist_video}/priority",
        json={"priority": 500},
        headers=keys["operator"],
    )
    assert moved.status_code == 200 and moved.json()["queue_position"] == 1
    cancelled = app.client.post(f"/v1/admin/videos/{red_video}/cancel", headers=keys["operator"])
    assert cancelled.json()["error"]["code"] == "cancelled"


# ---------------------------------------------------------------- the audit log


def audit_actions(app, operator_headers, **filters) -> list[str]:
    query = "&".join(f"{k}={v}" for k, v in filters.items())
    page = app.client.get(f"/v1/admin/audit?limit=500&{query}", headers=operator_headers).json()
    return [entry["action"] for entry in page["data"]]


def test_audit_records_every_kind_of_event_with_actor_time_and_address(app_factory):
    app = app_factory()
    operator = app.key("op", "operator")
    artist = app.key("artist1", "artist")
    video = app.create(artist)
    app.wait_status(video["id"], artist)
    app.client.get(f"/v1/videos/{video['id']}/content", headers=artist)
    app.client.delete(f"/v1/videos/{video['id']}", headers=artist)
    app.client.get(
        "/v1/videos", headers={"Authorization": "Bearer ork_0123456789abcdef_wrongsecret"}
    )
    code = app.client.post(
        "/v1/admin/invitations", json={"role": "artist"}, headers=operator
    ).json()["code"]
    app.client.post(f"/v1/invitations/{code}/redeem", json={"name": "newcomer"})
    issued = app.client.post("/v1/admin/keys", json={"user": "newcomer"}, headers=operator).json()
    app.client.post(f"/v1/admin/keys/{issued['prefix']}/revoke", headers=operator)
    app.client.post(
        "/v1/access-requests",
        json={
            "name": "C",
            "email": "c@d.org",
            "wanted_role": "artist",
            "motivation": "ten letters at least",
        },
    )
    actions = set(audit_actions(app, operator))
    assert actions >= {
        "video.created", "video.completed", "video.downloaded", "video.deleted", "auth.failed",
        "invitation.created", "invitation.redeemed", "key.created", "key.revoked",
        "access_request.submitted",
    }  # fmt: skip
    entries = app.client.get("/v1/admin/audit?action=video.", headers=operator).json()["data"]
    created = next(e for e in entries if e["action"] == "video.created")
    assert created["actor"]["name"] == "artist1" and created["client_address"] == "testclient"
    assert created["details"]["prompt"] == "a red kite" and created["at"] > 0
    completed = next(e for e in entries if e["action"] == "video.completed")
    assert completed["details"]["revised_prompt"] == "a red kite, in detail"
    failed_auth = app.client.get("/v1/admin/audit?action=auth.failed", headers=operator).json()[
        "data"
    ][0]
    assert failed_auth["details"]["key_prefix"] == "ork_0123456789abcdef"
    by_target = app.client.get(f"/v1/admin/audit?target_id={video['id']}", headers=operator).json()[
        "data"
    ]
    assert {e["action"] for e in by_target} == {
        "video.created",
        "video.completed",
        "video.downloaded",
        "video.deleted",
    }


def test_no_key_or_invitation_secret_is_stored_or_logged(app_factory, caplog):
    import logging

    caplog.set_level(logging.DEBUG)
    app = app_factory()
    operator = app.key("op", "operator")
    code = app.client.post(
        "/v1/admin/invitations", json={"role": "artist"}, headers=operator
    ).json()["code"]
    key = app.client.post(f"/v1/invitations/{code}/redeem", json={"name": "someone"}).json()["key"]
    direct = app.client.post("/v1/admin/keys", json={"user": "someone"}, headers=operator).json()[
        "key"
    ]
    app.client.get("/v1/videos", headers={"Authorization": f"Bearer {key}x"})  # a failed try
    app.create({"Authorization": f"Bearer {key}"}, prompt=f"a kite, and my key is {direct}")

    secrets_ = [key, direct, code, operator["Authorization"].removeprefix("Bearer ")]
    with app.state.engine.connect() as connection:
        tables = [
            row[0]
            for row in connection.execute(
                sa.text("SELECT name FROM sqlite_master WHERE type = 'table'")
            )
        ]
        stored = " ".join(
            str(value)
            for table in tables
            if table != "videos"  # prompts are the user's own words
            for row in connection.execute(sa.text(f"SELECT * FROM {table}"))
            for value in row
        )
    audit_text = json.dumps(app.client.get("/v1/admin/audit?limit=500", headers=operator).json())
    # The server's own logs (the test client's are not the service's).
    server_logs = "\n".join(
        record.getMessage() for record in caplog.records if not record.name.startswith("httpx")
    )
    for secret in secrets_:
        assert secret not in stored
        assert secret not in audit_text
        assert secret not in server_logs
    assert "[redacted]" in audit_text  # the key pasted into a prompt was cut to its prefix


def test_the_audit_log_filters_and_pages(app, keys):
    for n in range(3):
        app.create(keys["artist"], prompt=f"clip {n}")
    first = app.client.get(
        "/v1/admin/audit?action=video.created&limit=2", headers=keys["operator"]
    ).json()
    assert len(first["data"]) == 2 and first["has_more"]
    rest = app.client.get(
        f"/v1/admin/audit?action=video.created&limit=2&after={first['last_id']}",
        headers=keys["operator"],
    ).json()
    assert len(rest["data"]) == 1 and not rest["has_more"]
    mine = app.client.get("/v1/admin/audit?actor=artist1", headers=keys["operator"]).json()["data"]
    assert {e["actor"]["name"] for e in mine} == {"artist1"}
    assert wait_for(lambda: True)


def test_the_access_log_never_shows_an_invitation_code():
    import logging

    from service.cli.serve import ScrubSecrets

    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "POST", "/v1/invitations/inv_0123456789abcdef_s3cretS3cretS3cret/redeem", "1.1", 201),
        None,
    )  # fmt: skip
    assert ScrubSecrets().filter(record)
    assert "s3cret" not in record.getMessage()
    assert "inv_0123456789abcdef_[redacted]" in record.getMessage()
