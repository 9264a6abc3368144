"""HMAC-SHA256 request signatures: rebut's own webhook scheme and Coral Talk's.

rebut (Stripe's scheme): `Rebut-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`.
The timestamp is signed with the body, so a captured request cannot be replayed after the
tolerance; within it, the event id makes a replay a no-op. Several `v1=` may be sent while
the sender rotates secrets, and several secrets may be configured while the receiver does.

Coral: `X-Coral-Signature: sha256=<hex HMAC-SHA256 of the body>`, comma-separated, one per
live secret during a rotation.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Sequence

REBUT_HEADER = "Rebut-Signature"
CORAL_HEADER = "X-Coral-Signature"


class SignatureError(ValueError):
    """`code` is `missing_signature`, `invalid_signature` or `signature_expired`."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def _hmac(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The `Rebut-Signature` value for `body`, as rebut sends with callbacks."""
    t = int(time.time()) if timestamp is None else timestamp
    return f"t={t},v1={_hmac(secret, f'{t}.'.encode() + body)}"


def verify(
    header: str | None,
    body: bytes,
    secrets: Sequence[str],
    *,
    tolerance_s: int = 300,
    now: float | None = None,
) -> int:
    """Check a `Rebut-Signature` against every secret; returns its timestamp."""
    if not header:
        raise SignatureError("missing_signature", f"No {REBUT_HEADER} header")
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isdigit():
            timestamp = int(value)
        elif name == "v1" and value:
            signatures.append(value)
    if timestamp is None or not signatures:
        raise SignatureError(
            "invalid_signature", f"{REBUT_HEADER} must read t=<unix seconds>,v1=<hex HMAC>"
        )
    age = (time.time() if now is None else now) - timestamp
    if abs(age) > tolerance_s:
        raise SignatureError(
            "signature_expired",
            f"{REBUT_HEADER} timestamp is {int(age)} s from now; the tolerance is {tolerance_s} s",
        )
    signed = f"{timestamp}.".encode() + body
    expected = [_hmac(secret, signed) for secret in secrets]
    if not _any_match(signatures, expected):
        raise SignatureError("invalid_signature", f"{REBUT_HEADER} does not match the body")
    return timestamp


def sign_coral(secret: str, body: bytes) -> str:
    return f"sha256={_hmac(secret, body)}"


def verify_coral(header: str | None, body: bytes, secrets: Sequence[str]) -> None:
    """Check an `X-Coral-Signature` (one or more `sha256=<hex>`) against every secret."""
    if not header:
        raise SignatureError("missing_signature", f"No {CORAL_HEADER} header")
    signatures = [
        value.strip()[len("sha256=") :]
        for value in header.split(",")
        if value.strip().startswith("sha256=")
    ]
    expected = [_hmac(secret, body) for secret in secrets]
    if not _any_match(signatures, expected):
        raise SignatureError("invalid_signature", f"{CORAL_HEADER} does not match the body")


def _any_match(signatures: Sequence[str], expected: Sequence[str]) -> bool:
    """Compare every pair, without stopping early, so timing says nothing about which
    signature or which secret matched."""
    matched = False
    for candidate in signatures:
        for digest in expected:
            matched |= hmac.compare_digest(candidate, digest)
    return matched
