"""Typed dependencies for the routes: the loaded pipeline and a database session.

Both live on `app.state`, made in the lifespan (serve/main.py), never at import, so
importing the app costs nothing and tests can build it with their own settings.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from model.pipeline import Pipeline
from serve.config import Settings


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
