"""Liveness, readiness and metrics.

/healthz: the process is up and its model is loaded. /readyz: it can serve (model loaded,
store reachable, queue worker running, its queue draining); orchestrators route traffic by
it. Both are open; /metrics needs a key like the API.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel

from serve.deps import PipelineDep, require_key
from serve.integrations.webhooks.events import oldest_waiting_s, queue_depth
from serve.problems import problem_response
from serve.store import ping

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    model_version: str


class Ready(BaseModel):
    status: str
    model_version: str
    store: str
    worker: str
    queue: dict[str, int]
    # seconds the oldest waiting webhook event has waited
    queue_oldest_s: float


@router.get("/healthz")
def healthz(pipeline: PipelineDep) -> Health:
    """Report that the server is up, and which model answers."""
    return Health(status="ok", model_version=pipeline.model_version)


@router.get("/readyz", response_model=Ready, responses={503: {"description": "Not ready"}})
def readyz(request: Request) -> Any:
    """Ready when the model is loaded, the store answers and the queue worker runs."""
    state = request.app.state
    problems: list[str] = []
    model_version = getattr(getattr(state, "pipeline", None), "model_version", None)
    if model_version is None:
        problems.append("model not loaded")
    queue: dict[str, int] = {}
    waited = 0.0
    try:
        with state.sessions() as session:
            ping(session)
            queue = queue_depth(session)
            waited = oldest_waiting_s(session)
        store = "ok"
    except Exception as exc:  # any driver error means the same thing here: not ready
        store = f"unreachable: {type(exc).__name__}"
        problems.append(f"store {store}")
    worker = "alive" if state.worker.alive else "stopped"
    if worker != "alive":
        problems.append("queue worker stopped")
    if waited > state.settings.queue_stall_s:
        problems.append(f"webhook queue not draining: oldest event waiting {waited:.0f} s")
    if problems:
        return problem_response(503, "not_ready", "; ".join(problems))
    ready = Ready(
        status="ready",
        model_version=model_version,
        store=store,
        worker=worker,
        queue=queue,
        queue_oldest_s=round(waited, 3),
    )
    return JSONResponse(ready.model_dump())


@router.get("/metrics", dependencies=[Depends(require_key)], include_in_schema=False)
def metrics(request: Request) -> Response:
    """Prometheus text format."""
    registry = request.app.state.metrics.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
