"""The word checks that overrule the grounding cross-encoder (model/claim_checks.py), on
sentences written for rebut. Each 'does not fire' case is a near miss of a firing one, so a
check that fired on everything, or on nothing, fails here."""

from __future__ import annotations

import numpy as np
import pytest

from model.claim_checks import CHECK_PRECISION, apply_check, check_claim, figures

EVIDENCE = (
    "The Riverside textile mill in Ashford will close in September, putting 340 jobs at risk, "
    "its owner Calder Group announced on Thursday. The mill opened in 1887 and once employed "
    "more than 2,000 people. Regime sources said they warned civilians to leave the town, a "
    "claim the opposition denied. The work cost £4.2 million and was paid for by a grant. "
    "Council leader Maria Okafor cut the ribbon at a short ceremony. Energy costs had tripled "
    "since 2022, the company said. Police arrested Jones and released Smith on bail. The "
    "council said it hoped that the bridge will reopen on Tuesday."
)


@pytest.mark.parametrize(
    ("claim", "expected"),
    [
        # a quote with words left out: a name, a place, a clause set off by commas
        ("The mill will close in September, putting 340 jobs at risk.", "quoted"),
        ("The textile mill in Ashford will close in September, its owner announced.", "quoted"),
        ("The work was paid for by a grant.", "quoted"),  # "cost £4.2 million and" left out
        ("Police released Smith on bail.", "quoted"),  # "arrested Jones and" left out
        ("Police released Jones on bail.", None),
        ("Calder Group announced on Thursday the mill will close.", None),  # reordered
        # the quote would leave out a number, or start inside a noun phrase
        ("The mill in Ashford will close in September, putting jobs at risk.", None),
        ("The opposition denied they warned civilians to leave the town.", None),
        # the article reports it as a disputed claim: not a quote of a fact
        ("They warned civilians to leave the town.", None),
        # an intention is not a fact
        ("The bridge will reopen on Tuesday.", None),
        # too short to prove anything
        ("The mill opened.", None),
        # a figure the article gives differently, reworded around it
        ("The mill opened in 1912.", "figure_differs"),
        ("The mill will shut in October.", "figure_differs"),
        ("The mill's closure puts 540 jobs at risk.", "figure_differs"),
        ("The work cost £9 million.", "figure_differs"),
        # the same figure, an approximate one, or one about something the article lacks
        ("The mill opened in 1887.", "quoted"),
        ("The mill first opened in 1887.", None),
        ("The mill will close in September.", "quoted"),
        ("About 500 jobs are at risk at the mill.", None),
        ("The mill once employed 3,000 people.", None),  # the article: "more than 2,000"
        ("Calder Group made a profit of 12 million pounds last year.", None),
        ("Workers will strike in October.", None),  # nothing else shared with a sentence
        ("Energy costs have doubled since 2022.", "figure_differs"),
        ("Energy costs have tripled since 2022.", None),
        # someone else did what the article says one person did
        ("Mayor John Briggs cut the ribbon at the ceremony.", "actor_differs"),
        ("Mayor John Briggs also attended the ceremony.", None),  # an added fact, maybe
        ("Maria Okafor cut the ribbon at the ceremony.", None),  # the same person
        ("Mayor John Briggs did not cut the ribbon.", None),
    ],
)
def test_check_claim(claim: str, expected: str | None) -> None:
    assert check_claim(claim, EVIDENCE) == expected


def test_figures_carry_their_units() -> None:
    text = "It cost £4.2 million, 340 jobs went, eight months in 1887, on Tuesday in May; doubled"
    found = {(f.unit, f.value) for f in figures(text)}
    assert found == {
        ("gbp", 4.2e6),
        ("job", 340.0),
        ("month", 8.0),
        ("calendar year", 1887.0),
        ("weekday", "Tuesday"),
        ("month", "May"),
        ("fold", 2.0),
    }


LABELS = ["supported", "contradicted", "not_in_article"]


def test_a_check_moves_the_mass_to_its_label_and_keeps_the_rest_in_proportion() -> None:
    model = np.array([0.02, 0.97, 0.01], dtype=np.float32)
    after = apply_check(model, LABELS, "quoted")
    assert after.argmax() == 0
    assert after[0] == pytest.approx(CHECK_PRECISION["quoted"])
    assert after.sum() == pytest.approx(1.0)
    assert after[1] / after[2] == pytest.approx(97.0, rel=1e-4)


def test_no_check_or_a_surer_model_leaves_the_probabilities_alone() -> None:
    model = np.array([0.1, 0.1, 0.8], dtype=np.float32)
    assert apply_check(model, LABELS, None) is model
    sure = np.array([0.0, 0.999, 0.001], dtype=np.float32)
    assert apply_check(sure, LABELS, "figure_differs") is sure
