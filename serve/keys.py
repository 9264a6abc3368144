"""API keys: made high-entropy and shown once, stored only as their SHA-256.

A plain hash (no salt, no slow KDF) is enough here: a key is 256 random bits, so nobody
can guess one from its hash, and the hash lets a request's key be found by an index.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from serve.store import now
from serve.tables import ApiKeyRow

KEY_PREFIX = "rbt_"  # lets secret scanners and people tell a rebut key at a glance


class KeyNameTaken(ValueError):
    pass


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create_key(session: Session, *, name: str) -> str:
    """Store a new key under `name` and return it: the only time it is seen in full."""
    if session.scalar(select(ApiKeyRow.id).where(ApiKeyRow.name == name)) is not None:
        raise KeyNameTaken(f"a key named {name!r} exists; revoke it or choose another name")
    key = new_key()
    row = ApiKeyRow(
        name=name, key_sha256=hash_key(key), prefix=key[: len(KEY_PREFIX) + 4], created_at=now()
    )
    session.add(row)
    session.flush()
    return key


def find_key(session: Session, *, key: str) -> ApiKeyRow | None:
    """The live key row for `key`, or None for an unknown or revoked key."""
    query = select(ApiKeyRow).where(
        ApiKeyRow.key_sha256 == hash_key(key), ApiKeyRow.revoked_at.is_(None)
    )
    return session.scalars(query).first()


def list_keys(session: Session) -> Sequence[ApiKeyRow]:
    return session.scalars(select(ApiKeyRow).order_by(ApiKeyRow.id)).all()


def count_live_keys(session: Session) -> int:
    query = select(func.count()).select_from(ApiKeyRow).where(ApiKeyRow.revoked_at.is_(None))
    return session.scalar(query) or 0


def revoke_key(session: Session, *, name: str) -> bool:
    row = session.scalars(select(ApiKeyRow).where(ApiKeyRow.name == name)).first()
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = now()
    return True
