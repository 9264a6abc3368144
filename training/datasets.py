"""Training and dev examples for rebut's four heads, read from the public data in
../shared/datasets (see its README.md and MANIFEST.json). Nothing is copied into the repo.

Each loader returns `(train, dev)` lists of frozen dataclasses. Dev is carved by hashing a
group key (article, claim, debate or comment id) with `in_dev`, so a group never sits on
both sides; where a source ships its own dev split, that split is used. Public benchmark
test splits are never read: FRANK entries with `split == "test"` are dropped before any of
their article files is opened, and XSum-hallucination summaries of those articles are
dropped too. The data cards in data/cards/ give each label mapping and its reasons.

    from training.datasets import load_grounding
    train, dev = load_grounding(limit_per_source=200)    # a CI-sized sample

    python -m training.datasets                          # counts per source x label, timings
    python -m training.datasets stance --limit 100

Pure python (csv, json, pysbd): no torch, no pandas.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import html
import json
import math
import os
import random
import re
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import product
from pathlib import Path
from typing import Protocol, TypeVar

import pysbd

from model.result import ATTRIBUTES
from model.sentences import split_sentences
from training.data.summaries import _detok, _frank_label, _xsum_label, frank_summary

TASKS: tuple[str, ...] = ("moderation", "checkworthy", "grounding", "stance")
_REPO = Path(__file__).resolve().parents[1]  # data/ holds the files written for rebut

SPLIT_SALT = "rebut-split-v1"  # changing it reshuffles every dev split
DEV_PERCENT = 10
SMALL_DEV_PERCENT = 15  # small sources: a 10% dev would hold too few groups to measure
SYNTH_SEED = 13
SYNTH_PER_KIND = 3  # synthetic grounding examples per FNC-1 body and label
MAX_LABEL_SHARE = 0.45  # no grounding label may exceed this share of a split
UNRELATED_SHARE = 0.25  # FNC-1 / ARC: unrelated pairs are ~75% and would swamp the rest


# --------------------------------------------------------------------------- examples


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


# --------------------------------------------------------------------------- paths, splits


def default_data_dir() -> Path:
    """$REBUT_DATA_DIR, else ../shared/datasets beside the repository."""
    env = os.environ.get("REBUT_DATA_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[1].parent / "shared" / "datasets"


def _root(data_dir: Path | str | None) -> Path:
    root = Path(data_dir) if data_dir is not None else default_data_dir()
    if not (root / "MANIFEST.json").is_file():
        raise FileNotFoundError(f"no MANIFEST.json in {root}; set REBUT_DATA_DIR")
    return root


def _hash(key: str) -> int:
    return int(hashlib.sha1(key.encode()).hexdigest(), 16)


def in_dev(group: str, dev_percent: int = DEV_PERCENT) -> bool:
    """Whether `group` falls in dev: a pure function of the group, so all its examples agree."""
    return _hash(f"{SPLIT_SALT}:{group}") % 100 < dev_percent


def _split(items: Iterable[tuple[E, str]], dev_percent: int) -> Split[E]:
    """(example, group) pairs -> (train, dev)."""
    train: list[E] = []
    dev: list[E] = []
    for example, group in items:
        (dev if in_dev(group, dev_percent) else train).append(example)
    return train, dev


def _norm(text: str) -> str:
    """Key for duplicate detection: case and whitespace do not make a new text."""
    return " ".join(text.casefold().split())


def _key(purpose: str, example: object) -> int:
    """A stable pseudo-random rank for sampling; every field, long ones cut to 300 chars
    (repr of a whole article per example made the stance loader 2x slower)."""
    fields = "|".join(str(v)[:300] for v in vars(example).values())
    return _hash(f"{purpose}:{fields}")


def _limit(examples: list[E], limit: int | None) -> list[E]:
    """At most `limit` examples per source, picked by a hash of the example (not by file
    order, which is often sorted by label), original order kept."""
    if limit is None:
        return examples
    by_source: dict[str, list[int]] = defaultdict(list)
    for i, example in enumerate(examples):
        by_source[example.source].append(i)
    keep: set[int] = set()
    for indices in by_source.values():
        keep.update(sorted(indices, key=lambda i: _key("limit", examples[i]))[:limit])
    return [e for i, e in enumerate(examples) if i in keep]


def _assemble(
    parts: Sequence[Split[E]], limit: int | None, text_key: Callable[[E], str] | None = None
) -> Split[E]:
    """Concatenate per-source splits, subsample, and (for single-text tasks) drop dev
    examples whose text also occurs in train: duplicates cross group boundaries."""
    train = _limit([e for part in parts for e in part[0]], limit)
    dev = _limit([e for part in parts for e in part[1]], limit)
    if text_key is not None:
        seen = {text_key(e) for e in train}
        dev = [e for e in dev if text_key(e) not in seen]
    return train, dev


def _rows(path: Path, delimiter: str = ",", quoting: int = csv.QUOTE_MINIMAL) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter=delimiter, quoting=quoting))


# --------------------------------------------------------------------------- moderation

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


# --------------------------------------------------------------------------- check-worthiness


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


# --------------------------------------------------------------------------- FNC-1 / ARC pairs


@dataclass(frozen=True)
class _Pair:
    headline: str
    body_id: str
    stance: str
    held_out: bool  # from UKP's train_test_stances.csv: may go to dev, never to train


def _claim_clusters(pairs: Iterable[_Pair]) -> dict[str, str]:
    """Body id -> its claim cluster (smallest body id in it). Bodies are joined through any
    headline they relate to: FNC-1 pairs every headline of a claim with every body of it,
    so grouping by body alone would put the same headline/label in train and dev."""
    parent: dict[str, str] = {}

    def find(node: str) -> str:
        parent.setdefault(node, node)
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for pair in pairs:
        body = find(f"b:{pair.body_id}")
        if pair.stance != "unrelated":
            parent[find(f"h:{pair.headline}")] = body
    members: dict[str, list[str]] = defaultdict(list)
    for node in list(parent):
        if node.startswith("b:"):
            members[find(node)].append(node[2:])
    return {
        body: min(bodies, key=lambda b: (len(b), b))
        for bodies in members.values()
        for body in bodies
    }


# (bodies by id, pairs, claim cluster by body id)
_PairData = tuple[dict[str, str], list[_Pair], dict[str, str]]
_GroupedPairs = list[tuple[_Pair, str]]


@lru_cache(maxsize=4)
def _pairs(
    folder: Path, bodies_file: str, stance_file: str, held_out_file: str | None = None
) -> _PairData:
    bodies = {r["Body ID"]: r["articleBody"].strip() for r in _rows(folder / bodies_file)}
    pairs, seen = [], set()
    for name in (stance_file, held_out_file) if held_out_file else (stance_file,):
        for r in _rows(folder / name):
            key = (r["Headline"], r["Body ID"])
            if key not in seen:  # a pair in both files keeps its train-file copy
                seen.add(key)
                held_out = name == held_out_file
                pairs.append(_Pair(r["Headline"].strip(), r["Body ID"], r["Stance"], held_out))
    return bodies, pairs, _claim_clusters(pairs)


def _fnc(root: Path) -> _PairData:
    return _pairs(
        root / "stance/fnc1",
        "train_bodies.csv",
        "train_train_stances.csv",
        "train_test_stances.csv",
    )


def _split_pairs(
    pairs: list[_Pair], cluster: dict[str, str], prefix: str
) -> tuple[_GroupedPairs, _GroupedPairs]:
    """Pairs -> (train, dev) by claim cluster; held-out pairs only ever reach dev."""
    train: _GroupedPairs = []
    dev: _GroupedPairs = []
    for pair in pairs:
        group = f"{prefix}:claim{cluster[pair.body_id]}"
        if in_dev(group, DEV_PERCENT):
            dev.append((pair, group))
        elif not pair.held_out:
            train.append((pair, group))
    return train, dev


def _cap_unrelated(examples: list[StanceExample]) -> list[StanceExample]:
    related = [e for e in examples if e.label != "unrelated"]
    unrelated = sorted(
        (e for e in examples if e.label == "unrelated"), key=lambda e: _key("cap", e)
    )
    n = math.floor(len(related) * UNRELATED_SHARE / (1 - UNRELATED_SHARE))
    keep = {id(e) for e in unrelated[:n]}
    return [e for e in examples if e.label != "unrelated" or id(e) in keep]


# --------------------------------------------------------------------------- stance

_STANCE = {
    "agree": "agrees",
    "disagree": "disputes",
    "discuss": "discusses",
    "unrelated": "unrelated",
}


def _stance_fnc(root: Path, cap: bool = True) -> Split[StanceExample]:
    bodies, pairs, cluster = _fnc(root)

    def build(side: _GroupedPairs) -> list[StanceExample]:
        examples = [
            StanceExample(p.headline, "", bodies[p.body_id], _STANCE[p.stance], "fnc1", g)
            for p, g in side
        ]
        return _cap_unrelated(examples) if cap else examples

    train, dev = _split_pairs(pairs, cluster, "fnc1")
    return build(train), build(dev)


def load_fnc1_dev_uncapped(data_dir: Path | str | None = None) -> list[StanceExample]:
    """FNC-1's dev pairs with every unrelated pair kept (about 71% of them, as in the
    FNC-1 data): the mix on which its weighted score compares with published ones. The
    stance dev split keeps a quarter unrelated, which weighs agrees/discusses errors more."""
    return _stance_fnc(_root(data_dir), cap=False)[1]


# ARC's claim clusters held out as its test split (only ARC's training file is public)
ARC_TEST_PERCENT = 15


def _arc_test_split(root: Path) -> tuple[list[_Pair], set[str], set[str]]:
    """ARC's test pairs: those whose comment's claim cluster a salted hash puts in test
    (outside dev), and whose claim is one of those clusters' own claims (ARC also pairs a
    comment with other clusters' claims as `unrelated`; such a pair would carry a training
    claim into test). Returns the pairs and the claim and comment texts that train and dev
    must then leave out, unrelated pairs included."""
    bodies, pairs, cluster = _pairs(root / "stance/arc", "arc_bodies.csv", "arc_stances_train.csv")

    def in_test(pair: _Pair) -> bool:
        group = f"arc:claim{cluster[pair.body_id]}"
        return not in_dev(group) and _hash(f"{SPLIT_SALT}:test:{group}") % 100 < ARC_TEST_PERCENT

    held = [p for p in pairs if in_test(p)]
    claims = {_norm(p.headline) for p in held if p.stance != "unrelated"}
    test = [p for p in held if _norm(p.headline) in claims]
    return test, claims, {_norm(bodies[p.body_id]) for p in test}


def _stance_arc(root: Path) -> Split[StanceExample]:
    """ARC bodies are reader comments answering a claim (its 'headline'). No claim or
    comment of its test split (_arc_test_split) reaches train or dev."""
    bodies, pairs, cluster = _pairs(root / "stance/arc", "arc_bodies.csv", "arc_stances_train.csv")
    _, test_claims, test_comments = _arc_test_split(root)
    pairs = [
        p
        for p in pairs
        if _norm(p.headline) not in test_claims and _norm(bodies[p.body_id]) not in test_comments
    ]

    def build(side: _GroupedPairs) -> list[StanceExample]:
        examples = [
            StanceExample(bodies[p.body_id], "", p.headline, _STANCE[p.stance], "arc", g)
            for p, g in side
        ]
        return _cap_unrelated(examples)

    train, dev = _split_pairs(pairs, cluster, "arc")
    return build(train), build(dev)


def load_stance_test(data_dir: Path | str | None = None) -> dict[str, list[StanceExample]]:
    """The stance test split, real human-labelled rows that nothing trains or tunes on:
    ARC's held-out claim clusters (their unrelated pairs too, where the claim is one of
    theirs) and Perspectrum's upstream test claims (agrees / disputes), less perspectives
    that also answer a train or dev claim."""
    root = _root(data_dir)
    bodies, _, cluster = _pairs(root / "stance/arc", "arc_bodies.csv", "arc_stances_train.csv")
    arc = [
        StanceExample(
            bodies[p.body_id],
            "",
            p.headline,
            _STANCE[p.stance],
            "arc",
            f"arc:claim{cluster[p.body_id]}",
        )
        for p in _arc_test_split(root)[0]
    ]
    # a perspective may answer claims of both splits: test keeps those it alone holds
    sides = _perspectrum_examples(root, ("train", "dev", "test"))
    seen = {_norm(e.comment) for e in sides["train"] + sides["dev"]}
    seen |= {_norm(e.article_body) for e in sides["train"] + sides["dev"]}
    perspectrum = [
        e
        for e in sides["test"]
        if _norm(e.comment) not in seen and _norm(e.article_body) not in seen
    ]
    return {"arc": arc, "perspectrum": perspectrum}


def _perspectrum_claims(
    root: Path, splits: tuple[str, ...] = ("train", "dev")
) -> list[tuple[dict, str]]:
    """Perspectrum's claims with their split; by default "train" and "dev" only: the
    benchmark's test claims are read by load_stance_test alone."""
    folder = root / "stance/perspectrum"
    claims = json.loads((folder / "perspectrum_with_answers_v1.0.json").read_text(encoding="utf-8"))
    split = json.loads((folder / "dataset_split_v1.0.json").read_text(encoding="utf-8"))
    return [(c, split[str(c["cId"])]) for c in claims if split[str(c["cId"])] in splits]


def _stance_perspectrum(root: Path) -> Split[StanceExample]:
    sides = _perspectrum_examples(root, ("train", "dev"))
    return sides["train"], sides["dev"]


def _perspectrum_examples(root: Path, splits: tuple[str, ...]) -> dict[str, list[StanceExample]]:
    pool_file = root / "stance/perspectrum/perspective_pool_v1.0.json"
    text = {p["pId"]: p["text"].strip() for p in json.loads(pool_file.read_text(encoding="utf-8"))}
    sides: dict[str, list[StanceExample]] = {split: [] for split in splits}
    for claim, split in _perspectrum_claims(root, splits):
        side = sides[split]
        seen = set()
        for cluster in claim["perspectives"]:
            if cluster["stance_label_5"] == "NO_MAJORITY_LABEL":  # raters split: no gold
                continue
            label = {"SUPPORT": "agrees", "UNDERMINE": "disputes"}[cluster["stance_label_3"]]
            for pid in cluster["pids"]:
                if _norm(text[pid]) not in seen:
                    seen.add(_norm(text[pid]))
                    group = f"perspectrum:{claim['cId']}"
                    side.append(
                        StanceExample(
                            text[pid], "", claim["text"].strip(), label, "perspectrum", group
                        )
                    )
    return sides


def load_stance(
    data_dir: Path | str | None = None, *, limit_per_source: int | None = None
) -> Split[StanceExample]:
    """FNC-1 (UKP training data), ARC, Perspectrum -> (train, dev); train also holds ARC's
    and Perspectrum's comments against their claim negated, and framed comments and
    off-topic reader comments on FNC-1 training bodies."""
    root = _root(data_dir)
    arc, perspectrum = _stance_arc(root), _stance_perspectrum(root)
    parts = [
        _stance_fnc(root),
        arc,
        perspectrum,
        _stance_synthetic(root, limit_per_source),
        _stance_offtopic(root, limit_per_source),
        (negated_claims(arc[0] + perspectrum[0]), []),
    ]
    return _assemble(parts, limit_per_source)


# --------------------------------------------------------------------------- stance: negated claims

_NEGATION = re.compile(r"\b(?:not|no|never|nobody|nothing|none|cannot)\b|n[’']t\b", re.IGNORECASE)
_OPPOSITE = {"agrees": "disputes", "disputes": "agrees"}


def negate_claim(claim: str) -> str | None:
    """The claim with its polarity turned ("X should not Y" <-> "X should Y", "We don't
    need Z" -> "We do need Z"), or None where no single auxiliary can carry the change: a
    claim without one ("Tenure protects bad teachers") or with two negations."""
    return None if len(_NEGATION.findall(claim)) > 1 else _turn_negation(claim)


def negated_claims(examples: Iterable[StanceExample]) -> list[StanceExample]:
    """Each agreeing or disputing comment again, against its claim negated and with the
    opposite label (source `<source>_negated`, train only). ARC and Perspectrum judge a
    comment against a one-line claim, and every comment answers one claim, so a model can
    learn a comment's label without reading the claim: 0.5.10 kept its label for 69% of ARC's
    and Perspectrum's dev comments when their claim was negated (`negated_claims` in `rebut
    eval stance`; data/cards/stance.md). The same comment with opposite labels makes the
    claim count."""
    rows = []
    for e in examples:
        negated = negate_claim(e.article_body) if e.label in _OPPOSITE else None
        if negated is not None:
            rows.append(
                StanceExample(
                    e.comment,
                    e.article_title,
                    negated,
                    _OPPOSITE[e.label],
                    f"{e.source}_negated",
                    e.group,
                )
            )
    return rows


def turned_reports(
    data_dir: Path | str | None = None, *, dev: bool, limit: int | None = None
) -> list[StanceExample]:
    """One statement under one report and under the same report saying the opposite: for
    an FNC-1 body, a sentence S that one auxiliary can negate (`negate_claim`), the body B'
    with S turned in place, and four rows in this order: S under B `agrees`, S under B'
    `disputes`, not-S under B `disputes`, not-S under B' `agrees` (source
    `rebut_turned_reports`). A head that judges the comment alone gets two of four right;
    0.5.11 called not-S under B' (a negated statement under a report that says the same)
    `agrees` only half the time, as if a "not" in a comment meant `disputes`
    (data/cards/stance.md). `dev` picks the bodies of dev groups (`rebut eval stance`) or
    of training groups: a pass trained on those rows was tried and not shipped, so
    load_stance does not add them. One sentence a body, by a seeded draw."""
    bodies, _, cluster = _fnc(_root(data_dir))
    rows: list[StanceExample] = []
    for body_id in sorted(bodies, key=lambda b: _hash(f"turned-report:{b}")):
        group = f"fnc1:claim{cluster.get(body_id, body_id)}"
        if in_dev(group, DEV_PERCENT) != dev:
            continue
        body = bodies[body_id]
        candidates = [
            (s, t) for s in _claimable_sentences(body) if (t := negate_claim(s)) and s in body
        ]
        if not candidates:
            continue
        said, turned = random.Random(f"{SYNTH_SEED}:turned:{body_id}").choice(candidates)
        other = body.replace(said, turned, 1)
        for comment, report, label in (
            (said, body, "agrees"),
            (said, other, "disputes"),
            (turned, body, "disputes"),
            (turned, other, "agrees"),
        ):
            rows.append(StanceExample(comment, "", report, label, "rebut_turned_reports", group))
        if limit is not None and len(rows) >= 4 * limit:
            break
    return rows


# --------------------------------------------------------------------------- stance: synthetic

COMMENT_FRAMES = _REPO / "data" / "stance" / "comment_frames.json"
SYNTH_STANCE_PER_BODY = 2  # framed comments per FNC-1 training body, each of its own kind


@lru_cache(maxsize=1)
def _comment_frames() -> dict[str, dict]:
    frames = json.loads(COMMENT_FRAMES.read_text(encoding="utf-8"))
    return {kind: v for kind, v in frames.items() if kind != "about"}


_CONNECTIVE = re.compile(r"^(?:But|And|So|Yet|Still|However,|Meanwhile,)\s+(?=\S)")


def _framed(frame: str, fact: str, body: str) -> str:
    """`fact` put into `frame`, without a leading "But"/"And" that tied it to its own
    article. Mid-sentence, a fact that opens with a common word ("The", "It", or one the
    body also writes in lower case) loses its capital; a name keeps it."""
    fact = _CONNECTIVE.sub("", fact)
    fact = fact[0].upper() + fact[1:]
    head = frame.split("{fact}")[0]
    first = fact.split(" ", 1)[0]
    common = first in _NOT_NAME or re.search(rf"\b{re.escape(first.lower())}\b", body)
    if head and not head.rstrip().endswith((".", ":", "?", "!")) and common:
        fact = fact[0].lower() + fact[1:]
    return frame.replace("{fact}", fact)


def _stance_synthetic(root: Path, limit: int | None) -> Split[StanceExample]:
    """Comments that take a side by how they frame a fact, against FNC-1 training bodies:
    the rebuttals real readers write most ("the article leaves out that ...", "wrong, it
    was ...") are rare in FNC-1, ARC and Perspectrum, whose disputes deny a headline
    (data/cards/stance.md). Frames are data/stance/comment_frames.json, written for rebut;
    facts come from the grounding synthesis: a same-story sentence this body lacks
    (omission, addition), a perturbed body sentence (correction), a body sentence
    (agreement). Dev groups are skipped, so dev bodies stay unseen; rows are train only."""
    bodies, _, cluster = _fnc(root)
    ids = sorted(bodies, key=lambda b: _hash(f"stance-synth:{b}"))
    if limit is not None:
        ids = ids[: max(30, 2 * limit)]
    same_topic: dict[str, list[str]] = defaultdict(list)
    for body_id in ids:
        same_topic[cluster.get(body_id, body_id)].append(body_id)
    frames = _comment_frames()
    train: list[StanceExample] = []
    for body_id in ids:
        topic = cluster.get(body_id, body_id)
        group = f"fnc1:claim{topic}"
        if in_dev(group, DEV_PERCENT):
            continue
        body = bodies[body_id]
        rng = random.Random(f"{SYNTH_SEED}:stance:{body_id}")
        others = [bodies[b] for b in same_topic[topic] if b != body_id]
        own = list(_claimable_sentences(body))
        rng.shuffle(own)
        kinds = sorted(frames)
        rng.shuffle(kinds)
        made = 0
        for kind in kinds:
            if made == SYNTH_STANCE_PER_BODY:
                break
            fact = _stance_fact(kind, body, own, others, group, rng)
            if fact is None:
                continue
            comment = _framed(rng.choice(frames[kind]["frames"]), fact, body)
            label = frames[kind]["label"]
            train.append(StanceExample(comment, "", body, label, "rebut_frames", group))
            made += 1
    return train, []


# real comments about something else: Wikipedia talk pages, news sites' own threads, music
# videos; non-abusive, so that `unrelated` is not learned as "abusive"
OFFTOPIC_SOURCES = ("jigsaw", "civil_comments_spans", "youtube_spam")
OFFTOPIC_WORDS = (6, 60)


def _stance_offtopic(root: Path, limit: int | None) -> Split[StanceExample]:
    """Reader comments from the moderation sources' *train* splits beside FNC-1 training
    bodies, labelled `unrelated`: one per body, for half the bodies. FNC-1's unrelated
    pairs are a headline against another story's body, so a model trained on them and on
    framed comments calls a chatty comment about football under a war report `discusses`
    (data/cards/stance.md); these are comments as readers write them, about other things.
    Dev groups are skipped; rows are train only."""
    comments = sorted(
        {
            e.text
            for e in load_moderation(root, limit_per_source=limit)[0]
            if e.source in OFFTOPIC_SOURCES
            and not any(e.labels.get(a) for a in ("toxicity", "insult", "threat", "profanity"))
            and OFFTOPIC_WORDS[0] <= len(e.text.split()) <= OFFTOPIC_WORDS[1]
        },
        key=lambda t: _hash(f"stance-offtopic:{t}"),
    )
    bodies, _, cluster = _fnc(root)
    ids = sorted(bodies, key=lambda b: _hash(f"stance-offtopic:{b}"))
    ids = ids[: len(ids) // 2] if limit is None else ids[: max(15, limit)]
    train: list[StanceExample] = []
    for body_id, comment in zip(ids, comments):
        group = f"fnc1:claim{cluster.get(body_id, body_id)}"
        if in_dev(group, DEV_PERCENT):
            continue
        train.append(
            StanceExample(comment, "", bodies[body_id], "unrelated", "rebut_offtopic", group)
        )
    return train, []


def _stance_fact(
    kind: str, body: str, own: list[str], others: list[str], group: str, rng: random.Random
) -> str | None:
    """The sentence a frame of `kind` wraps (`own`: this body's claimable sentences,
    shuffled; `others`: same-story bodies), or None where the body offers none."""
    if kind in ("omission", "addition"):
        found = _from_other_body(body, others, group, rng, per_body=1)
        return found[0].claim if found else None
    if kind == "agreement":
        return own[0] if own else None
    for sentence in own[:5]:  # correction: the first body sentence a perturbation changes
        for _, perturb in rng.sample(_PERTURBATIONS, len(_PERTURBATIONS)):
            changed = perturb(sentence, body, rng)
            if changed:
                return changed
    return None


# --------------------------------------------------------------------------- grounding: human


@lru_cache(maxsize=4)
def _frank_annotations(root: Path) -> tuple[list[dict], frozenset[str]]:
    """(non-test entries, test article hashes). FRANK's README: the test split is for
    reporting; every summary of an article shares the article's split."""
    entries = json.loads(
        (root / "grounding/frank/human_annotations.json").read_text(encoding="utf-8")
    )
    test = frozenset(e["hash"] for e in entries if e["split"] == "test")
    return [e for e in entries if e["split"] != "test"], test


@lru_cache(maxsize=512)
def _frank_article(root: Path, article_hash: str) -> dict:
    assert article_hash not in _frank_annotations(root)[1], f"FRANK test article {article_hash}"
    return json.loads(
        (root / f"grounding/frank/articles/{article_hash}.json").read_text(encoding="utf-8")
    )


def _frank(root: Path) -> list[GroundingExample]:
    entries, _ = _frank_annotations(root)
    examples = []
    for entry in entries:
        label = _frank_label(entry)
        if label is None:
            continue
        article = _frank_article(root, entry["hash"])
        summary = frank_summary(article, entry["model_name"])
        prefix = "cnndm" if entry["dataset"] == "cnndm" else "xsum"
        examples.append(
            GroundingExample(
                summary, article["article"].strip(), label, "frank", f"{prefix}:{entry['hash']}"
            )
        )
    return examples


def _xsum_hallucinations(root: Path) -> list[GroundingExample]:
    folder = root / "grounding/xsum_hallucinations"
    _, frank_test = _frank_annotations(root)
    available = {p.stem for p in (root / "grounding/frank/articles").glob("*.json")} - frank_test
    spans: dict[tuple[str, str], dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    summaries: dict[tuple[str, str], str] = {}
    for r in _rows(folder / "hallucination_annotations_xsum_summaries.csv"):
        if r["bbcid"] in available:
            key = (r["bbcid"], r["system"])
            spans[key][r["worker_id"]].add(r["hallucination_type"])
            summaries[key] = r["summary"]
    factual: dict[tuple[str, str], list[str]] = defaultdict(list)
    for r in _rows(folder / "factuality_annotations_xsum_summaries.csv"):
        factual[(r["bbcid"], r["system"])].append(r["is_factual"])
    examples = []
    for key, workers in spans.items():
        label = _xsum_label(workers, factual.get(key, []))
        if label is not None:
            article = _frank_article(root, key[0])["article"].strip()
            examples.append(
                GroundingExample(
                    _detok(summaries[key]), article, label, "xsum_hallucinations", f"xsum:{key[0]}"
                )
            )
    return examples


def _wice(root: Path) -> list[GroundingExample]:
    """WiCE claims vs their cited evidence sentences; grouped by Wikipedia article. Each
    claim comes three times with different evidence chunks (all holding the oracle evidence
    when supported); the first is kept, as three near-copies would only add weight."""
    label = {"supported": "supported", "not_supported": "not_in_article"}
    examples, seen = [], set()
    with (root / "grounding/wice/dev.jsonl").open(encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            if r["label"] in label and r["claim"] not in seen:  # partially_supported: skip
                seen.add(r["claim"])
                evidence = " ".join(s.strip() for s in r["evidence"])
                group = f"wice:{r['meta']['claim_title']}"
                examples.append(
                    GroundingExample(r["claim"].strip(), evidence, label[r["label"]], "wice", group)
                )
    return examples


def _fnc_headlines(root: Path) -> Split[GroundingExample]:
    """FNC-1 headlines the body agrees with -> supported, disagrees with -> contradicted."""
    bodies, pairs, cluster = _fnc(root)
    label = {"agree": "supported", "disagree": "contradicted"}
    train, dev = _split_pairs([p for p in pairs if p.stance in label], cluster, "fnc1")

    def build(side: _GroupedPairs) -> list[GroundingExample]:
        return [
            GroundingExample(p.headline, bodies[p.body_id], label[p.stance], "fnc1_headlines", g)
            for p, g in side
        ]

    return build(train), build(dev)


# --------------------------------------------------------------------------- grounding: synthetic

_STOP_WORDS = (
    "the a an and or but of to in on at by for with from as is was are were be been has have had "
    "that this these those it its he she they his her their we our you your i not no will would "
    "can could should said says also than then there which who whom what when where after before "
    "about into over more most other some such only just"
)
_STOP = frozenset(_STOP_WORDS.split())
_NUMBER = re.compile(
    r"(?<![\w.,$])\d{1,3}(?:,\d{3})+(?![\w,]|\.\d)|(?<![\w.,])\d+(?:\.\d+)?(?![\w]|[.,]\d)"
)
_CAPS_RUN = re.compile(r"\b[A-Z][\w-]*(?:\s+[A-Z][\w-]*)+")  # "Gang's" ends a run
_NOT_NAME_WORDS = (  # words that start a capitalised run but are no part of a name
    "The A An In On At But And If When While After Before According This That These Those It "
    "He She They We I As For With By From To Of Its His Her Their Our Mr Mrs Ms Dr Yet So Now "
    "Last Next Then There Here Monday Tuesday Wednesday Thursday Friday Saturday Sunday"
)
_NOT_NAME = frozenset(_NOT_NAME_WORDS.split())
_AUX = "is|was|are|were|will|would|could|should|can|must|has been|have been|had been"
_NEG_REMOVE = (
    (
        re.compile(
            r"\b(is|was|are|were|has|have|had|do|does|did|will|would|could|should|can|must|may"
            r"|might) not\b"
        ),
        r"\1",
    ),
    (re.compile(r"\b(is|was|are|were|has|have|had|do|does|did|could|would|should)n[’']t\b"), r"\1"),
    (re.compile(r"\bwon[’']t\b"), "will"),
    (re.compile(r"\b(?:can[’']t|cannot)\b"), "can"),
)
_NEG_INSERT = re.compile(rf"\b({_AUX})\b(?! not\b)")
_LEAD_CLAUSE = re.compile(
    r"^(?:However|Meanwhile|Also|Moreover|In addition|Additionally|Earlier|Later|Still|Indeed|"
    r"Separately|In a statement|According to [^,]{2,60}|On (?:Monday|Tuesday|Wednesday|Thursday|"
    r"Friday|Saturday|Sunday)|(?:Last|This|Earlier this) (?:week|month|year|weekend)),\s+(?=\S)"
)
_TRAIL_ATTRIBUTION = re.compile(
    r",([\"”]?)\s+(?:he|she|they|police|officials|authorities|the \w+|[A-Z][a-z]+(?: [A-Z][a-z]+)?)"
    r" (?:said|says|added|told [\w ]{2,40}|explained|reported)\.$"
)
_PARENTHESIS = re.compile(r"\s*\([^()]{1,80}\)")
_SAID_THAT = re.compile(
    r"^[A-Z][\w.'’ -]{1,60}? (?:said|says|told [\w ]{2,40}?|reported|announced|confirmed)"
    r"(?: on \w+)? that (?=[a-z])"
)
_ACCORDING_TRAIL = re.compile(r",\s+according to [^,]{2,60}(?=\.$)")
# a relative clause closed by a comma before a lower-case word ("Smith, who is 45, said")
_RELATIVE = re.compile(r",\s(?:who|which)\s[^,;\"“”]{3,80}?(?:,(?=\s[a-z])|(?=\.$))")
_REWRITES = (
    (_LEAD_CLAUSE, ""),
    (_SAID_THAT, ""),
    (_TRAIL_ATTRIBUTION, r".\1"),
    (_ACCORDING_TRAIL, ""),
    (_RELATIVE, ""),
    (_PARENTHESIS, ""),
)


@lru_cache(maxsize=1)
def _segmenter() -> pysbd.Segmenter:
    return pysbd.Segmenter(language="en", clean=False)


def _content_words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if len(w) > 2 and w not in _STOP}


def _claimable(sentence: str) -> bool:
    """A sentence that could stand alone as a comment's claim."""
    s = sentence.strip()
    return (
        40 <= len(s) <= 300
        and len(s.split()) >= 7
        and s[-1] in ".!\"”’'"
        and "?" not in s
        and "\n" not in s
        and any(c.islower() for c in s)
    )


def _entities(text: str) -> list[str]:
    """Capitalised multi-word runs minus leading function words: rough names."""
    out = []
    for m in _CAPS_RUN.finditer(text):
        words = m.group().split()
        while words and words[0] in _NOT_NAME:
            words = words[1:]
        if len(words) >= 2:
            out.append(" ".join(words))
    return out


def _other_number(old: str, rng: random.Random) -> str:
    if "." in old:
        return f"{float(old) * 2:.{len(old.split('.')[1])}f}"
    n = int(old.replace(",", ""))
    if len(old) == 4 and 1900 <= n <= 2099:  # a year: move it a little
        return str(n + rng.choice((-3, -2, -1, 1, 2, 3)))
    flipped = str(n)[::-1]
    if len(set(str(n))) > 1 and flipped[0] != "0" and rng.random() < 0.5:
        new = int(flipped)  # 58 -> 85
    else:
        new = n * 2 if n > 1 else n + rng.randint(2, 5)
    return f"{new:,}" if "," in old else str(new)


def _change_number(sentence: str, article: str, rng: random.Random) -> str | None:
    matches = list(_NUMBER.finditer(sentence))
    if not matches:
        return None
    m = rng.choice(matches)
    new = _other_number(m.group(), rng)
    if new == m.group() or re.search(rf"(?<![\d,.]){re.escape(new)}(?![\d])", article):
        return None  # the new number occurs in the article: it might be true elsewhere
    return sentence[: m.start()] + new + sentence[m.end() :]


def _swap_entity(sentence: str, article: str, rng: random.Random) -> str | None:
    """Replace a name with another name from the same article: the article then says
    something else about both (an intrinsic error), not merely nothing."""
    present = _entities(sentence)
    if not present:
        return None
    old = rng.choice(present)
    options = sorted(
        {
            e
            for e in _entities(article)
            if e not in sentence and not set(e.split()) & set(old.split())
        }
    )
    if not options:
        return None
    return sentence.replace(old, rng.choice(options), 1)


def _turn_negation(text: str) -> str | None:
    """The first negated auxiliary un-negated, else the first auxiliary negated."""
    for pattern, repl in _NEG_REMOVE:
        if pattern.search(text):
            return pattern.sub(repl, text, count=1)
    if _NEG_INSERT.search(text):
        return _NEG_INSERT.sub(r"\1 not", text, count=1)
    return None


def _flip_negation(sentence: str, article: str, rng: random.Random) -> str | None:
    return _turn_negation(sentence)


_Perturb = Callable[[str, str, random.Random], str | None]  # (sentence, article, rng) -> claim
_PERTURBATIONS: tuple[tuple[str, _Perturb], ...] = (
    ("number", _change_number),
    ("entity", _swap_entity),
    ("negation", _flip_negation),
)


def _rewrite(sentence: str) -> str | None:
    """A trim that keeps the sentence entailed: drop a discourse/time lead-in, a "X said
    that" frame, a trailing attribution, a non-restrictive relative clause or a
    parenthesis. None when nothing applies."""
    new = sentence
    for pattern, repl in _REWRITES:
        new = pattern.sub(repl, new, count=1).strip()
    if new == sentence or len(new.split()) < 6:
        return None
    return new[0].upper() + new[1:]


def _synthesize(body: str, group: str, rng: random.Random, per_kind: int) -> list[GroundingExample]:
    """Up to `per_kind` examples of each label from one body, each from its own sentence.
    Scarce kinds pick first: rewritable sentences, then one of each perturbation."""
    sentences = _segmenter().segment(body)
    candidates = [i for i, s in enumerate(sentences) if _claimable(s)]
    rng.shuffle(candidates)
    used: set[int] = set()
    out: list[GroundingExample] = []

    def take(make: Callable[[int, str], GroundingExample | None], quota: int) -> None:
        for i in candidates:
            if quota <= 0:
                return
            example = None if i in used else make(i, sentences[i].strip())
            if example is not None:
                out.append(example)
                used.add(i)
                quota -= 1

    def rewritten(i: int, claim: str) -> GroundingExample | None:
        new = _rewrite(claim)
        return (
            GroundingExample(new, body, "supported", "fnc1_synth_rewrite", group) if new else None
        )

    def perturbed(name: str, perturb: _Perturb) -> Callable[[int, str], GroundingExample | None]:
        def make(i: int, claim: str) -> GroundingExample | None:
            new = perturb(claim, body, rng)
            source = f"fnc1_synth_{name}"
            return GroundingExample(new, body, "contradicted", source, group) if new else None

        return make

    def removed(i: int, claim: str) -> GroundingExample | None:
        if len(sentences) < 6:
            return None
        rest = "".join(sentences[: max(i - 1, 0)] + sentences[i + 2 :])  # and its neighbours
        words = _content_words(claim)
        # a fact restated elsewhere (a lede repeated lower down) would still be in the article
        if not words or len(words & _content_words(rest)) / len(words) > 0.7:
            return None
        return GroundingExample(claim, rest.strip(), "not_in_article", "fnc1_synth_removed", group)

    def verbatim(i: int, claim: str) -> GroundingExample:
        return GroundingExample(claim, body, "supported", "fnc1_synth_verbatim", group)

    take(rewritten, per_kind)
    supported = len(out)
    for name, perturb in _PERTURBATIONS:
        take(perturbed(name, perturb), max(1, per_kind // len(_PERTURBATIONS)))
    contradicted = len(out) - supported
    for name, perturb in _PERTURBATIONS:  # fill up with whatever applies
        take(perturbed(name, perturb), per_kind - contradicted)
        contradicted = len(out) - supported
    take(removed, per_kind)
    take(verbatim, per_kind - supported)
    return out


def _fnc_synthetic(root: Path, limit: int | None) -> Split[GroundingExample]:
    """Synthetic claims against FNC-1 bodies; each body gets its own seeded Random, so an
    example does not depend on which other bodies were mined (limit only mines fewer)."""
    bodies, _, cluster = _fnc(root)
    ids = sorted(bodies, key=lambda b: _hash(f"synth:{b}"))
    if limit is not None:
        ids = ids[: max(30, 2 * limit)]  # a smoke run segments a few bodies, not all 1,683
    same_topic: dict[str, list[str]] = defaultdict(list)
    for body_id in ids:
        same_topic[cluster.get(body_id, body_id)].append(body_id)
    pieces = []
    for body_id in ids:
        topic = cluster.get(body_id, body_id)
        group = f"fnc1:claim{topic}"
        rng = random.Random(f"{SYNTH_SEED}:{body_id}")
        pieces.extend((e, group) for e in _synthesize(bodies[body_id], group, rng, SYNTH_PER_KIND))
        others = [bodies[b] for b in same_topic[topic] if b != body_id]
        pieces.extend((e, group) for e in _from_other_body(bodies[body_id], others, group, rng))
    return _split(pieces, DEV_PERCENT)


@lru_cache(maxsize=4096)
def _claimable_sentences(body: str) -> tuple[str, ...]:
    return tuple(s.strip() for s in _segmenter().segment(body) if _claimable(s))


def _from_other_body(
    body: str, others: list[str], group: str, rng: random.Random, per_body: int = 2
) -> list[GroundingExample]:
    """`not_in_article` claims that are on topic: sentences of another article about the
    same story (same FNC-1 claim cluster) whose content words this body mostly lacks.
    The same split group holds both bodies, so no dev claim was seen in training."""
    if not others:
        return []
    words = _content_words(body)
    candidates = [c for o in others for c in _claimable_sentences(o)]
    rng.shuffle(candidates)
    out: list[GroundingExample] = []
    for claim in candidates:
        claim_words = _content_words(claim)
        if claim_words and len(claim_words & words) / len(claim_words) <= 0.5:
            out.append(GroundingExample(claim, body, "not_in_article", "fnc1_synth_other", group))
            if len(out) == per_body:
                break
    return out


def _balance(examples: list[GroundingExample]) -> list[GroundingExample]:
    """Drop synthetic examples of any label above MAX_LABEL_SHARE; human labels are kept."""
    examples = list(examples)
    while examples:
        counts = Counter(e.label for e in examples)
        label, n = counts.most_common(1)[0]
        cap = math.floor(MAX_LABEL_SHARE / (1 - MAX_LABEL_SHARE) * (len(examples) - n))
        synthetic = [e for e in examples if e.label == label and e.source.startswith("fnc1_synth")]
        if n <= cap or not synthetic:
            return examples
        drop = {id(e) for e in sorted(synthetic, key=lambda e: _key("balance", e))[: n - cap]}
        examples = [e for e in examples if id(e) not in drop]
    return examples


def load_grounding(
    data_dir: Path | str | None = None, *, limit_per_source: int | None = None
) -> Split[GroundingExample]:
    """FRANK (non-test), XSum hallucinations, WiCE, FNC-1 headlines and synthetic FNC-1
    claims -> (train, dev), each split balanced so no label exceeds 45%."""
    root = _root(data_dir)
    human = _frank(root) + _xsum_hallucinations(root) + _wice(root)
    seen: set[tuple[str, str]] = set()
    unique = []
    for e in human:  # FRANK and Maynez et al. annotate some of the same XSum summaries
        key = (e.article_id, _norm(e.claim))
        if key not in seen:
            seen.add(key)
            unique.append(e)
    human_split = _split(((e, e.article_id) for e in unique), SMALL_DEV_PERCENT)
    parts = [human_split, _fnc_headlines(root), _fnc_synthetic(root, limit_per_source)]
    train, dev = _assemble(parts, limit_per_source)
    return _balance(train), _balance(dev)


# --------------------------------------------------------------------------- provenance

_TASK_FOLDERS: dict[str, tuple[str, ...]] = {
    "moderation": (
        "toxicity/jigsaw_subsets",
        "toxicity/civil_comments_spans",
        "toxicity/davidson",
        "toxicity/olid",
        "spam/youtube",
        "stance/arc",
    ),
    "checkworthy": ("checkworthy/claimbuster", "stance/fnc1", "stance/perspectrum"),
    "grounding": (
        "grounding/frank",
        "grounding/frank/articles",
        "grounding/xsum_hallucinations",
        "grounding/wice",
        "stance/fnc1",
    ),
    "stance": ("stance/fnc1", "stance/arc", "stance/perspectrum"),
}
_DATA_SUFFIXES = (".csv", ".tsv", ".json", ".jsonl")


def source_files(task: str, data_dir: Path | str | None = None) -> list[dict[str, str]]:
    """MANIFEST entries of the data files `task` reads: file, sha256, license, repository,
    commit. FRANK's test-split article files are left out: they are never opened."""
    if task not in _TASK_FOLDERS:
        raise ValueError(f"unknown task {task!r}; valid tasks: {', '.join(TASKS)}")
    root = _root(data_dir)
    manifest = json.loads((root / "MANIFEST.json").read_text(encoding="utf-8"))
    skip: set[str] = set()
    if task == "grounding":
        skip = {f"grounding/frank/articles/{h}.json" for h in _frank_annotations(root)[1]}
    return [
        {
            "file": f["file"],
            "sha256": f["sha256"],
            "license": entry["license"],
            "repository": entry["repository"],
            "commit": entry["commit"],
        }
        for entry in manifest
        if entry["folder"] in _TASK_FOLDERS[task]
        for f in entry["files"]
        if f["file"].endswith(_DATA_SUFFIXES) and f["file"] not in skip
    ]


# files written for rebut that a task's training rows are built from (besides ../shared)
_OWN_FILES: dict[str, tuple[Path, ...]] = {
    "moderation": (_REPO / "data" / "fairness" / "identity.json", THREAT_FRAMES),
    "stance": (COMMENT_FRAMES,),
}


def own_files(task: str) -> list[dict[str, str]]:
    """The files under data/ that `task`'s training rows are built from, with sha256."""
    return [
        {
            "file": path.relative_to(_REPO).as_posix(),
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        }
        for path in _OWN_FILES.get(task, ())
    ]


# --------------------------------------------------------------------------- report

LOADERS: dict[str, Callable[..., Split]] = {
    "moderation": load_moderation,
    "checkworthy": load_checkworthy,
    "grounding": load_grounding,
    "stance": load_stance,
}


def label_counts(examples: Iterable[object]) -> Counter[tuple[str, str]]:
    """(source, label) -> count. Moderation examples count once per known attribute, as
    `attribute=1` / `attribute=0` (scores >= 0.5 count as 1)."""
    counts: Counter[tuple[str, str]] = Counter()
    for e in examples:
        labels = getattr(e, "labels", None)
        if labels is None:
            counts[(e.source, str(e.label))] += 1  # type: ignore[attr-defined]
            continue
        for name, value in labels.items():
            if value is not None:
                counts[(e.source, f"{name}={int(value >= 0.5)}")] += 1
    return counts


def _table(train: list, dev: list) -> str:
    tr, dv = label_counts(train), label_counts(dev)
    tr.update({(s, "n"): n for s, n in Counter(e.source for e in train).items()})
    dv.update({(s, "n"): n for s, n in Counter(e.source for e in dev).items()})
    lines = ["| source | label | train | dev |", "|---|---|---:|---:|"]
    for source, label in sorted(set(tr) | set(dv), key=lambda k: (k[0], k[1] != "n", k[1])):
        lines.append(f"| {source} | {label} | {tr[(source, label)]} | {dv[(source, label)]} |")
    if not hasattr(train[0] if train else dev[0], "labels"):
        totals = Counter(e.label for e in train), Counter(e.label for e in dev)
        for label in sorted(set(totals[0]) | set(totals[1]), key=str):
            lines.append(f"| **all** | {label} | {totals[0][label]} | {totals[1][label]} |")
    lines.append(f"| **all** | n | {len(train)} | {len(dev)} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Print counts per source x label for each task.")
    parser.add_argument("tasks", nargs="*", help=f"any of {', '.join(TASKS)} (default: all)")
    parser.add_argument("--limit", type=int, default=None, help="limit_per_source")
    parser.add_argument("--data-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    unknown = sorted(set(args.tasks) - set(TASKS))
    if unknown:
        parser.error(f"unknown task(s) {', '.join(unknown)}; valid: {', '.join(TASKS)}")
    for task in args.tasks or TASKS:
        start = time.perf_counter()
        train, dev = LOADERS[task](args.data_dir, limit_per_source=args.limit)
        print(f"## {task} ({time.perf_counter() - start:.1f} s)\n\n{_table(train, dev)}\n")


if __name__ == "__main__":
    main()
