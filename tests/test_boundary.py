"""Bodies at the edge, over real HTTP on every JSON route: NUL and lone surrogates in text,
JSON nested too deep, numbers Python will not read, oversized Perspective comments, bodies
sent too slowly and bodies abandoned half-way.

    .venv/bin/pytest tests/test_boundary.py
"""

from __future__ import annotations

import json
import select
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from conftest import API_KEY, AUTH_HEADERS, run_server, scratch_postgres
from prometheus_client.parser import text_string_to_metric_families
from test_api import assert_problem
from test_coral import coral_request, coral_signature
from webhook_client import HOOK, comment_event, signature

WEBHOOK_SECRET = "whsec-boundary-0123456789"
CORAL_SECRET = "ssc_boundary_5e1f0a9c3d"
SECRETS = {"REBUT_WEBHOOK_SECRETS": WEBHOOK_SECRET, "REBUT_CORAL_SECRETS": CORAL_SECRET}
PLACEHOLDER = "TEXT-GOES-HERE"
GOOD_TEXT = "Thank you for the careful reporting on the council budget."
BODY_READ_TIMEOUT_S = 2
LIMITS_MAX_BODY_BYTES = 4 * 1024 * 1024
ANALYZE = "/v1alpha1/comments:analyze"


@dataclass(frozen=True)
class Route:
    name: str
    method: str
    path: str
    text_at: str  # the JSON path of the text in `payload`
    payload: Callable[[str], bytes]  # a good body around a text
    sign: Callable[[bytes], dict[str, str]] | None = None

    def send(self, client: httpx.Client, body: bytes) -> httpx.Response:
        headers = {"Content-Type": "application/json", **(self.sign(body) if self.sign else {})}
        return client.request(self.method, self.path, content=body, headers=headers)

    def with_text(self, escaped: str) -> bytes:
        """The route's body with `escaped`, JSON string content as sent, as its text."""
        return self.payload(PLACEHOLDER).replace(PLACEHOLDER.encode(), escaped.encode())


def _unique() -> str:
    return uuid.uuid4().hex[:12]


def _dumps(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload).encode()


ROUTES = [
    Route(
        "score",
        "POST",
        "/v1/comments:score",
        "$.comment.text",
        lambda text: _dumps({"comment": {"id": f"b-{_unique()}", "text": text}}),
    ),
    Route(
        "article",
        "PUT",
        "/v1/articles/boundary-article",
        "$.body",
        lambda text: _dumps({"title": "Council budget", "body": text}),
    ),
    Route(
        "webhook",
        "POST",
        HOOK,
        "$.data.comment.text",
        lambda text: _dumps(comment_event(f"evt-{_unique()}", f"c-{_unique()}", text)),
        lambda body: {"Rebut-Signature": signature(WEBHOOK_SECRET, body)},
    ),
    Route(
        "coral",
        "POST",
        "/v1/integrations/coral/moderation",
        "$.comment.body",
        lambda text: coral_request(text, comment_id=f"cc-{_unique()}"),
        lambda body: {"X-Coral-Signature": coral_signature(body, CORAL_SECRET)},
    ),
    Route(
        "perspective",
        "POST",
        ANALYZE,
        "$.comment.text",
        lambda text: _dumps({"comment": {"text": text}, "requestedAttributes": {"TOXICITY": {}}}),
    ),
]
SCORE_ROUTE = ROUTES[0]


def assert_refused(response: httpx.Response, status: int, code: str, *words: str) -> None:
    """Google's error body on the Perspective paths, a problem body elsewhere; either way
    its message holds `words`."""
    if response.request.url.path.startswith("/v1alpha1/"):
        assert response.status_code == status, response.text
        assert response.headers["content-type"].startswith("application/json")
        error = response.json()["error"]
        assert error["code"] == status and error["message"], error
        if status in (400, 413):
            assert error["status"] == "INVALID_ARGUMENT", error
            assert error["details"][0]["errorType"] == "INVALID_REQUEST", error
        message = error["message"]
    else:
        assert_problem(response, status, code)
        message = response.json()["detail"]
    for word in words:
        assert word in message, message


def local_port(response: httpx.Response) -> int:
    """The client's port of the connection a response came on."""
    return response.extensions["network_stream"].get_extra_info("client_addr")[1]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def store_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A server on each store (conftest's `database_url`, for a module's worth of tests)."""
    workdir = tmp_path_factory.mktemp(f"boundary-{request.param}")
    with ExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite:///{workdir / 'rebut.db'}"
        else:
            url = stack.enter_context(scratch_postgres())
        base_url, _process = stack.enter_context(
            run_server(workdir, REBUT_DATABASE_URL=url, **SECRETS)
        )
        yield base_url


@pytest.fixture(scope="module")
def limits_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A short body read timeout, and room for a 2 MB Perspective comment."""
    with run_server(
        tmp_path_factory.mktemp("boundary-limits"),
        REBUT_MAX_BODY_BYTES=str(LIMITS_MAX_BODY_BYTES),
        REBUT_BODY_READ_TIMEOUT_S=str(BODY_READ_TIMEOUT_S),
        **SECRETS,
    ) as (base_url, _process):
        yield base_url


# JSON string content as sent (escapes and all), and what the refusal names.
BAD_TEXTS = {
    "nul": (r"Fine words\u0000 and more", "U+0000"),
    "lone-high-surrogate": (r"Fine words \ud800 and more", "U+D800"),
    "lone-low-surrogate": (r"Fine words \udc00", "U+DC00"),
}


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.name)
@pytest.mark.parametrize("case", list(BAD_TEXTS))
def test_bad_text_is_400_and_the_connection_stays_usable(
    store_server: str, route: Route, case: str
) -> None:
    escaped, named = BAD_TEXTS[case]
    with httpx.Client(base_url=store_server, headers=AUTH_HEADERS, timeout=120) as client:
        refused = route.send(client, route.with_text(escaped))
        assert_refused(refused, 400, "invalid_text", route.text_at, named)
        assert refused.headers.get("connection", "").lower() != "close"
        good = route.send(client, route.payload(GOOD_TEXT))
        assert good.status_code in (200, 202, 204), good.text
        assert local_port(good) == local_port(refused), "the connection was not kept"


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.name)
def test_deeply_nested_json_is_400_and_the_connection_stays_usable(
    store_server: str, route: Route
) -> None:
    deep = b"[" * 10_000 + b"]" * 10_000
    # Brackets, quotes and backslashes inside a string are text, not nesting.
    bracketed = "[{" * 2_000 + ' \\" \\\\ ' + "}]" * 2_000 + " " + GOOD_TEXT
    with httpx.Client(base_url=store_server, headers=AUTH_HEADERS, timeout=120) as client:
        refused = route.send(client, deep)
        assert_refused(refused, 400, "json_too_deep", "64")
        good = route.send(client, route.payload(bracketed))
        assert good.status_code in (200, 202, 204), good.text
        assert local_port(good) == local_port(refused), "the connection was not kept"


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.name)
def test_a_number_python_cannot_read_is_400(store_server: str, route: Route) -> None:
    # Valid JSON, but json.loads refuses integers of over 4,300 digits with a ValueError.
    body = route.payload(GOOD_TEXT)[:-1] + b', "n": ' + b"7" * 5_000 + b"}"
    with httpx.Client(base_url=store_server, headers=AUTH_HEADERS, timeout=120) as client:
        assert_refused(route.send(client, body), 400, "invalid_json", "digits")


def test_a_bad_key_is_named_by_where_it_is(store_server: str) -> None:
    body = rb'{"comment": {"id": "k-1", "text": "Fine.", "bad\ud800key": 1}}'
    with httpx.Client(base_url=store_server, headers=AUTH_HEADERS, timeout=120) as client:
        refused = SCORE_ROUTE.send(client, body)
        assert_refused(refused, 400, "invalid_text", "key", "$.comment", "U+D800")


def test_a_two_megabyte_perspective_comment_is_a_quick_google_400(limits_server: str) -> None:
    body = {"comment": {"text": "word " * 400_000}, "requestedAttributes": {"TOXICITY": {}}}
    started = time.perf_counter()
    response = httpx.post(limits_server + ANALYZE, json=body, headers=AUTH_HEADERS, timeout=120)
    seconds = time.perf_counter() - started
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["status"] == "INVALID_ARGUMENT"
    assert error["details"][0]["errorType"] == "COMMENT_TOO_LONG", error
    print(f"2 MB Perspective comment refused in {seconds:.3f} s")


def test_bodyguard_refusals_are_google_shaped_on_perspective(limits_server: str) -> None:
    with httpx.Client(base_url=limits_server, headers=AUTH_HEADERS, timeout=120) as client:
        huge = b'{"comment": {"text": "' + b"a" * LIMITS_MAX_BODY_BYTES + b'"}}'
        headers = {"Content-Type": "application/json"}
        assert_refused(client.post(ANALYZE, content=huge, headers=headers), 413, "body_too_large")
        latin1 = '{"comment": {"text": "café"}}'.encode("latin-1")
        refused = client.post(ANALYZE, content=latin1, headers=headers)
        assert_refused(refused, 400, "invalid_encoding", "UTF-8")


def _raw_request(path: str, content_length: int) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {API_KEY}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {content_length}\r\n\r\n"
    )
    return head.encode()


def _connect(base_url: str) -> socket.socket:
    host, port = httpx.URL(base_url).host, httpx.URL(base_url).port
    return socket.create_connection((host, port), timeout=30)


def _read_until_closed(sock: socket.socket, deadline: float) -> bytes:
    received = b""
    while time.monotonic() < deadline:
        sock.settimeout(max(0.1, deadline - time.monotonic()))
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            return received
        received += chunk
    raise AssertionError(f"the server did not close the connection; got {received!r}")


@pytest.mark.parametrize("path", ["/v1/comments:score", ANALYZE])
def test_a_slow_body_is_408_and_the_connection_closed(limits_server: str, path: str) -> None:
    started = time.monotonic()
    deadline = started + BODY_READ_TIMEOUT_S + 10
    with _connect(limits_server) as sock:
        sock.sendall(_raw_request(path, 1_000) + b'{"comment": ')
        # A few bytes a second, until the server answers.
        while not select.select([sock], [], [], 0.5)[0]:
            assert time.monotonic() < deadline, "no answer to a slow body"
            try:
                sock.sendall(b" ")
            except (BrokenPipeError, ConnectionResetError):
                break
        answered = time.monotonic() - started
        raw = _read_until_closed(sock, deadline)
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (h.split(":", 1) for h in header_lines)}
    assert status_line.split()[1] == "408", raw
    assert headers["connection"].lower() == "close"
    error = json.loads(body)
    if path.startswith("/v1alpha1/"):
        assert headers["content-type"].startswith("application/json")
        assert error["error"]["code"] == 408 and error["error"]["message"], error
        assert error["error"]["status"] == "DEADLINE_EXCEEDED", error
    else:
        assert headers["content-type"].startswith("application/problem+json")
        assert error["status"] == 408 and error["code"] == "body_timeout", error
    print(f"slow body on {path}: 408 after {answered:.2f} s")


def _request_counts(base_url: str) -> dict[tuple[str, str, str], float]:
    response = httpx.get(base_url + "/metrics", headers=AUTH_HEADERS, timeout=30)
    assert response.status_code == 200, response.text
    return {
        (s.labels["method"], s.labels["route"], s.labels["status"]): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
        if s.name == "rebut_requests_total"
    }


def test_a_body_abandoned_half_way_is_not_a_server_error(limits_server: str) -> None:
    before = _request_counts(limits_server)
    with _connect(limits_server) as sock:
        sock.sendall(_raw_request("/v1/comments:score", 1_000) + b'{"comment": {"id": "x"')
    key = ("POST", "unmatched", "499")  # BodyGuard answers before routing
    deadline = time.monotonic() + 30
    while (after := _request_counts(limits_server)).get(key, 0) <= before.get(key, 0):
        assert time.monotonic() < deadline, f"the abandoned request was not counted: {after}"
        time.sleep(0.2)
    errors = {k: v for k, v in after.items() if k[2].startswith("5") and v > before.get(k, 0)}
    assert not errors, errors
