"""The API on the real PostgreSQL, and with its outputs in an S3-compatible store."""

from __future__ import annotations

import logging

import pytest

from tests.service.conftest import FastRunner


def test_the_api_runs_on_postgresql(postgres_url, app_factory):  # the app stops first
    app = app_factory(database={"url": postgres_url})
    alice = app.key("alice")
    video = app.create(alice)
    assert app.wait_status(video["id"], alice)["status"] == "completed"
    response = app.client.get(f"/v1/videos/{video['id']}/content", headers=alice)
    assert response.status_code == 200 and response.content == FastRunner.CONTENT
    assert app.client.get("/readyz").status_code == 200


@pytest.fixture
def s3_settings(monkeypatch):
    import boto3
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    monkeypatch.setenv("OPENREEL_TEST_S3_KEY", "test")
    monkeypatch.setenv("OPENREEL_TEST_S3_SECRET", "test")
    boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        region_name="us-east-1",
    ).create_bucket(Bucket="openreel-outputs")
    yield {
        "backend": "s3",
        "s3": {
            "bucket": "openreel-outputs",
            "endpoint_url": endpoint,
            "region": "us-east-1",
            "access_key_env": "OPENREEL_TEST_S3_KEY",
            "secret_key_env": "OPENREEL_TEST_S3_SECRET",
        },
    }
    server.stop()


def test_outputs_go_to_s3_and_stream_back_with_ranges(app_factory, s3_settings):
    app = app_factory(storage=s3_settings)
    assert app.state.runtime.storage.name == "s3"
    alice = app.key("alice")
    video = app.create(alice)
    app.wait_status(video["id"], alice)
    url = f"/v1/videos/{video['id']}/content"
    whole = app.client.get(url, headers=alice)
    assert whole.status_code == 200 and whole.content == FastRunner.CONTENT
    assert whole.headers["accept-ranges"] == "bytes"
    part = app.client.get(url, headers={**alice, "Range": "bytes=10-19"})
    assert part.status_code == 206 and part.content == FastRunner.CONTENT[10:20]
    assert part.headers["content-range"] == f"bytes 10-19/{len(FastRunner.CONTENT)}"
    suffix = app.client.get(url, headers={**alice, "Range": "bytes=-5"})
    assert suffix.content == FastRunner.CONTENT[-5:]
    assert app.client.get(url, headers={**alice, "Range": "bytes=99999-"}).status_code == 416
    assert app.client.get("/readyz").json()["checks"]["storage"] == "ok"
    app.client.delete(f"/v1/videos/{video['id']}", headers=alice)
    with pytest.raises(FileNotFoundError):
        app.state.runtime.storage.size(f"videos/{video['id']}/video.mp4")
