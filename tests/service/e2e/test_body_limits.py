"""Bodies past a route's limit, sent chunked (no Content-Length to refuse them by) to a
live `openreel serve`: 413 in the envelope, and the server never holds the body."""

from __future__ import annotations

import json
import select
import socket
from pathlib import Path

from tests.service.e2e.conftest import make_key

CHUNK = b"x" * (1 << 20)
TOTAL = 200 << 20


def _rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def _send_chunked(port: int, path: str, headers: dict[str, str]) -> tuple[int, dict, int]:
    """POST up to TOTAL bytes in 1 MiB chunks, stopping as soon as the server answers:
    (status, error body, bytes sent)."""
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in headers.items()) + "\r\n"
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(head.encode())
        try:
            while sent < TOTAL:
                if select.select([connection], [], [], 0)[0]:
                    break  # answered already
                connection.sendall(b"%x\r\n%s\r\n" % (len(CHUNK), CHUNK))
                sent += len(CHUNK)
        except (BrokenPipeError, ConnectionResetError):
            pass  # it stopped reading: the answer is waiting
        answer = b""
        while b"\r\n\r\n" not in answer or not _complete(answer):
            more = connection.recv(65536)
            if not more:
                break
            answer += more
    head_part, _, body = answer.partition(b"\r\n\r\n")
    status = int(head_part.split()[1])
    return status, json.loads(body[: body.rindex(b"}") + 1]), sent


def _complete(answer: bytes) -> bool:
    head, _, body = answer.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return len(body) >= int(line.split(b":")[1])
    return False


def test_a_chunked_200_mb_body_gets_413_and_is_never_held(data_dir, start_server):
    key = make_key(data_dir)
    server = start_server(workers=0)
    before = _rss_bytes(server.process.pid)
    for path, headers in (
        ("/v1/videos", {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}),
        ("/v1/access-requests", {"Content-Type": "application/json"}),
    ):
        status, body, sent = _send_chunked(server.port, path, headers)
        assert status == 413, (path, body)
        assert body["error"]["code"] == "request_too_large"
        assert sent < TOTAL, f"{path} read all {sent} bytes before answering"
    grown = _rss_bytes(server.process.pid) - before
    assert grown < 50 << 20, f"server RSS grew by {grown / 2**20:.0f} MB"
