"""Micro-batching: the API's concurrent scoring requests are scored together, by one
thread, in calls to Pipeline.score_batch.

Without it each request thread ran the models itself: 16 concurrent requests meant 16
threads each asking onnxruntime for every core. One scoring thread serves requests in
arrival order, and a batch gives the pipeline more independent forward passes to run
side by side (model/runtime.py map_rows): with 16 clients on 2 cores, 12.9 -> 15.3
requests/s (bench/service.py, 320 requests, load average about 4 from other jobs).
Results are the same as scoring each comment alone: every forward pass is still one
input (tests/test_micro_batcher.py).
"""

from __future__ import annotations

import logging
import queue
import threading
from concurrent.futures import Future

from model.pipeline import Pipeline
from model.result import ArticleIn, CommentIn, Result

log = logging.getLogger("rebut.batcher")

# How long the scoring thread waits for more requests once it has one. A few
# milliseconds against ~100 ms a comment: a burst is scored together, a lone request is
# hardly delayed.
MAX_WAIT_S = 0.003
# Comments per batch: bounds how long the last one in a batch waits for the first.
MAX_BATCH = 8

# (comment, article, with_claims, the future its result goes to)
Item = tuple[CommentIn, ArticleIn | None, bool, Future]


class MicroBatcher:
    """Args:
    pipeline: a loaded Pipeline.
    max_wait_s: how long to wait for more requests before scoring a batch.
    max_batch: the most comments scored in one call.
    """

    def __init__(
        self, pipeline: Pipeline, *, max_wait_s: float = MAX_WAIT_S, max_batch: int = MAX_BATCH
    ) -> None:
        self.pipeline = pipeline
        self.max_wait_s = max_wait_s
        self.max_batch = max_batch
        self._queue: queue.Queue[Item | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="rebut-batcher", daemon=True)

    def start(self) -> MicroBatcher:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=30)

    def score(
        self, comment: CommentIn, article: ArticleIn | None = None, *, with_claims: bool = True
    ) -> Result:
        """Pipeline.score, from any thread; waits for the batch that holds this comment."""
        self.pipeline.validate_comment(comment)  # refuse bad input without queueing it
        if article is not None:
            self.pipeline.validate_article(article)
        done: Future[Result] = Future()
        # bool(): _score groups by the two settings, so a truthy 1 must not fall outside both
        self._queue.put((comment, article, bool(with_claims), done))
        return done.result()

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            stopping = False
            while len(batch) < self.max_batch:
                try:
                    item = self._queue.get(timeout=self.max_wait_s)
                except queue.Empty:
                    break
                if item is None:
                    stopping = True
                    break
                batch.append(item)
            self._score(batch)
            if stopping:
                return

    def _score(self, batch: list[Item]) -> None:
        # one pipeline call per setting of with_claims: the call skips claims for all or none
        for with_claims in (True, False):
            group = [item for item in batch if item[2] == with_claims]
            if group:
                self._score_group(group, with_claims)

    def _score_group(self, batch: list[Item], with_claims: bool) -> None:
        try:
            results = self.pipeline.score_batch(
                [(c, a) for c, a, _, _ in batch], with_claims=with_claims
            )
        except Exception:  # one comment's failure must not fail its batch-mates
            log.warning("batch of %d failed; scoring each alone", len(batch))
            for comment, article, _, done in batch:
                try:
                    done.set_result(self.pipeline.score(comment, article, with_claims=with_claims))
                except Exception as e:  # noqa: BLE001 - handed to the waiting request
                    done.set_exception(e)
            return
        for (_, _, _, done), result in zip(batch, results):
            done.set_result(result)
