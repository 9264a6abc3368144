"""The moderation head's training and dev examples: Jigsaw, Civil Comments toxic spans,
Davidson, OLID, YouTube spam, ARC's published reader comments (whole and as single
sentences) and rebut's threat frames. Each attribute a source says nothing about is None.
data/cards/moderation.md gives each label mapping and its reasons.

training/data/moderation.py holds the held-out hate and offence sources, with test splits
of their own.
"""

from __future__ import annotations

import csv
import hashlib
import html
import json
import re
from collections import defaultdict
from itertools import product
from pathlib import Path

from model.result import ATTRIBUTES
from model.sentences import split_sentences
from training.data.examples import ModerationExample, Split
from training.data.fnc_arc import _pairs
from training.data.splits import (
    _REPO,
    DEV_PERCENT,
    SMALL_DEV_PERCENT,
    _assemble,
    _hash,
    _norm,
    _root,
    _rows,
    _split,
)

_JIGSAW = {
    "toxic": "toxicity",
    "severe_toxic": "severe_toxicity",
    "obscene": "profanity",
    "threat": "threat",
    "insult": "insult",
    "identity_hate": "identity_attack",
}
_SPAN_TYPES = {
    "Insult": "insult",
    "Threat": "threat",
    "Identity based Attack": "identity_attack",
    "Profane/Obscene": "profanity",
}
_SPAN_TYPOS = {"Insu": "Insult", "Identity based ": "Identity based Attack"}  # in spans.csv
_QUIZ_RATERS = 8  # real comments have 3-7 raters; the one with 357 is a rater-quiz item
_NOT_TOXIC = dict.fromkeys(ATTRIBUTES[:-1], 0.0)  # non-toxic entails every subtype is absent
_MENTION = re.compile(r"@\w{1,15}")
_WEB = re.compile(r"https?://\S+|www\.\S+")
_TAG = re.compile(r"<[^>]+>")


def _labels(**given: float | None) -> dict[str, float | None]:
    unknown = set(given) - set(ATTRIBUTES)
    assert not unknown, f"unknown attributes {sorted(unknown)}"
    return {name: given.get(name) for name in ATTRIBUTES}


def _clean_tweet(text: str) -> str:
    """OLID's conventions for everyone: handles -> @USER, links -> URL; entities decoded.
    'RT' markers are kept: comments quote each other too."""
    text = html.unescape(text)
    if len(text) > 1 and text[0] == text[-1] == '"':  # OLID rows that kept their CSV quoting
        text = text[1:-1].replace('""', '"')
    return " ".join(_MENTION.sub("@USER", _WEB.sub("URL", text)).split())


def _jigsaw(root: Path) -> Split[ModerationExample]:
    examples: dict[str, ModerationExample] = {}
    for path in sorted((root / "toxicity/jigsaw_subsets").glob("*.csv")):
        for row in _rows(path):
            if row["id"] in examples:  # the subsets overlap; labels agree across copies
                continue
            labels = _labels(**{dst: float(row[src]) for src, dst in _JIGSAW.items()})
            examples[row["id"]] = ModerationExample(
                row["comment_text"].strip(), labels, "jigsaw", f"jigsaw:{row['id']}"
            )
    return _split(((e, e.group) for e in examples.values()), DEV_PERCENT)


def _civil_labels(votes: list[tuple[bool, set[str], bool]]) -> dict[str, float | None]:
    """votes: per rater (ticked 'all toxic', span types, gave a typed span).

    'not toxic' is unusable: it is True on every rater row that has neither spans nor a
    real 'not toxic' judgement (it co-occurs with 'all toxic' 21k times), so toxicity is 1
    when most raters marked spans or 'all toxic', never 0. A subtype is 1 when most raters
    marked a span of it, 0 when even the raters who gave no typed span could not make a
    majority for it, else unknown."""
    n = len(votes)
    toxic = sum(all_toxic or typed for all_toxic, _, typed in votes)
    untyped = sum(not typed for *_, typed in votes)
    labels: dict[str, float | None] = {"toxicity": 1.0 if 2 * toxic > n else None}
    for span_type, attribute in _SPAN_TYPES.items():
        marked = sum(span_type in types for _, types, _ in votes)
        if 2 * marked > n:
            labels[attribute] = 1.0
        elif 2 * (marked + untyped) <= n:
            labels[attribute] = 0.0
        else:
            labels[attribute] = None
    return _labels(**labels)


def _civil_spans(root: Path) -> Split[ModerationExample]:
    folder = root / "toxicity/civil_comments_spans"
    # comments.csv also holds the SemEval-2021 test comments; keep only the released
    # train/trial texts so that no benchmark test text is trained on.
    released = {
        _norm(r["text"]) for f in ("tsd_train.csv", "tsd_trial.csv") for r in _rows(folder / f)
    }
    span_types: dict[str, set[str]] = defaultdict(set)
    for row in _rows(folder / "spans.csv"):
        span_types[row["annotation"]].add(_SPAN_TYPOS.get(row["type"], row["type"]))
    votes: dict[str, list[tuple[bool, set[str], bool]]] = defaultdict(list)
    for row in _rows(folder / "annotations.csv"):
        types = span_types.get(row["annotation"], set())
        typed = bool(types - {""})
        votes[row["comment_id"]].append((row["all toxic"] == "True", types, typed))
    examples = []
    for row in _rows(folder / "comments.csv"):
        cid, text = row["comment_id"], row["comment_text"].strip()
        if not 0 < len(votes[cid]) < _QUIZ_RATERS or _norm(text) not in released:
            continue
        example = ModerationExample(
            text, _civil_labels(votes[cid]), "civil_comments_spans", f"civil:{cid}"
        )
        examples.append(example)
    return _split(((e, e.group) for e in examples), DEV_PERCENT)


def _davidson(root: Path) -> Split[ModerationExample]:
    by_class = {
        # hate speech: "hatred towards a targeted group" -> an identity attack
        "0": _labels(toxicity=1.0, identity_attack=1.0),
        # offensive: mostly slurs and swearing (92% of rows hit a small profanity list)
        "1": _labels(toxicity=1.0, profanity=1.0),
        # neither offensive nor hate: not toxic, hence no toxic subtype either
        "2": _labels(**_NOT_TOXIC),
    }
    examples, seen = [], set()
    for row in _rows(root / "toxicity/davidson/labeled_data.csv"):
        text = _clean_tweet(row["tweet"])
        if _norm(text) in seen:
            continue
        seen.add(_norm(text))
        examples.append(
            ModerationExample(text, dict(by_class[row["class"]]), "davidson", f"davidson:{row['']}")
        )
    return _split(((e, e.group) for e in examples), DEV_PERCENT)


def _olid_labels(a: str, b: str) -> dict[str, float | None]:
    if a == "NOT":  # "does not contain offense or profanity"
        return _labels(**_NOT_TOXIC)
    if b == "UNT":  # "non-targeted profanity and swearing": no target, so no insult/threat
        return _labels(toxicity=1.0, profanity=1.0, insult=0.0, threat=0.0, identity_attack=0.0)
    # TIN = "targeted insult or threat": which one is unknown. GRP targets are mostly
    # political groups (liberals, Democrats), not identities, so no identity_attack label.
    return _labels(toxicity=1.0)


def _olid(root: Path) -> Split[ModerationExample]:
    rows = _rows(root / "toxicity/olid/olid-training-v1.0.tsv", "\t", csv.QUOTE_NONE)
    examples, seen = [], set()
    for row in rows:
        text = _clean_tweet(row["tweet"])
        if _norm(text) in seen:
            continue
        seen.add(_norm(text))
        labels = _olid_labels(row["subtask_a"], row["subtask_b"])
        examples.append(ModerationExample(text, labels, "olid", f"olid:{row['id']}"))
    return _split(((e, e.group) for e in examples), DEV_PERCENT)


def _youtube(root: Path) -> Split[ModerationExample]:
    examples: dict[str, ModerationExample] = {}
    for path in sorted((root / "spam/youtube").glob("*.csv")):
        for row in _rows(path):
            text = html.unescape(_TAG.sub("", row["CONTENT"].replace("<br />", "\n"))).strip()
            key = _norm(text)  # spam is re-posted verbatim: group by text, not comment id
            if key and key not in examples:
                group = f"youtube:{hashlib.sha1(key.encode()).hexdigest()[:16]}"
                labels = _labels(spam=float(row["label"]))
                examples[key] = ModerationExample(text, labels, "youtube_spam", group)
    return _split(((e, e.group) for e in examples.values()), SMALL_DEV_PERCENT)


_MODERATED = _labels(
    toxicity=0.0,
    severe_toxicity=0.0,
    threat=0.0,
    identity_attack=0.0,
    profanity=0.0,
    spam=0.0,
)


def _reader_comments(root: Path) -> Split[ModerationExample]:
    """ARC's reader comments (a newspaper's moderated debate pages): not spam, not abuse.

    The only spam data is YouTube's, where "subscribe" means self-promotion; under a news
    story it means a reader's subscription ("I am cancelling my subscription over this"),
    and model 0.5.7 flagged such comments as spam. It also flagged half of them as toxic:
    the only other news comments (Civil Comments spans) are all toxic, so the model had
    learnt that a long news comment is toxic. These comments were published on the New
    York Times' Room for Debate pages, whose moderators approve each comment for civility
    (no name-calling, personal attacks, obscenity or profanity): they are labelled not
    spam, not toxic, not severely toxic, not threatening, not an identity attack and not
    profane. Insult stays unknown: the pages let readers call a politician "a joke".

    Only comments that ARC's training file pairs with a claim are read (the bodies file
    also holds others), and each is on the side of its claim cluster, as in the stance
    split: a stance dev comment is a moderation dev comment."""
    bodies, pairs, cluster = _pairs(root / "stance/arc", "arc_bodies.csv", "arc_stances_train.csv")
    examples = {
        body_id: ModerationExample(
            bodies[body_id], _MODERATED, "reader_comments", f"arc:claim{cluster[body_id]}"
        )
        for body_id in sorted({p.body_id for p in pairs})
        if bodies[body_id]
    }
    return _split(((e, e.group) for e in examples.values()), DEV_PERCENT)


READER_SENTENCES_PER_COMMENT = 2
READER_SENTENCE_WORDS = (3, 40)


def _reader_sentences(root: Path) -> Split[ModerationExample]:
    """Single sentences of the same published comments, with the same labels and groups.

    A whole comment is long and measured; its sentences, read alone, are short and
    often sharp ("This is ridiculous!", "We are lazy."), and so are many comments under
    a story. Model 0.5.8 flagged 14% of these sentences on dev (toxicity 0.97 for "We are
    lazy."), and it scores every sentence of a comment for the spans a moderator reads.
    Split as serving splits them (`model.sentences`); up to two a comment, picked by a
    hash, 3 to 40 words, each text once; a sentence that is its comment's whole text is
    left to `reader_comments`."""
    train, dev = _reader_comments(root)
    low, high = READER_SENTENCE_WORDS
    seen: set[str] = set()
    parts: Split[ModerationExample] = ([], [])
    for side, comments in zip(parts, (train, dev)):
        for comment in comments:
            texts = [
                t
                for t in (s.text for s in split_sentences(comment.text))
                if low <= len(t.split()) <= high and _norm(t) != _norm(comment.text)
            ]
            texts.sort(key=lambda t: _hash(f"reader_sentence:{t}"))
            for text in texts[:READER_SENTENCES_PER_COMMENT]:
                if _norm(text) not in seen:
                    seen.add(_norm(text))
                    side.append(
                        ModerationExample(text, _MODERATED, "reader_sentences", comment.group)
                    )
    return parts


THREAT_FRAMES = _REPO / "data" / "moderation" / "threat_frames.json"
THREAT_FILLS_PER_FRAME = 8
_THREAT = _labels(toxicity=1.0, threat=1.0, profanity=0.0, spam=0.0)
_NOT_THREAT = _labels(**{name: 0.0 for name in ATTRIBUTES if name != "sexually_explicit"})


def _threat_frames(root: Path) -> Split[ModerationExample]:
    """Threats of violence, and civil comments that mention violence, written for rebut.

    The public sources hold 144 threat rows for training, and model 0.5.8 gave "I will
    find where you live and hurt your family." a threat score of 0.21. Comments under
    crime stories mention shootings and stabbings all the time, so the frames come in
    pairs of kinds: a threat against a person (`threat` and `toxicity` 1), and a report,
    condolence or demand for justice that names the same violence (every attribute 0).
    Each frame is filled `THREAT_FILLS_PER_FRAME` times from its slot lists, picked by a
    hash; a frame is train or dev as the file says, so dev frames are never seen."""
    spec = json.loads(THREAT_FRAMES.read_text(encoding="utf-8"))
    slots: dict[str, list[str]] = spec["slots"]
    parts: Split[ModerationExample] = ([], [])
    for kind, labels in (("threat", _THREAT), ("not_threat", _NOT_THREAT)):
        for number, entry in enumerate(spec[kind]):
            frame = entry["frame"]
            names = sorted(set(re.findall(r"{(\w+)}", frame)))
            fills = [dict(zip(names, values)) for values in product(*(slots[n] for n in names))]
            fills.sort(key=lambda f: _hash(f"threat_frame:{frame}:{sorted(f.items())}"))
            side = parts[1] if entry["split"] == "dev" else parts[0]
            for fill in fills[:THREAT_FILLS_PER_FRAME]:
                text = frame.format(**fill)
                text = text[0].upper() + text[1:]
                group = f"rebut_threats:{kind}{number}"
                side.append(ModerationExample(text, labels, "rebut_threats", group))
    return parts


def load_moderation(
    data_dir: Path | str | None = None, *, limit_per_source: int | None = None
) -> Split[ModerationExample]:
    """Jigsaw, Civil Comments toxic spans, Davidson, OLID, YouTube spam, ARC's published
    reader comments (whole and as single sentences) and rebut's threat frames
    -> (train, dev)."""
    root = _root(data_dir)
    parts = [
        f(root)
        for f in (
            _jigsaw,
            _civil_spans,
            _davidson,
            _olid,
            _youtube,
            _reader_comments,
            _reader_sentences,
            _threat_frames,
        )
    ]
    return _assemble(parts, limit_per_source, lambda e: _norm(e.text))
