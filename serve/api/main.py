"""The API's routers, one per resource, under /v1; every one of them needs an API key.
At the root: health and readiness, open for load balancers and orchestrators; the
Perspective-compatible /v1alpha1 (keyed) and its discovery document (open, like /docs); the
moderator's pages under /moderate, which ask for a key through their own login form."""

from fastapi import APIRouter, Depends

from serve.api.routes import (
    articles,
    comments,
    coral,
    feedback,
    health,
    pages,
    perspective,
    webhooks,
)
from serve.deps import require_key

api_router = APIRouter(prefix="/v1", dependencies=[Depends(require_key)])
api_router.include_router(comments.router)
api_router.include_router(feedback.router)
api_router.include_router(articles.router)
api_router.include_router(webhooks.router)
api_router.include_router(coral.router)

root_router = APIRouter()
root_router.include_router(health.router)
root_router.include_router(perspective.router)  # /v1alpha1, keyed like /v1
root_router.include_router(perspective.discovery_router)
root_router.include_router(pages.router)
