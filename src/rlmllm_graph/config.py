"""Settings: one registry of (name, default, help), resolved CLI > environment > default.

Secrets (``S2_API_KEY``) arrive only through the environment or a CLI option and
are never written to the database, logs or pages.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from .errors import BadInput

__all__ = [
    "DEFAULT_API_URL",
    "DEFAULT_ARXIV_URL",
    "DEFAULT_BACKOFF",
    "DEFAULT_BUSY_TIMEOUT_MS",
    "DEFAULT_DB",
    "DEFAULT_DEPTH",
    "DEFAULT_EXPAND",
    "DEFAULT_MAX_PAPERS",
    "DEFAULT_RANDOM_SEED",
    "DEFAULT_SEED",
    "DEFAULT_TIMEOUT",
    "EXPAND_CHOICES",
    "MAX_RECENT_MONTHS",
    "PACE_WITHOUT_KEY",
    "PACE_WITH_KEY",
    "SETTINGS",
    "Setting",
    "Settings",
    "check_api_key",
    "check_api_url",
    "resolve_settings",
    "setting",
]

PACE_WITH_KEY = 1.0  # seconds between requests: the keyed limit is 1 request/s
PACE_WITHOUT_KEY = 3.0  # the keyless pool is shared and often throttled: be gentle
#: which papers a crawl expands from depth 2 on
EXPAND_CHOICES = ("all", "core")
#: the longest window of the emerging-values test (a century)
MAX_RECENT_MONTHS = 1200


class Setting(NamedTuple):
    """One setting: its name, the environment variable that sets it (if any), its default, what it does,
    and the CLI option that takes it (if any)."""

    name: str
    env: str | None
    default: Any
    help: str
    option: str | None = None


#: Every setting, each default written once: the CLI takes its defaults and help from here, and
#: docs/settings.md lists them (a test checks both).
SETTINGS: tuple[Setting, ...] = (
    Setting("db", "RLMLLM_DB", "data/rlmllm.db", "SQLite database file.", "--db"),
    Setting("api_url", "S2_API_URL", "https://api.semanticscholar.org",
            "Semantic Scholar API root; the client adds /graph/v1.", "--api-url"),
    Setting("api_key", "S2_API_KEY", None, "Semantic Scholar API key, sent as x-api-key; never stored."),
    Setting("seed", None, "ARXIV:2504.21277",
            "Paper a crawl starts from (repeat for several): a Semantic Scholar id, ARXIV:…, DOI:…, CorpusId:… "
            "or an arXiv URL; default the Reinforced MLLM survey.", "--seed"),
    Setting("depth", None, 1, "Citation hops from the seeds (1: their references and citers).", "--depth"),
    Setting("max_papers", None, 20_000, "The most papers one crawl takes in.", "--max-papers"),
    Setting("expand", None, "all",
            "From depth 2 on, expand every paper, or only those the classifier marks relevance=core.", "--expand"),
    Setting("pace", "RLMLLM_S2_PACE", None,
            f"Seconds between API requests (default {PACE_WITH_KEY:g} with an API key, {PACE_WITHOUT_KEY:g} without).",
            "--pace"),
    Setting("backoff", "RLMLLM_S2_BACKOFF", 2.0, "Base of the exponential back-off between retries, in seconds.",
            "--backoff"),
    Setting("timeout", "RLMLLM_S2_TIMEOUT", 30.0, "Seconds before an API request times out (and is retried).",
            "--timeout"),
    Setting("busy_timeout_ms", "RLMLLM_BUSY_TIMEOUT_MS", 2000,
            "Milliseconds a command waits for another writer's lock on the database."),
    Setting("labels", "RLMLLM_LABELS", None,
            "Folder of hand-labelled papers (*.jsonl) the classifier trains on (default: the labels in the package)."),
    Setting("recent_months", None, 6, "Window of the emerging-values test, in months.", "--recent-months"),
    Setting("random_seed", None, 42, "Seed of the graph layout and the community detection (0 or more).", "--seed"),
    Setting("host", None, "127.0.0.1", "Interface `serve` listens on (0.0.0.0 exposes it to your network).",
            "--host"),
    Setting("port", None, 8765, "Port `serve` listens on (0 picks a free one).", "--port"),
    Setting("relevance", None, "core,related",
            "The papers that matter, by relevance label (comma-separated: core, related, other).", "--relevance"),
    Setting("arxiv_url", "RLMLLM_ARXIV_URL", "https://export.arxiv.org",
            "arXiv root for full text (/html/<id>, /e-print/<id>): arXiv's programmatic host, a mirror, a test server.",
            "--arxiv-url"),
    Setting("arxiv_pace", "RLMLLM_ARXIV_PACE", 3.0, "Seconds between two requests to arXiv (its rule: one every 3 s).",
            "--pace"),
    Setting("arxiv_timeout", "RLMLLM_ARXIV_TIMEOUT", 30.0,
            "Seconds before a stalled arXiv request is given up (and retried).", "--timeout"),
    Setting("arxiv_backoff", "RLMLLM_ARXIV_BACKOFF", 5.0,
            "Seconds before the first retry of an arXiv request (doubling after each).", "--backoff"),
    Setting("debug", "RLMLLM_DEBUG", None, "Set to 1 to see a traceback with an error."),
)

_BY_NAME = {s.name: s for s in SETTINGS}


def setting(name: str) -> Setting:
    """The setting called ``name`` (KeyError for an unknown name)."""
    return _BY_NAME[name]


DEFAULT_DB: str = setting("db").default
DEFAULT_API_URL: str = setting("api_url").default
DEFAULT_ARXIV_URL: str = setting("arxiv_url").default
DEFAULT_SEED: str = setting("seed").default
DEFAULT_DEPTH: int = setting("depth").default
DEFAULT_MAX_PAPERS: int = setting("max_papers").default
DEFAULT_EXPAND: str = setting("expand").default
DEFAULT_BACKOFF: float = setting("backoff").default
DEFAULT_TIMEOUT: float = setting("timeout").default
DEFAULT_BUSY_TIMEOUT_MS: int = setting("busy_timeout_ms").default
DEFAULT_RANDOM_SEED: int = setting("random_seed").default


@dataclass(frozen=True)
class Settings:
    db: str = DEFAULT_DB
    api_url: str = DEFAULT_API_URL
    api_key: str | None = field(default=None, repr=False)
    busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS

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
