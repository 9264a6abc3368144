"""Refuse request bodies before anything parses them: too large, too slow, not UTF-8, JSON
nested too deep, or text holding characters no store keeps.

A pure ASGI middleware: it reads the body itself, at most `max_body_bytes` of it and within
`body_read_timeout_s`, so an oversized body (whatever its Content-Length says, or without
one) never sits in memory and a slow sender cannot hold a connection; then it checks the
body once for every route and hands the bytes it read on to the app unchanged.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import numpy as np
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from serve.problems import error_response

# json.loads recurses once per level and raises RecursionError near 1,000 levels (a 500);
# no body rebut reads is nested more than a handful of levels.
MAX_JSON_DEPTH = 64
# Bodies larger than this are checked in a worker thread, so the event loop is not held.
_THREAD_CHECK_BYTES = 64 * 1024

# A JSON string as json's scanner reads one (or, unterminated, the rest of the body), in
# UTF-8, whose multi-byte characters never hold a quote, backslash or bracket byte.
# Possessive: it never backtracks, so it is linear whatever the input.
_STRING = re.compile(rb'"[^"\\]*+(?:\\.[^"\\]*+)*+(?:"|\\?\Z)', re.S)
# Opening brackets to +1, closing ones to -1 (as int8), everything else deleted.
_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")
_NOT_BRACKETS = bytes(sorted(set(range(256)) - set(b"[]{}")))
# PostgreSQL text refuses NUL, and a lone surrogate cannot be encoded as UTF-8 (a 500 when the
# store or the response encodes it). Paired surrogate escapes reach Python as one character.
_BAD_CHAR = re.compile("[\x00\ud800-\udfff]")
_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_KEY_CHARS_SHOWN = 40
_TEXTUAL = (str, dict, list)  # what the walk looks into; numbers and literals hold no text


class _BodyTooLarge(Exception):
    pass


def _is_json(content_type: str | None) -> bool:
    if not content_type:
        return True
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or media_type.endswith("+json")


def _is_form(content_type: str | None) -> bool:
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    return media_type in ("application/x-www-form-urlencoded", "multipart/form-data")


def json_depth(utf8: bytes) -> int:
    """How deep json.loads would nest reading `utf8`: exact for JSON, and for text that is
    not, exact up to where json.loads would stop. Brackets inside strings do not count."""
    steps = _STRING.sub(b"", utf8).translate(_STEPS, _NOT_BRACKETS)
    depths = np.cumsum(np.frombuffer(steps, dtype=np.int8), dtype=np.int64)
    return int(depths.max(initial=0))


def _bad_char(text: str) -> str | None:
    """What is wrong with `text`, if it holds NUL or a lone surrogate, and where."""
    if text.isascii():
        index = text.find("\x00")  # memchr: no regex over the common case
    else:
        match = _BAD_CHAR.search(text)
        index = match.start() if match else -1
    if index < 0:
        return None
    char = text[index]
    what = "U+0000 (NUL)" if char == "\x00" else f"a lone surrogate, U+{ord(char):04X},"
    return f"{what} at character {index}"


# A place in the document as (parent, key or index), rendered only when something is wrong.
_Where = tuple[Any, str | int] | None


def _render(where: _Where) -> str:
    parts: list[str] = []
    while where is not None:
        where, key = where
        if isinstance(key, int):
            parts.append(f"[{key}]")
        elif _PLAIN_KEY.match(key):
            parts.append(f".{key}")
        else:
            shown = key if len(key) <= _KEY_CHARS_SHOWN else key[:_KEY_CHARS_SHOWN] + "..."
            parts.append(f"[{json.dumps(shown)}]")
    return "$" + "".join(reversed(parts))


def _holds_bad_text(document: Any) -> bool:
    """Whether any string or key in `document` holds NUL or a lone surrogate, at C speed:
    json.dumps writes NUL as the escape \\u0000 and a lone surrogate as itself."""
    dumped = json.dumps(document, ensure_ascii=False, check_circular=False)
    return "\\u0000" in dumped or (not dumped.isascii() and _BAD_CHAR.search(dumped) is not None)


def find_bad_text(document: Any) -> str | None:
    """The string, key or value, holding NUL or a lone surrogate, described with its JSON
    path (`$.comment.text`); None if there is none. Iterative: no recursion."""
    if not _holds_bad_text(document):
        return None  # the common case, without a walk in Python
    stack: list[tuple[Any, _Where]] = [(document, None)]
    while stack:
        value, where = stack.pop()
        if isinstance(value, str):
            if problem := _bad_char(value):
                return f"{_render(where)} holds {problem}"
        elif isinstance(value, dict):
            for key in value:
                if problem := _bad_char(key):
                    # The key itself is not shown: it cannot be encoded in the answer.
                    return f"A key in {_render(where)} holds {problem}"
            stack.extend((v, (where, k)) for k, v in value.items() if isinstance(v, _TEXTUAL))
        elif isinstance(value, list):
            stack.extend((v, (where, i)) for i, v in enumerate(value) if isinstance(v, _TEXTUAL))
    return None


def check_json(body: bytes) -> tuple[str, str] | None:
    """(code, detail) if `body` is JSON that no route should parse; None for a body that is
    fine, and for one that is not JSON at all (its route answers that)."""
    encoding = json.detect_encoding(body)
    try:
        # As json.loads(bytes) decodes, which is how the routes read bodies.
        text = body.decode(encoding, "surrogatepass")
    except UnicodeDecodeError:
        return None
    utf8 = body if encoding.startswith("utf-8") else text.encode("utf-8", "surrogatepass")
    # Fewer opening brackets than the limit, even counting those in strings: no scan needed.
    if utf8.count(b"[") + utf8.count(b"{") > MAX_JSON_DEPTH:
        depth = json_depth(utf8)
        if depth > MAX_JSON_DEPTH:
            detail = f"JSON is nested {depth} levels deep; the limit is {MAX_JSON_DEPTH}"
            return "json_too_deep", detail
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        return None
    except ValueError as exc:  # valid JSON that Python will not read: a 4,300-digit integer
        return "invalid_json", f"Body has a number rebut cannot read: {str(exc).split(';')[0]}"
    # NUL and lone surrogates reach a string only by a \u escape, or by a surrogate's UTF-8
    # lead byte 0xED, which json.loads decodes with surrogatepass.
    problem = find_bad_text(document) if b"\\u" in utf8 or b"\xed" in utf8 else None
    if problem is None:
        return None
    return "invalid_text", f"{problem}; text may not hold NUL or unpaired surrogates"


class BodyGuard:
    """Answers 413 for a body over `max_body_bytes`, 408 for one not all in within
    `body_read_timeout_s`, and 400 for JSON that is not UTF-8 (`invalid_encoding`), nested
    over MAX_JSON_DEPTH (`json_too_deep`) or holding NUL or a lone surrogate in a string
    (`invalid_text`). Under /v1alpha1/ the refusals are in Google's error shape."""

    def __init__(
        self, app: ASGIApp, *, max_body_bytes: int, body_read_timeout_s: float = 10.0
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.body_read_timeout_s = body_read_timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            await self._too_large(scope, receive, send)
            return
        try:
            async with asyncio.timeout(self.body_read_timeout_s):
                body = await self._read(receive)
        except _BodyTooLarge:
            await self._too_large(scope, receive, send)
            return
        except TimeoutError:
            detail = f"The body did not arrive within {self.body_read_timeout_s:g} s"
            # Close the connection: the rest of the body may still be on its way.
            response = error_response(
                scope["path"], 408, "body_timeout", detail, headers={"Connection": "close"}
            )
            await response(scope, receive, send)
            return
        if body is None:
            return  # the client left; there is no one to answer

        refusal = await self._check(body, headers.get("content-type"))
        if refusal is not None:
            code, detail = refusal
            await error_response(scope["path"], 400, code, detail)(scope, receive, send)
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

    async def _read(self, receive: Receive) -> bytes | None:
        """The whole body, or None if the client disconnected first."""
        chunks: list[bytes] = []
        size = 0
        more_body = True
        while more_body:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                raise _BodyTooLarge
            chunks.append(chunk)
            more_body = message.get("more_body", False)
        return b"".join(chunks)

    async def _check(self, body: bytes, content_type: str | None) -> tuple[str, str] | None:
        if _is_json(content_type):
            try:
                body.decode("utf-8")
            except UnicodeDecodeError as exc:
                detail = f"Body is not UTF-8: byte {exc.start} is {body[exc.start]:#04x}"
                return "invalid_encoding", detail
        # Whatever the Content-Type says: the webhook and Coral routes parse their raw body.
        if _is_form(content_type) or not body:
            return None
        if len(body) > _THREAD_CHECK_BYTES:
            return await run_in_threadpool(check_json, body)
        return check_json(body)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        detail = f"Request body is over the limit of {self.max_body_bytes} bytes"
        # Close the connection: the rest of the body is left unread on it.
        response = error_response(
            scope["path"], 413, "body_too_large", detail, headers={"Connection": "close"}
        )
        await response(scope, receive, send)
