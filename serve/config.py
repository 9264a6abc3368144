"""Settings, read once from the environment (prefix `REBUT_`) and an optional `.env` file.

REBUT_MODEL_DIR=/srv/rebut/model REBUT_DATABASE_URL=postgresql+psycopg://... rebut serve
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything serve/ can be configured with; documented in the README."""

    model_config = SettingsConfigDict(env_prefix="REBUT_", env_file=".env", extra="ignore")

    model_dir: Path | None = None  # None: the artifacts bundled in model/artifacts
    database_url: str = "sqlite:///./rebut.db"
    # Checked before JSON parsing, so an oversized body is refused before it is held in
    # memory. 2 MiB, not less: a score request may carry its article, and an article of
    # model.limits.MAX_ARTICLE_CHARS (400,000) in UTF-8 with JSON escaping needs ~1.5 MB.
    max_body_bytes: int = Field(default=2 * 1024 * 1024, gt=0)
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)


@lru_cache
def get_settings() -> Settings:
    return Settings()
