"""Training and `rebut eval` embed through a disk cache; its vectors must be the ones the
pipeline computes, whatever the cache already held."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from model.encoder import Encoder
from model.pipeline import BUNDLED_MODEL_DIR
from training.embedding_cache import CachingEncoder

TEXTS = [
    "The regime warned civilians to leave the town before the assault.",
    "Opposition fighters denied that any warning was given.",
    "Thousands of people are thought to be trapped inside Qusayr.",
    "Hezbollah fighters joined the government troops.",
    "The council approved the budget by seven votes to two on Tuesday night.",
    "Nobody asked the residents.",
]


def test_a_cached_vector_does_not_depend_on_what_was_cached_before(tmp_path: Path) -> None:
    encoder = Encoder(BUNDLED_MODEL_DIR / "encoder", batch_size=1, rows=2).load()
    fresh = CachingEncoder(encoder, tmp_path / "fresh").encode(TEXTS)
    warm = CachingEncoder(encoder, tmp_path / "warm")
    warm.encode(TEXTS[::2])  # a different earlier run left half of them behind
    warm.save()
    reloaded = CachingEncoder(encoder, tmp_path / "warm").encode(TEXTS)
    np.testing.assert_array_equal(fresh, reloaded)
    np.testing.assert_array_equal(fresh, encoder.encode(TEXTS))


def test_a_batching_encoder_is_refused(tmp_path: Path) -> None:
    encoder = Encoder(BUNDLED_MODEL_DIR / "encoder", batch_size=32)
    with pytest.raises(ValueError, match="batch_size=1"):
        CachingEncoder(encoder, tmp_path)
