"""The API's routers, one per resource, under /v1; every one of them needs an API key.
Health and readiness stay at the root, open, for load balancers and orchestrators."""

from fastapi import APIRouter, Depends

from serve.api.routes import articles, comments, health, webhooks
from serve.deps import require_key

api_router = APIRouter(prefix="/v1", dependencies=[Depends(require_key)])
api_router.include_router(comments.router)
api_router.include_router(articles.router)
api_router.include_router(webhooks.router)

root_router = APIRouter()
root_router.include_router(health.router)
