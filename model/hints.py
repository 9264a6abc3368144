"""Hints: one plain sentence per finding, written for a moderator who has seconds."""

from __future__ import annotations

from model.result import Claim, Hint, Moderation, Stance


def _quote(text: str, limit: int | None = 160) -> str:
    """A claim may be shortened; evidence (limit None) is quoted whole, since the words
    that decide a verdict can sit at the end of its passage."""
    text = " ".join(text.split())
    if limit is None or len(text) <= limit:
        return f"'{text}'"
    return f"'{text[: limit - 1]}…'"


def write_hints(claims: list[Claim], moderation: Moderation, stance: Stance | None) -> list[Hint]:
    hints: list[Hint] = []
    if moderation.flagged:
        hints.append(
            Hint(type="abuse", message="Flagged as abusive: " + "; ".join(moderation.reasons) + ".")
        )
    for i, claim in enumerate(claims):
        # the deciding passage (model/pipeline.py orders evidence so)
        passage = claim.evidence[0] if claim.evidence else None
        if claim.status == "not_in_article":
            message = f"Asserts something the article does not mention: {_quote(claim.text)}."
            if passage:
                message += f" Closest passage in the article: {_quote(passage.text, None)}."
            hints.append(
                Hint(type="fact_missing_from_article", message=message, claim=i, passage=passage)
            )
        elif claim.status == "contradicted":
            message = f"Contradicts the article: {_quote(claim.text)}."
            if passage:
                message += f" The article says: {_quote(passage.text, None)}."
            hints.append(
                Hint(type="fact_contradicts_article", message=message, claim=i, passage=passage)
            )
    unsupported = [
        i for i, c in enumerate(claims) if c.status in ("not_in_article", "contradicted")
    ]
    if stance is not None and stance.label == "disputes" and unsupported:
        hints.append(_rebuttal(claims, unsupported))
    return hints


def _rebuttal(claims: list[Claim], unsupported: list[int]) -> Hint:
    """What the comment disputes: its first claim the article does not support, beside the
    article passage that claim was checked against; the others are listed."""
    first = claims[unsupported[0]]
    passage = first.evidence[0] if first.evidence else None
    message = f"Disputes the article: {_quote(first.text, 80)}"
    if passage:
        message += f" against {_quote(passage.text, None)}"
    others = [_quote(claims[i].text, 80) for i in unsupported[1:]]
    if others:
        message += f"; also {', '.join(others)}"
    return Hint(type="rebuttal", message=message + ".", claim=unsupported[0], passage=passage)
