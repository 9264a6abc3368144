"""Loaders of the shared public data, one module per source family, and the split rules
they share.

- `pairs`: the record every grounding loader returns and how a row falls in a split;
- `nli`: NLI and paraphrase pairs (MNLI, RTE, MRPC, STS-B; SICK, ANLI, ConTRoL for
  evaluation only);
- `factcheck`: fact-verification claims with their evidence (Check-COVID, Climate-FEVER,
  HealthVer, FEVER-Symmetric, DocNLI's FEVER, WiCE);
- `summaries`: news summaries judged against their articles (FRANK, XSum hallucinations);
- `grounding`: all of them as one train / dev / test set for the grounding model.
"""
