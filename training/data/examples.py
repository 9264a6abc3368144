"""The examples each of rebut's four heads is trained and measured on: frozen dataclasses,
one per task, and the `(train, dev)` pair every loader returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, TypeVar

TASKS: tuple[str, ...] = ("moderation", "checkworthy", "grounding", "stance")


@dataclass(frozen=True)
class ModerationExample:
    text: str
    labels: dict[str, float | None]  # every ATTRIBUTES key; None = the source says nothing
    source: str
    group: str  # split key


@dataclass(frozen=True)
class CheckworthyExample:
    text: str
    label: int  # 1 = check-worthy factual claim, 0 = opinion / question / other
    source: str


@dataclass(frozen=True)
class GroundingExample:
    claim: str
    article: str  # the full text the claim is judged against
    label: str  # one of GROUNDING_LABELS
    source: str
    article_id: str  # split key


@dataclass(frozen=True)
class StanceExample:
    comment: str  # the text whose stance is judged
    article_title: str  # may be ""
    article_body: str  # the text it is judged against
    label: str  # one of STANCE_LABELS
    source: str
    group: str  # article / claim id: split key


class _Sourced(Protocol):
    @property
    def source(self) -> str: ...


E = TypeVar("E", bound=_Sourced)
Split = tuple[list[E], list[E]]
