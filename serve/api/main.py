"""The API's routers, one per resource, under /v1 (health stays at the root for probes)."""

from fastapi import APIRouter

from serve.api.routes import articles, comments, health

api_router = APIRouter(prefix="/v1")
api_router.include_router(comments.router)
api_router.include_router(articles.router)

root_router = APIRouter()
root_router.include_router(health.router)
