"""The check-worthiness head's examples: ClaimBuster, CLEF CheckThat! 2019 debates and
2020 tweets, plain news facts from FNC-1 bodies (label 1) and Perspectrum's debate claims
(label 0). data/cards/checkworthy.md gives the label definitions.
"""

from __future__ import annotations

import csv
import json
import random
import re
from pathlib import Path

from training.data.examples import CheckworthyExample, Split
from training.data.fnc_arc import _fnc
from training.data.moderation_sources import _clean_tweet
from training.data.perturbations import SYNTH_SEED, _claimable_sentences
from training.data.splits import (
    DEV_PERCENT,
    SMALL_DEV_PERCENT,
    _assemble,
    _hash,
    _norm,
    _root,
    _rows,
    _split,
)
from training.data.stance import _perspectrum_claims


def load_checkworthy(
    data_dir: Path | str | None = None, *, limit_per_source: int | None = None
) -> Split[CheckworthyExample]:
    """ClaimBuster, CLEF CheckThat! 2019 debates and 2020 tweets -> (train, dev).

    A sentence in several sources keeps its first label, in that order: ClaimBuster's
    definition (check-worthy factual sentence) is rebut's; CLEF 2019 marks only the
    sentences journalists chose to check."""
    root = _root(data_dir)
    folder = root / "checkworthy/claimbuster"
    seen: set[str] = set()

    def fresh(text: str) -> bool:
        key = _norm(text)
        if not key or key in seen:
            return False
        seen.add(key)
        return True

    kfold = json.loads((folder / "kfold_25ncs.json").read_text(encoding="utf-8"))
    claimbuster = _split(
        (
            (
                CheckworthyExample(r["text"].strip(), int(r["label"]), "claimbuster"),
                f"cb:{r['sentence_id']}",
            )
            for r in kfold
            if fresh(r["text"])
        ),
        DEV_PERCENT,
    )
    # a debate stays on one side: its sentences answer each other
    clef2019 = _split(
        (
            (
                CheckworthyExample(r["text"].strip(), int(r["label"]), "clef2019_debates"),
                f"ct19:{r['file_name']}",
            )
            for r in _rows(folder / "CT19-T1-Training.csv")
            if fresh(r["text"])
        ),
        SMALL_DEV_PERCENT,
    )
    # training_v2.tsv repeats all of dev_v2.tsv: a tweet in dev_v2 is dev
    dev_ids = {r["tweet_id"] for r in _rows(folder / "dev_v2.tsv", "\t", csv.QUOTE_NONE)}
    tweets: Split[CheckworthyExample] = ([], [])
    for r in _rows(folder / "training_v2.tsv", "\t", csv.QUOTE_NONE):
        text = _clean_tweet(r["tweet_text"])
        if fresh(text):
            side = tweets[1] if r["tweet_id"] in dev_ids else tweets[0]
            side.append(CheckworthyExample(text, int(r["check_worthiness"]), "clef2020_tweets"))
    return _assemble(
        [claimbuster, clef2019, tweets, _news_facts(root), _opinions(root)],
        limit_per_source,
        lambda e: _norm(e.text),
    )


# a reader's sentence about the story's world: no quotation (an opinion in quotes is the
# speaker's; a curly apostrophe looks like a closing quote and drops its sentence too), no
# first or second person (the writer's own view or address)
_PERSONAL = re.compile(r"\b(?:I|I'm|I've|we|we're|us|our|my|me|you|your)\b", re.IGNORECASE)
_QUOTED = re.compile(r"[\"“”‘’]|'\s|\s'")


def _news_facts(root: Path) -> Split[CheckworthyExample]:
    """One sentence of each FNC-1 training body, label 1: a plain statement of who did what,
    where and when. ClaimBuster counts such "unimportant factual sentences" as not
    check-worthy, so a model trained on it alone leaves "Mayor John Briggs cut the ribbon"
    unchecked; a comment that says so about an article is a claim to check against it
    (data/cards/checkworthy.md). Split by FNC-1 claim cluster, as the stance rows are."""
    bodies, _, cluster = _fnc(root)
    pieces: list[tuple[CheckworthyExample, str]] = []
    for body_id in sorted(bodies, key=lambda b: _hash(f"news-facts:{b}")):
        plain = [
            s
            for s in _claimable_sentences(bodies[body_id])
            if not _PERSONAL.search(s) and not _QUOTED.search(s) and s[0].isupper()
        ]
        if plain:
            sentence = random.Random(f"{SYNTH_SEED}:news-facts:{body_id}").choice(plain)
            group = f"fnc1:claim{cluster.get(body_id, body_id)}"
            pieces.append((CheckworthyExample(sentence, 1, "rebut_news_facts"), group))
    return _split(pieces, DEV_PERCENT)


def _opinions(root: Path) -> Split[CheckworthyExample]:
    """Perspectrum's debate claims, label 0: statements of what should be or what is good
    ("Cars should be banned from city centres"), the opinions readers state as facts.
    Perspectrum's own train and dev claims; its test claims are never read."""
    train: list[CheckworthyExample] = []
    dev: list[CheckworthyExample] = []
    for claim, split in _perspectrum_claims(root):
        side = train if split == "train" else dev
        side.append(CheckworthyExample(claim["text"].strip(), 0, "rebut_opinions"))
    return train, dev
