"""A corpus of hostile input against every route, on SQLite and on PostgreSQL alike: odd
encodings, sizes, nesting, types, control characters, headers and methods. Whatever comes
in, the answer is never a 5xx, always OpenAI's error envelope, and the same on both
databases."""

from __future__ import annotations

import json

import pytest

NUL = "\x00"

PATH_VALUES = [
    "%00",
    "a%00b",
    "%ED%A0%80",  # a surrogate's UTF-8 bytes: not UTF-8
    "%FF%FE",
    "x" * 5000,
    "..%2F..%2Fetc%2Fpasswd",
    "%E2%80%AE%F0%9F%98%80",
    "1e999",
    "-1",
    " ",
]

QUERY_VALUES = [
    "%00",
    "a%00",
    "%ED%A0%80",
    "99999999999999999999999999",
    "-99999999999999999999",
    "1e400",
    "nan",
    "inf",
    "x" * 5000,
    "",
    "%0d%0aSet-Cookie:%20x=1",
]

BODIES: list[tuple[str, bytes, str]] = [
    ("deep arrays", b'{"prompt": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "application/json"),
    ("deep objects", b'{"a":' * 50_000 + b"1" + b"}" * 50_000, "application/json"),
    ("unclosed deep", b"[" * 200_000, "application/json"),
    ("not an object", b"[1, 2, 3]", "application/json"),
    ("a string", b'"prompt"', "application/json"),
    ("null", b"null", "application/json"),
    ("truncated", b'{"prompt": "a', "application/json"),
    ("invalid utf-8", b'{"prompt": "\xff\xfe\xfa"}', "application/json"),
    ("utf-16", '{"prompt": "a kite"}'.encode("utf-16"), "application/json"),
    ("bom", b'\xef\xbb\xbf{"prompt": "a kite"}', "application/json"),
    ("nan", b'{"prompt": "a kite", "seconds": NaN, "seed": Infinity}', "application/json"),
    ("huge int", b'{"prompt": "a kite", "seed": ' + b"9" * 5000 + b"}", "application/json"),
    ("big int", b'{"prompt": "a kite", "seed": 99999999999999999999999}', "application/json"),
    ("big float", b'{"prompt": "a kite", "seconds": 1e308, "steps": 1e308}', "application/json"),
    ("nul value", json.dumps({"prompt": f"a{NUL}kite", "name": NUL}).encode(), "application/json"),
    ("nul key", json.dumps({f"prompt{NUL}": "a kite"}).encode(), "application/json"),
    ("surrogate", b'{"prompt": "a \\ud800 kite", "name": "\\udfff"}', "application/json"),
    (
        "wrong types",
        b'{"prompt": ["a"], "seconds": {}, "model": 1, "size": true}',
        "application/json",
    ),
    (
        "control chars",
        json.dumps({"prompt": "\x01\x1b[31m\x7f\u2028"}).encode(),
        "application/json",
    ),
    ("duplicate keys", b'{"prompt": "a", "prompt": "b"}', "application/json"),
    ("text/plain", b'{"prompt": "a kite"}', "text/plain"),
    ("no boundary", b"--x\r\n\r\n", "multipart/form-data"),
    (
        "bad multipart",
        b"--x\r\nContent-Disposition: form-data\r\n\r\nvalue",
        "multipart/form-data; boundary=x",
    ),
    ("urlencoded nul", b"prompt=a%00kite&video%5Bid%5D=%00", "application/x-www-form-urlencoded"),
    (
        "urlencoded brackets",
        b"video[id][x]=1&input_reference[]=2&[=3",
        "application/x-www-form-urlencoded",
    ),
    ("empty", b"", "application/json"),
]

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def _routes(app) -> list[tuple[str, str, list[str]]]:
    """(method, path template, query parameter names) of every documented operation."""
    spec = app.client.get("/openapi.json").json()
    routes = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            query = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
            routes.append((method.upper(), path, query))
    return routes


def _fill(path: str, value: str) -> str:
    while "{" in path:
        start, end = path.index("{"), path.index("}")
        path = path[:start] + value + path[end + 1 :]
    return path


def _assert_refused_well(response, what: str) -> None:
    if response.request.url.path == "/readyz" and response.status_code == 503:
        return  # no worker runs here: not ready, as it says
    assert response.status_code < 500, f"{what}: {response.status_code} {response.text[:300]}"
    if response.status_code >= 400 and response.request.method != "HEAD":
        error = response.json()["error"]
        assert isinstance(error["message"], str) and error["message"], what
        assert error["type"] in ("invalid_request_error", "permission_error", "rate_limit_error")


@pytest.fixture
def hostile_app(app_factory, database_url):
    return app_factory(server={"embedded_workers": 0}, database={"url": database_url})


def _answers(app) -> dict[str, int]:
    operator = app.key("op1", "operator")
    artist = app.key("artist1", "artist")
    app.create(artist)
    answers: dict[str, int] = {}

    def send(what: str, method: str, url: str, **kwargs) -> None:
        response = app.client.request(method, url, **kwargs)
        _assert_refused_well(response, what)
        answers[what] = response.status_code

    for method, path, query in _routes(app):
        for who, headers in (("operator", operator), ("artist", artist), ("nobody", {})):
            # parameters as the operator, who reaches every route; bodies as all three
            for value in PATH_VALUES if who == "operator" and "{" in path else []:
                url = _fill(path, value)
                send(f"{who} {method} {path} path={value[:20]}", method, url, headers=headers)
            for name in query if who == "operator" else []:
                for value in QUERY_VALUES:
                    url = f"{_fill(path, 'video_x')}?{name}={value}"
                    send(f"{who} {method} {path} {name}={value[:20]}", method, url,
                         headers=headers)  # fmt: skip
            if method == "POST" and who != "nobody" or path == "/v1/access-requests":
                for name, body, content_type in BODIES:
                    typed = {**headers, "Content-Type": content_type}
                    url = _fill(path, "video_x")
                    send(f"{who} {method} {path} body {name}", method, url, content=body,
                         headers=typed)  # fmt: skip
        for other in METHODS:
            send(f"{other} {path}", other, _fill(path, "video_x"), headers=operator)
    return answers


def test_hostile_input_never_gets_a_5xx(hostile_app):
    answers = _answers(hostile_app)
    assert len(answers) > 800
    # NUL and surrogates are named, not stored: the same 400 on both databases
    assert answers["artist POST /v1/videos body nul value"] == 400
    assert answers["artist POST /v1/videos body surrogate"] == 400
    assert answers["nobody POST /v1/access-requests body nul value"] == 400
    assert answers["operator GET /v1/videos/{video_id} path=%00"] == 400
    assert answers["operator GET /v1/videos after=%00"] == 400
    assert answers["artist POST /v1/videos body deep arrays"] == 400
    assert answers["artist POST /v1/videos body big int"] == 400


def test_nul_is_refused_naming_the_parameter(hostile_app):
    app = hostile_app
    artist = app.key("artist1", "artist")
    body = {"prompt": "a kite", "negative_prompt": f"blur{NUL}"}
    error = app.client.post("/v1/videos", json=body, headers=artist).json()["error"]
    assert error["param"] == "negative_prompt" and error["code"] == "invalid_value"
    error = app.client.get("/v1/videos/video_%00", headers=artist).json()["error"]
    assert error["param"] == "video_id"
    error = app.client.get("/v1/videos", params={"after": NUL}, headers=artist).json()["error"]
    assert error["param"] == "after"
    request = {"name": "Ada", "email": "ada@example.org", "wanted_role": "artist",
               "motivation": f"I make films{NUL} about kites"}  # fmt: skip
    error = app.client.post("/v1/access-requests", json=request).json()["error"]
    assert error["param"] == "motivation"


def test_two_authorization_headers_are_refused(hostile_app):
    app = hostile_app
    artist = app.key("artist1", "artist")["Authorization"]
    response = app.client.get(
        "/v1/videos", headers=[("Authorization", artist), ("Authorization", "Bearer ork_other")]
    )
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "Authorization"


def test_the_effective_config_shows_no_password(postgres_url, app_factory):
    url = postgres_url.replace("postgres@", "postgres:hunter2-secret@")
    app = app_factory(server={"embedded_workers": 0}, database={"url": url})
    response = app.client.get("/v1/admin/config", headers=app.key("op1", "operator"))
    assert response.status_code == 200
    assert "hunter2" not in response.text
    assert response.json()["database"]["url"].startswith("postgresql+psycopg://postgres:****")
