"""A fake Semantic Scholar Graph API v1: a real HTTP server on 127.0.0.1, started in a thread.

It answers with the shapes of the real API (see ../shared/data/s2_examples):

- ``POST /graph/v1/paper/batch``: at most 500 ids (400 past that), papers in
  input order with ``null`` for unknown ids, nested ``references``/``citations``
  lists under a budget of 9,999 entries per response — once spent, later papers
  silently get empty lists.
- ``GET /graph/v1/paper/{id}/citations`` and ``/references``: ``{offset, next,
  data}`` pages, ``next`` absent on the last page, ``limit`` at most 1,000, at
  most 9,999 items reachable; elided papers come as ``paperId: null``; a paper
  can be set to answer ``"data": null``.
- ``GET /graph/v1/paper/{id}``; 404 ``{"error": "Paper with id … not found"}``.
- Unknown fields: 400 ``{"error": "Unrecognized or unsupported fields: […]"}``.
- ``GET /graph/v1/paper/search/bulk``: the boolean query syntax (parsed for
  real, matched against title and abstract with stemming), ``{total, token,
  data}`` pages of ``search_page`` papers (1,000 by default), the filters
  ``year``, ``publicationDateOrYear`` and ``fieldsOfStudy``, ``sort``; 400 for an
  unparseable query, an unknown parameter or filter value; ``{"total": 0,
  "data": []}`` when nothing matches.

Faults are injected by a plan (``faults=every(4, [...])``): 429 with and
without ``Retry-After``, 5xx, slow answers (past the client's timeout),
malformed JSON, dropped connections. ``latency`` delays every answer, and
every request is logged (``server.log``) for counting. ``on_request`` is called
with the request number before each answer (the kill tests use it).

Also here: generators of synthetic citation graphs, and a loader that serves
``corpus.jsonl`` as the API.
"""

from __future__ import annotations

import hashlib
import json
import random
import socket
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

MAX_BATCH = 500
MAX_PAGE = 1000
MAX_REACHABLE = 9999
NESTED_BUDGET = 9999
SEARCH_PAGE = 1000
SEARCH_PARAMS = {
    "query", "fields", "token", "year", "publicationDateOrYear", "fieldsOfStudy", "sort", "venue",
    "minCitationCount", "publicationTypes", "openAccessPdf",
}
FIELDS_OF_STUDY = {
    "Computer Science", "Medicine", "Chemistry", "Biology", "Materials Science", "Physics", "Geology",
    "Psychology", "Art", "History", "Geography", "Sociology", "Business", "Political Science", "Economics",
    "Philosophy", "Mathematics", "Engineering", "Environmental Science", "Agricultural and Food Sciences",
    "Education", "Law", "Linguistics",
}

PAPER_FIELDS = {
    "paperId", "corpusId", "externalIds", "title", "abstract", "year", "publicationDate", "venue", "journal",
    "citationCount", "referenceCount", "influentialCitationCount", "url", "authors", "isOpenAccess",
    "fieldsOfStudy", "publicationTypes", "publicationVenue",
}
NESTED_FIELDS = {"references", "citations", "references.paperId", "citations.paperId"}
EDGE_FIELDS = {"isInfluential", "intents", "contexts", "contextsWithIntent"}


@dataclass
class FakePaper:
    paper_id: str
    title: str | None = None
    abstract: str | None = None
    year: int | None = None
    publication_date: str | None = None
    venue: str | None = None
    arxiv: str | None = None
    doi: str | None = None
    corpus_id: int | None = None
    authors: list[dict[str, Any]] = field(default_factory=list)
    references: list[str | None] = field(default_factory=list)  # None: a reference S2 could not resolve
    elided_citers: int = 0  # citers listed with paperId null
    data_null: bool = False  # /citations and /references answer "data": null
    citation_count: int | None = None  # overrides the computed count
    reference_count: int | None = None  # overrides len(references)
    fields_of_study: list[str] = field(default_factory=list)


def _h(*parts: str) -> int:
    return int(hashlib.sha1("|".join(parts).encode()).hexdigest()[:8], 16)


def every(n: int, kinds: Sequence[str], *, start: int = 0) -> Callable[[int, dict[str, Any]], str | None]:
    """A fault plan: request number ``start + n``, ``start + 2n``, … fails, cycling through ``kinds``."""

    def plan(i: int, req: dict[str, Any]) -> str | None:
        if i > start and (i - start) % n == 0:
            return kinds[((i - start) // n - 1) % len(kinds)]
        return None

    return plan


ALL_FAULTS = ("500", "429", "timeout", "429-retry-after:0", "malformed", "503", "reset", "502")


class FakeS2:
    """The fake API over a dict of :class:`FakePaper`. Use as a context manager, or start()/stop()."""

    def __init__(
        self,
        papers: Iterable[FakePaper],
        *,
        latency: float = 0.0,
        faults: Callable[[int, dict[str, Any]], str | None] | None = None,
        slow_seconds: float = 1.0,
        nested_budget: int = NESTED_BUDGET,
        on_request: Callable[[int, dict[str, Any]], None] | None = None,
        search_page: int = SEARCH_PAGE,
    ) -> None:
        self.papers: dict[str, FakePaper] = {}
        self.search_page = search_page
        self.latency = latency
        self.faults = faults
        self.slow_seconds = slow_seconds
        self.nested_budget = nested_budget
        self.on_request = on_request
        self.log: list[dict[str, Any]] = []
        self.snippets: dict[str, list[dict[str, Any]]] = {}  # paper id -> /snippet/search data items
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.set_papers(papers)

    # -- the corpus ---------------------------------------------------------------------------

    def set_papers(self, papers: Iterable[FakePaper]) -> None:
        """Replace the corpus (e.g. to simulate new citers between two refreshes)."""
        self.papers = {p.paper_id: p for p in papers}
        self._docs: dict[str, _Doc] = {}
        self._hits: dict[str, list[str]] = {}
        self.citers: dict[str, list[str]] = {pid: [] for pid in self.papers}
        for p in self.papers.values():
            for r in p.references:
                if r is not None and r in self.citers:
                    self.citers[r].append(p.paper_id)
        for lst in self.citers.values():
            lst.reverse()  # newest first, as the API lists them
        self.alias: dict[str, str] = {}
        for p in self.papers.values():
            if p.arxiv:
                self.alias[f"ARXIV:{p.arxiv}".lower()] = p.paper_id
            if p.doi:
                self.alias[f"DOI:{p.doi}".lower()] = p.paper_id
                self.alias[p.doi.lower()] = p.paper_id
            if p.corpus_id is not None:
                self.alias[f"CorpusId:{p.corpus_id}".lower()] = p.paper_id

    def lookup(self, ref: str) -> FakePaper | None:
        if ref in self.papers:
            return self.papers[ref]
        pid = self.alias.get(ref.lower())
        return self.papers.get(pid) if pid else None

    def citation_count(self, p: FakePaper) -> int:
        if p.citation_count is not None:
            return p.citation_count
        return len(self.citers.get(p.paper_id, [])) + p.elided_citers

    def reference_count(self, p: FakePaper) -> int:
        return p.reference_count if p.reference_count is not None else len(p.references)

    def paper_json(self, p: FakePaper, fields: set[str]) -> dict[str, Any]:
        full: dict[str, Any] = {
            "paperId": p.paper_id,
            "externalIds": {
                k: v for k, v in (("ArXiv", p.arxiv), ("DOI", p.doi), ("CorpusId", p.corpus_id)) if v is not None
            },
            "corpusId": p.corpus_id,
            "url": f"https://www.semanticscholar.org/paper/{p.paper_id}",
            "title": p.title,
            "abstract": p.abstract,
            "venue": p.venue or "",
            "journal": {"name": p.venue} if p.venue else None,
            "year": p.year,
            "referenceCount": self.reference_count(p),
            "citationCount": self.citation_count(p),
            "influentialCitationCount": 0,
            "publicationDate": p.publication_date,
            "authors": [dict(a) for a in p.authors],
            "fieldsOfStudy": list(p.fields_of_study) or None,
        }
        out = {"paperId": p.paper_id}
        for f in fields:
            if f in full:
                out[f] = full[f]
        return out

    # -- the server ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the server first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FakeS2:
        fake = self

        class Handler(_Handler):
            server_fake = fake

        self._server = _Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeS2:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- counting -----------------------------------------------------------------------------

    def count(self, endpoint: str | None = None, *, status: int | None = None) -> int:
        """Requests received: all, or of one endpoint (``batch``, ``citations``, ``references``, ``paper``)."""
        with self._lock:
            return sum(
                1 for r in self.log
                if (endpoint is None or r["endpoint"] == endpoint) and (status is None or r["status"] == status)
            )

    def reset_log(self) -> None:
        with self._lock:
            self.log.clear()

    # -- answering ----------------------------------------------------------------------------

    def handle(self, method: str, raw_path: str, body: bytes) -> tuple[int, dict[str, str], Any]:
        """(status, headers, JSON-able body) for one request, faults aside."""
        parts = urlsplit(raw_path)
        path = unquote(parts.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        fields = {f for f in query.get("fields", "").split(",") if f}
        if path == "/graph/v1/snippet/search":
            return self._snippets(query)
        if not path.startswith("/graph/v1/paper/"):
            return 404, {}, {"error": "Not found"}
        rest = path[len("/graph/v1/paper/"):]
        if method == "GET" and rest == "search/bulk":
            return self.search(parse_qs(parts.query, keep_blank_values=True))
        if method == "POST" and rest == "batch":
            return self._batch(fields, body)
        if method != "GET":
            return 405, {}, {"error": "Method not allowed"}
        for kind in ("citations", "references"):
            if rest.endswith("/" + kind):
                return self._links(rest[: -len(kind) - 1], kind, fields, query)
        bad = fields - PAPER_FIELDS - NESTED_FIELDS
        if bad:
            return 400, {}, {"error": f"Unrecognized or unsupported fields: [{', '.join(sorted(bad))}]"}
        p = self.lookup(rest)
        if p is None:
            return 404, {}, {"error": f"Paper with id {rest} not found"}
        return 200, {}, self.paper_json(p, fields or {"title"})

    def _snippets(self, query: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        """``/snippet/search``: ``query`` required, ``limit`` at most 1,000, ``paperIds`` restricts
        (snippets of the given papers only, best first as the real API ranks them)."""
        if not query.get("query"):
            return 400, {}, {"error": "Missing required parameter: query"}
        try:
            limit = int(query.get("limit", "10"))
        except ValueError:
            return 400, {}, {"error": "Unacceptable query params: [limit]"}
        if not 1 <= limit <= 1000:
            return 400, {}, {"error": "Unacceptable query params: [limit must be <= 1000]"}
        ids = [i for i in query.get("paperIds", "").split(",") if i] or list(self.snippets)
        data = [item for i in ids for item in self.snippets.get(i, [])]
        data.sort(key=lambda d: -float(d.get("score", 0)))
        return 200, {}, {"data": data[:limit], "retrievalVersion": "fake-1"}

    # -- bulk search ----------------------------------------------------------------------------

    def search(self, params: dict[str, list[str]]) -> tuple[int, dict[str, str], Any]:
        """``/paper/search/bulk``: one page of the papers matching the query and filters."""
        unknown = sorted(set(params) - SEARCH_PARAMS)
        if unknown:
            return 400, {}, {"error": f"Unrecognized or unsupported parameters: [{', '.join(unknown)}]"}
        q = {k: v[-1] for k, v in params.items()}
        fields = {f for f in q.get("fields", "").split(",") if f}
        bad = fields - PAPER_FIELDS
        if bad:
            return 400, {}, {"error": f"Unrecognized or unsupported fields: [{', '.join(sorted(bad))}]"}
        if not q.get("query", "").strip():
            return 400, {}, {"error": "Missing required parameter: 'query'"}
        try:
            tree = parse_query(q["query"])
            keep = _search_filters(q)
            order = _search_order(q.get("sort"))
        except (QuerySyntaxError, ValueError) as exc:
            return 400, {}, {"error": str(exc)}
        key = json.dumps([q["query"], [q.get(k) for k in ("year", "publicationDateOrYear", "fieldsOfStudy", "sort")]])
        tag = hashlib.sha1(key.encode()).hexdigest()[:12].upper()
        if key not in self._hits:
            hits = [p for p in self.papers.values() if keep(p) and matches(tree, self._doc(p))]
            self._hits[key] = [p.paper_id for p in sorted(hits, key=order)]
        hits = self._hits[key]
        offset = 0
        if q.get("token"):
            token = q["token"]
            if not (token.startswith(tag) and token[len(tag):].isdigit()):
                return 400, {}, {"error": "Invalid token"}
            offset = int(token[len(tag):])
        if not hits:
            return 200, {}, {"total": 0, "data": []}
        page = hits[offset : offset + self.search_page]
        end = offset + len(page)
        return 200, {}, {
            "total": len(hits),
            "token": f"{tag}{end}" if end < len(hits) else None,
            "data": [self.paper_json(self.papers[pid], fields or {"paperId"}) for pid in page],
        }

    def _doc(self, p: FakePaper) -> _Doc:
        doc = self._docs.get(p.paper_id)
        if doc is None:
            doc = self._docs[p.paper_id] = _Doc.of(f"{p.title or ''} {p.abstract or ''}")
        return doc

    def _batch(self, fields: set[str], body: bytes) -> tuple[int, dict[str, str], Any]:
        bad = fields - PAPER_FIELDS - NESTED_FIELDS
        if bad:
            return 400, {}, {"error": f"Unrecognized or unsupported fields: [{', '.join(sorted(bad))}]"}
        try:
            ids = json.loads(body)["ids"]
            assert isinstance(ids, list)
        except Exception:
            return 400, {}, {"error": "Request body must be a JSON object with an 'ids' list"}
        if len(ids) > MAX_BATCH:
            return 400, {}, {"error": f"Cannot process more than {MAX_BATCH} ids"}
        want_refs = bool(fields & {"references", "references.paperId"})
        want_cites = bool(fields & {"citations", "citations.paperId"})
        used = 0
        spent = False
        out: list[Any] = []
        for ref in ids:
            p = self.lookup(str(ref))
            if p is None:
                out.append(None)
                continue
            obj = self.paper_json(p, fields or {"title"})
            for key, wanted, items in (
                ("references", want_refs, p.references),
                ("citations", want_cites, self.citers.get(p.paper_id, []) + [None] * p.elided_citers),
            ):
                if not wanted:
                    continue
                if spent or used + len(items) > self.nested_budget:
                    spent = True  # the budget is spent: this and every later paper get empty lists
                    obj[key] = []
                else:
                    used += len(items)
                    obj[key] = [{"paperId": x} for x in items]
            out.append(obj)
        return 200, {}, out

    def _links(self, ref: str, kind: str, fields: set[str], query: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        bad = fields - PAPER_FIELDS - EDGE_FIELDS
        if bad:
            return 400, {}, {"error": f"Unrecognized or unsupported fields: [{', '.join(sorted(bad))}]"}
        try:
            offset = int(query.get("offset", "0"))
            limit = int(query.get("limit", "100"))
        except ValueError:
            return 400, {}, {"error": "offset and limit must be integers"}
        if limit > MAX_PAGE or limit < 1 or offset < 0:
            return 400, {}, {"error": "The limit parameter must be between 1 and 1000"}
        if offset + limit > MAX_REACHABLE:
            return 400, {}, {"error": "Requested data for this limit and/or offset is not available"}
        p = self.lookup(ref)
        if p is None:
            return 404, {}, {"error": f"Paper with id {ref} not found"}
        if p.data_null:
            return 200, {}, {"offset": offset, "data": None}
        if kind == "citations":
            others: list[str | None] = self.citers.get(p.paper_id, []) + [None] * p.elided_citers
            wrapper = "citingPaper"
        else:
            others = list(p.references)
            wrapper = "citedPaper"
        paper_fields = (fields - EDGE_FIELDS) or {"paperId", "title"}
        data = []
        for other in others[offset: offset + limit]:
            if other is None or other not in self.papers:
                inner: dict[str, Any] = {"paperId": other, "title": "An unresolved paper"}
                if other is None:
                    inner = {f: None for f in paper_fields} | {"paperId": None, "title": "An unresolved paper"}
                else:
                    inner = {"paperId": other} | {f: None for f in paper_fields if f != "paperId"}
            else:
                inner = self.paper_json(self.papers[other], paper_fields)
            item: dict[str, Any] = {wrapper: inner}
            citing, cited = (other or "", p.paper_id) if kind == "citations" else (p.paper_id, other or "")
            if "isInfluential" in fields:
                item["isInfluential"] = _h(citing, cited, "infl") % 5 == 0
            if "intents" in fields:
                item["intents"] = [["background"], ["methodology"], [], ["result", "background"]][_h(citing, cited) % 4]
            data.append(item)
        page: dict[str, Any] = {"offset": offset, "data": data}
        end = offset + limit
        if end < len(others) and end < MAX_REACHABLE:
            page["next"] = end
        return 200, {}, page


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:  # clients that gave up: not our business
        pass


class _Handler(BaseHTTPRequestHandler):
    server_fake: FakeS2
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        # headers and body go out in two writes: without this, Nagle + delayed ACK add 40 ms a response
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        self._answer("GET")

    def do_POST(self) -> None:
        self._answer("POST")

    def _answer(self, method: str) -> None:
        fake = self.server_fake
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        path = urlsplit(self.path).path
        endpoint = (
            "batch" if path.endswith("/paper/batch") else "snippets" if path.endswith("/snippet/search")
            else "citations" if path.endswith("/citations")
            else "references" if path.endswith("/references") else "search" if path.endswith("/search/bulk")
            else "paper"
        )
        req = {
            "method": method, "path": self.path, "endpoint": endpoint,
            "api_key": self.headers.get("x-api-key"), "ids": None, "status": None, "fault": None,
        }
        if endpoint == "batch":
            try:
                req["batch_ids"] = list(json.loads(body)["ids"])
                req["ids"] = len(req["batch_ids"])
            except Exception:
                pass
        with fake._lock:
            fake.log.append(req)
            n = len(fake.log)
        if fake.on_request is not None:
            fake.on_request(n, req)
        fault = fake.faults(n, req) if fake.faults else None
        req["fault"] = fault
        if fake.latency:
            time.sleep(fake.latency)
        if fault == "reset":
            req["status"] = 0
            self.close_connection = True
            return
        if fault == "timeout":
            time.sleep(fake.slow_seconds)
        if fault and (fault.isdigit() or fault.startswith("429")):
            status = int(fault[:3])
            headers = {}
            if fault.startswith("429-retry-after:"):
                headers["Retry-After"] = fault.split(":", 1)[1]
            msg = {"message": {429: "Too Many Requests", 403: "Forbidden"}.get(status, "Internal Server Error")}
            self._send(status, headers, json.dumps(msg).encode(), req)
            return
        status, headers, obj = fake.handle(method, self.path, body)
        data = json.dumps(obj).encode()
        if fault == "malformed":
            data = data[: max(1, len(data) // 2)]
        self._send(status, headers, data, req)

    def _send(self, status: int, headers: dict[str, str], data: bytes, req: dict[str, Any]) -> None:
        req["status"] = status
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)
        except OSError:  # the client gave up (timeout) and closed the connection
            self.close_connection = True


# -- corpora ------------------------------------------------------------------------------------


def _sha(*parts: str) -> str:
    return hashlib.sha1("|".join(parts).encode()).hexdigest()


def make_graph(
    n_refs: int,
    n_citers: int,
    *,
    refs_per_paper: tuple[int, int] = (5, 30),
    n_outside: int | None = None,
    elided_citers: int = 3,
    elided_refs: int = 2,
    seed_arxiv: str = "2504.21277",
    rng_seed: int = 0,
    prefix: str = "g",
) -> list[FakePaper]:
    """A seed with ``n_refs`` references and ``n_citers`` citers, in a graph with edges among the neighbours.

    Each neighbour cites between ``refs_per_paper`` papers: other neighbours,
    papers outside the neighbourhood, and now and then an unresolved one. Some
    papers have no abstract, some no authors.
    """
    rng = random.Random(rng_seed)
    seed = FakePaper(
        _sha(prefix, "seed"), title="Reinforced MLLM: A Survey on RL-Based Reasoning in Multimodal LLMs",
        abstract="A survey of reinforcement learning for reasoning in multimodal large language models.",
        year=2025, publication_date="2025-04-30", venue="arXiv.org", arxiv=seed_arxiv,
        doi=f"10.48550/arxiv.{seed_arxiv}", corpus_id=1,
        authors=[{"authorId": "a1", "name": "Guanghao Zhou"}, {"authorId": "a2", "name": "Panjia Qiu"}],
    )
    n_outside = n_outside if n_outside is not None else max(10, (n_refs + n_citers) // 4)
    refs = [FakePaper(_sha(prefix, "ref", str(i))) for i in range(n_refs)]
    citers = [FakePaper(_sha(prefix, "citer", str(i))) for i in range(n_citers)]
    outside = [FakePaper(_sha(prefix, "out", str(i))) for i in range(n_outside)]
    seed.references = [r.paper_id for r in refs] + [None] * elided_refs
    seed.elided_citers = elided_citers
    corpus = 2
    for group, (kind, year) in ((refs, ("ref", 2023)), (citers, ("citer", 2025)), (outside, ("out", 2021))):
        for i, p in enumerate(group):
            p.title = f"{kind.title()} paper {i}: reinforcement learning for visual reasoning"
            p.abstract = None if i % 7 == 3 else f"Abstract of {kind} paper {i} about GRPO on images."
            p.year = year - (i % 3)
            p.publication_date = f"{p.year}-{1 + i % 12:02d}-01"
            p.venue = "arXiv.org" if i % 2 else None
            p.arxiv = f"{p.year % 100:02d}{1 + i % 12:02d}.{10000 + i:05d}" if kind != "out" else None
            p.corpus_id = corpus
            corpus += 1
            p.authors = [
                {"authorId": f"au{(i * 7 + k) % 500}", "name": f"Author {(i * 7 + k) % 500}"} for k in range(i % 4)
            ]
    pool_refs = [r.paper_id for r in refs]
    pool_out = [o.paper_id for o in outside]
    for i, c in enumerate(citers):
        k = min(rng.randint(*refs_per_paper), 1 + len(pool_refs) + len(pool_out) + min(i, 200))
        chosen = {seed.paper_id}
        earlier = [x.paper_id for x in citers[max(0, i - 200): i]]
        while len(chosen) < k:
            r = rng.random()
            pool = pool_refs if r < 0.4 else earlier if (r < 0.6 and earlier) else pool_out
            if not pool:
                pool = pool_out
            chosen.add(rng.choice(pool))
        c.references = sorted(chosen) + ([None] if i % 11 == 5 else [])
    for i, p in enumerate(refs):
        k = min(rng.randint(*refs_per_paper) // 2, len(pool_out))
        chosen = set()
        while len(chosen) < k:
            pool = pool_refs[:i] if (rng.random() < 0.5 and i) else pool_out
            chosen.add(rng.choice(pool))
        p.references = sorted(chosen)
    for o in outside:
        o.references = []
    return [seed, *refs, *citers, *outside]


def load_corpus(path: Path) -> list[FakePaper]:
    """Serve ``corpus.jsonl`` (Semantic Scholar API shape) as the fake API's corpus."""
    out = []
    with path.open() as fh:
        for i, line in enumerate(fh):
            if not line.strip():
                continue
            o = json.loads(line)
            ext = o.get("externalIds") or {}
            refs = [r if isinstance(r, str) else (r or {}).get("paperId") for r in o.get("references") or []]
            out.append(
                FakePaper(
                    o["paperId"], title=o.get("title"), abstract=o.get("abstract"), year=o.get("year"),
                    publication_date=o.get("publicationDate"), venue=o.get("venue"), arxiv=ext.get("ArXiv"),
                    doi=ext.get("DOI"), corpus_id=ext.get("CorpusId"), authors=o.get("authors") or [],
                    references=refs,
                )
            )
    return out


def expected_crawl(fake: FakeS2, seeds: Sequence[str]) -> tuple[set[str], set[tuple[str, str]]]:
    """Papers and citation rows a depth-1 crawl of ``seeds`` must store: the seeds, their
    references and citers, and every resolved reference of every one of them."""
    papers: set[str] = set()
    for s in seeds:
        p = fake.lookup(s)
        assert p is not None
        papers.add(p.paper_id)
        papers.update(r for r in p.references if r is not None and r in fake.papers)
        papers.update(fake.citers[p.paper_id])
    edges = {(a, b) for a in papers for b in fake.papers[a].references if b is not None}
    return papers, edges


def snapshot(db: Any) -> dict[str, list[tuple[Any, ...]]]:
    """The content of a database that two equal crawls must share (no timestamps, no crawl bookkeeping)."""
    q = {
        "papers": "SELECT paper_id, corpus_id, arxiv_id, doi, title, abstract, year, publication_date, venue, "
        "citation_count, reference_count, url, external_ids, hop FROM papers ORDER BY paper_id",
        "citations": "SELECT citing_id, cited_id, is_influential, intents FROM citations ORDER BY citing_id, cited_id",
        "authors": "SELECT author_id, name FROM authors ORDER BY author_id",
        "paper_authors": "SELECT paper_id, author_id, position FROM paper_authors ORDER BY paper_id, position",
    }
    return {k: [tuple(r) for r in db.execute(sql).fetchall()] for k, sql in q.items()}


# -- bulk search: the boolean query syntax --------------------------------------------------------
#
# Semantic Scholar's /paper/search/bulk matches stemmed terms against title and abstract with a small
# boolean syntax: ``+`` AND, ``|`` OR, ``-`` NOT (before a term or group), ``"phrase"``, ``prefix*``,
# ``( )`` grouping, ``~N`` (fuzziness or slop: accepted, ignored here); terms side by side are ANDed.
# Here AND binds tighter than OR: ``a b | c`` is ``(a b) | c``. A hyphenated word (vision-language) is a
# phrase of its parts. A query that cannot be parsed is a 400, in the API's error-body shape.


class QuerySyntaxError(ValueError):
    pass


_SUFFIXES = ("ational", "ization", "ations", "ation", "ings", "ing", "ies", "ied", "ers", "er", "es", "ed", "ly", "s")


def stem(word: str) -> str:
    """A small suffix-stripping stemmer (enough that reason, reasons, reasoning and reasoned agree)."""
    w = word.lower()
    for suf in _SUFFIXES:
        if w.endswith(suf) and len(w) - len(suf) >= 3:
            w = w[: -len(suf)]
            if suf in ("ies", "ied"):
                w += "y"
            break
    if len(w) > 3 and w[-1] == w[-2] and w[-1] not in "lsz" and w[-1].isalpha():
        w = w[:-1]  # running -> runn -> run
    return w


def words(text: str | None) -> list[str]:
    """Lower-cased alphanumeric words of a text, in order."""
    out: list[str] = []
    cur: list[str] = []
    for ch in (text or "").lower():
        if ch.isalnum():
            cur.append(ch)
        elif cur:
            out.append("".join(cur))
            cur = []
    if cur:
        out.append("".join(cur))
    return out


@dataclass
class _Doc:
    raw: list[str]
    stems: list[str]
    stem_set: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, text: str) -> _Doc:
        raw = words(text)
        stems = [stem(w) for w in raw]
        return cls(raw, stems, set(stems))


Node = tuple  # ("and", [..]) | ("or", [..]) | ("not", n) | ("term", stem) | ("prefix", p) | ("phrase", [stems])
#              | ("phrase-prefix", [stems], p)


def _tokens(query: str) -> list[tuple[str, str]]:
    toks: list[tuple[str, str]] = []
    i, n = 0, len(query)
    while i < n:
        ch = query[i]
        if ch.isspace():
            i += 1
        elif ch in "()|+":
            toks.append((ch, ch))
            i += 1
        elif ch == "-" and (i + 1 < n and not query[i + 1].isspace()):
            toks.append(("-", "-"))
            i += 1
        elif ch == '"':
            j = query.find('"', i + 1)
            if j < 0:
                raise QuerySyntaxError(f"unterminated phrase at character {i + 1}")
            toks.append(("phrase", query[i + 1 : j]))
            i = j + 1
            i = _skip_slop(query, i)
        elif ch == "~":
            raise QuerySyntaxError(f"'~' without a term at character {i + 1}")
        elif ch == "-":
            raise QuerySyntaxError(f"'-' without a term at character {i + 1}")
        else:
            j = i
            while j < n and not query[j].isspace() and query[j] not in '()|+"~':
                j += 1
            toks.append(("word", query[i:j]))
            i = _skip_slop(query, j)
    return toks


def _skip_slop(query: str, i: int) -> int:
    if i < len(query) and query[i] == "~":
        i += 1
        while i < len(query) and query[i].isdigit():
            i += 1
    return i


class _Parser:
    def __init__(self, query: str) -> None:
        self.toks = _tokens(query)
        self.i = 0

    def peek(self) -> str | None:
        return self.toks[self.i][0] if self.i < len(self.toks) else None

    def parse(self) -> Node:
        if not self.toks:
            raise QuerySyntaxError("empty query")
        node = self.or_expr()
        if self.i != len(self.toks):
            raise QuerySyntaxError(f"unexpected {self.toks[self.i][1]!r}")
        return node

    def or_expr(self) -> Node:
        parts = [self.and_expr()]
        while self.peek() == "|":
            self.i += 1
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else ("or", parts)

    def and_expr(self) -> Node:
        parts = [self.unary()]
        while self.peek() in ("+", "-", "(", "word", "phrase"):
            if self.peek() == "+":
                self.i += 1
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else ("and", parts)

    def unary(self) -> Node:
        kind = self.peek()
        if kind == "-":
            self.i += 1
            return ("not", self.unary())
        if kind == "(":
            self.i += 1
            node = self.or_expr()
            if self.peek() != ")":
                raise QuerySyntaxError("unbalanced parentheses")
            self.i += 1
            return node
        if kind in ("word", "phrase"):
            text = self.toks[self.i][1]
            self.i += 1
            return _leaf(kind, text)
        what = "the end of the query" if kind is None else repr(self.toks[self.i][1])
        raise QuerySyntaxError(f"expected a term, found {what}")


def _leaf(kind: str, text: str) -> Node:
    if kind == "word" and text.endswith("*"):
        body = words(text[:-1])
        if not body:
            raise QuerySyntaxError(f"bad prefix {text!r}")
        if len(body) > 1:  # Video-LLM*: the phrase "video llm…", its last word a prefix
            return ("phrase-prefix", [stem(w) for w in body[:-1]], body[-1])
        return ("prefix", body[0])
    parts = [stem(w) for w in words(text)]
    if not parts:
        raise QuerySyntaxError(f"no word in {text!r}")
    return ("term", parts[0]) if len(parts) == 1 else ("phrase", parts)


def parse_query(query: str) -> Node:
    """The query's syntax tree; raises QuerySyntaxError."""
    return _Parser(query).parse()


def matches(node: Node, doc: _Doc) -> bool:
    kind = node[0]
    if kind == "and":
        return all(matches(n, doc) for n in node[1])
    if kind == "or":
        return any(matches(n, doc) for n in node[1])
    if kind == "not":
        return not matches(node[1], doc)
    if kind == "term":
        return node[1] in doc.stem_set
    if kind == "prefix":
        return any(w.startswith(node[1]) for w in doc.raw)
    if kind == "phrase-prefix":
        head, last, k = node[1], node[2], len(node[1])
        return any(
            doc.stems[i : i + k] == head and doc.raw[i + k].startswith(last) for i in range(len(doc.stems) - k)
        )
    seq = node[1]
    return any(doc.stems[i : i + len(seq)] == seq for i in range(len(doc.stems) - len(seq) + 1))


def query_matches(query: str, text: str) -> bool:
    """Whether ``query`` matches ``text`` (a title and abstract)."""
    return matches(parse_query(query), _Doc.of(text))


def _search_filters(q: dict[str, str]) -> Callable[[FakePaper], bool]:
    """The filters of a search as one test; ValueError (a 400) for a value the API would refuse."""
    tests: list[Callable[[FakePaper], bool]] = []
    year = q.get("year")
    if year:
        lo, dash, hi = year.partition("-")
        if not all(x.isdigit() and len(x) == 4 for x in (lo, hi) if x) or not (lo or hi):
            raise ValueError(f"Invalid year filter: {year}")
        a, b = int(lo or 0), int(hi or 9999) if dash else int(lo)
        tests.append(lambda p: p.year is not None and a <= p.year <= b)
    dates = q.get("publicationDateOrYear")
    if dates:
        lo, colon, hi = dates.partition(":")
        if not (_is_date(lo) and _is_date(hi)) or not (lo or hi):
            raise ValueError(f"Invalid publicationDateOrYear filter: {dates}")
        hi = hi if colon else lo

        def in_range(p: FakePaper) -> bool:
            d = p.publication_date or (str(p.year) if p.year else None)
            return d is not None and (not lo or d[: len(lo)] >= lo) and (not hi or d[: len(hi)] <= hi)

        tests.append(in_range)
    fos = q.get("fieldsOfStudy")
    if fos is not None:
        wanted = {f.strip() for f in fos.split(",") if f.strip()}
        bad = sorted(wanted - FIELDS_OF_STUDY) or ([] if wanted else [fos])
        if bad:
            raise ValueError(f"Unrecognized fieldsOfStudy: [{', '.join(bad)}]")
        tests.append(lambda p: bool(wanted & set(p.fields_of_study)))
    return lambda p: all(t(p) for t in tests)


def _is_date(d: str) -> bool:
    """Empty, or YYYY, YYYY-MM or YYYY-MM-DD."""
    return not d or (len(d) in (4, 7, 10) and all(x.isdigit() for x in d.split("-")))


def _search_order(sort: str | None) -> Callable[[FakePaper], Any]:
    name, _, direction = (sort or "paperId").partition(":")
    if name not in ("paperId", "publicationDate", "citationCount") or direction not in ("", "asc", "desc"):
        raise ValueError(f"Invalid sort: {sort}")
    sign = -1 if direction == "desc" else 1

    def key(p: FakePaper) -> Any:
        if name == "paperId":
            return (0, p.paper_id) if sign > 0 else (0, "".join(chr(0x10FFFF - ord(c)) for c in p.paper_id))
        if name == "citationCount":
            return (0, sign * (p.citation_count or 0), p.paper_id)
        d = p.publication_date or (f"{p.year}-00-00" if p.year else None)
        if d is None:
            return (1, 0, p.paper_id)  # undated papers last
        n = int(d.replace("-", "")[:8].ljust(8, "0"))
        return (0, sign * n, p.paper_id)

    return key
