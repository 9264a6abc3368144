"""Prometheus metrics: requests and latencies per route, the webhook queue's depth, the
model version. Each app has its own registry (tests build several apps in one process);
with `--workers N` each process reports its own numbers.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

access_log = logging.getLogger("rebut.access")
CLIENT_CLOSED_REQUEST = 499


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "rebut_requests",
            "HTTP requests by route template, method and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "rebut_request_seconds",
            "HTTP request latency by route template",
            ["method", "route"],
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=self.registry,
        )
        self.model = Gauge(
            "rebut_model_info", "The loaded model's version", ["version"], registry=self.registry
        )

    def watch_queue(
        self, depth: Callable[[], dict[str, int]], oldest_s: Callable[[], float]
    ) -> None:
        """Report the events table per status, and how long its oldest waiting event has
        waited, at each scrape (read then, never cached)."""
        self.registry.register(_QueueCollector(depth, oldest_s))


class _QueueCollector(Collector):
    def __init__(self, depth: Callable[[], dict[str, int]], oldest_s: Callable[[], float]) -> None:
        self.depth = depth
        self.oldest_s = oldest_s

    def collect(self):  # type: ignore[no-untyped-def]
        family = GaugeMetricFamily(
            "rebut_webhook_events", "Webhook events in the store by status", labels=["status"]
        )
        counts = self.depth()
        for status in ("received", "scored", "applied", "failed", "dead"):
            family.add_metric([status], counts.get(status, 0))
        yield family
        # a queue that is not draining: its depth may be 1, its oldest event keeps ageing
        yield GaugeMetricFamily(
            "rebut_webhook_oldest_waiting_seconds",
            "How long the oldest received webhook event has waited",
            value=self.oldest_s(),
        )


def route_template(scope: Scope) -> str:
    """`/v1/articles/{article_id}` for `/v1/articles/a-1`: the matched path with each path
    parameter's value put back as its name. Built from the request's own scope, so it does
    not depend on how FastAPI nests routers."""
    if scope.get("endpoint") is None:
        return "unmatched"
    path = scope.get("path", "")
    for name, value in (scope.get("path_params") or {}).items():
        if not str(value):
            continue
        head, found, tail = path.rpartition(str(value))
        if found:
            path = f"{head}{{{name}}}{tail}"
    return path


class MetricsMiddleware:
    """Counts and times every HTTP request by its route template (never the raw path, so
    ids do not blow up the label set), and writes the access log line."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status: int | None = None
        client_left = False

        async def receive_wrapper() -> Message:
            nonlocal client_left
            message = await receive()
            client_left = client_left or message["type"] == "http.disconnect"
            return message

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive_wrapper, send_wrapper)
        finally:
            if status is None:
                # Unanswered: a client that left before the answer is not a server error
                # (nginx's 499); otherwise the server's error handler or uvicorn answers 500.
                status = CLIENT_CLOSED_REQUEST if client_left else 500
            seconds = time.perf_counter() - started
            route = route_template(scope)
            method = scope["method"]
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.latency.labels(method, route).observe(seconds)
            access_log.info(
                "request",
                extra={
                    "method": method,
                    "route": route,
                    "status": status,
                    "ms": round(seconds * 1000, 1),
                },
            )
