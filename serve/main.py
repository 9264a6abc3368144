"""The FastAPI app. Build it with `create_app()`; run it with `rebut serve`, or
`uvicorn --factory serve.main:create_app`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import version

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from model.moderation import load_policy_file
from model.pipeline import Pipeline
from model.runtime import limit_malloc_arenas
from serve.api.main import api_router, root_router
from serve.api.routes.pages import PREFIX, STATIC_DIR
from serve.body_guard import BodyGuard
from serve.config import Settings, get_settings
from serve.integrations.webhooks.events import oldest_waiting_s, queue_depth
from serve.integrations.webhooks.worker import Worker
from serve.keys import hash_key
from serve.logs import configure_logging
from serve.metrics import Metrics, MetricsMiddleware
from serve.micro_batcher import MicroBatcher
from serve.problems import add_problem_handlers
from serve.rate_limit import TokenBuckets
from serve.security_headers import SecurityHeaders
from serve.store import make_engine, make_sessionmaker, migrate


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level)
    limit_malloc_arenas()  # before the pipeline's and the server's threads start
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.settings = settings
        app.state.settings_key_hashes = frozenset(hash_key(k) for k in settings.api_keys)
        app.state.rate_limiter = TokenBuckets(settings.rate_limit)
        policy = load_policy_file(settings.policy) if settings.policy else None
        app.state.pipeline = Pipeline.from_dir(
            settings.model_dir,
            threads=settings.threads,
            int8=settings.int8_weights,
            policy=policy,
        )
        app.state.batcher = MicroBatcher(app.state.pipeline).start()
        engine = make_engine(settings.database_url)
        migrate(engine)  # idempotent: a database at head is left as it is
        app.state.sessions = make_sessionmaker(engine)
        app.state.metrics = metrics
        metrics.model.labels(app.state.pipeline.model_version).set(1)

        def depth() -> dict[str, int]:
            with app.state.sessions() as session:
                return queue_depth(session)

        def oldest_s() -> float:
            with app.state.sessions() as session:
                return oldest_waiting_s(session)

        metrics.watch_queue(depth, oldest_s)
        app.state.worker = Worker(
            sessions=app.state.sessions, pipeline=app.state.pipeline, settings=settings
        )
        app.state.worker.start()
        yield
        app.state.worker.stop()
        app.state.batcher.stop()
        engine.dispose()

    app = FastAPI(title="rebut", version=version("rebut"), lifespan=lifespan, docs_url="/docs")
    app.add_middleware(
        BodyGuard,
        max_body_bytes=settings.max_body_bytes,
        body_read_timeout_s=settings.body_read_timeout_s,
    )
    app.add_middleware(SecurityHeaders)  # outside BodyGuard: its refusals get the headers too
    # Added last, so it runs first: it also counts what BodyGuard refuses.
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    add_problem_handlers(app)
    app.include_router(root_router)
    app.include_router(api_router)
    # The moderator pages' stylesheet and script: public, they hold nothing secret.
    app.mount(f"{PREFIX}/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app
