"""Loaders of the shared public data, one module per source family, and the split rules
they share. Files are read in place from ../shared/datasets (see its README.md and
MANIFEST.json); nothing is copied into the repo. Public benchmark test splits are never
trained on; the data cards in data/cards/ give each label mapping and its reasons.

The four heads' `(train, dev)` examples (`loaders.LOADERS` by task name):

- `examples`: the example dataclasses, one per task;
- `splits`: where the data lies, dev split by a hash of each group, per-source limits;
- `moderation_sources`: the moderation head's sources (Jigsaw, Civil Comments, Davidson,
  OLID, YouTube spam, ARC's reader comments, rebut's threat frames);
- `checkworthy`: ClaimBuster, CLEF CheckThat!, FNC-1 news facts, Perspectrum opinions;
- `stance`: FNC-1, ARC and Perspectrum, and the held-out stance test split;
- `stance_synthetic`: negated claims, turned reports, framed and off-topic comments;
- `fnc_arc`: FNC-1 and ARC pairs and the claim clusters that split them;
- `grounding_human`: FRANK, XSum hallucinations, WiCE and FNC-1 headlines, and
  `load_grounding`;
- `grounding_synthetic`: synthetic claims against FNC-1 bodies, label balance;
- `perturbations`: claimable sentences and the edits that change one fact of them;
- `provenance`: the files each task reads, for the model card.

    python -m training.data                    # counts per source x label, timings
    python -m training.data stance --limit 100

The grounding cross-encoder's (claim, evidence) pairs, with train / dev / test splits:

- `pairs`: the record every grounding loader returns and how a row falls in a split;
- `nli`: NLI and paraphrase pairs (MNLI, RTE, MRPC, STS-B; SICK, ANLI, ConTRoL for
  evaluation only);
- `factcheck`: fact-verification claims with their evidence (Check-COVID, Climate-FEVER,
  HealthVer, FEVER-Symmetric, DocNLI's FEVER, WiCE);
- `summaries`: news summaries judged against their articles (FRANK, XSum hallucinations);
- `edits`: one fact changed in a real paraphrase;
- `grounding`: all of them as one train / dev / test set for the grounding model.

`moderation` holds hate and offence sources the moderation model has not trained on, each
with a test split of its own.
"""
