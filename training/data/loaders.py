"""Each task's loader by name: `LOADERS[task](data_dir, limit_per_source=n)` returns its
`(train, dev)` examples."""

from __future__ import annotations

from collections.abc import Callable

from training.data.checkworthy import load_checkworthy
from training.data.examples import Split
from training.data.grounding_human import load_grounding
from training.data.moderation_sources import load_moderation
from training.data.stance import load_stance

LOADERS: dict[str, Callable[..., Split]] = {
    "moderation": load_moderation,
    "checkworthy": load_checkworthy,
    "grounding": load_grounding,
    "stance": load_stance,
}
