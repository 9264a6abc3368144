"""Typed dependencies for the routes: the loaded pipeline, a database session, and the
API-key check with its rate limit.

All of them read `app.state`, filled in the lifespan (serve/main.py), never at import, so
importing the app costs nothing and tests can build it with their own settings.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from model.pipeline import Pipeline
from serve.config import Settings
from serve.keys import find_key, hash_key
from serve.problems import ApiProblem


def get_pipeline(request: Request) -> Pipeline:
    return request.app.state.pipeline


def get_session(request: Request) -> Iterator[Session]:
    with request.app.state.sessions() as session:
        yield session


def get_app_settings(request: Request) -> Settings:
    return request.app.state.settings


PipelineDep = Annotated[Pipeline, Depends(get_pipeline)]
SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]


@dataclass(frozen=True)
class Caller:
    """Who sent a request: the key's name (`settings` for REBUT_API_KEYS, `anonymous` with
    REBUT_AUTH=off)."""

    name: str


def _presented_key(request: Request) -> str | None:
    authorization = request.headers.get("authorization", "")
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    # Perspective's clients, and CMS or Coral webhook URLs, carry the key in the query.
    return request.query_params.get("key") or None


def require_key(request: Request) -> Caller:
    """Let the request through with a live key and a token left in its bucket."""
    state = request.app.state
    if state.settings.auth == "off":
        return Caller(name="anonymous")
    key = _presented_key(request)
    challenge = {"WWW-Authenticate": 'Bearer realm="rebut"'}
    if key is None:
        raise ApiProblem(
            401,
            "missing_api_key",
            "Send an API key as `Authorization: Bearer KEY` or `?key=KEY` "
            "(`rebut keys create NAME` makes one)",
            headers=challenge,
        )
    digest = hash_key(key)
    if digest in state.settings_key_hashes:
        caller = Caller(name="settings")
    else:
        with state.sessions() as session:
            row = find_key(session, key=key)
        if row is None:
            raise ApiProblem(
                401, "invalid_api_key", "Unknown or revoked API key", headers=challenge
            )
        caller = Caller(name=row.name)
    wait_s = state.rate_limiter.take(digest)
    if wait_s:
        raise ApiProblem(
            429,
            "rate_limited",
            f"Over {state.settings.rate_limit} requests a minute for this key; retry in {wait_s} s",
            headers={"Retry-After": str(wait_s)},
        )
    return caller


CallerDep = Annotated[Caller, Depends(require_key)]
