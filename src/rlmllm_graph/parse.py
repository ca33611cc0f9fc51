"""Semantic Scholar JSON shapes → records.

Two shapes arrive: Graph API paper objects (``paperId``, ``externalIds``, …,
optionally nested ``references``/``citations``) and bulk dataset records
(``corpusid``, ``externalids``, …; citation records with ``citingcorpusid`` /
``citedcorpusid``). Both the importer and the crawler read through here, so the
two agree on what a paper is.

Values are checked as well as shapes: an integer outside SQLite's signed
64-bit range (ids, counts), a year outside ``YEAR_MIN``–``YEAR_MAX``
(1000–2999) and a publication date that is not ``YYYY``, ``YYYY-MM`` or
``YYYY-MM-DD`` (a time after a full date is dropped) make the record
malformed (:class:`ShapeError`).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from .records import (
    INT64_MAX,
    INT64_MIN,
    YEAR_MAX,
    YEAR_MIN,
    Author,
    Paper,
    normalise_arxiv_id,
    normalise_doi,
    plausible_date,
)

__all__ = [
    "ParsedRecord",
    "ShapeError",
    "citation_from_bulk",
    "paper_from_api",
    "paper_from_bulk",
    "parse_record",
]

_S2_URL_SHA = re.compile(r"/paper/(?:[^/]+/)?([0-9a-f]{40})")


EdgeRow = tuple[str, str, "int | None", "str | None"]


class ShapeError(ValueError):
    """A JSON value that is not a Semantic Scholar record (the message says why)."""


@dataclass
class ParsedRecord:
    """What one input line contributes."""

    papers: list[Paper] = field(default_factory=list)
    # (citing_id, cited_id, is_influential 0/1/None, intents as JSON text or None): store-ready rows
    citations: list[EdgeRow] = field(default_factory=list)
    # bulk citation records name papers by corpus id; resolved against the store
    corpus_citations: list[tuple[int, int, bool | None, list[str] | None]] = field(default_factory=list)
    abstracts_by_corpus_id: dict[int, str] = field(default_factory=dict)
    elided: int = 0  # nested entries whose paperId was null


def _opt_str(obj: dict[str, Any], key: str) -> str | None:
    v = obj.get(key)
    if v is None:
        return None
    if type(v) is str:
        return v.strip() or None
    if not isinstance(v, str):
        raise ShapeError(f"{key!r} must be a string or null, not {type(v).__name__}")
    v = v.strip()
    return v or None


def _show(v: Any, limit: int = 40) -> str:
    text = repr(v)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _opt_int(obj: dict[str, Any], key: str, *, lo: int = INT64_MIN, hi: int = INT64_MAX) -> int | None:
    """``obj[key]`` as an int between ``lo`` and ``hi`` (default: what SQLite stores), or None."""
    v = obj.get(key)
    if v is None:
        return None
    if type(v) is not int:
        if isinstance(v, bool) or not isinstance(v, (int, float, str)):
            raise ShapeError(f"{key!r} must be a number or null, not {type(v).__name__}")
        try:
            v = int(v)
        except (ValueError, OverflowError):  # junk text, NaN, infinity, thousands of digits
            raise ShapeError(f"{key!r} must be a number, not {_show(v)}") from None
    if not INT64_MIN <= v <= INT64_MAX:
        raise ShapeError(f"{key!r} is out of range: {'larger' if v > 0 else 'smaller'} than a 64-bit integer")
    if not lo <= v <= hi:
        raise ShapeError(f"{key!r} must be between {lo} and {hi}, not {v}")
    return v


def _opt_year(obj: dict[str, Any], key: str) -> int | None:
    return _opt_int(obj, key, lo=YEAR_MIN, hi=YEAR_MAX)


def _authors(value: Any) -> list[Author]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ShapeError("'authors' must be a list")
    out: list[Author] = []
    for a in value:
        if type(a) is not dict:
            raise ShapeError("each author must be an object")
        name = a.get("name")
        aid = a["authorId"] if "authorId" in a else a.get("authorid")
        if aid is None:
            if not name:
                continue
            # S2 leaves authorId null for unresolved authors: key them by name
            aid = "name:" + hashlib.sha1(str(name).encode()).hexdigest()[:16]
        out.append(Author(str(aid), str(name) if name is not None else None))
    return out


def _external_ids(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ShapeError("'externalIds' must be an object")
    # an integer id SQLite and JSON storage cannot hold is kept as text (the corpus id is checked on its own)
    return {k: str(v) if type(v) is int and not INT64_MIN <= v <= INT64_MAX else v for k, v in value.items()}


_DATE = re.compile(
    r"^([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2})"
    r"(?:[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?(?:Z|[+-][0-9]{2}:?[0-9]{2})?)?)?)?\Z"
)


def _date(obj: dict[str, Any], key: str) -> str | None:
    """``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` (a time after the date is dropped), or None."""
    value = _opt_str(obj, key)
    if value is None:
        return None
    m = _DATE.match(value)
    date = plausible_date("-".join(g for g in m.groups() if g)) if m else None  # the time, if any, dropped
    if date is None:
        raise ShapeError(
            f"{key!r} must be a date YYYY, YYYY-MM or YYYY-MM-DD (years {YEAR_MIN}–{YEAR_MAX}), not {_show(value)}"
        )
    return date


def _or_unknown(read: Any, obj: dict[str, Any], key: str, lenient: bool) -> Any:
    """``read(obj, key)``; when ``lenient``, a value that does not pass (a year of 10000, a date of
    2019-02-29, a count beyond 64 bits) is unknown (None) instead of an error."""
    try:
        return read(obj, key)
    except ShapeError:
        if lenient:
            return None
        raise


def paper_from_api(obj: Any, *, lenient: bool = False) -> Paper:
    """A Graph API paper object → :class:`Paper` (nested lists are not read here).

    ``lenient`` (the crawler): an implausible year, date, corpus id or count is stored as unknown, so one odd
    paper in an API answer cannot stop every crawl and resume; ``import`` stays strict (it names file:line,
    and ``--skip-invalid`` skips the line). The id and the shapes of lists and objects are checked either way.
    """
    if not isinstance(obj, dict):
        raise ShapeError("a paper must be a JSON object")
    pid = obj.get("paperId")
    if not isinstance(pid, str) or not pid.strip():
        raise ShapeError("'paperId' must be a non-empty string")
    ext = _external_ids(obj.get("externalIds"))
    corpus_id = _or_unknown(_opt_int, obj, "corpusId", lenient)
    if corpus_id is None and ext.get("CorpusId") is not None:
        corpus_id = _or_unknown(_opt_int, ext, "CorpusId", lenient)
    venue = _opt_str(obj, "venue")
    if venue is None and isinstance(obj.get("journal"), dict):
        venue = _opt_str(obj["journal"], "name")
    return Paper(
        paper_id=pid.strip(),
        corpus_id=corpus_id,
        arxiv_id=normalise_arxiv_id(ext.get("ArXiv")),
        doi=normalise_doi(ext.get("DOI")),
        title=_opt_str(obj, "title"),
        abstract=_opt_str(obj, "abstract"),
        year=_or_unknown(_opt_year, obj, "year", lenient),
        publication_date=_or_unknown(_date, obj, "publicationDate", lenient),
        venue=venue,
        citation_count=_or_unknown(_opt_int, obj, "citationCount", lenient),
        reference_count=_or_unknown(_opt_int, obj, "referenceCount", lenient),
        url=_opt_str(obj, "url"),
        external_ids=ext or None,
        authors=_authors(obj.get("authors")),
    )


def paper_from_bulk(obj: dict[str, Any]) -> Paper:
    """A bulk-dataset ``papers`` record → :class:`Paper`.

    Bulk records carry no ``paperId``; the Semantic Scholar id is read from the
    ``url``, and a record without one is keyed ``CorpusId:N``.
    """
    corpus_id = _opt_int(obj, "corpusid")
    if corpus_id is None:
        raise ShapeError("'corpusid' must be a number")
    ext = _external_ids(obj.get("externalids"))
    url = _opt_str(obj, "url")
    m = _S2_URL_SHA.search(url or "")
    pid = m.group(1) if m else f"CorpusId:{corpus_id}"
    venue = _opt_str(obj, "venue")
    if venue is None and isinstance(obj.get("journal"), dict):
        venue = _opt_str(obj["journal"], "name")
    return Paper(
        paper_id=pid,
        corpus_id=corpus_id,
        arxiv_id=normalise_arxiv_id(ext.get("ArXiv") or ext.get("arxiv")),
        doi=normalise_doi(ext.get("DOI") or ext.get("doi")),
        title=_opt_str(obj, "title"),
        abstract=_opt_str(obj, "abstract"),
        year=_opt_year(obj, "year"),
        publication_date=_date(obj, "publicationdate"),
        venue=venue,
        citation_count=_opt_int(obj, "citationcount"),
        reference_count=_opt_int(obj, "referencecount"),
        url=url,
        external_ids=ext or None,
        authors=_authors(obj.get("authors")),
    )


def citation_from_bulk(obj: dict[str, Any]) -> tuple[int, int, bool | None, list[str] | None]:
    """A bulk ``citations`` record → (citing corpus id, cited corpus id, influential, intents)."""
    citing = _opt_int(obj, "citingcorpusid")
    cited = _opt_int(obj, "citedcorpusid")
    if citing is None or cited is None:
        raise ShapeError("'citingcorpusid' and 'citedcorpusid' must be numbers")
    infl = obj.get("isinfluential")
    intents = obj.get("intents")
    return citing, cited, (bool(infl) if infl is not None else None), _flat_intents(intents)


def _flat_intents(value: Any) -> list[str] | None:
    if not value:
        return None
    if not isinstance(value, list):
        raise ShapeError("'intents' must be a list")
    flat: list[str] = []
    for v in value:  # bulk records nest one list per context
        for x in v if isinstance(v, list) else [v]:
            if isinstance(x, str) and x not in flat:
                flat.append(x)
    return flat or None


def _nested(record: ParsedRecord, owner: str, value: Any, key: str) -> None:
    """Nested ``references`` (owner cites them) or ``citations`` (they cite owner)."""
    if value is None:
        return
    if not isinstance(value, list):
        raise ShapeError(f"{key!r} must be a list")
    out = record.citations
    if all(type(x) is str and x for x in value):  # the common case: a plain list of ids
        if key == "references":
            out.extend([(owner, x, None, None) for x in value])
        else:
            out.extend([(x, owner, None, None) for x in value])
        return
    wrapper = "citedPaper" if key == "references" else "citingPaper"
    for item in value:
        infl: bool | None = None
        intents: list[str] | None = None
        if isinstance(item, str):
            other = item.strip()
        elif isinstance(item, dict):
            if wrapper in item:  # a /references or /citations page item
                infl = item.get("isInfluential")
                intents = _flat_intents(item.get("intents"))
                item = item[wrapper]
                if not isinstance(item, dict):
                    raise ShapeError(f"{wrapper!r} must be an object")
            pid = item.get("paperId")
            if pid is None:
                record.elided += 1
                continue
            if not isinstance(pid, str):
                raise ShapeError(f"'paperId' in {key!r} must be a string")
            other = pid.strip()
            if item.get("title") is not None:  # a paper object, not just an id
                record.papers.append(paper_from_api(item))
        elif item is None:
            record.elided += 1
            continue
        else:
            raise ShapeError(f"entries of {key!r} must be ids or paper objects")
        if not other:
            record.elided += 1
            continue
        flag = None if infl is None else int(bool(infl))
        text = json.dumps(intents) if intents else None
        if key == "references":
            out.append((owner, other, flag, text))
        else:
            out.append((other, owner, flag, text))


def parse_record(obj: Any) -> ParsedRecord:
    """One decoded JSON line → what it contributes. Raises :class:`ShapeError`."""
    if not isinstance(obj, dict):
        raise ShapeError("expected a JSON object")
    rec = ParsedRecord()
    if "paperId" in obj:
        paper = paper_from_api(obj)
        rec.papers.append(paper)
        _nested(rec, paper.paper_id, obj.get("references"), "references")
        _nested(rec, paper.paper_id, obj.get("citations"), "citations")
    elif "citingcorpusid" in obj or "citedcorpusid" in obj:
        rec.corpus_citations.append(citation_from_bulk(obj))
    elif "corpusid" in obj:
        if "title" not in obj and "abstract" in obj:  # bulk ``abstracts`` dataset
            cid = _opt_int(obj, "corpusid")
            text = _opt_str(obj, "abstract")
            if cid is not None and text:
                rec.abstracts_by_corpus_id[cid] = text
        else:
            rec.papers.append(paper_from_bulk(obj))
    else:
        raise ShapeError("not a Semantic Scholar record (no paperId, corpusid or citingcorpusid)")
    return rec
