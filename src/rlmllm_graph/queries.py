"""Field queries: Semantic Scholar bulk searches that find the field beyond the seeds' neighbours.

A :class:`FieldQuery` is one query in the API's boolean syntax (``+`` AND, ``|``
OR, ``-`` NOT, ``"phrase"``, ``prefix*``, ``( )``) with its filters. The default
set ships as package data (``rlmllm_graph/data/queries.txt``, commented); a
file in the same format replaces it (:func:`load_queries`), and single queries
can be added (:func:`query_set`).

The file format: one query a line; ``#`` starts a comment line; ``@year 2023-``,
``@publication-date 2025-03:``, ``@fields-of-study Computer Science`` and
``@sort publicationDate:desc`` set a filter for the queries below them (the
name alone clears it).

>>> [q.query for q in parse_queries("@year 2024-\\n(GRPO | PPO) + video*\\n")]
['(GRPO | PPO) + video*']
>>> parse_queries("@year 2024-\\nGRPO\\n")[0].filters
{'year': '2024-'}
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from .errors import BadInput

__all__ = [
    "DEFAULT_QUERY_PAGES",
    "DEFAULT_QUERY_YEAR",
    "FILTERS",
    "FieldQuery",
    "check_query",
    "default_queries",
    "default_queries_text",
    "format_queries",
    "load_queries",
    "parse_queries",
    "query_set",
]

DEFAULT_QUERY_PAGES = 10  # pages of 1,000 hits read per query at most (the request budget of a query)
DEFAULT_QUERY_YEAR = "2023-"  # the year filter of a query given with --query
MAX_QUERY_CHARS = 2000

# file directive -> the API's parameter name
FILTERS = {
    "year": "year",
    "publication-date": "publicationDateOrYear",
    "fields-of-study": "fieldsOfStudy",
    "sort": "sort",
}
_YEAR = re.compile(r"^(\d{4})?(-(\d{4})?)?$")
_DATE = r"\d{4}(-\d{2}(-\d{2})?)?"
_DATE_RANGE = re.compile(rf"^({_DATE})?(:({_DATE})?)?$")
_SORT = re.compile(r"^(paperId|publicationDate|citationCount)(:(asc|desc))?$")


@dataclass(frozen=True)
class FieldQuery:
    """One bulk-search query and its filters (keys: the API's parameter names)."""

    query: str
    filters: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"query": self.query, "filters": dict(sorted(self.filters.items()))}

    def search_args(self) -> dict[str, str | None]:
        """Keyword arguments for :meth:`~rlmllm_graph.sources.S2Client.search_bulk`."""
        f = self.filters
        return {
            "year": f.get("year"),
            "publication_date_or_year": f.get("publicationDateOrYear"),
            "fields_of_study": f.get("fieldsOfStudy"),
            "sort": f.get("sort"),
        }


def check_query(query: str) -> str:
    """The query, stripped; raises BadInput for one the API cannot parse (no term, unbalanced ( ) or ")."""
    q = " ".join(query.split())
    if not q:
        raise BadInput("a field query is empty")
    if len(q) > MAX_QUERY_CHARS:
        raise BadInput(f"a field query is {len(q)} characters long, at most {MAX_QUERY_CHARS}: {q[:60]!r}...")
    if q.count('"') % 2:
        raise BadInput(f"field query {q!r}: a phrase is not closed (odd number of \")")
    depth = 0
    outside = re.sub(r'"[^"]*"', '"x"', q)  # parentheses inside a phrase are words
    for ch in outside:
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth < 0:
            break
    if depth:
        raise BadInput(f"field query {q!r}: unbalanced parentheses")
    if not re.search(r"\w", outside):
        raise BadInput(f"field query {q!r}: no word to search for")
    if re.search(r"[+|]\s*(\)|$)|(^|\()\s*[+|]|[+|]\s*[+|]", outside):
        raise BadInput(f"field query {q!r}: an operator (+ or |) without a term on one side")
    return q


def check_filter(name: str, value: str) -> str:
    """A filter value in the API's format (``year``, ``publicationDateOrYear``, ``sort``); raises BadInput."""
    v = value.strip()
    if name == "year" and not (_YEAR.match(v) and re.search(r"\d", v)):
        raise BadInput(f"year filter {value!r}: expected a year or a range such as 2025, 2020-2024, 2023- or -2022")
    if name == "publicationDateOrYear" and not (_DATE_RANGE.match(v) and re.search(r"\d", v)):
        raise BadInput(
            f"publication date filter {value!r}: expected a date range such as 2025-03-01:2025-06-30 or 2025-03:"
        )
    if name == "sort" and not _SORT.match(v):
        raise BadInput(f"sort {value!r}: expected paperId, publicationDate or citationCount, then :asc or :desc")
    if name == "fieldsOfStudy" and not v.replace(",", "").strip():
        raise BadInput("fields-of-study filter is empty")
    return v


def parse_queries(text: str, *, source: str = "the query file") -> list[FieldQuery]:
    """Queries of a query file's text (see the module docstring); raises BadInput naming the line."""
    out: list[FieldQuery] = []
    filters: dict[str, str] = {}
    for n, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            if line.startswith("@"):
                name, _, value = line[1:].partition(" ")
                if name not in FILTERS:
                    raise BadInput(f"unknown filter @{name} (known: {', '.join('@' + k for k in FILTERS)})")
                key = FILTERS[name]
                if value.strip():
                    filters[key] = check_filter(key, value)
                else:
                    filters.pop(key, None)
                continue
            out.append(FieldQuery(check_query(line), dict(filters)))
        except BadInput as exc:
            raise BadInput(f"{source}, line {n}: {exc}") from None
    return out


def format_queries(queries: Sequence[FieldQuery]) -> str:
    """Queries in the query-file format (what :func:`parse_queries` reads back)."""
    names = {v: k for k, v in FILTERS.items()}
    lines = ["# Field queries for `rlmllm-graph refresh --queries-file` (syntax: see the default query file)"]
    current: dict[str, str] = {}
    for q in queries:
        for key in sorted(set(current) | set(q.filters)):
            if current.get(key) != q.filters.get(key):
                lines.append(f"@{names[key]} {q.filters.get(key, '')}".rstrip())
        current = dict(q.filters)
        lines.append(q.query)
    return "\n".join(lines) + "\n"


def default_queries_text() -> str:
    """The text of the default query file shipped with the package."""
    return resources.files("rlmllm_graph").joinpath("data/queries.txt").read_text(encoding="utf-8")


def default_queries() -> list[FieldQuery]:
    """The default field queries (RL-based reasoning in multimodal LLMs)."""
    return parse_queries(default_queries_text(), source="the default queries")


def load_queries(path: str | Path) -> list[FieldQuery]:
    """The queries of a file in the query-file format; raises BadInput for a missing or malformed file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"cannot read the query file {p}: {getattr(exc, 'strerror', None) or exc}") from None
    return parse_queries(text, source=str(p))


def query_set(
    extra: Sequence[str] = (),
    *,
    defaults: bool = True,
    file: str | Path | None = None,
    year: str | None = None,
) -> list[FieldQuery]:
    """The queries a refresh runs: the file's (or the defaults', unless ``defaults`` is false) and ``extra``.

    ``extra`` queries take the year filter :data:`DEFAULT_QUERY_YEAR`. ``year``,
    when given, replaces the year filter of every query (``"any"``: no year filter).
    Duplicates (same text and filters) are run once.
    """
    queries: list[FieldQuery] = []
    if file is not None:
        queries += load_queries(file)
    elif defaults:
        queries += default_queries()
    queries += [FieldQuery(check_query(q), {"year": DEFAULT_QUERY_YEAR}) for q in extra]
    if year is not None:
        y = year.strip()
        if y.lower() == "any":
            queries = [FieldQuery(q.query, {k: v for k, v in q.filters.items() if k != "year"}) for q in queries]
        else:
            y = check_filter("year", y)
            queries = [FieldQuery(q.query, {**q.filters, "year": y}) for q in queries]
    unique: list[FieldQuery] = []
    for q in queries:
        if q not in unique:
            unique.append(q)
    return unique
