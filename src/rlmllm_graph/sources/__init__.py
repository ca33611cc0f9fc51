"""Where papers come from: the :class:`Source` protocol the crawler needs, and its one implementation.

The crawler (:mod:`rlmllm_graph.crawl`) only talks to a ``Source``; the
Semantic Scholar Graph API client :class:`S2Client` is the real one, and tests
point it at a fake server on 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from .semanticscholar import LINK_FIELDS, PAPER_FIELDS, Link, LinkPage, S2Client, SearchPage

__all__ = ["LINK_FIELDS", "PAPER_FIELDS", "Link", "LinkPage", "S2Client", "SearchPage", "Source"]


class Source(Protocol):
    """What the crawler needs from a bibliographic source."""

    requests: int  # requests sent so far (the crawl's cost)

    def fetch_batch(self, ids: Sequence[str], *, fields: Sequence[str] = ...) -> list[dict[str, Any] | None]: ...

    def fetch_citations(
        self, paper_id: str, *, offset: int = ..., limit: int = ..., fields: Sequence[str] = ...
    ) -> LinkPage: ...

    def fetch_references(
        self, paper_id: str, *, offset: int = ..., limit: int = ..., fields: Sequence[str] = ...
    ) -> LinkPage: ...
