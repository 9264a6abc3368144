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
from serve.micro_batcher import MicroBatcher
from serve.problems import ApiProblem


def get_pipeline(request: Request) -> Pipeline:
    return request.app.state.pipeline


def get_batcher(request: Request) -> MicroBatcher:
    return request.app.state.batcher


def get_session(request: Request) -> Iterator[Session]:
    with request.app.state.sessions() as session:
        yield session


def get_app_settings(request: Request) -> Settings:
    return request.app.state.settings


PipelineDep = Annotated[Pipeline, Depends(get_pipeline)]
BatcherDep = Annotated[MicroBatcher, Depends(get_batcher)]
SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]


@dataclass(frozen=True)
class Caller:
    """Who sent a request: the key's name (`settings` for REBUT_API_KEYS, `anonymous` with
    REBUT_AUTH=off)."""

    name: str


# The moderator pages keep the key in this HttpOnly cookie (set by POST /moderate/login), and
# their script sends PAGE_HEADER with its API calls. The cookie counts only with that header:
# a cross-site form cannot send a custom header, so another site cannot spend the cookie.
PAGE_COOKIE = "rebut_key"
PAGE_HEADER = "x-rebut-page"


def _presented_key(request: Request) -> str | None:
    authorization = request.headers.get("authorization", "")
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    # Perspective's clients, and CMS or Coral webhook URLs, carry the key in the query.
    key = request.query_params.get("key")
    if key:
        return key
    if request.headers.get(PAGE_HEADER) == "1":
        return request.cookies.get(PAGE_COOKIE) or None
    return None


def require_key(request: Request) -> Caller:
    """Let the request through with a live key and a token left in its bucket."""
    if request.app.state.settings.auth == "off":
        return Caller(name="anonymous")
    return check_key(request, _presented_key(request))


def find_caller(request: Request, key: str) -> Caller | None:
    """Who holds `key`, or None for an unknown or revoked one; no rate limit taken."""
    state = request.app.state
    if hash_key(key) in state.settings_key_hashes:
        return Caller(name="settings")
    with state.sessions() as session:
        row = find_key(session, key=key)
    return None if row is None else Caller(name=row.name)


def check_key(request: Request, key: str | None) -> Caller:
    """The caller for a live `key` with a token left in its bucket, else a 401 or 429."""
    state = request.app.state
    challenge = {"WWW-Authenticate": 'Bearer realm="rebut"'}
    if key is None:
        raise ApiProblem(
            401,
            "missing_api_key",
            "Send an API key as `Authorization: Bearer KEY` or `?key=KEY` "
            "(`rebut keys create NAME` makes one)",
            headers=challenge,
        )
    caller = find_caller(request, key)
    if caller is None:
        raise ApiProblem(401, "invalid_api_key", "Unknown or revoked API key", headers=challenge)
    wait_s = state.rate_limiter.take(hash_key(key))
    if wait_s:
        raise ApiProblem(
            429,
            "rate_limited",
            f"Over {state.settings.rate_limit} requests a minute for this key; retry in {wait_s} s",
            headers={"Retry-After": str(wait_s)},
        )
    return caller


CallerDep = Annotated[Caller, Depends(require_key)]


def page_caller(request: Request) -> Caller | None:
    """The moderator behind a page request (its cookie's key), or None: then the page
    answers with the login form. Rate-limited like the API."""
    if request.app.state.settings.auth == "off":
        return Caller(name="anonymous")
    key = request.cookies.get(PAGE_COOKIE)
    if not key:
        return None
    try:
        return check_key(request, key)
    except ApiProblem as problem:
        if problem.status == 401:  # revoked since login: log in again
            return None
        raise
