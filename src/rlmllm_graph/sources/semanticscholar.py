"""The Semantic Scholar Graph API v1 client: all HTTP of rlmllm-graph lives here.

:class:`S2Client` speaks to three endpoints, with ``httpx`` directly:

- ``POST /paper/batch`` — up to 500 ids a call, metadata and (optionally)
  nested ``references.paperId``; the answer lists the papers in input order,
  ``null`` for ids the API does not know.
- ``GET /paper/{id}/citations`` and ``GET /paper/{id}/references`` — pages of
  ``{offset, next, data}``, at most 1,000 items a page and 9,999 reachable.
- ``GET /paper/{id}`` — one paper (used by baselines and diagnostics only).
- ``GET /snippet/search`` — passages of about 500 words from papers' title,
  abstract and body (no captions, no bibliography), optionally restricted to
  some papers (``paperIds``); the full text of papers arXiv does not have.
- ``GET /paper/search/bulk`` — field queries in the API's boolean syntax, up to
  1,000 papers a page with a continuation ``token`` (:meth:`S2Client.search_bulk`).

Every request is paced (at most one per ``pace`` seconds), and a 429, a 5xx,
a timeout, a dropped connection or a body that is not JSON is retried with
exponential backoff and jitter, honouring ``Retry-After``. After the last
attempt the failure becomes one of the errors of :mod:`rlmllm_graph.errors`
(:class:`ApiUnreachable`, :class:`RateLimited`, :class:`MalformedResponse`,
:class:`SourceError`); a 404 for a paper is :class:`PaperNotFound`.

The API key (``S2_API_KEY``) travels only in the ``x-api-key`` header: it is
never logged, never put in an error message and never stored. A key a header
cannot carry (blanks, control characters, non-ASCII) is refused up front
(:class:`BadInput`, the message does not show it); should any error from the
HTTP layer still quote the key, the endpoints replace it by ``***``. A request
that cannot even be sent (an illegal header or URL) fails at once: it is not a
network failure and is not retried. The API URL, pace, back-off and timeout are
checked up front as well (no ``inf``, no ``nan``).

We do not use the ``semanticscholar`` package (0.12.0) here: it drops the API
key on citation and reference calls, turns 502/503/401 into empty results,
crashes on ``"data": null`` and retries only 429 on a fixed schedule.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

from ..config import (
    DEFAULT_API_URL,
    DEFAULT_BACKOFF,
    DEFAULT_TIMEOUT,
    PACE_WITH_KEY,
    PACE_WITHOUT_KEY,
    check_api_key,
    check_api_url,
)
from ..errors import (
    ApiUnreachable,
    BadInput,
    MalformedResponse,
    PaperNotFound,
    RateLimited,
    RlmGraphError,
    SourceError,
)
from ..records import INT64_MAX
from .pacing import PacedClient, check_seconds, retry_after_seconds

__all__ = [
    "LINK_FIELDS",
    "MAX_BATCH",
    "MAX_PAGE",
    "MAX_REACHABLE",
    "MAX_SNIPPETS",
    "NESTED_BUDGET",
    "NESTED_PER_PAPER",
    "PACE_WITH_KEY",
    "PACE_WITHOUT_KEY",
    "PAPER_FIELDS",
    "SEARCH_PAGE",
    "Link",
    "LinkPage",
    "S2Client",
    "SearchPage",
]

log = logging.getLogger(__name__)

MAX_BATCH = 500  # ids per POST /paper/batch
MAX_PAGE = 1000  # items per /citations or /references page
MAX_REACHABLE = 9999  # offset + limit never beyond this on /citations and /references
NESTED_BUDGET = 9999  # nested citations/references per batch response, all papers together
NESTED_PER_PAPER = 1000  # a nested list this long may have been cut: page it instead
MAX_SNIPPETS = 1000  # snippets per /snippet/search call
SEARCH_PAGE = 1000  # papers per /paper/search/bulk page (the API's fixed page size)

# What we store of a paper (see store.PAPER_COLUMNS); ``journal`` fills a missing venue.
PAPER_FIELDS = (
    "paperId",
    "corpusId",
    "externalIds",
    "title",
    "abstract",
    "year",
    "publicationDate",
    "venue",
    "journal",
    "citationCount",
    "referenceCount",
    "url",
    "authors",
)
# Per item of a /citations or /references page: the other paper's id and reference
# count (to pack later batches under the nested budget) and the edge's attributes.
LINK_FIELDS = ("paperId", "referenceCount", "isInfluential", "intents")

_RETRY_STATUS = {429, 500, 502, 503, 504}


@dataclass(frozen=True)
class Link:
    """One item of a /citations or /references page: the other paper and the edge."""

    paper_id: str | None  # None: the API elided the paper (``paperId: null``)
    is_influential: bool | None = None
    intents: list[str] | None = None
    reference_count: int | None = None


@dataclass
class LinkPage:
    """One page of /citations or /references."""

    offset: int
    next: int | None  # offset of the next page; None on the last page
    links: list[Link] = field(default_factory=list)
    data_null: bool = False  # the API answered ``"data": null``


@dataclass
class SearchPage:
    """One page of ``/paper/search/bulk``."""

    total: int  # hits of the whole query, as the API counts them
    token: str | None  # pass back for the next page; None on the last page
    papers: list[dict[str, Any]] = field(default_factory=list)


def _key_redacted(method: Callable[..., Any]) -> Callable[..., Any]:
    """Whatever an endpoint raises, the API key in its message is replaced by ``***`` (defence in depth)."""

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except Exception as exc:
            key = str(self._headers.get("x-api-key") or "")
            forms = sorted({f for f in (key, key.strip(), repr(key)[1:-1]) if len(f) >= 4}, key=len, reverse=True)
            if not forms or not any(f in str(exc) for f in forms):
                raise
            message = str(exc)
            for f in forms:
                message = message.replace(f, "***")
            if isinstance(exc, RlmGraphError):
                exc.args = (message,)
                exc.__cause__ = exc.__context__ = None
                exc.__suppress_context__ = True
                if str(exc) == message:
                    raise
            raise SourceError(message, url=getattr(exc, "url", None)) from None

    return wrapper


class S2Client(PacedClient):

    """A client for the Semantic Scholar Graph API v1 over an (injectable) ``httpx.Client``.

    Parameters
    ----------
    api_url:
        The API root (``https://api.semanticscholar.org``); ``/graph/v1`` is added.
    api_key:
        Sent as ``x-api-key``. Never logged or stored.
    http:
        An ``httpx.Client`` to use (tests may pass one with a mock transport).
    pace:
        Minimum seconds between two requests. Default: :data:`PACE_WITH_KEY`
        with a key, :data:`PACE_WITHOUT_KEY` without; 0 in tests.
    max_attempts:
        Attempts per request for 429, 5xx, timeouts and malformed bodies.
    connect_attempts:
        Attempts when the server cannot be reached at all.
    backoff, backoff_max:
        The n-th retry waits about ``backoff * 2**(n-1)`` seconds (with jitter),
        at most ``backoff_max``; a ``Retry-After`` header wins (up to
        ``retry_after_max``).
    """

    retry_after_jitter = 0.25  # a little random extra on Retry-After: clients throttled together do not return together

    def __init__(
        self,
        api_url: str = DEFAULT_API_URL,
        *,
        api_key: str | None = None,
        http: httpx.Client | None = None,
        timeout: float | httpx.Timeout | None = None,
        pace: float | None = None,
        max_attempts: int = 7,
        connect_attempts: int = 3,
        backoff: float = DEFAULT_BACKOFF,
        backoff_max: float = 60.0,
        retry_after_max: float = 300.0,
        sleep: Callable[[float], None] = time.sleep,
        seed: int | None = None,
    ) -> None:
        root = check_api_url(DEFAULT_API_URL if api_url is None else api_url)
        try:
            httpx.URL(root + "/graph/v1")
        except httpx.InvalidURL as exc:
            raise BadInput(
                f"not an API URL: {api_url!r} ({exc}; expected http(s)://host, e.g. {DEFAULT_API_URL})"
            ) from None
        check_seconds(timeout, pace=pace, backoff=backoff, backoff_max=backoff_max, retry_after_max=retry_after_max)
        api_key = check_api_key(api_key)
        self.api_url = root
        self.base = root + "/graph/v1"
        self._headers = {"x-api-key": api_key} if api_key else {}
        if timeout is None:
            timeout = httpx.Timeout(DEFAULT_TIMEOUT, connect=10.0)
        self.timeout = timeout
        self.max_attempts = max(1, max_attempts)
        self.connect_attempts = max(1, connect_attempts)
        self._init_pacing(
            http,
            lambda: httpx.Client(timeout=timeout, headers={"user-agent": "rlmllm-graph"}),
            pace=(PACE_WITH_KEY if api_key else PACE_WITHOUT_KEY) if pace is None else pace,
            backoff=backoff, backoff_max=backoff_max, retry_after_max=retry_after_max, sleep=sleep, seed=seed,
        )

    def __enter__(self) -> S2Client:
        return self

    def __repr__(self) -> str:  # never shows the key
        return f"S2Client({self.api_url!r}, key={'yes' if self._headers else 'no'}, pace={self.pace})"

    # -- endpoints ----------------------------------------------------------------------------

    @_key_redacted
    def fetch_batch(self, ids: Sequence[str], *, fields: Sequence[str] = PAPER_FIELDS) -> list[dict[str, Any] | None]:
        """``POST /paper/batch``: one request for up to :data:`MAX_BATCH` ids.

        Returns one entry per id, in order: the paper object, or None for an id
        the API does not know.
        """
        ids = list(ids)
        if not ids:
            return []
        if len(ids) > MAX_BATCH:
            raise ValueError(f"at most {MAX_BATCH} ids per batch request, not {len(ids)}")
        body = self._request(
            "POST", "/paper/batch", params={"fields": ",".join(fields)}, json_body={"ids": ids}
        )
        if not isinstance(body, list) or len(body) != len(ids):
            raise MalformedResponse(
                f"the Semantic Scholar API answered POST {self.base}/paper/batch with "
                f"{_describe(body)} instead of a list of {len(ids)} papers",
                url=f"{self.base}/paper/batch",
            )
        for item in body:
            if item is not None and not (isinstance(item, dict) and isinstance(item.get("paperId"), str)):
                raise MalformedResponse(
                    f"the Semantic Scholar API answered POST {self.base}/paper/batch with an entry that is "
                    f"not a paper ({_describe(item)})",
                    url=f"{self.base}/paper/batch",
                )
        return body

    @_key_redacted
    def fetch_paper(self, paper_id: str, *, fields: Sequence[str] = PAPER_FIELDS) -> dict[str, Any]:
        """``GET /paper/{id}``. Raises :class:`PaperNotFound` for an unknown id."""
        body = self._request(
            "GET", f"/paper/{_quote(paper_id)}", params={"fields": ",".join(fields)}, not_found=paper_id
        )
        if not isinstance(body, dict) or not isinstance(body.get("paperId"), str):
            raise MalformedResponse(
                f"the Semantic Scholar API answered GET {self.base}/paper/{paper_id} with {_describe(body)}",
                url=f"{self.base}/paper/{paper_id}",
            )
        return body

    @_key_redacted
    def fetch_citations(
        self, paper_id: str, *, offset: int = 0, limit: int = MAX_PAGE, fields: Sequence[str] = LINK_FIELDS
    ) -> LinkPage:
        """One page of the papers citing ``paper_id`` (``GET /paper/{id}/citations``)."""
        return self._links(paper_id, "citations", "citingPaper", offset, limit, fields)

    @_key_redacted
    def fetch_references(
        self, paper_id: str, *, offset: int = 0, limit: int = MAX_PAGE, fields: Sequence[str] = LINK_FIELDS
    ) -> LinkPage:
        """One page of the papers ``paper_id`` cites (``GET /paper/{id}/references``)."""
        return self._links(paper_id, "references", "citedPaper", offset, limit, fields)

    @_key_redacted
    def search_snippets(self, query: str, *, paper_ids: Sequence[str] = (), limit: int = 100) -> list[dict[str, Any]]:
        """``GET /snippet/search``: the snippets best matching ``query``, from ``paper_ids`` only if given.

        Returns the ``data`` items (``{"snippet": {"text", "snippetKind", "section",
        "snippetOffset", ...}, "score", "paper": {"corpusId", "title", "openAccessInfo", ...}}``);
        an empty list when nothing matches. An unknown paper is :class:`PaperNotFound`.
        """
        params = {"query": query, "limit": str(max(1, min(limit, MAX_SNIPPETS)))}
        if paper_ids:
            params["paperIds"] = ",".join(paper_ids)
        url = f"{self.base}/snippet/search"
        body = self._request("GET", "/snippet/search", params=params, not_found=",".join(paper_ids) or query)
        if not isinstance(body, dict):
            raise MalformedResponse(f"the Semantic Scholar API answered GET {url} with {_describe(body)}", url=url)
        data = body.get("data")
        if data is None:
            return []
        if not isinstance(data, list) or not all(isinstance(d, dict) for d in data):
            raise MalformedResponse(f"the Semantic Scholar API answered GET {url} with data={_describe(data)}", url=url)
        return data

    @_key_redacted
    def search_bulk(
        self,
        query: str,
        *,
        fields: Sequence[str] = PAPER_FIELDS,
        year: str | None = None,
        publication_date_or_year: str | None = None,
        fields_of_study: str | Sequence[str] | None = None,
        sort: str | None = None,
        token: str | None = None,
    ) -> SearchPage:
        """One page of ``GET /paper/search/bulk``: papers matching ``query`` (the API's boolean syntax).

        Up to :data:`SEARCH_PAGE` papers a page; pass the returned ``token`` back for
        the next page (None on the last). Filters: ``year`` (``2025``, ``2023-``,
        ``2020-2024``), ``publication_date_or_year`` (``2025-03-01:2025-06-30``),
        ``fields_of_study`` (``Computer Science`` or a list); ``sort`` as the API
        takes it (``publicationDate:desc``). No nested references or citations.
        A query or filter the API refuses (HTTP 400) is :class:`BadInput`.
        """
        params = {"query": query, "fields": ",".join(fields)}
        if isinstance(fields_of_study, (list, tuple)):
            fields_of_study = ",".join(fields_of_study)
        for name, value in (
            ("year", year), ("publicationDateOrYear", publication_date_or_year),
            ("fieldsOfStudy", fields_of_study), ("sort", sort), ("token", token),
        ):
            if value:
                params[name] = str(value)
        url = f"{self.base}/paper/search/bulk"
        body = self._request("GET", "/paper/search/bulk", params=params, refused=f"the search {query!r}")
        if not isinstance(body, dict):
            raise MalformedResponse(f"the Semantic Scholar API answered GET {url} with {_describe(body)}", url=url)
        data = body.get("data")
        data = [] if data is None else data  # zero hits may come without a data list
        nxt = body.get("token")
        total = body.get("total")
        if not isinstance(data, list) or (nxt is not None and not isinstance(nxt, str)):
            raise MalformedResponse(
                f"the Semantic Scholar API answered GET {url} with data={_describe(data)}, token={nxt!r}", url=url
            )
        papers: list[dict[str, Any]] = []
        for item in data:
            if not isinstance(item, dict) or not (item.get("paperId") is None or isinstance(item["paperId"], str)):
                raise MalformedResponse(
                    f"the Semantic Scholar API answered GET {url} with an entry that is not a paper "
                    f"({_describe(item)})",
                    url=url,
                )
            if item.get("paperId"):  # a hit without an id cannot be stored or linked
                papers.append(item)
        return SearchPage(total=total if _is_count(total) else len(papers), token=nxt or None, papers=papers)

    # -- internals ----------------------------------------------------------------------------

    def _links(
        self, paper_id: str, kind: str, wrapper: str, offset: int, limit: int, fields: Sequence[str]
    ) -> LinkPage:
        limit = min(limit, MAX_PAGE, MAX_REACHABLE - offset)
        if limit <= 0:
            return LinkPage(offset=offset, next=None)
        path = f"/paper/{_quote(paper_id)}/{kind}"
        url = self.base + path
        body = self._request(
            "GET",
            path,
            params={"fields": ",".join(fields), "offset": str(offset), "limit": str(limit)},
            not_found=paper_id,
        )
        if not isinstance(body, dict):
            raise MalformedResponse(f"the Semantic Scholar API answered GET {url} with {_describe(body)}", url=url)
        data = body.get("data")
        nxt = body.get("next")
        if nxt is not None and (not isinstance(nxt, int) or isinstance(nxt, bool) or nxt <= offset):
            raise MalformedResponse(f"the Semantic Scholar API answered GET {url} with next={nxt!r}", url=url)
        if data is None:  # some papers answer 200 with "data": null: nothing to read
            return LinkPage(offset=offset, next=None, data_null=True)
        if not isinstance(data, list):
            raise MalformedResponse(f"the Semantic Scholar API answered GET {url} with data={_describe(data)}", url=url)
        links: list[Link] = []
        for item in data:
            other = item.get(wrapper) if isinstance(item, dict) else None
            if not isinstance(other, dict):
                raise MalformedResponse(
                    f"the Semantic Scholar API answered GET {url} with an item without {wrapper!r}", url=url
                )
            pid = other.get("paperId")
            if pid is not None and not isinstance(pid, str):
                raise MalformedResponse(f"the Semantic Scholar API answered GET {url} with paperId={pid!r}", url=url)
            infl = item.get("isInfluential")
            intents = item.get("intents")
            rc = other.get("referenceCount")
            links.append(
                Link(
                    paper_id=(pid.strip() or None) if pid else None,
                    is_influential=bool(infl) if isinstance(infl, bool) else None,
                    intents=[str(i) for i in intents] if isinstance(intents, list) and intents else None,
                    reference_count=rc if _is_count(rc) else None,
                )
            )
        if nxt is not None and nxt >= MAX_REACHABLE:
            nxt = None
        return LinkPage(offset=offset, next=nxt, links=links)

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        json_body: Any = None,
        not_found: str | None = None,
        refused: str | None = None,
    ) -> Any:
        """One request with retries; ``refused`` names what a 400 refuses (then :class:`BadInput`)."""
        url = self.base + path
        where = f"{method} {url}"
        attempt = 0
        while True:
            attempt += 1
            self._wait_for_pace()
            self.requests += 1
            retry_after: float | None = None
            detail: str | None = None
            try:
                resp = self.http.request(method, url, params=params, json=json_body, headers=self._headers)
            except (httpx.LocalProtocolError, httpx.UnsupportedProtocol, httpx.InvalidURL, UnicodeError) as exc:
                # our own request cannot be sent (a header or URL HTTP cannot carry): retrying cannot help
                raise SourceError(
                    f"cannot send {where}: {type(exc).__name__}: {exc}; check --api-url and S2_API_KEY", url=url
                ) from None
            except httpx.TimeoutException:
                problem = "timeout"
            except httpx.ConnectError as exc:
                problem = "connect"
                detail = str(exc) or type(exc).__name__
            except httpx.TransportError as exc:  # the connection dropped mid-answer
                problem = "network"
                detail = str(exc) or type(exc).__name__
            else:
                status = resp.status_code
                if status == 200:
                    try:
                        return resp.json()
                    except ValueError:
                        problem = "malformed"
                elif status in _RETRY_STATUS:
                    problem = str(status)
                    retry_after = retry_after_seconds(resp.headers.get("retry-after"))
                elif status == 404 and not_found is not None:
                    raise PaperNotFound(not_found)
                elif status == 400 and refused is not None:
                    raise BadInput(f"Semantic Scholar refused {refused}: {_error_text(resp)}")
                else:
                    raise self._http_error(resp, where, url)
            limit = self.connect_attempts if problem == "connect" else self.max_attempts
            if attempt >= limit:
                raise self._give_up(problem, where, url, attempt, detail)
            delay = self._delay(attempt, retry_after)
            self.retries += 1
            log.info("%s: %s (attempt %d of %d); retrying in %.2fs", where, problem, attempt, limit, delay)
            self._sleep(delay)

    def _http_error(self, resp: httpx.Response, where: str, url: str) -> SourceError:
        status = resp.status_code
        try:
            body = resp.json()
            msg = body.get("error") or body.get("message") if isinstance(body, dict) else None
        except ValueError:
            msg = None
        msg = f": {msg}" if msg else ""
        if status in (401, 403):
            hint = (
                "; the API key in S2_API_KEY was rejected: check it" if self._headers
                else "; set S2_API_KEY if you have a key"
            )
            return SourceError(f"the Semantic Scholar API refused {where} (HTTP {status}{msg}){hint}", url=url)
        return SourceError(f"the Semantic Scholar API rejected {where} (HTTP {status}{msg})", url=url)

    def _give_up(self, problem: str, where: str, url: str, attempts: int, detail: str | None) -> SourceError:
        if problem == "connect":
            return ApiUnreachable(
                f"cannot reach the Semantic Scholar API at {url} ({detail}); check --api-url (or S2_API_URL) "
                "and your network, and set S2_API_KEY if you have a key",
                url=url,
            )
        if problem in ("timeout", "network"):
            what = "did not answer in time" if problem == "timeout" else f"dropped the connection ({detail})"
            return ApiUnreachable(
                f"the Semantic Scholar API at {url} {what} {attempts} times; try again later (refresh resumes "
                "where it stopped), check --api-url, or set S2_API_KEY",
                url=url,
            )
        if problem == "429":
            return RateLimited(
                f"the Semantic Scholar API kept answering 429 Too Many Requests to {where} after {attempts} "
                "attempts; set S2_API_KEY for a dedicated rate limit, or run the command again later (it resumes)",
                url=url,
            )
        if problem == "malformed":
            return MalformedResponse(
                f"the Semantic Scholar API answered {where} with a body that is not JSON, {attempts} times", url=url
            )
        return SourceError(
            f"the Semantic Scholar API kept failing on {where} (HTTP {problem}, {attempts} attempts); "
            "run the command again later (it resumes)",
            url=url,
        )


def _error_text(resp: httpx.Response) -> str:
    """The API's own words for a refusal (``{"error": ...}`` or ``{"message": ...}``), on one line."""
    try:
        body = resp.json()
    except ValueError:
        body = None
    msg = (body.get("error") or body.get("message")) if isinstance(body, dict) else None
    return " ".join(str(msg or f"HTTP {resp.status_code}").split())[:300]


def _quote(paper_id: str) -> str:
    # DOIs hold "/": the API takes them unescaped in the path, as in /paper/DOI:10.1/x/references
    return quote(paper_id, safe=":/")


def _is_count(value: Any) -> bool:
    """An int a count can be (a hint that is not one is treated as unknown)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= INT64_MAX


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, (dict, list)):
        return f"a JSON {type(value).__name__} ({str(value)[:80]})"
    return f"{type(value).__name__} {str(value)[:80]!r}"
