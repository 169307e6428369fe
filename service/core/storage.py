"""Where outputs live: a local directory, or an S3-compatible object store.

Writes are atomic: a local file is written under a temporary name and renamed into place;
an S3 object appears only when its upload (multipart for large files) completes. Reads are
streamed in chunks, whole or as one byte range.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Protocol

CHUNK = 1024 * 1024


class Storage(Protocol):
    name: str

    def put_file(self, key: str, source: Path, content_type: str) -> None: ...

    def size(self, key: str) -> int:
        """Bytes in the object; FileNotFoundError if there is none."""
        ...

    def read(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """The bytes from `start` to `end` inclusive (the end of the object when None)."""
        ...

    def local_path(self, key: str) -> Path | None:
        """A path to serve the object from directly, where there is one."""
        ...

    def delete(self, key: str) -> None: ...

    def check(self) -> None:
        """Raise if the store cannot be written and read back now."""
        ...


def _safe_key(key: str) -> str:
    path = PurePosixPath(key)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise ValueError(f"invalid storage key {key!r}")
    return str(path)


class LocalStorage:
    name = "local"

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        return self.root / _safe_key(key)

    def put_file(self, key: str, source: Path, content_type: str) -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, scratch = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as out, open(source, "rb") as src:
                shutil.copyfileobj(src, out, CHUNK)
                out.flush()
                os.fsync(out.fileno())
            os.replace(scratch, target)
        finally:
            Path(scratch).unlink(missing_ok=True)

    def size(self, key: str) -> int:
        return self._path(key).stat().st_size

    def read(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        with open(self._path(key), "rb") as file:
            file.seek(start)
            remaining = None if end is None else end - start + 1
            while remaining is None or remaining > 0:
                chunk = file.read(CHUNK if remaining is None else min(CHUNK, remaining))
                if not chunk:
                    return
                if remaining is not None:
                    remaining -= len(chunk)
                yield chunk

    def local_path(self, key: str) -> Path | None:
        return self._path(key)

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)
        # Remove the job's folder once it is empty.
        try:
            self._path(key).parent.rmdir()
        except OSError:
            pass

    def check(self) -> None:
        probe = self.root / ".readyz"
        probe.write_bytes(b"ok")
        if probe.read_bytes() != b"ok":
            raise OSError(f"{self.root} did not read back what was written")
        probe.unlink()


class S3Storage:
    name = "s3"

    def __init__(self, *, bucket: str, prefix: str = "", client=None, **client_options) -> None:
        import boto3

        self.bucket = bucket
        self.prefix = prefix
        self.client = client or boto3.client("s3", **client_options)

    def _key(self, key: str) -> str:
        return self.prefix + _safe_key(key)

    def put_file(self, key: str, source: Path, content_type: str) -> None:
        # upload_file switches to multipart above 8 MB; the object exists only once complete.
        self.client.upload_file(
            str(source), self.bucket, self._key(key), ExtraArgs={"ContentType": content_type}
        )

    def size(self, key: str) -> int:
        from botocore.exceptions import ClientError

        try:
            return self.client.head_object(Bucket=self.bucket, Key=self._key(key))["ContentLength"]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                raise FileNotFoundError(key) from None
            raise

    def read(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        byte_range = f"bytes={start}-{'' if end is None else end}"
        response = self.client.get_object(Bucket=self.bucket, Key=self._key(key), Range=byte_range)
        yield from response["Body"].iter_chunks(CHUNK)

    def local_path(self, key: str) -> Path | None:
        return None

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def check(self) -> None:
        key = self._key(".readyz")
        self.client.put_object(Bucket=self.bucket, Key=key, Body=b"ok")
        body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        if body != b"ok":
            raise OSError(f"s3://{self.bucket}/{key} did not read back what was written")
        self.client.delete_object(Bucket=self.bucket, Key=key)


def build_storage(settings) -> Storage:
    """The store the settings name (`service.core.settings.Settings`)."""
    if settings.storage.backend == "local":
        return LocalStorage(settings.outputs_dir)
    s3 = settings.storage.s3
    options = {"endpoint_url": s3.endpoint_url, "region_name": s3.region}
    access_key, secret_key = os.environ.get(s3.access_key_env), os.environ.get(s3.secret_key_env)
    if access_key and secret_key:
        options.update(aws_access_key_id=access_key, aws_secret_access_key=secret_key)
    return S3Storage(bucket=s3.bucket, prefix=s3.prefix, **options)
