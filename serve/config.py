"""Settings, read once from the environment (prefix `REBUT_`) and an optional `.env` file.

REBUT_MODEL_DIR=/srv/rebut/model REBUT_DATABASE_URL=postgresql+psycopg://... rebut serve

Lists (`REBUT_API_KEYS`, `REBUT_WEBHOOK_SECRETS`, `REBUT_CORAL_SECRETS`,
`REBUT_CORAL_STORY_HOSTS`) are comma-separated.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# A comma-separated environment value, read as a list (NoDecode: not parsed as JSON).
CommaList = Annotated[list[str], NoDecode]
# Shorter keys and secrets are refused at start-up: they are guessable, and a short one in
# production is usually a placeholder someone forgot to replace.
MIN_SECRET_CHARS = 16


def normalise_database_url(url: str) -> str:
    """`postgres://` and `postgresql://` (as hosting platforms hand out in DATABASE_URL)
    name the psycopg 3 driver, the one rebut installs."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _is_ipv6(host: str) -> bool:
    try:
        return isinstance(ipaddress.ip_address(host), ipaddress.IPv6Address)
    except ValueError:
        return False


class Settings(BaseSettings):
    """Everything serve/ can be configured with; documented in docs/configuration.md."""

    model_config = SettingsConfigDict(
        env_prefix="REBUT_", env_file=".env", extra="ignore", populate_by_name=True
    )

    model_dir: Path | None = None  # None: the artifacts bundled in model/artifacts
    # Cores the models use (None: all); how int8 weights run (model/runtime.py
    # int8_weights); a newsroom's TOML moderation policy (model/moderation.py).
    threads: int | None = Field(default=None, ge=1)
    int8_weights: Literal["auto", "signed", "unsigned"] = "auto"
    policy: Path | None = None
    # REBUT_DATABASE_URL, else the DATABASE_URL that platforms set, else a local SQLite file.
    database_url: str = Field(
        default="sqlite:///./rebut.db",
        validation_alias=AliasChoices("REBUT_DATABASE_URL", "DATABASE_URL", "database_url"),
    )
    # Checked before JSON parsing, so an oversized body is refused before it is held in
    # memory. 2 MiB, not less: a score request may carry its article, and an article of
    # model.limits.MAX_ARTICLE_CHARS (400,000) in UTF-8 with JSON escaping needs ~1.5 MB.
    max_body_bytes: int = Field(default=2 * 1024 * 1024, gt=0)
    # The whole body must arrive within this (408 after it), so a client sending a few
    # bytes a second cannot hold a connection and a worker's attention.
    body_read_timeout_s: float = Field(default=10.0, gt=0)
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    log_level: Literal["debug", "info", "warning", "error", "DEBUG", "INFO", "WARNING", "ERROR"] = (
        "info"
    )

    # -- auth and limits ------------------------------------------------------------------
    # "off" only for local development: then no endpoint asks for a key.
    auth: Literal["on", "off"] = "on"
    # Keys accepted besides those in the store (`rebut keys create`), e.g. from a secret
    # manager. Plain keys here; they are hashed in memory at start-up.
    api_keys: CommaList = Field(default_factory=list)
    # Requests per minute per key (a token bucket in each process); 0 turns it off.
    rate_limit: int = Field(default=600, ge=0)

    # -- CMS webhook ----------------------------------------------------------------------
    # Shared secrets for `Rebut-Signature`; several during a rotation. The first one signs
    # callbacks.
    webhook_secrets: CommaList = Field(default_factory=list)
    webhook_tolerance_s: int = Field(default=300, gt=0)
    # Where results of webhook events are POSTed; empty: no callbacks.
    callback_url: str | None = None
    callback_max_attempts: int = Field(default=8, ge=1)
    callback_backoff_s: float = Field(default=2.0, gt=0)  # doubles after each failed try
    callback_timeout_s: float = Field(default=10.0, gt=0)
    # The worker that scores queued webhook events.
    worker_poll_s: float = Field(default=1.0, gt=0)
    # Tries at an event the store refuses before it is marked failed (the queue moves on).
    score_max_attempts: int = Field(default=5, ge=1)
    # /readyz answers 503 when the oldest waiting event has waited this long.
    queue_stall_s: float = Field(default=300.0, gt=0)
    # Test-only: seconds before the worker takes its first event (the crash test uses it).
    worker_start_delay_s: float = Field(default=0.0, ge=0)

    # -- Coral Talk -----------------------------------------------------------------------
    # Signing secrets Coral shows for the external moderation phase; several during rotation.
    coral_secrets: CommaList = Field(default_factory=list)
    # Fetch the page of a story no article is stored for
    # (serve/integrations/coral/story_fetch.py). Off by default: it makes the server send
    # requests to URLs that arrive in requests.
    coral_fetch_stories: bool = False
    # The only hosts story pages are fetched from, matched exactly (no subdomains), so a
    # forged or odd story URL cannot point the server at an internal address.
    coral_story_hosts: CommaList = Field(default_factory=list)
    # The whole fetch and extraction of one page. Coral skips the phase after its timeout
    # (100 to 10,000 ms, 200 by default), and scoring needs time after the fetch, so the
    # phase's timeout must be set above this plus scoring time; 9 s leaves 1 s of Coral's
    # largest timeout for scoring.
    coral_fetch_timeout_s: float = Field(default=2.0, gt=0, le=9.0)

    @field_validator(
        "api_keys", "webhook_secrets", "coral_secrets", "coral_story_hosts", mode="before"
    )
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("api_keys", "webhook_secrets", "coral_secrets")
    @classmethod
    def _long_enough(cls, values: list[str]) -> list[str]:
        for value in values:
            if len(value) < MIN_SECRET_CHARS:
                raise ValueError(
                    f"keys and secrets need at least {MIN_SECRET_CHARS} characters; one has "
                    f"{len(value)} (python -c 'import secrets; print(secrets.token_urlsafe(32))')"
                )
        return values

    @field_validator("coral_story_hosts")
    @classmethod
    def _host_names(cls, values: list[str]) -> list[str]:
        # Compared with urlsplit(url).hostname, which is lower-case, without brackets
        # around an IPv6 address and without a port.
        hosts = []
        for value in values:
            host = value.lower().strip("[]").rstrip(".")
            if "/" in host or (":" in host and not _is_ipv6(host)):
                raise ValueError(f"list host names, without scheme, port or path: {value!r}")
            hosts.append(host)
        return hosts

    @field_validator("database_url")
    @classmethod
    def _driver(cls, value: str) -> str:
        return normalise_database_url(value)

    @field_validator("callback_url")
    @classmethod
    def _empty_is_none(cls, value: str | None) -> str | None:
        return value or None

    @model_validator(mode="after")
    def _callbacks_are_signed(self) -> Settings:
        # An unsigned callback could be forged by anyone who learns the CMS's URL.
        if self.callback_url and not self.webhook_secrets:
            raise ValueError("REBUT_CALLBACK_URL needs REBUT_WEBHOOK_SECRETS to sign callbacks")
        return self

    @model_validator(mode="after")
    def _fetching_has_hosts(self) -> Settings:
        # Fetching with no host listed would fetch nothing; say so at start-up instead.
        if self.coral_fetch_stories and not self.coral_story_hosts:
            raise ValueError("REBUT_CORAL_FETCH_STORIES needs REBUT_CORAL_STORY_HOSTS")
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
