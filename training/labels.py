"""Label conventions shared by every source of a task."""

from __future__ import annotations

from model.result import ATTRIBUTES

# Sources curated for abuse (talk pages, news comments, tweets) contain no commercial spam,
# so their texts are spam negatives. Without them the spam head only ever sees YouTube
# comments and learns "not YouTube" as spam (a 0.1 head scored the seed comment 0.97).
SPAM_NEGATIVE_SOURCES = frozenset({"jigsaw", "civil_comments_spans", "davidson", "olid"})

# The other way round: YouTube's spam collection labels only spam, and with every abuse
# attribute unknown there, model 0.3 scored "subscribe to me plz" severe_toxicity 0.98 and
# threat 0.93 and rejected it for them. A promotion is not abuse, so its abuse attributes
# are 0; an ordinary music-video comment ("love this song") is not threatening, hateful or
# severely toxic, though it may swear or insult, so those three stay unknown.
SPAM_SOURCES = frozenset({"youtube_spam"})
NOT_IN_ORDINARY_COMMENTS = ("severe_toxicity", "threat", "identity_attack")
ABUSE = tuple(name for name in ATTRIBUTES if name != "spam")


def moderation_targets(labels: dict[str, float | None], source: str) -> list[float | None]:
    """One value per attribute in ATTRIBUTES order; None where the source says nothing."""
    if source in SPAM_NEGATIVE_SOURCES and labels.get("spam") is None:
        labels = {**labels, "spam": 0.0}
    if source in SPAM_SOURCES:
        zero = ABUSE if labels.get("spam") == 1 else NOT_IN_ORDINARY_COMMENTS
        labels = {**labels, **{name: 0.0 for name in zero if labels.get(name) is None}}
    return [labels.get(name) for name in ATTRIBUTES]
