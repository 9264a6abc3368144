"""Label conventions shared by every source of a task."""

from __future__ import annotations

from model.result import ATTRIBUTES

# Sources curated for abuse (talk pages, news comments, tweets) contain no commercial spam,
# so their texts are spam negatives. Without them the spam head only ever sees YouTube
# comments and learns "not YouTube" as spam (a 0.1 head scored the seed comment 0.97).
SPAM_NEGATIVE_SOURCES = frozenset({"jigsaw", "civil_comments_spans", "davidson", "olid"})


def moderation_targets(labels: dict[str, float | None], source: str) -> list[float | None]:
    """One value per attribute in ATTRIBUTES order; None where the source says nothing."""
    if source in SPAM_NEGATIVE_SOURCES and labels.get("spam") is None:
        labels = {**labels, "spam": 0.0}
    return [labels.get(name) for name in ATTRIBUTES]
