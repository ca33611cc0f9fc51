"""The vocabulary every stage shares: papers, authors, citations and paper ids."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from typing import Any

from .errors import BadInput

__all__ = [
    "Author",
    "INT64_MAX",
    "INT64_MIN",
    "YEAR_MAX",
    "YEAR_MIN",
    "Citation",
    "Paper",
    "PaperId",
    "normalise_arxiv_id",
    "normalise_doi",
    "normalise_paper_id",
    "papers_count",
    "plausible_date",
    "plausible_year",
]

PaperId = str  # a Semantic Scholar paper id (40 hex digits) or a prefixed external id


def papers_count(n: int) -> str:
    """``"1 paper"``, ``"2 papers"``, ``"1,024 papers"``: how every message counts papers."""
    return f"{n:,} paper" if n == 1 else f"{n:,} papers"

#: The publication years a record may carry; a year outside them is a malformed value. Wide enough for
#: any scholarly paper, narrow enough that dates and pandas periods of every stored year are valid.
YEAR_MIN, YEAR_MAX = 1000, 2999
#: What an SQLite INTEGER holds: an id or count outside this range is a malformed value.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

_S2_SHA = re.compile(r"^[0-9a-f]{40}$")
_ARXIV_NEW = re.compile(r"^(\d{4}\.\d{4,5})(v\d+)?$")
_ARXIV_OLD = re.compile(r"^([a-z\-]+(?:\.[A-Z]{2})?/\d{7})(v\d+)?$", re.IGNORECASE)
_ARXIV_URL = re.compile(
    r"^(?:https?://)?(?:www\.|export\.)?arxiv\.org/(?:abs|pdf|html)/(.+?)(?:\.pdf)?/?(?:[?#].*)?$",
    re.IGNORECASE,
)
_S2_URL = re.compile(r"^(?:https?://)?(?:www\.)?semanticscholar\.org/paper/(?:[^/]+/)?([0-9a-f]{40})", re.I)
_DOI_URL = re.compile(r"^(?:https?://)?(?:dx\.)?doi\.org/(10\..+)$", re.IGNORECASE)
_PREFIXES = {
    "arxiv": "ARXIV",
    "corpusid": "CorpusId",
    "doi": "DOI",
    "mag": "MAG",
    "acl": "ACL",
    "pmid": "PMID",
    "pmcid": "PMCID",
    "url": "URL",
}


_PLAIN_DATE = re.compile(r"^([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?$")


def plausible_year(value: Any) -> int | None:
    """A stored year as an int when it is within ``YEAR_MIN``–``YEAR_MAX``, else None.

    The importer refuses other years; an older database may still hold them.
    """
    try:
        y = int(value) if value is not None else None
    except (TypeError, ValueError, OverflowError):  # NaN, junk
        return None
    return y if y is not None and YEAR_MIN <= y <= YEAR_MAX else None


def plausible_date(value: Any) -> str | None:
    """A stored publication date when it is ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` of a plausible year, else None."""
    m = _PLAIN_DATE.match(value) if isinstance(value, str) else None
    if m is None or plausible_year(m.group(1)) is None:
        return None
    if m.group(2):
        try:
            datetime.date(int(m.group(1)), int(m.group(2)), int(m.group(3) or 1))
        except ValueError:
            return None
    return value


def normalise_arxiv_id(value: str | None) -> str | None:
    """``2503.06749v2`` → ``2503.06749``; None and junk → None."""
    if not value:
        return None
    v = str(value).strip()
    if v.lower().startswith("arxiv:"):
        v = v[6:]
    m = _ARXIV_NEW.match(v) or _ARXIV_OLD.match(v)
    return m.group(1) if m else None


def normalise_doi(value: str | None) -> str | None:
    """DOIs compare case-insensitively: store them lower-cased, without a URL prefix."""
    if not value:
        return None
    v = str(value).strip()
    m = _DOI_URL.match(v)
    if m:
        v = m.group(1)
    if v.lower().startswith("doi:"):
        v = v[4:]
    return v.lower() or None


def normalise_paper_id(value: str) -> PaperId:
    """Turn any accepted spelling of a paper id into the form the API takes.

    Accepts Semantic Scholar ids, ``ARXIV:2503.06749`` (any case), bare arXiv
    ids, arXiv and Semantic Scholar URLs, ``CorpusId:123``, ``DOI:10.…``, bare
    DOIs and DOI URLs. Raises :class:`BadInput` for anything else.

    >>> normalise_paper_id("https://arxiv.org/abs/2504.21277v2")
    'ARXIV:2504.21277'
    >>> normalise_paper_id("corpusid:123")
    'CorpusId:123'
    """
    v = (value or "").strip()
    if not v:
        raise BadInput("empty paper id")
    if _S2_SHA.match(v.lower()):
        return v.lower()
    for pattern in (_ARXIV_URL,):
        m = pattern.match(v)
        if m:
            a = normalise_arxiv_id(m.group(1))
            if a:
                return f"ARXIV:{a}"
            raise BadInput(f"not an arXiv URL we understand: {value}")
    m = _S2_URL.match(v)
    if m:
        return m.group(1).lower()
    m = _DOI_URL.match(v)
    if m:
        return f"DOI:{normalise_doi(m.group(1))}"
    if ":" in v:
        prefix, rest = v.split(":", 1)
        canon = _PREFIXES.get(prefix.lower())
        if canon and rest.strip():
            rest = rest.strip()
            if canon == "ARXIV":
                a = normalise_arxiv_id(rest)
                if not a:
                    raise BadInput(f"not an arXiv id: {value}")
                return f"ARXIV:{a}"
            if canon == "DOI":
                return f"DOI:{normalise_doi(rest)}"
            if canon == "CorpusId" and not (rest.isascii() and rest.isdigit()):
                raise BadInput(f"not a CorpusId: {value}")
            return f"{canon}:{rest}"
    a = normalise_arxiv_id(v)
    if a:
        return f"ARXIV:{a}"
    if v.startswith("10.") and "/" in v:
        return f"DOI:{normalise_doi(v)}"
    raise BadInput(
        f"not a paper id: {value!r} (expected a Semantic Scholar id, ARXIV:…, CorpusId:…, DOI:… or an arXiv URL)"
    )


@dataclass
class Author:
    author_id: str
    name: str | None = None


@dataclass
class Paper:
    """One paper as the store keeps it. ``None`` means "not known", never "empty"."""

    paper_id: PaperId
    corpus_id: int | None = None
    arxiv_id: str | None = None
    doi: str | None = None
    title: str | None = None
    abstract: str | None = None
    year: int | None = None
    publication_date: str | None = None
    venue: str | None = None
    citation_count: int | None = None
    reference_count: int | None = None
    url: str | None = None
    external_ids: dict[str, Any] | None = None
    authors: list[Author] = field(default_factory=list)
    hop: int | None = None


@dataclass
class Citation:
    citing_id: PaperId
    cited_id: PaperId
    is_influential: bool | None = None
    intents: list[str] | None = None
