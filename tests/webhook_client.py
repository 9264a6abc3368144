"""What a CMS does: sign an event the way docs/integrations.md shows, and receive rebut's callbacks.

Written from docs/integrations.md's description of the scheme, not with
serve/integrations/signatures.py, so the tests check that the server keeps to what the docs promise.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
from conftest import AUTH_HEADERS

HOOK = "/v1/webhooks/comments"


def signature(secret: str, body: bytes, timestamp: int | None = None) -> str:
    t = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


def post_event(
    base_url: str, event: dict[str, Any], secret: str, *, timestamp: int | None = None
) -> httpx.Response:
    body = json.dumps(event).encode()
    headers = {
        **AUTH_HEADERS,
        "Content-Type": "application/json",
        "Rebut-Signature": signature(secret, body, timestamp),
    }
    return httpx.post(base_url + HOOK, content=body, headers=headers, timeout=60)


def comment_event(
    event_id: str,
    comment_id: str,
    text: str,
    *,
    article: dict[str, Any] | None = None,
    article_id: str | None = None,
    type: str = "comment.created",
) -> dict[str, Any]:
    comment: dict[str, Any] = {"id": comment_id, "text": text}
    if article_id is not None:
        comment["article_id"] = article_id
    data: dict[str, Any] = {"comment": comment}
    if article is not None:
        data["article"] = article
    return {"id": event_id, "type": type, "created": int(time.time()), "data": data}


def wait_for(condition: Callable[[], Any], what: str, timeout_s: float = 120) -> Any:
    """Poll until `condition()` is truthy; a deadline for waiting, not a timing check."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"gave up waiting for {what} after {timeout_s} s")


class Receiver:
    """A CMS callback endpoint on loopback. Events whose id starts with `dead-` always get
    500; others get 503 on their first delivery and 200 after, to exercise the retry."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self._lock = threading.Lock()

    def deliveries(self, event_id: str) -> list[tuple[dict[str, str], dict[str, Any]]]:
        with self._lock:
            found = [(h, json.loads(b)) for h, b in self.received]
        return [(h, body) for h, body in found if body["event_id"] == event_id]

    @contextmanager
    def running(self) -> Iterator[str]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                event_id = json.loads(body)["event_id"]
                with receiver._lock:
                    seen = sum(json.loads(b)["event_id"] == event_id for _, b in receiver.received)
                    receiver.received.append(
                        ({k.lower(): v for k, v in self.headers.items()}, body)
                    )
                ok = not event_id.startswith("dead-") and seen >= 1
                self.send_response(200 if ok else (503 if seen == 0 else 500))
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}/rebut-callback"
        finally:
            server.shutdown()
            server.server_close()
