"""What a `rebut score` run is made of, shared by the run (run.py, rows.py) and its engines
(engine_local.py, engine_ray.py): a Job (one model call's comments), the Outcome of scoring
each, score_items (a Job's comments through the pipeline, one by one if the batch call
fails) and the Output that records outcomes in RESULTS and ERRORS."""

from __future__ import annotations

import json
import sys
import traceback
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

from model.errors import InputError
from model.pipeline import Pipeline
from model.result import ArticleIn, CommentIn, ErrorDetail, ErrorRecord
from serve.batch.files import BadLine, ResultWriter

# (error code or None, Result JSON or error message): what scoring one comment gives,
# small and picklable so worker processes and Ray actors can send it back.
Outcome = tuple[str | None, str]
# (line, comment id, article id): where an outcome goes in RESULTS and ERRORS
Row = tuple[int, str, str | None]
INTERNAL_ERROR = "internal_error"


@dataclass(frozen=True)
class PipelineOptions:
    """How every scorer of a run builds its Pipeline: sent as it is to worker processes
    and Ray actors (it pickles), so each loads the same model with the same settings."""

    model_dir: Path | None = None
    threads: int | None = None  # None: the worker's share of the cores
    int8: str = "auto"
    policy: dict | None = None  # a newsroom's policy file, read by the command

    def load(self, threads: int | None = None) -> Pipeline:
        return Pipeline.from_dir(
            self.model_dir,
            threads=self.threads or threads,
            int8=self.int8,  # type: ignore[arg-type]
            policy=self.policy,
        )


@dataclass
class Summary:
    scored: int = 0
    errors: int = 0  # comment rows answered with an error record
    failed: int = 0  # well-formed comments the model raised on: the run exits non-zero
    skipped: int = 0  # comments already in RESULTS (--resume)
    article_errors: int = 0
    seconds: float = 0.0
    interrupted: bool = False

    @property
    def rate(self) -> float:
        return self.scored / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"seconds": round(self.seconds, 3), "comments_per_s": self.rate}


@dataclass
class Job:
    """One model call's worth of comments, read back from the sorted spool."""

    lines: list[int]
    comments: list[CommentIn]
    article_id: str | None

    @property
    def rows(self) -> list[Row]:
        return [(n, c.id, c.article_id) for n, c in zip(self.lines, self.comments)]


@dataclass
class Output:
    """RESULTS and ERRORS, and what an earlier run already wrote to them (--resume)."""

    writer: ResultWriter
    errors: IO[str]
    summary: Summary
    done_ids: set[str] = field(default_factory=set)
    logged_lines: set[tuple[str, int]] = field(default_factory=set)
    _records: list[tuple[str | None, str | None, str | None, str]] = field(default_factory=list)
    _errors: list[str] = field(default_factory=list)

    def article(self, path: Path, line: int, bad: BadLine) -> None:
        self.summary.article_errors += 1
        if ("articles", line) in self.logged_lines:
            return
        print(f"{path}:{line}: {bad.code}: {bad.message} (article skipped)", file=sys.stderr)
        record = {"file": "articles", "line": line, "article_id": bad.record_id}
        self._errors.append(_dumps(record | {"code": bad.code, "message": bad.message}))

    def already_done(self, line: int, record_id: str | None) -> bool:
        if record_id is not None:
            return record_id in self.done_ids
        # an error record with no id is known by its line in ERRORS
        return ("comments", line) in self.logged_lines

    def comment_error(self, line: int, bad: BadLine, article_id: str | None = None) -> None:
        self.summary.errors += 1
        if bad.code == INTERNAL_ERROR:
            self.summary.failed += 1
        detail = ErrorDetail(code=bad.code, message=bad.message)
        record = ErrorRecord(comment_id=bad.record_id, error=detail).model_dump_json()
        self._records.append((bad.record_id, article_id, bad.code, record))
        logged = {"file": "comments", "line": line, "comment_id": bad.record_id}
        self._errors.append(_dumps(logged | {"code": bad.code, "message": bad.message}))

    def outcomes(self, rows: Sequence[Row], outcomes: Sequence[Outcome]) -> None:
        """Record one scored batch, as one write to RESULTS."""
        for (line, comment_id, article_id), (code, payload) in zip(rows, outcomes, strict=True):
            if code is None:
                self.summary.scored += 1
                self._records.append((comment_id, article_id, None, payload))
            else:
                self.comment_error(line, BadLine(code, payload, comment_id), article_id)
        self.flush()

    def flush(self) -> None:
        # RESULTS first: a kill between the two writes then costs a line in ERRORS, never
        # a result.
        self.writer.write(self._records)
        self._records.clear()
        if self._errors:
            self.errors.write("\n".join(self._errors) + "\n")
            self.errors.flush()
            self._errors.clear()


def _dumps(record: dict[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False)


def score_items(
    pipeline: Pipeline, items: Sequence[tuple[CommentIn, ArticleIn | None]]
) -> list[Outcome]:
    """Score a batch; if the batch call fails, score one by one to isolate the culprit."""
    try:
        return [(None, result.model_dump_json()) for result in pipeline.score_batch(items)]
    except Exception as exc:
        print(f"warning: a batch failed ({exc!r}); scoring it comment by comment", file=sys.stderr)
    outcomes: list[Outcome] = []
    for comment, article in items:
        try:
            outcomes.append((None, pipeline.score(comment, article).model_dump_json()))
        except InputError as exc:
            outcomes.append((exc.code, exc.message))
        except Exception as exc:
            print(f"comment {comment.id!r} failed:", file=sys.stderr)
            traceback.print_exc(file=sys.stderr)
            outcomes.append((INTERNAL_ERROR, str(exc) or repr(exc)))
    return outcomes
