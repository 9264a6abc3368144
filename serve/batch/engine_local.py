"""The local engine of `rebut score`: batches scored in this process, or in N processes.

With `--workers N` each worker is its own single-process pool holding one Pipeline (its own
ONNX sessions, `cores // N` threads each), and takes whole articles: a worker that runs out
of work takes the next article's batches, so an article is indexed by one worker, once.
Only at the end, when no article is left, does an idle worker take batches from a busy
one's queue (and index that article too). Each worker has at most IN_FLIGHT batches handed
to it, so a kill loses at most those; this process alone writes RESULTS.
"""

from __future__ import annotations

import os
import signal
from collections import deque
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from itertools import groupby
from multiprocessing import get_context

from tqdm import tqdm

from model.pipeline import Pipeline
from model.result import ArticleIn
from serve.batch.jobs import Job, Outcome, Output, PipelineOptions, score_items

IN_FLIGHT = 2  # batches handed to a worker at once: one running, one waiting in its pipe

_pipeline: Pipeline | None = None  # the worker process's own


def _start_worker(options: PipelineOptions, threads: int) -> None:
    global _pipeline
    # Ctrl-C reaches the whole process group: the parent decides, the worker finishes its batch
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _pipeline = options.load(threads)


def _score_in_worker(job: Job, article: ArticleIn | None) -> list[Outcome]:
    assert _pipeline is not None, "worker started without a pipeline"
    return score_items(_pipeline, [(comment, article) for comment in job.comments])


def _threads(workers: int) -> int:
    return max(1, (os.cpu_count() or 1) // workers)


def score_locally(
    jobs: Iterator[Job],
    articles: dict[str, ArticleIn],
    output: Output,
    progress: tqdm,
    options: PipelineOptions,
    workers: int,
) -> None:
    if workers == 1:
        pipeline = options.load()
        for job in jobs:
            article = articles[job.article_id] if job.article_id else None
            output.outcomes(job.rows, score_items(pipeline, [(c, article) for c in job.comments]))
            progress.update(len(job.comments))
            progress.set_postfix(errors=output.summary.errors, refresh=False)
        return

    # spawn, not fork: the parent has threads (tqdm's monitor, onnxruntime's) to not copy
    context = get_context("spawn")
    pools = [
        ProcessPoolExecutor(
            1,
            mp_context=context,
            initializer=_start_worker,
            initargs=(options, _threads(workers)),
        )
        for _ in range(workers)
    ]
    queues: list[deque[Job]] = [deque() for _ in pools]
    by_article = (list(group) for _, group in groupby(jobs, key=lambda job: job.article_id))
    running: dict[Future[list[Outcome]], tuple[int, Job]] = {}

    def next_job(k: int) -> Job | None:
        if not queues[k]:
            group = next(by_article, None)
            if group is not None:
                queues[k].extend(group)
            else:
                busiest = max(range(len(queues)), key=lambda i: len(queues[i]))
                if queues[busiest]:
                    return queues[busiest].pop()
        return queues[k].popleft() if queues[k] else None

    def hand_out() -> None:
        for k, pool in enumerate(pools):
            while sum(1 for owner, _ in running.values() if owner == k) < IN_FLIGHT:
                job = next_job(k)
                if job is None:
                    break
                article = articles[job.article_id] if job.article_id else None
                running[pool.submit(_score_in_worker, job, article)] = (k, job)

    try:
        hand_out()
        while running:
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                _, job = running.pop(future)
                output.outcomes(job.rows, future.result())
                progress.update(len(job.comments))
                progress.set_postfix(errors=output.summary.errors, refresh=False)
            hand_out()
    finally:
        for pool in pools:
            pool.shutdown(wait=False, cancel_futures=True)
