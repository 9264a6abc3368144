"""The moderation checks that dev accuracy does not show: identity mentions that are not
attacks, and abuse in disguise.

    python -m training.robustness --model-dir model/artifacts

- Identity templates (data/fairness/identity.json, written for rebut): the false-positive
  rate of `flagged` per group on non-abusive sentences that mention the group.
- Obfuscation: abusive dev comments, each disguised the way commenters do (leetspeak,
  spaced or dotted letters, Unicode look-alikes, stretched letters) in half of its longer
  words; how often the disguised form is flagged, against how often the plain form is.

Both read the model as the pipeline does: normalised text (model/normalize.py), the text
model's moderation head, and pipeline.json's flag thresholds.
"""

from __future__ import annotations

import argparse
import json
import random
import re
from pathlib import Path

import numpy as np

TEMPLATES = Path(__file__).resolve().parents[1] / "data" / "fairness" / "identity.json"
TOXIC = ("toxicity", "severe_toxicity", "insult", "threat", "identity_attack", "profanity")
_HOMOGLYPHS = str.maketrans({"a": "а", "e": "е", "o": "о", "i": "і", "c": "с", "p": "р"})
_LEET = str.maketrans({"a": "4", "e": "3", "i": "1", "o": "0", "s": "$"})


def identity_sentences(frames: str = "eval_frames") -> list[tuple[str, str]]:
    """(group, sentence) for every frame and every term of every group."""
    spec = json.loads(TEMPLATES.read_text())
    out = []
    for group, terms in spec["groups"].items():
        for adj, people in terms:
            for frame in spec[frames]:
                text = frame.replace("{adj}", adj).replace("{people}", people)
                text = text.replace("{People}", people[0].upper() + people[1:])
                out.append((group, text))
    return out


def obfuscate(text: str, rng: random.Random) -> str:
    """One disguise, chosen per comment, applied to about half the words of 4+ letters."""
    kind = rng.choice(["leet", "spaced", "dotted", "homoglyph", "stretched"])

    def disguise(match: re.Match[str]) -> str:
        word = match.group(0)
        if rng.random() >= 0.5:
            return word
        if kind == "leet":
            return word.translate(_LEET)
        if kind == "spaced":
            return " ".join(word)
        if kind == "dotted":
            return ".".join(word)
        if kind == "homoglyph":
            return word.translate(_HOMOGLYPHS)
        k = rng.randrange(len(word))
        return word[:k] + word[k] * 4 + word[k + 1 :]

    return re.sub(r"[A-Za-z]{4,}", disguise, text)


def _flagged(text_dir: Path, flag: dict[str, float], texts: list[str]) -> np.ndarray:
    from model.classifier import MultiHeadClassifier
    from model.normalize import normalize_for_moderation

    model = MultiHeadClassifier(text_dir).load()
    p = model.predict([normalize_for_moderation(t) for t in texts], None, "moderation")
    p = p["moderation"]
    cut = np.array([flag.get(name, 2.0) for name in model.labels("moderation")])
    return (p >= cut).any(axis=1)


def identity_false_positive_rates(text_dir: Path, flag: dict[str, float]) -> dict[str, dict]:
    """text_dir: the text model's folder; flag: the flag thresholds per attribute."""
    pairs = identity_sentences()
    flagged = _flagged(text_dir, flag, [t for _, t in pairs])
    out: dict[str, dict] = {}
    for group in dict.fromkeys(g for g, _ in pairs):
        mask = np.array([g == group for g, _ in pairs])
        examples = [t for (g, t), f in zip(pairs, flagged) if g == group and f][:3]
        out[group] = {
            "false_positive_rate": round(float(flagged[mask].mean()), 4),
            "n": int(mask.sum()),
            "flagged_examples": examples,
        }
    return out


def obfuscation_ratio(
    text_dir: Path, flag: dict[str, float], rows: list[dict], limit: int = 600, seed: int = 0
) -> dict:
    """rows: moderation dev rows (training/task_inputs.py); the abusive ones are used."""
    from model.result import ATTRIBUTES

    index = [ATTRIBUTES.index(name) for name in TOXIC]
    abusive = [r["a"] for r in rows if any(r["y"][k] == 1 for k in index)]
    abusive = random.Random(seed).sample(abusive, min(limit, len(abusive)))
    rng = random.Random(seed)
    disguised = [obfuscate(t, rng) for t in abusive]
    plain_rate = float(_flagged(text_dir, flag, abusive).mean())
    disguised_rate = float(_flagged(text_dir, flag, disguised).mean())
    return {
        "n": len(abusive),
        "plain_flag_rate": round(plain_rate, 4),
        "obfuscated_flag_rate": round(disguised_rate, 4),
        "ratio": round(disguised_rate / plain_rate, 4) if plain_rate else 0.0,
        "example": disguised[0] if disguised else "",
    }


def main(argv: list[str] | None = None) -> None:
    from model.pipeline import BUNDLED_MODEL_DIR

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model-dir", type=Path, default=BUNDLED_MODEL_DIR)
    parser.add_argument("--inputs", type=Path, default=None, help="for the obfuscation check")
    args = parser.parse_args(argv)
    config = json.loads((args.model_dir / "pipeline.json").read_text())
    text_dir = args.model_dir / config["models"]["text"]
    flag = config["thresholds"]["moderation"]["flag"]
    report: dict = {"identity": identity_false_positive_rates(text_dir, flag)}
    if args.inputs:
        from training.inputs_file import read_inputs

        _, rows = read_inputs(args.inputs)
        dev = [r for r in rows if r["task"] == "moderation" and r["split"] == "dev"]
        report["obfuscation"] = obfuscation_ratio(text_dir, flag, dev)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
