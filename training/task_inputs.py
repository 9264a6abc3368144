"""Every task's train and dev examples exactly as the served models read them, in one
compressed file, so that fine-tuning can run where neither ../shared nor the encoder is
(a lent GPU machine gets only what is carried to it).

    python -m training.task_inputs --out .gpu/inputs.jsonl.xz
    python -m training.task_inputs --out /tmp/smoke.jsonl.xz --limit-per-source 50

The first line is {"labels": {task: [label, ...]}}; then one JSON object per line:
{"task", "split": "train" | "dev", "source", "a", "b"?, "y"}.
`a` is the text (moderation: the comment; checkworthy: the sentence; grounding: the claim;
stance: the comment), `b` the second text of a pair (grounding: the evidence passages the
pipeline retrieves for the claim; stance: the article's title, lead and the passages
closest to the comment), built with the same functions model/ calls at serving time.
`y` is a label index, or for moderation one value per attribute (null: the source says
nothing about it).
"""

from __future__ import annotations

import argparse
import itertools
import json
import lzma
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from model.pipeline import BUNDLED_MODEL_DIR
from model.result import ATTRIBUTES, GROUNDING_LABELS, STANCE_LABELS
from training.data.loaders import LOADERS
from training.data.splits import default_data_dir
from training.embedding_cache import CachingEncoder
from training.featurizer import CHECKWORTHY_TRAIN_SOURCES, Featurizer
from training.labels import moderation_targets
from training.robustness import identity_sentences

TASK_LABELS: dict[str, list[str]] = {
    "moderation": list(ATTRIBUTES),
    "checkworthy": ["not_claim", "claim"],
    "grounding": list(GROUNDING_LABELS),
    "stance": list(STANCE_LABELS),
}


def task_rows(
    task: str,
    f: Featurizer,
    data_dir: Path | None = None,
    limit: int | None = None,
    splits: tuple[str, ...] = ("train", "dev"),
) -> Iterator[dict]:
    """The rows of one task, split by split."""
    loader = LOADERS[task]
    train, dev = loader(data_dir, limit_per_source=limit)
    labels = TASK_LABELS[task]
    if task == "checkworthy":  # CLEF 2019 stays in dev only (training/train.py says why)
        train = [e for e in train if e.source in CHECKWORTHY_TRAIN_SOURCES]
    chosen = [(name, part) for name, part in (("train", train), ("dev", dev)) if name in splits]
    if task == "moderation" and "train" in splits:
        yield from itertools.islice(identity_rows(), limit)
    if task == "moderation":  # the hate and offence sources with a test split of their own
        extra = unseen_moderation(data_dir, train + dev)
        chosen = [(name, part + extra[name][:limit]) for name, part in chosen]
    for split, examples in chosen:
        if task == "moderation":
            for e in examples:
                y = moderation_targets(e.labels, e.source)
                yield {"task": task, "split": split, "source": e.source, "a": e.text, "y": y}
        elif task == "checkworthy":
            for e in examples:
                row = {"a": e.text, "y": e.label}
                yield {"task": task, "split": split, "source": e.source, **row}
        else:
            pairs = f.grounding_pairs(examples) if task == "grounding" else f.stance_pairs(examples)
            for e, (a, b) in zip(examples, pairs):
                y = labels.index(e.label)
                yield {"task": task, "split": split, "source": e.source, "a": a, "b": b, "y": y}


def unseen_moderation(data_dir: Path | None, loaded: list) -> dict[str, list]:
    """training/data/moderation.py's sources by split; their test rows are never read here."""
    from training.data import moderation
    from training.data.pairs import norm

    root = Path(data_dir) if data_dir else default_data_dir()
    return moderation.load(root, {norm(e.text) for e in loaded})


IDENTITY_COPIES = 2  # each template sentence twice: ~3,000 rows beside ~52,000
# what an abusive frame says; the attributes it does not name stay unknown
ABUSIVE_FRAME_LABELS = {"toxicity": 1.0, "insult": 1.0, "identity_attack": 1.0}


def identity_rows() -> Iterator[dict]:
    """Sentences that mention identity groups (data/fairness/identity.json, written for
    rebut). `train_frames` are not abusive, every attribute 0: the tweet sources teach
    that "gay" or "Muslim" predicts abuse, because there they mostly come with it; these
    teach the mention alone is not, nor a denial of an insult ("the idea that {people}
    are dumb is a lazy stereotype"). `train_abusive_frames` attack the same groups, so the
    contrast is the attack, not the name. The evaluation frames are a disjoint set."""
    zero = [0.0] * len(ATTRIBUTES)
    abusive = [ABUSIVE_FRAME_LABELS.get(name) for name in ATTRIBUTES]
    for _ in range(IDENTITY_COPIES):
        for frames, y in (("train_frames", zero), ("train_abusive_frames", abusive)):
            for _group, text in identity_sentences(frames):
                yield {
                    "task": "moderation",
                    "split": "train",
                    "source": "rebut_identity",
                    "a": text,
                    "y": y,
                }


def write_inputs(
    out: Path,
    tasks: tuple[str, ...] = tuple(TASK_LABELS),
    data_dir: Path | None = None,
    limit_per_source: int | None = None,
    cache_dir: Path = Path("cache"),
    encoder_dir: Path = BUNDLED_MODEL_DIR / "encoder",
) -> Counter[tuple[str, str]]:
    """Write the inputs file; returns the number of rows per (task, split). Retrieval for
    the pair tasks uses the encoder in `encoder_dir`, as serving will."""
    encoder = CachingEncoder.for_model(encoder_dir, cache_dir)
    f = Featurizer(encoder)
    counts: Counter[tuple[str, str]] = Counter()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    try:
        with lzma.open(tmp, "wt", encoding="utf-8", preset=6) as sink:
            sink.write(json.dumps({"labels": TASK_LABELS}) + "\n")
            for task in tasks:
                for row in task_rows(task, f, data_dir, limit_per_source):
                    sink.write(json.dumps(row, ensure_ascii=False) + "\n")
                    counts[(row["task"], row["split"])] += 1
    finally:
        encoder.save()
    tmp.replace(out)
    return counts


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--tasks", default=",".join(TASK_LABELS))
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--limit-per-source", type=int, default=None)
    parser.add_argument("--cache-dir", type=Path, default=Path("cache"))
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    counts = write_inputs(
        args.out, tuple(args.tasks.split(",")), args.data_dir, args.limit_per_source, args.cache_dir
    )
    for (task, split), n in sorted(counts.items()):
        print(f"{task:12} {split:5} {n:7,}")


if __name__ == "__main__":
    main()
