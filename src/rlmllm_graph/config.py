"""Settings: one registry of (name, default, help), resolved CLI > environment > default.

Secrets (``S2_API_KEY``) arrive only through the environment or a CLI option and
are never written to the database, logs or pages.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit

from .errors import BadInput

__all__ = [
    "DEFAULT_API_URL",
    "DEFAULT_ARXIV_URL",
    "DEFAULT_DB",
    "DEFAULT_SEED",
    "SETTINGS",
    "Setting",
    "Settings",
    "check_api_key",
    "check_api_url",
    "resolve_settings",
]

DEFAULT_SEED = "ARXIV:2504.21277"
DEFAULT_DB = "data/rlmllm.db"
DEFAULT_API_URL = "https://api.semanticscholar.org"
DEFAULT_ARXIV_URL = "https://export.arxiv.org"


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
    Setting("arxiv_url", "RLMLLM_ARXIV_URL", DEFAULT_ARXIV_URL,
            "arXiv root for full text (/html/<id>, /e-print/<id>): arXiv's programmatic host, a mirror, a test server."),
    Setting("arxiv_pace", "RLMLLM_ARXIV_PACE", 3.0, "Seconds between two requests to arXiv (its rule: one every 3 s)."),
    Setting("arxiv_timeout", "RLMLLM_ARXIV_TIMEOUT", 30.0, "Seconds before a stalled arXiv request is given up (and retried)."),
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


def resolve_settings(*, api: bool = True, **cli: object) -> Settings:
    """Merge CLI values (None = not given) over the environment over the defaults.

    With ``api`` (the default) the Semantic Scholar settings are checked too
    (:func:`check_api_url`, :func:`check_api_key`): a bad value is a
    :class:`BadInput`, and ``S2_API_URL`` set but blank is refused rather than
    quietly replaced by the real API. Commands that never call the API pass
    ``api=False``: they keep the defaults (no key) whatever the environment says.
    """
    values: dict[str, object] = {}
    for s in SETTINGS:
        if s.name not in Settings.__dataclass_fields__:
            continue
        if not api and s.name in ("api_url", "api_key"):
            values[s.name] = s.default
            continue
        v = cli.get(s.name)
        if v is None and s.env:
            raw = os.environ.get(s.env)
            if s.name == "api_url" and raw is not None and not raw.strip():
                raise BadInput(
                    f"{s.env} is set but empty; unset it for {DEFAULT_API_URL}, or give an API URL"
                )
            v = raw or None
        if v is None:
            v = s.default
        values[s.name] = v
    if api:
        values["api_url"] = check_api_url(values["api_url"])  # type: ignore[arg-type]
        values["api_key"] = check_api_key(values["api_key"])  # type: ignore[arg-type]
    values["busy_timeout_ms"] = int(values["busy_timeout_ms"])  # type: ignore[call-overload]
    return Settings(**values)  # type: ignore[arg-type]


def check_api_url(url: str, *, name: str = "--api-url") -> str:
    """The API root without surrounding blanks, trailing ``/`` or ``/graph/v1``; BadInput if it is not one.

    It must be ``http(s)://host[:port][/path]``: a host, a port in 0..65535, no
    blanks or control characters. ``name`` is what the message calls the value.
    """
    shown = url if isinstance(url, str) else str(url)
    hint = f"expected http(s)://host, e.g. {DEFAULT_API_URL}"
    root = shown.strip().rstrip("/")
    if not root:
        raise BadInput(f"{name} is empty ({hint})")
    if not root.lower().startswith(("http://", "https://")) or any(c.isspace() or not c.isprintable() for c in root):
        raise BadInput(f"not an API URL: {shown!r} ({hint})")
    try:
        parts = urlsplit(root)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in 0..65535
    except ValueError as exc:
        raise BadInput(f"not an API URL: {shown!r} ({exc}; {hint})") from None
    if not parts.hostname:
        raise BadInput(f"not an API URL: {shown!r} (no host; {hint})")
    if parts.username is not None or parts.password is not None:
        # never echo it: the part before @ may be a password
        raise BadInput(f"{name} must not hold a user name or password (they would show in messages); "
                       "give the key as S2_API_KEY")
    if parts.query or parts.fragment:
        raise BadInput(f"not an API URL: {shown!r} (no ?query or #fragment; {hint})")
    if root.endswith("/graph/v1"):
        root = root[: -len("/graph/v1")]
    return root


def check_api_key(key: str | None) -> str | None:
    """The API key without surrounding blanks (None when there is none); BadInput if a header cannot carry it.

    An HTTP header value takes printable ASCII only, so the key may hold no
    blanks, control characters or non-ASCII letters. The message never shows
    the key, not even in part.
    """
    if key is None:
        return None
    key = str(key).strip()
    if not key:
        return None
    if not all("!" <= c <= "~" for c in key):
        raise BadInput(
            "S2_API_KEY holds characters an HTTP header cannot carry (an API key is printable ASCII "
            "without spaces or control characters): check how it was set, e.g. a stray carriage return"
        )
    return key
