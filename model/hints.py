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
        closest = claim.evidence[0].text if claim.evidence else None
        if claim.status == "not_in_article":
            message = f"Asserts something the article does not mention: {_quote(claim.text)}."
            if closest:
                message += f" Closest passage in the article: {_quote(closest, None)}."
            hints.append(Hint(type="fact_missing_from_article", message=message, claim=i))
        elif claim.status == "contradicted":
            message = f"Contradicts the article: {_quote(claim.text)}."
            if closest:
                message += f" The article says: {_quote(closest, None)}."
            hints.append(Hint(type="fact_contradicts_article", message=message, claim=i))
    unsupported = [
        i for i, c in enumerate(claims) if c.status in ("not_in_article", "contradicted")
    ]
    if stance is not None and stance.label == "disputes" and unsupported:
        count = f"{len(unsupported)} claim{'s' if len(unsupported) > 1 else ''}"
        hints.append(
            Hint(
                type="rebuttal",
                message=f"Disputes the article with {count} the article does not support: "
                + ", ".join(_quote(claims[i].text, 80) for i in unsupported)
                + ".",
                claim=unsupported[0],
            )
        )
    return hints
