"""`rebut score`: score a JSONL file of comments against a JSONL file of articles.

    rebut score --articles articles.jsonl --comments comments.jsonl --out results.jsonl

RESULTS gets one line per comment line, in article order rather than input order: a
Result, or `{"comment_id": ..., "error": {"code", "message"}}` for a comment that cannot be
scored. ERRORS (RESULTS + ".errors.jsonl" unless named) repeats each error with its file
and line number, for bad article lines too. Bad input never stops the run.

Files are read as bytes and decoded line by line, so one line that is not UTF-8 is one
error record, not a crash. Comments are read twice: first to validate them and note where
each valid line starts, then, sorted by article, to score them in batches; that way each
article is indexed once and memory holds offsets, not the comments themselves.
"""

from __future__ import annotations

import json
import sys
import time
import traceback
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from tqdm import tqdm

from model.errors import InputError
from model.pipeline import Pipeline
from model.result import ArticleIn, CommentIn, ErrorDetail, ErrorRecord, Result

UTF8_BOM = b"\xef\xbb\xbf"


class BadLine(Exception):
    """A line that cannot be scored; `record_id` is the line's id where one was readable."""

    def __init__(self, code: str, message: str, record_id: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.record_id = record_id


@dataclass
class Summary:
    scored: int = 0
    errors: int = 0  # comment lines answered with an error record
    failed: int = 0  # well-formed comments the model raised on: the run exits non-zero
    article_errors: int = 0
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.scored / self.seconds if self.seconds > 0 else 0.0


@dataclass
class _Pending:
    """A valid comment line, remembered by where it starts in the file."""

    article_id: str | None
    line: int
    offset: int


@dataclass
class _ErrorWriter:
    """The errors file, plus the error records that go to RESULTS."""

    results: IO[str]
    errors: IO[str]
    summary: Summary
    _results: list[str] = field(default_factory=list)
    _errors: list[str] = field(default_factory=list)

    def article(self, path: Path, line: int, bad: BadLine) -> None:
        print(f"{path}:{line}: {bad.code}: {bad.message} (article skipped)", file=sys.stderr)
        self.summary.article_errors += 1
        record = {"file": "articles", "line": line, "article_id": bad.record_id}
        self._errors.append(_dumps(record | {"code": bad.code, "message": bad.message}))

    def comment(self, line: int, bad: BadLine) -> None:
        self.summary.errors += 1
        detail = ErrorDetail(code=bad.code, message=bad.message)
        self._results.append(ErrorRecord(comment_id=bad.record_id, error=detail).model_dump_json())
        record = {"file": "comments", "line": line, "comment_id": bad.record_id}
        self._errors.append(_dumps(record | {"code": bad.code, "message": bad.message}))

    def flush(self) -> None:
        # One write per file per flush, so a reader of a growing file never sees half a line.
        for lines, out in ((self._results, self.results), (self._errors, self.errors)):
            if lines:
                out.write("\n".join(lines) + "\n")
                out.flush()
                lines.clear()


def _dumps(record: dict[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False)


def _lines(path: Path) -> Iterator[tuple[int, int, bytes]]:
    """(line number, byte offset, stripped bytes) for each non-blank line of `path`."""
    with path.open("rb") as f:
        offset = 0
        for number, raw in enumerate(f, start=1):
            start, offset = offset, offset + len(raw)
            line = raw.removeprefix(UTF8_BOM) if number == 1 else raw
            line = line.strip()
            if line:
                yield number, start, line


def _id_despite_encoding(raw: bytes) -> str | None:
    """The `id` of a line that is not UTF-8, if the rest of it reads as JSON."""
    try:
        obj = json.loads(raw.decode("utf-8", errors="replace"))
    except json.JSONDecodeError:
        return None
    record_id = obj.get("id") if isinstance(obj, dict) else None
    return record_id if isinstance(record_id, str) else None


def _object(raw: bytes) -> dict[str, Any]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        message = f"line is not UTF-8: byte {exc.start} is {raw[exc.start]:#04x}"
        raise BadLine("invalid_encoding", message, _id_despite_encoding(raw)) from None
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        message = f"line is not JSON: {exc.msg} at column {exc.colno}"
        raise BadLine("invalid_json", message) from None
    if not isinstance(obj, dict):
        raise BadLine("invalid_record", f"line is a JSON {type(obj).__name__}, not an object")
    return obj


def _string(obj: dict[str, Any], key: str, record_id: str | None, *, required: bool) -> str | None:
    value = obj.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        found = "missing" if value is None else f"a JSON {type(value).__name__}"
        raise BadLine("invalid_record", f"`{key}` must be a string; it is {found}", record_id)
    try:
        # A JSON escape can smuggle in a lone surrogate, which no output could encode.
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise BadLine("invalid_encoding", f"`{key}` holds a lone surrogate", record_id) from None
    return value


def _article(raw: bytes, pipeline: Pipeline) -> ArticleIn:
    obj = _object(raw)
    article_id = _string(obj, "id", None, required=True)
    assert article_id is not None
    try:
        article = ArticleIn(
            id=article_id,
            title=_string(obj, "title", article_id, required=False),
            body=_string(obj, "body", article_id, required=True) or "",
        )
        pipeline.validate_article(article)
    except InputError as exc:
        raise BadLine(exc.code, exc.message, article_id) from None
    return article


def _comment(raw: bytes) -> CommentIn:
    obj = _object(raw)
    comment_id = _string(obj, "id", None, required=True)
    assert comment_id is not None
    return CommentIn(
        id=comment_id,
        text=_string(obj, "text", comment_id, required=True) or "",
        article_id=_string(obj, "article_id", comment_id, required=False),
    )


def read_articles(
    path: Path, pipeline: Pipeline, errors: _ErrorWriter
) -> tuple[dict[str, ArticleIn], dict[str, str]]:
    """Valid articles by id, and why each rejected article id was rejected."""
    articles: dict[str, ArticleIn] = {}
    rejected: dict[str, str] = {}
    for line, _offset, raw in _lines(path):
        try:
            article = _article(raw, pipeline)
        except BadLine as bad:
            errors.article(path, line, bad)
            if bad.record_id is not None and bad.record_id not in articles:
                rejected[bad.record_id] = f"line {line} of {path.name} ({bad.code})"
            continue
        if article.id in articles:
            print(f"{path}:{line}: article {article.id!r} repeats; the last wins", file=sys.stderr)
        articles[article.id] = article
        rejected.pop(article.id, None)
    return articles, rejected


def _validate_comments(
    path: Path,
    pipeline: Pipeline,
    articles: dict[str, ArticleIn],
    rejected: dict[str, str],
    errors: _ErrorWriter,
) -> list[_Pending]:
    pending: list[_Pending] = []
    for line, offset, raw in _lines(path):
        try:
            comment = _comment(raw)
            try:
                pipeline.validate_comment(comment)
            except InputError as exc:
                raise BadLine(exc.code, exc.message, comment.id) from None
            if comment.article_id is not None and comment.article_id not in articles:
                why = rejected.get(comment.article_id)
                message = f"article {comment.article_id!r} " + (
                    f"was rejected at {why}" if why else "is not in ARTICLES"
                )
                raise BadLine("unknown_article", message, comment.id)
        except BadLine as bad:
            errors.comment(line, bad)
            continue
        pending.append(_Pending(comment.article_id, line, offset))
    errors.flush()
    return pending


def _score(
    pipeline: Pipeline, items: Sequence[tuple[CommentIn, ArticleIn | None]]
) -> list[Result | InputError | Exception]:
    """Score a batch; if the batch call fails, score one by one to isolate the culprit."""
    try:
        return list(pipeline.score_batch(items))
    except Exception as exc:
        print(f"warning: a batch failed ({exc!r}); scoring it comment by comment", file=sys.stderr)
    outcomes: list[Result | InputError | Exception] = []
    for comment, article in items:
        try:
            outcomes.append(pipeline.score(comment, article))
        except Exception as exc:
            if not isinstance(exc, InputError):
                print(f"comment {comment.id!r} failed:", file=sys.stderr)
                traceback.print_exc(file=sys.stderr)
            outcomes.append(exc)
    return outcomes


def _batches(
    path: Path, pending: list[_Pending], articles: dict[str, ArticleIn], batch_size: int
) -> Iterator[tuple[list[int], list[tuple[CommentIn, ArticleIn | None]]]]:
    with path.open("rb") as f:
        for i in range(0, len(pending), batch_size):
            lines, items = [], []
            for p in pending[i : i + batch_size]:
                f.seek(p.offset)
                raw = f.readline().strip()
                comment = _comment(raw.removeprefix(UTF8_BOM))
                lines.append(p.line)
                items.append((comment, articles[p.article_id] if p.article_id else None))
            yield lines, items


def _write_batch(
    out: IO[str],
    errors: _ErrorWriter,
    lines: list[int],
    comments: list[CommentIn],
    outcomes: list[Result | InputError | Exception],
) -> None:
    results: list[str] = []
    for line, comment, outcome in zip(lines, comments, outcomes, strict=True):
        if isinstance(outcome, Result):
            results.append(outcome.model_dump_json())
            errors.summary.scored += 1
            continue
        code = outcome.code if isinstance(outcome, InputError) else "internal_error"
        if not isinstance(outcome, InputError):
            errors.summary.failed += 1
        errors.comment(line, BadLine(code, str(outcome) or repr(outcome), comment.id))
    if results:
        # One write per batch, so a reader of the growing file never sees half a line.
        out.write("\n".join(results) + "\n")
        out.flush()
    errors.flush()


def score_files(
    pipeline: Pipeline,
    *,
    articles_path: Path,
    comments_path: Path,
    out_path: Path,
    errors_path: Path,
    batch_size: int = 32,
) -> Summary:
    """Score every comment in `comments_path`; see the module docstring for the files."""
    summary = Summary()
    started = time.perf_counter()
    with (
        out_path.open("w", encoding="utf-8", newline="\n") as out,
        errors_path.open("w", encoding="utf-8", newline="\n") as errors_file,
    ):
        errors = _ErrorWriter(out, errors_file, summary)
        articles, rejected = read_articles(articles_path, pipeline, errors)
        pending = _validate_comments(comments_path, pipeline, articles, rejected, errors)
        # Stable sort: each article's comments stay in file order, and come together.
        pending.sort(key=lambda p: p.article_id or "")
        progress = tqdm(
            total=len(pending), unit="comment", file=sys.stderr, disable=not sys.stderr.isatty()
        )
        for lines, items in _batches(comments_path, pending, articles, batch_size):
            outcomes = _score(pipeline, items)
            _write_batch(out, errors, lines, [comment for comment, _ in items], outcomes)
            progress.update(len(items))
        progress.close()
    summary.seconds = time.perf_counter() - started
    return summary
