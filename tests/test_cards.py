"""The model cards in data/cards/ stay short and current: each fits in 8 KB, names no issue
numbers a reader cannot open, carries no experiment history (that lives in git), and says
how to reproduce its figures. The served model folder's card, model/artifacts/README.md, is
what training/card.py writes from that folder: short, and never behind its files."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from model.pipeline import BUNDLED_MODEL_DIR
from training.card import write_card

CARDS_DIR = Path(__file__).resolve().parents[1] / "data" / "cards"
CARDS = sorted(CARDS_DIR.glob("*.md"))
MAX_BYTES = 8192

ISSUE_NUMBER = re.compile(r"\bissue\s*#?\d+", re.IGNORECASE)
HISTORY_HEADING = re.compile(r"^#+\s*Tried\b", re.IGNORECASE | re.MULTILINE)
REPRODUCE_HEADING = re.compile(r"^#+\s*(How to )?reproduce\b", re.IGNORECASE | re.MULTILINE)


def test_there_are_cards() -> None:
    assert CARDS, f"no model cards in {CARDS_DIR}"


@pytest.mark.parametrize("card", CARDS, ids=lambda p: p.name)
def test_card_fits_in_8_kb(card: Path) -> None:
    size = len(card.read_bytes())
    assert size <= MAX_BYTES, f"{card.name} is {size} bytes, over {MAX_BYTES}"


@pytest.mark.parametrize("card", CARDS, ids=lambda p: p.name)
def test_card_names_no_issue_number(card: Path) -> None:
    found = ISSUE_NUMBER.findall(card.read_text(encoding="utf-8"))
    assert not found, f"{card.name} mentions {found}"


@pytest.mark.parametrize("card", CARDS, ids=lambda p: p.name)
def test_card_has_no_tried_history(card: Path) -> None:
    found = HISTORY_HEADING.findall(card.read_text(encoding="utf-8"))
    assert not found, f"{card.name} has history headings: {found}"


@pytest.mark.parametrize("card", CARDS, ids=lambda p: p.name)
def test_card_says_how_to_reproduce(card: Path) -> None:
    assert REPRODUCE_HEADING.search(card.read_text(encoding="utf-8")), (
        f"{card.name} has no 'Reproduce' section"
    )


def test_the_model_folder_card_is_what_its_files_say(tmp_path: Path) -> None:
    folder = tmp_path / "artifacts"
    folder.mkdir()
    for name in ("pipeline.json", "encoder", "text", "pair", "checkworthy", "grounding"):
        source = BUNDLED_MODEL_DIR / name
        if source.is_dir():  # only model.onnx is read: its sha256 goes in the card
            (folder / name).mkdir()
            shutil.copy(source / "model.onnx", folder / name / "model.onnx")
        else:
            shutil.copy(source, folder / name)
    write_card(folder, json.loads((folder / "pipeline.json").read_text()))
    written = (folder / "README.md").read_text(encoding="utf-8")
    shipped = (BUNDLED_MODEL_DIR / "README.md").read_text(encoding="utf-8")
    assert written == shipped, "model/artifacts/README.md is stale: python -m training.card"
    assert len(shipped.encode()) <= MAX_BYTES
    assert not ISSUE_NUMBER.findall(shipped)
