"""The stance head's examples: FNC-1 (UKP's training data), ARC and Perspectrum, split by
claim, with the synthetic rows of stance_synthetic in train; the real held-out test split
(`load_stance_test`); and FNC-1's dev pairs at their own class mix.
"""

from __future__ import annotations

import json
from pathlib import Path

from training.data.examples import Split, StanceExample
from training.data.fnc_arc import _cap_unrelated, _fnc, _GroupedPairs, _Pair, _pairs, _split_pairs
from training.data.splits import SPLIT_SALT, _assemble, _hash, _norm, _root, in_dev
from training.data.stance_synthetic import _stance_offtopic, _stance_synthetic, negated_claims

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
