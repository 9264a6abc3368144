"""Liveness: the process is up and its model is loaded."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from serve.deps import PipelineDep

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    model_version: str


@router.get("/healthz")
def healthz(pipeline: PipelineDep) -> Health:
    """Report that the server is up, and which model answers."""
    return Health(status="ok", model_version=pipeline.model_version)
