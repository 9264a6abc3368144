"""The seed-like workload every bench scores: the seed comment (5 sentences) against the
seed article's sentences repeated to 40 (the latency budget is set on it)."""

from __future__ import annotations

import json
from pathlib import Path

from model.result import ArticleIn, CommentIn
from model.sentences import split_sentences

SEED = Path(__file__).resolve().parents[2] / "shared" / "seed"


def seed_like(seed_dir: Path = SEED) -> tuple[CommentIn, ArticleIn]:
    article = json.loads((seed_dir / "article.json").read_text())
    comment = json.loads((seed_dir / "comment.json").read_text())
    sentences = [s.text for s in split_sentences(article["body"])]
    body = "\n".join((sentences * (40 // len(sentences) + 1))[:40])
    assert len(split_sentences(body)) == 40, "the article must have 40 sentences"
    assert len(split_sentences(comment["text"])) == 5, "the comment must have 5 sentences"
    article_in = ArticleIn(id="bench-40", title=article["title"], body=body)
    return CommentIn(id="bench-c", article_id="bench-40", text=comment["text"]), article_in
