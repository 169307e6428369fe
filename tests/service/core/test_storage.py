"""Storage backends: a local folder and an S3-compatible server (moto) on loopback."""

from __future__ import annotations

import logging
import uuid

import pytest

from service.core.storage import LocalStorage, S3Storage

CONTENT = bytes(range(256)) * 4096 * 3  # 3 MiB: more than one read chunk


@pytest.fixture(scope="module")
def s3_endpoint():
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_storage(s3_endpoint):
    import boto3

    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        region_name="us-east-1",
    )
    bucket = f"openreel-{uuid.uuid4().hex[:16]}"
    client.create_bucket(Bucket=bucket)
    return S3Storage(bucket=bucket, prefix="outputs/", client=client)


@pytest.fixture(params=["local", "s3"])
def storage(request, tmp_path):
    if request.param == "local":
        return LocalStorage(tmp_path / "store")
    return request.getfixturevalue("s3_storage")


def put(storage, tmp_path, key="videos/v1/video.mp4", content=CONTENT):
    source = tmp_path / "source.bin"
    source.write_bytes(content)
    storage.put_file(key, source, "video/mp4")
    return key


def test_a_stored_file_reads_back_whole_and_in_ranges(storage, tmp_path):
    key = put(storage, tmp_path)
    assert storage.size(key) == len(CONTENT)
    assert b"".join(storage.read(key)) == CONTENT
    assert b"".join(storage.read(key, 100, 199)) == CONTENT[100:200]
    assert b"".join(storage.read(key, len(CONTENT) - 10)) == CONTENT[-10:]


def test_delete_and_missing_objects(storage, tmp_path):
    key = put(storage, tmp_path)
    storage.delete(key)
    with pytest.raises(FileNotFoundError):
        storage.size(key)
    storage.delete(key)  # deleting twice is fine


def test_the_readiness_probe_writes_reads_and_leaves_nothing_behind(storage, tmp_path):
    key = put(storage, tmp_path)
    storage.check()
    assert b"".join(storage.read(key)) == CONTENT  # the stored object is untouched
    with pytest.raises(FileNotFoundError):
        storage.size(".readyz")  # the probe's own object is gone


def test_the_readiness_probe_fails_on_a_store_that_cannot_be_written(tmp_path, s3_storage):
    local = LocalStorage(tmp_path / "store")
    local.root = tmp_path / "a-file"  # gone from under the service, replaced by a file
    local.root.write_text("not a folder")
    with pytest.raises(OSError):
        local.check()
    s3_storage.bucket = f"missing-{uuid.uuid4().hex[:12]}"
    with pytest.raises(Exception, match="NoSuchBucket"):
        s3_storage.check()


@pytest.mark.parametrize("key", ["../escape", "/etc/passwd", "", "videos/../../x"])
def test_keys_cannot_leave_the_store(storage, tmp_path, key):
    with pytest.raises(ValueError, match="invalid storage key"):
        put(storage, tmp_path, key=key)


def test_local_writes_are_atomic(tmp_path, monkeypatch):
    storage = LocalStorage(tmp_path / "store")
    key = put(storage, tmp_path, content=b"first version")
    import os

    def broken_replace(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        put(storage, tmp_path, content=b"second version")
    assert b"".join(storage.read(key)) == b"first version"  # the old file, whole
    assert [p.name for p in (tmp_path / "store" / "videos" / "v1").iterdir()] == ["video.mp4"]


def test_s3_objects_live_under_the_prefix(s3_storage, tmp_path):
    put(s3_storage, tmp_path, key="videos/v2/video.mp4", content=b"x")
    listed = s3_storage.client.list_objects_v2(Bucket=s3_storage.bucket)["Contents"]
    assert [item["Key"] for item in listed] == ["outputs/videos/v2/video.mp4"]
    head = s3_storage.client.head_object(
        Bucket=s3_storage.bucket, Key="outputs/videos/v2/video.mp4"
    )
    assert head["ContentType"] == "video/mp4"


def test_s3_large_uploads_complete_as_multipart(s3_storage, tmp_path):
    big = bytes(range(256)) * 4096 * 10  # 10 MiB: over boto3's 8 MiB multipart threshold
    key = put(s3_storage, tmp_path, key="videos/big/video.mp4", content=big)
    assert s3_storage.size(key) == len(big)
    assert b"".join(s3_storage.read(key, 9_000_000, 9_000_009)) == big[9_000_000:9_000_010]
