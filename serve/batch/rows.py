"""The rows of a `rebut score` run, checked and spooled: articles read into memory, comments
checked row by row and the valid ones written to a spool sorted by article, and that spool
read back as Jobs of one article's comments each. Both engines score what this yields.

A row that breaks the contract (a missing or non-string field, an id the store cannot hold,
text that is not UTF-8, an unknown article) becomes one error record, never a crash.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from model.errors import InputError
from model.pipeline import Pipeline
from model.result import ArticleIn, CommentIn
from serve.batch.files import BadLine, read_rows
from serve.batch.jobs import Job, Output

Record = TypeVar("Record", bound=BaseModel)


def _kind(value: object) -> str:
    names = {bool: "boolean", int: "number", float: "number", list: "list", dict: "object"}
    return names.get(type(value), type(value).__name__)


def _string(obj: dict[str, Any], key: str, record_id: str | None, *, required: bool) -> str | None:
    value = obj.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        found = "missing" if value is None else f"a {_kind(value)}"
        raise BadLine("invalid_record", f"`{key}` must be a string; it is {found}", record_id)
    try:
        # A JSON escape can smuggle in a lone surrogate, and a CSV byte that is not UTF-8
        # is read as one (surrogateescape): no output could encode either.
        value.encode("utf-8")
    except UnicodeEncodeError:
        message = f"`{key}` is not valid UTF-8 (it holds a lone surrogate)"
        raise BadLine("invalid_encoding", message, record_id) from None
    return value


def _record_id(obj: dict[str, Any]) -> str | None:
    try:
        return _string(obj, "id", None, required=True)
    except BadLine:
        return None


def _validated(model: type[Record], record_id: str, **fields: Any) -> Record:
    """`model(**fields)`, or a BadLine saying which field breaks the contract's rules (an
    id the store cannot hold, NUL in a text): the same rules as the HTTP API's."""
    try:
        return model(**fields)
    except ValidationError as exc:
        message = "; ".join(
            f"`{'.'.join(map(str, e['loc']))}` {e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors()
        )
        raise BadLine("invalid_record", message, record_id) from None


def _article(obj: dict[str, Any]) -> ArticleIn:
    article_id = _string(obj, "id", None, required=True)
    assert article_id is not None
    try:
        article = _validated(
            ArticleIn,
            article_id,
            id=article_id,
            title=_string(obj, "title", article_id, required=False),
            body=_string(obj, "body", article_id, required=True) or "",
        )
        Pipeline.validate_article(article)
    except InputError as exc:
        raise BadLine(exc.code, exc.message, article_id) from None
    return article


def _comment(obj: dict[str, Any]) -> CommentIn:
    comment_id = _string(obj, "id", None, required=True)
    assert comment_id is not None
    comment = _validated(
        CommentIn,
        comment_id,
        id=comment_id,
        text=_string(obj, "text", comment_id, required=True) or "",
        article_id=_string(obj, "article_id", comment_id, required=False),
    )
    try:
        Pipeline.validate_comment(comment)
    except InputError as exc:
        raise BadLine(exc.code, exc.message, comment_id) from None
    return comment


def read_articles(path: Path, output: Output) -> tuple[dict[str, ArticleIn], dict[str, str]]:
    """Valid articles by id, and why each rejected article id was rejected."""
    articles: dict[str, ArticleIn] = {}
    rejected: dict[str, str] = {}
    for line, row in read_rows(path):
        try:
            if isinstance(row, BadLine):
                raise row
            article = _article(row)
        except BadLine as bad:
            output.article(path, line, bad)
            if bad.record_id is not None and bad.record_id not in articles:
                rejected[bad.record_id] = f"line {line} of {path.name} ({bad.code})"
            continue
        if article.id in articles:
            print(f"{path}:{line}: article {article.id!r} repeats; the last wins", file=sys.stderr)
        articles[article.id] = article
        rejected.pop(article.id, None)
    output.flush()
    return articles, rejected


def spool_comments(
    path: Path,
    articles: dict[str, ArticleIn],
    rejected: dict[str, str],
    output: Output,
    folder: Path,
) -> tuple[Path, int]:
    """Check every comment row; write the valid ones not yet done, sorted by article, to a
    JSONL spool of `{"line", "id", "text", "article_id"}`. Returns it and its length."""
    unsorted, spool = folder / "valid.jsonl", folder / "sorted.jsonl"
    pending: list[tuple[str, int]] = []  # (article id or "", offset in `unsorted`)
    with unsorted.open("wb") as f:
        for line, row in read_rows(path):
            try:
                if isinstance(row, BadLine):
                    raise row
                comment = _comment(row)
                if comment.article_id is not None and comment.article_id not in articles:
                    why = rejected.get(comment.article_id)
                    message = f"article {comment.article_id!r} " + (
                        f"was rejected at {why}" if why else "is not in ARTICLES"
                    )
                    raise BadLine("unknown_article", message, comment.id)
            except BadLine as bad:
                if bad.record_id is None and isinstance(row, dict):
                    bad.record_id = _record_id(row)
                if output.already_done(line, bad.record_id):
                    output.summary.skipped += 1
                else:
                    output.comment_error(line, bad)
                continue
            if comment.id in output.done_ids:
                output.summary.skipped += 1
                continue
            pending.append((comment.article_id or "", f.tell()))
            # ASCII JSON: a U+2028 in a comment must not read as a line break to Ray
            record = {"line": line} | comment.model_dump()
            f.write(json.dumps(record).encode("ascii") + b"\n")
    output.flush()
    # Stable sort: each article's comments stay in file order, and come together.
    pending.sort(key=lambda p: p[0])
    with unsorted.open("rb") as source, spool.open("wb") as sink:
        for _, offset in pending:
            source.seek(offset)
            sink.write(source.readline())
    unsorted.unlink()
    return spool, len(pending)


def read_jobs(spool: Path, batch_size: int) -> Iterator[Job]:
    """Batches of the sorted spool, each of one article's comments."""
    lines: list[int] = []
    comments: list[CommentIn] = []
    with spool.open("rb") as f:
        for raw in f:
            record = json.loads(raw)
            line = record.pop("line")
            comment = CommentIn(**record)
            if comments and (
                len(comments) == batch_size or comment.article_id != comments[0].article_id
            ):
                yield Job(lines, comments, comments[0].article_id)
                lines, comments = [], []
            lines.append(line)
            comments.append(comment)
    if comments:
        yield Job(lines, comments, comments[0].article_id)
