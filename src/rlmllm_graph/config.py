"""Settings: one registry of (name, default, help), resolved CLI > environment > default.

Secrets (``S2_API_KEY``) arrive only through the environment or a CLI option and
are never written to the database, logs or pages.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

__all__ = [
    "DEFAULT_API_URL",
    "DEFAULT_DB",
    "DEFAULT_SEED",
    "SETTINGS",
    "Setting",
    "Settings",
    "resolve_settings",
]

DEFAULT_SEED = "ARXIV:2504.21277"
DEFAULT_DB = "data/rlmllm.db"
DEFAULT_API_URL = "https://api.semanticscholar.org"


class Setting(NamedTuple):
    name: str
    env: str | None
    default: object
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("db", "RLMLLM_DB", DEFAULT_DB, "SQLite database file."),
    Setting("api_url", "S2_API_URL", DEFAULT_API_URL, "Semantic Scholar API root; the client adds /graph/v1."),
    Setting("api_key", "S2_API_KEY", None, "Semantic Scholar API key, sent as x-api-key; never stored."),
    Setting("seed", None, DEFAULT_SEED, "Paper the crawl starts from (the Reinforced MLLM survey)."),
    Setting("depth", None, 1, "Citation hops from the seeds."),
    Setting("busy_timeout_ms", "RLMLLM_BUSY_TIMEOUT_MS", 2000, "How long a writer waits for another writer's lock."),
    Setting("pace", "RLMLLM_S2_PACE", None, "Seconds between API requests (default 1 with an API key, 3 without)."),
    Setting("backoff", "RLMLLM_S2_BACKOFF", 2.0, "Base of the exponential back-off between retries, in seconds."),
    Setting("timeout", "RLMLLM_S2_TIMEOUT", 30.0, "Seconds before an API request times out (and is retried)."),
    Setting("labels", "RLMLLM_LABELS", "data/labels", "Folder of hand-labelled papers the classifier trains on."),
)


@dataclass(frozen=True)
class Settings:
    db: str = DEFAULT_DB
    api_url: str = DEFAULT_API_URL
    api_key: str | None = field(default=None, repr=False)
    busy_timeout_ms: int = 2000

    @property
    def db_path(self) -> Path:
        return Path(self.db)


def resolve_settings(**cli: object) -> Settings:
    """Merge CLI values (None = not given) over the environment over the defaults."""
    values: dict[str, object] = {}
    for s in SETTINGS:
        if s.name not in Settings.__dataclass_fields__:
            continue
        v = cli.get(s.name)
        if v is None and s.env:
            v = os.environ.get(s.env) or None
        if v is None:
            v = s.default
        values[s.name] = v
    values["busy_timeout_ms"] = int(values["busy_timeout_ms"])  # type: ignore[call-overload]
    return Settings(**values)  # type: ignore[arg-type]
