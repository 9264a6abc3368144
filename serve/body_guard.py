"""Reject request bodies that are too large or not UTF-8 before anything parses them.

A pure ASGI middleware: it reads the body itself, at most `max_body_bytes` of it, so an
oversized body (whatever its Content-Length says, or without one) never sits in memory,
and then hands the bytes it read on to the app unchanged.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from serve.problems import problem_response


def _is_json(content_type: str | None) -> bool:
    if not content_type:
        return True
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or media_type.endswith("+json")


class BodyGuard:
    """Answers 413 for a body over `max_body_bytes` and 400 for JSON that is not UTF-8."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            await self._too_large(scope, receive, send)
            return

        chunks: list[bytes] = []
        size = 0
        more_body = True
        while more_body:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                await self._too_large(scope, receive, send)
                return
            chunks.append(chunk)
            more_body = message.get("more_body", False)
        body = b"".join(chunks)

        if _is_json(headers.get("content-type")):
            try:
                body.decode("utf-8")
            except UnicodeDecodeError as exc:
                detail = f"Body is not UTF-8: byte {exc.start} is {body[exc.start]:#04x}"
                await problem_response(400, "invalid_encoding", detail)(scope, receive, send)
                return

        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                # After the body, a handler waiting on receive() learns of a disconnect.
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        detail = f"Request body is over the limit of {self.max_body_bytes} bytes"
        # Close the connection: the rest of the body is left unread on it.
        response = problem_response(413, "body_too_large", detail, headers={"Connection": "close"})
        await response(scope, receive, send)
