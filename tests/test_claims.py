"""Clause candidates for atomic claims (model/claims.py): spans stay exact, short pieces
stay attached."""

from __future__ import annotations

import pytest

from model.claims import as_statement, clause_parts
from model.sentences import split_sentences


def parts_of(text: str) -> list[str]:
    (sentence,) = split_sentences(text)
    parts = clause_parts(sentence)
    for p in parts:
        assert text[p.start : p.end] == p.text
    return [p.text for p in parts]


def test_two_clauses_joined_by_and_become_two_parts() -> None:
    text = (
        "The army dropped leaflets on the town before the assault "
        "and there is a corridor where civilians can leave."
    )
    assert parts_of(text) == [
        "The army dropped leaflets on the town before the assault",
        "there is a corridor where civilians can leave.",
    ]


def test_semicolon_and_but_split_too() -> None:
    text = "The mill closed in 1998; its owners moved south but the workers stayed in town."
    assert parts_of(text) == [
        "The mill closed in 1998",
        "its owners moved south",
        "the workers stayed in town.",
    ]


@pytest.mark.parametrize(
    "text",
    [
        "Smith and Jones won the race in record time.",  # "Smith" alone is no clause
        "The council met on Tuesday to approve the budget.",  # no joint at all
        "Prices rose and fell all week.",  # each side too short to stand alone
        "The bridge was closed for eight months while it was being repaired.",  # time clause
    ],
)
def test_no_split_without_two_full_clauses(text: str) -> None:
    assert parts_of(text) == []


def test_offsets_point_into_the_comment_not_the_sentence() -> None:
    text = "I read it twice. The bridge cost four million pounds and it opened three years late."
    second = split_sentences(text)[1]
    parts = clause_parts(second)
    assert [text[p.start : p.end] for p in parts] == [
        "The bridge cost four million pounds",
        "it opened three years late.",
    ]


@pytest.mark.parametrize(
    ("clause", "statement"),
    [
        ("The army dropped leaflets on the town", "The army dropped leaflets on the town."),
        (
            "there is a corridor where civilians can leave.",
            "there is a corridor where civilians can leave.",
        ),
        ('He said it was "a disgrace"', 'He said it was "a disgrace"'),
        ("Did the army warn anyone?", "Did the army warn anyone?"),
    ],
)
def test_a_clause_reads_as_a_sentence_to_the_models(clause: str, statement: str) -> None:
    assert as_statement(clause) == statement
