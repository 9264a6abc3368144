"""The moderation policy: how attribute probabilities become `flagged`, an action
(approve / review / reject) and the reasons a moderator reads.

Defaults come from the model folder (pipeline.json `thresholds.moderation`, chosen on dev
data by training/train.py). A newsroom overrides them in a TOML file (REBUT_POLICY names
it; load_policy_file reads it into Pipeline's `policy`), for everyone and per publisher (a
comment's optional `publisher` picks one); data/policy/example.toml shows every key:

    [default]
    unsupported_language = "review"   # action for a comment the models cannot read
    fact_hints = "review"             # action for a claim the article does not support
    hold_when_flagged = ["threat"]    # flagged for one of these: reject (held), at any score
    [default.flag]                    # at or over: flagged, and at least review
    toxicity = 0.6
    [default.reject]                  # at or over: reject
    threat = 0.85
    [default.review]                  # at or over: review, not flagged
    off_topic = 0.9
    [publishers.sport.flag]           # one publisher's changes on top of [default]
    profanity = 0.95
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

from model.language import Language

ACTIONS = ("approve", "review", "reject")
LEVELS = ("flag", "reject", "review")
# The reason given when a claim the article does not support is what sends a comment on
FACT_HINT_REASON = "a claim the article does not support (see hints)"
HOLD = "hold_when_flagged"


@dataclass(frozen=True)
class Policy:
    flag: dict[str, float]
    reject: dict[str, float] = field(default_factory=dict)
    review: dict[str, float] = field(default_factory=dict)
    unsupported_language: str = "review"
    fact_hints: str = "review"
    # attributes whose flag alone holds a comment (reject): a possible threat waits for a
    # moderator before it is published, whatever its score, instead of sitting in review
    hold_when_flagged: tuple[str, ...] = ("threat",)
    publishers: dict[str, Policy] = field(default_factory=dict)

    @classmethod
    def from_thresholds(cls, thresholds: dict) -> Policy:
        """pipeline.json's `thresholds.moderation`: {"flag": {...}, "reject": {...}}."""
        return cls(flag=dict(thresholds["flag"]), reject=dict(thresholds.get("reject", {})))

    def merged(self, overrides: dict | None) -> Policy:
        """This policy with a policy file's [default] applied, and its publishers."""
        if not overrides:
            return self
        base = self._apply(overrides.get("default", {}), "[default]")
        publishers = {
            name: base._apply(section, f"[publishers.{name}]")
            for name, section in overrides.get("publishers", {}).items()
        }
        return replace(base, publishers=publishers)

    def _apply(self, section: dict, where: str) -> Policy:
        unknown = set(section) - {*LEVELS, "unsupported_language", "fact_hints", HOLD}
        if unknown:
            raise ValueError(f"policy {where}: unknown keys {sorted(unknown)}")
        changes: dict = {}
        for level in LEVELS:
            given = section.get(level, {})
            for name, value in given.items():
                if not isinstance(value, int | float) or not 0 <= value <= 1:
                    raise ValueError(f"policy {where}.{level}.{name}: {value!r} is not in [0, 1]")
            changes[level] = {**getattr(self, level), **given}
        if HOLD in section:
            held = section[HOLD]
            if not isinstance(held, list) or not all(isinstance(a, str) for a in held):
                raise ValueError(f"policy {where}.{HOLD}: a list of attribute names")
            changes[HOLD] = tuple(held)
        for key in ("unsupported_language", "fact_hints"):
            if key in section:
                if section[key] not in ACTIONS:
                    raise ValueError(f"policy {where}.{key}: choose one of {', '.join(ACTIONS)}")
                changes[key] = section[key]
        return replace(self, **changes, publishers={})

    def for_publisher(self, publisher: str | None) -> Policy:
        return self.publishers.get(publisher, self) if publisher else self

    def decide(
        self, attributes: dict[str, float], has_fact_hints: bool, language: Language
    ) -> tuple[bool, str, list[str]]:
        if not language.supported:
            reason = (
                f"language {language.code!r} ({language.probability:.2f}) is not one the "
                "models read: scores are uninformative"
            )
            return False, self.unsupported_language, [reason]

        def over(limits: dict[str, float]) -> list[str]:
            return [
                f"{name} {attributes[name]:.2f} >= {limit:.2f}"
                for name, limit in limits.items()
                if name in attributes and attributes[name] >= limit
            ]

        flag_reasons, reject_reasons, review_reasons = (
            over(self.flag),
            over(self.reject),
            over(self.review),
        )
        flagged = bool(flag_reasons)
        reasons = flag_reasons + [r for r in review_reasons if r not in flag_reasons]
        held = [r for r in flag_reasons if r.split(" ", 1)[0] in self.hold_when_flagged]
        if reject_reasons or held:
            return flagged, "reject", reasons + [r for r in reject_reasons if r not in reasons]
        if flagged or review_reasons:
            return flagged, "review", reasons
        if has_fact_hints:
            # a claim the article does not support is for a person to look at, not to hide;
            # the moderator is told why it is in the queue
            action = self.fact_hints
            why = [FACT_HINT_REASON] if action != "approve" else []
            return flagged, action, reasons + why
        return flagged, "approve", reasons


def load_policy_file(path: str | Path) -> dict:
    """The TOML policy at `path` (the service takes it from REBUT_POLICY)."""
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"policy file: nothing at {path}") from None
    except tomllib.TOMLDecodeError as e:
        raise ValueError(f"policy file {path} is not valid TOML: {e}") from None
