"""Human-labelled hate and offence sources the moderation model has not trained on, with
a train / dev / test split each (data/cards/moderation.md):

- `sbic`: Social Bias Frames v2 (CC BY 4.0). Its upstream test file is the test split; its
  dev file is carved into train and dev by text.
- `implicit_hate`: the Implicit Hate Corpus, stage 1 (CC BY 4.0), carved by text; stage 2's
  `threatening` posts are labelled threats.
- `hate_counterspeech`: Hickey et al.'s comments and replies from hate subreddits (MIT),
  carved by text; counter-speech is labelled not abusive.

A text is split by its normalised form, so a post in two sources (548 are in both SBIC and
the Implicit Hate Corpus) lands on the same side in both. Rows whose text is already in the
moderation loader's train or dev (SBIC carries Davidson and OLID tweets) keep the side they
have there, never test. None of these posts is from a news site.
"""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

from training.data.examples import ModerationExample
from training.data.pairs import norm

SALT = "rebut-moderation-v1"
TEST_PERCENT, DEV_PERCENT = 15, 15
ABUSE = ("toxicity", "severe_toxicity", "insult", "threat", "identity_attack", "profanity")
NOT_ABUSIVE = {name: 0.0 for name in ("toxicity", "insult", "threat", "identity_attack")}

Splits = dict[str, list[ModerationExample]]


def side(text: str, splits: tuple[str, ...] = ("train", "dev", "test")) -> str:
    """The split of a text: a pure function of its normalised form."""
    bucket = int(hashlib.sha1(f"{SALT}:{norm(text)}".encode()).hexdigest(), 16) % 100
    if "test" in splits and bucket < TEST_PERCENT:
        return "test"
    return "dev" if bucket < TEST_PERCENT + DEV_PERCENT else "train"


def _rows(path: Path, delimiter: str = ",") -> list[dict]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter=delimiter))


def sbic(root: Path) -> Splits:
    folder = root / "toxicity/sbic"
    out: Splits = {"train": [], "dev": [], "test": []}
    for name, splits in (("SBIC.v2.agg.dev.csv", ("train", "dev")), ("SBIC.v2.agg.tst.csv", None)):
        for r in _rows(folder / name):
            text = " ".join(r["post"].split())
            if not text:
                continue
            offensive = float(r["offensiveYN"]) >= 0.5
            group = r["whoTarget"] not in ("", "0.0") and float(r["whoTarget"]) >= 0.5
            stereotype = bool(json.loads(r["targetStereotype"] or "[]"))
            labels = {
                "toxicity": float(offensive),
                "identity_attack": float(offensive and group and stereotype),
                "insult": float(offensive and not group) if offensive else 0.0,
            }
            split = "test" if splits is None else side(text, splits)
            out[split].append(ModerationExample(text, _all(labels), "sbic", f"sbic:{norm(text)}"))
    return out


def implicit_hate(root: Path) -> Splits:
    folder = root / "toxicity/implicit_hate"
    threatening = {
        norm(r["post"])
        for r in _rows(folder / "implicit_hate_v1_stg2_posts.tsv", "\t")
        if r["implicit_class"] == "threatening"
    }
    out: Splits = {"train": [], "dev": [], "test": []}
    for r in _rows(folder / "implicit_hate_v1_stg1_posts.tsv", "\t"):
        text = " ".join(r["post"].strip(' "').split())
        if not text:
            continue
        if r["class"] == "not_hate":
            labels = dict(NOT_ABUSIVE)
        else:
            labels = {"toxicity": 1.0, "identity_attack": 1.0}
            if norm(r["post"]) in threatening:
                labels["threat"] = 1.0
        out[side(text)].append(
            ModerationExample(text, _all(labels), "implicit_hate", f"implicit:{norm(text)}")
        )
    return out


def hate_counterspeech(root: Path) -> Splits:
    out: Splits = {"train": [], "dev": [], "test": []}
    for r in _rows(root / "toxicity/hate_subreddit_counterspeech/validation_set.csv"):
        text = " ".join((r["parent"] if r["target"] == "newcomer" else r["reply"]).split())
        if not text:
            continue
        hateful = r["label"] == "1"
        labels = {"toxicity": 1.0, "identity_attack": 1.0} if hateful else dict(NOT_ABUSIVE)
        out[side(text)].append(
            ModerationExample(text, _all(labels), "hate_counterspeech", f"hcs:{norm(text)}")
        )
    return out


SOURCES = {"sbic": sbic, "implicit_hate": implicit_hate, "hate_counterspeech": hate_counterspeech}


def load(root: Path, known: set[str] = frozenset()) -> Splits:
    """Every source's splits, each text once per split; `known` holds the normalised texts
    of the moderation loader's train and dev, which never reach test here."""
    out: Splits = {"train": [], "dev": [], "test": []}
    seen: set[tuple[str, str]] = set()
    for loader in SOURCES.values():
        for split, rows in loader(root).items():
            for e in rows:
                key = norm(e.text)
                if (split == "test" and key in known) or (split, key) in seen:
                    continue
                seen.add((split, key))
                out[split].append(e)
    return out


def _all(labels: dict[str, float]) -> dict[str, float | None]:
    """Every attribute: the given ones, spam 0 (no source here is spam), the rest unknown."""
    from model.result import ATTRIBUTES

    return {name: labels.get(name, 0.0 if name == "spam" else None) for name in ATTRIBUTES}
