"""`rebut score`: score a file of comments against a file of articles.

    rebut score --articles articles.jsonl --comments comments.csv --out results.jsonl \
        [--workers 2] [--engine ray] [--resume]

RESULTS gets one record per comment row, in no fixed order: a Result, or
`{"comment_id": ..., "error": {"code", "message"}}` for a comment that cannot be scored.
ERRORS (RESULTS + ".errors.jsonl" unless named) repeats each error with its file and line
number, for bad article rows too. Bad input never stops the run.

How a run goes:
1. Articles are read and checked into memory (they are what every batch needs).
2. Comments are read once, checked row by row (rows.py), and the valid ones spooled to a
   temporary JSONL in a folder `.RESULTS.spool-*` beside RESULTS, then copied into a second
   spool sorted by article; memory holds offsets, not the comments. With `--resume`, ids
   already in RESULTS are left out here.
3. The sorted spool is scored in batches of one article's comments (engine_local.py: in this
   process or N worker processes; engine_ray.py: Ray Data actors), so each article is indexed
   once per process, and each batch's records are appended as one write.
"""

from __future__ import annotations

import glob
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from tqdm import tqdm

from serve.batch.engine_local import score_locally
from serve.batch.engine_ray import score_on_ray
from serve.batch.files import cut_partial_line, open_writer
from serve.batch.jobs import Output, PipelineOptions, Summary
from serve.batch.rows import read_articles, read_jobs, spool_comments


def _progress(total: int, output: Output) -> tqdm:
    return tqdm(
        total=total,
        unit="comment",
        file=sys.stderr,
        disable=not sys.stderr.isatty(),
        postfix={"errors": output.summary.errors},
    )


def score_files(
    *,
    articles_path: Path,
    comments_path: Path,
    out_path: Path,
    errors_path: Path,
    pipeline: PipelineOptions | None = None,
    batch_size: int = 32,
    workers: int = 1,
    engine: str = "local",
    ray_address: str | None = None,
    resume: bool = False,
) -> Summary:
    """Score every comment in `comments_path`; see the module docstring for the files.
    `pipeline` says how each scorer loads its model (default: the bundled one)."""
    options = pipeline or PipelineOptions()
    summary = Summary()
    started = time.perf_counter()
    writer = open_writer(out_path, resume=resume)
    # a killed run cannot remove its spool folder; the next run on the same RESULTS does
    spool_prefix = f".{out_path.name}.spool-"
    for stale in out_path.parent.glob(glob.escape(spool_prefix) + "*"):
        shutil.rmtree(stale, ignore_errors=True)
    if resume and errors_path.exists():
        cut_partial_line(errors_path)
    try:
        with (
            errors_path.open("a" if resume else "w", encoding="utf-8", newline="\n") as errors,
            tempfile.TemporaryDirectory(dir=out_path.parent, prefix=spool_prefix) as tmp,
        ):
            output = Output(writer, errors, summary)
            if resume:
                output.done_ids = writer.done_ids()
                output.logged_lines = _logged_lines(errors_path)
                print(f"resuming: {len(output.done_ids)} comments already done", file=sys.stderr)
            articles, rejected = read_articles(articles_path, output)
            spool, total = spool_comments(comments_path, articles, rejected, output, Path(tmp))
            progress = _progress(total, output)
            try:
                if engine == "ray":
                    score_on_ray(
                        spool,
                        articles,
                        output,
                        progress,
                        folder=Path(tmp),
                        options=options,
                        batch_size=batch_size,
                        workers=workers,
                        address=ray_address,
                    )
                else:
                    jobs = read_jobs(spool, batch_size)
                    score_locally(jobs, articles, output, progress, options, workers)
            finally:
                progress.close()
    except KeyboardInterrupt:
        # what is written is whole; the summary says so and --resume goes on from it
        summary.interrupted = True
    finally:
        writer.close()
        summary.seconds = time.perf_counter() - started
    return summary


def _logged_lines(errors_path: Path) -> set[tuple[str, int]]:
    logged: set[tuple[str, int]] = set()
    if errors_path.exists():
        for raw in errors_path.read_bytes().splitlines():
            try:
                record = json.loads(raw)
                logged.add((record["file"], record["line"]))
            except (ValueError, KeyError, TypeError):
                continue  # a line cut short by a kill
    return logged
