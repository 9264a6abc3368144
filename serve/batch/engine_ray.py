"""The Ray engine of `rebut score`: the same scorer as Ray Data actors.

    read_text(sorted spool) -> map_batches(RayScorer, actor pool of N) -> RESULTS

Checking rows, `--resume` and writing RESULTS and ERRORS stay in this process, exactly as
for the local engine (run.py, rows.py), so both engines answer the same input with the same
records. Ray reads the spool of valid comments (one JSON object a line, sorted by
article, so a batch mostly holds one article's comments) and runs `map_batches` on an
actor pool: each actor loads one Pipeline (its own ONNX sessions, one thread, as it holds
one CPU) and the valid articles once. Results stream back to this process, which appends
each batch as the local engine does. Ray's own `write_json` is not used: it writes a
folder of shards named by Ray, which neither the contract's one RESULTS file nor
`--resume` can work with.

With `--ray-address`, the spool is written beside RESULTS: on a cluster that folder must be
one every node reads (a shared filesystem), and rebut must be installed on every node.
Without it, a local Ray with N CPUs is started and stopped by the command.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from model.result import ArticleIn, CommentIn
from serve.batch.jobs import Output, PipelineOptions, score_items


class RayScorer:
    """One actor: a Pipeline and the articles, scoring batches of spool rows."""

    def __init__(self, options: PipelineOptions, articles_path: str) -> None:
        self.pipeline = options.load(threads=1)
        with open(articles_path, encoding="utf-8") as f:
            self.articles = {a.id: a for a in (ArticleIn(**json.loads(line)) for line in f)}

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, list[Any]]:
        records = [json.loads(line) for line in batch["text"]]
        comments = [CommentIn(**{k: r[k] for k in ("id", "text", "article_id")}) for r in records]
        items = [(c, self.articles.get(c.article_id or "")) for c in comments]
        outcomes = score_items(self.pipeline, items)
        return {
            "line": [r["line"] for r in records],
            "id": [c.id for c in comments],
            "article_id": [c.article_id for c in comments],
            "code": [code for code, _ in outcomes],
            "payload": [payload for _, payload in outcomes],
        }


def score_on_ray(
    spool: Path,
    articles: dict[str, ArticleIn],
    output: Output,
    progress: tqdm,
    *,
    folder: Path,
    options: PipelineOptions,
    batch_size: int,
    workers: int,
    address: str | None,
) -> None:
    try:
        import ray
        import ray.data
    except ImportError:
        raise SystemExit("error: --engine ray needs Ray Data: pip install 'rebut[ray]'") from None

    if spool.stat().st_size == 0:
        return  # nothing left to score; Ray cannot read an empty JSONL
    articles_path = folder / "articles.jsonl"
    with articles_path.open("w", encoding="utf-8") as f:
        for article in articles.values():
            f.write(article.model_dump_json() + "\n")

    started_here = not ray.is_initialized()
    if started_here:
        ray.init(
            address=address,
            num_cpus=None if address else workers,
            include_dashboard=False,
            logging_level=logging.WARNING,
            log_to_driver=False,
        )
    try:
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False  # the command shows its own
        context.print_on_execution_start = False
        # Lines are read as text and parsed by the actors: read_json would let pandas guess
        # types, and make the comment "2019" a number. Reading is light: at 0 CPUs it never
        # waits behind actors that hold every CPU.
        rows = ray.data.read_text(str(spool), num_cpus=0)
        scored = rows.map_batches(
            RayScorer,
            fn_constructor_kwargs={
                "options": options,
                "articles_path": str(articles_path),
            },
            batch_size=batch_size,
            batch_format="numpy",
            compute=ray.data.ActorPoolStrategy(size=workers),
            num_cpus=1,
        )
        for batch in scored.iter_batches(batch_size=None, batch_format="numpy"):
            rows = [
                (int(n), str(i), a if isinstance(a, str) else None)
                for n, i, a in zip(batch["line"], batch["id"], batch["article_id"])
            ]
            outcomes = [
                (c if isinstance(c, str) else None, str(p))
                for c, p in zip(batch["code"], batch["payload"])
            ]
            output.outcomes(rows, outcomes)
            progress.update(len(rows))
            progress.set_postfix(errors=output.summary.errors, refresh=False)
    finally:
        if started_here:
            ray.shutdown()
