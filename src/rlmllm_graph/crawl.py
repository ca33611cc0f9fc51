"""Crawl policy: from seed papers to their depth-N citation neighbourhood, near the request floor.

:func:`crawl` takes a :class:`~rlmllm_graph.sources.Source` and a database and
returns a :class:`CrawlReport`. What it does, level by level:

1. **Seeds** — one batch request resolves the seeds (``ARXIV:…``, DOIs, …) to
   Semantic Scholar ids and stores them with ``hop`` 0.
2. **Expand** every paper of the level: its references (pages of 1,000 from
   ``/references``, unless its reference list is already complete) and its
   citers (pages of 1,000 from ``/citations``). Every id found joins the
   frontier one hop further, up to ``max_papers``.
3. **Fetch** the new papers through ``POST /paper/batch``, with their reference
   lists nested (``references.paperId``), packed so that a response stays
   under the API's nested budget of 9,999 entries; a list the budget cut
   short is fetched again in a smaller batch or read page by page. Because
   every stored paper's reference list is stored, every citation edge between
   two stored papers is known.
4. With ``expand="core"``, only papers the classifier marks ``relevance=core``
   are expanded at the next level.

**Field queries** (``queries``) run right after the seeds: each page of
``/paper/search/bulk`` (1,000 hits) is classified from what the search returns
(title and abstract) before anything else is fetched. Hits called ``other``
are not stored; ``related`` hits are stored (their reference lists are fetched,
so the network stays closed) but not expanded; ``core`` hits become seeds:
their references and citers are crawled, read nested in batch answers where
they fit. ``max_papers`` bounds them all, and each query reads at most
``query_pages`` pages.

**Routes.** Every paper stored records how it was first found
(``papers.found_by``: ``seed``, ``cites-seed``, ``cited-by-seed``, ``query``,
``expansion``) and through what (``found_via``: the seed, the query, the paper
it was expanded from).

So a depth-1 crawl of a seed with R references and C citers (N = R + C) takes
about ``1 + ceil(R/1000) + ceil(C/1000) + ceil(N/500)`` requests
(:func:`floor_requests`).

**Resumable.** The frontier, and where each paper's paging stopped, live in
the database (``crawl_frontier``), and each API answer is stored in one
transaction together with the progress it makes. A crawl killed at any moment
and run again with the same parameters ends with the database an
uninterrupted crawl gives.

**Incremental.** A later run repeats the walk: the seeds and their citers are
listed again (new citers, new edges), every paper's metadata is fetched again
(changed counts, titles, abstracts), but the reference lists of papers an
earlier run completed are not fetched again — references do not change.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import sqlite_utils

from . import changes, store
from .config import DEFAULT_SEED
from .errors import BadInput, MalformedResponse, PaperNotFound, RlmGraphError
from .parse import ShapeError, paper_from_api
from .queries import DEFAULT_QUERY_PAGES, FieldQuery, check_query
from .records import INT64_MAX, Citation, Paper, normalise_paper_id
from .sources import LINK_FIELDS, PAPER_FIELDS, LinkPage, SearchPage, Source
from .sources.semanticscholar import (
    MAX_BATCH,
    MAX_PAGE,
    MAX_REACHABLE,
    NESTED_BUDGET,
    NESTED_PER_PAPER,
    SEARCH_PAGE,
)
from .store import crawl as cstore
from .store.crawl import CITES_DONE, Meta, Refs

__all__ = [
    "DEFAULT_MAX_PAPERS",
    "EXPAND_CHOICES",
    "CrawlProgress",
    "CrawlReport",
    "crawl",
    "floor_requests",
]

EXPAND_CHOICES = ("all", "core")
DEFAULT_MAX_PAPERS = 20_000
DEFAULT_REF_HINT = 30  # references assumed for a paper whose referenceCount we have not seen
BATCH_ESTIMATE = 450  # papers a batch request carries on average, for the progress bar's estimate
_REF_FIELDS = ("paperId", "referenceCount", "references.paperId")
_EXPAND_FIELDS = ("paperId", "referenceCount", "citationCount", "references.paperId", "citations.paperId")

Predictor = Callable[[list[dict[str, Any]]], list[dict[str, Any]]]


@dataclass
class CrawlProgress:
    """What a progress callback receives after each stored step."""

    requests: int  # requests of this run so far
    estimated_requests: int  # a rough total for a progress bar
    papers: int  # papers in this run's neighbourhood so far
    edges: int  # citation edges added by this run so far
    phase: str  # "seeds", "queries", "references", "citations", "papers" or "done"


@dataclass
class CrawlReport:
    """The outcome of one :func:`crawl` (a resumed run reports the whole run)."""

    run_id: int
    status: str
    resumed: bool
    seeds: list[str]
    seed_ids: list[str]
    depth: int
    expand: str
    max_papers: int | None
    requests: int  # this run's requests (all resumed parts together)
    requests_this_process: int
    retries: int
    papers: int  # papers in this run's neighbourhood
    papers_added: int  # new rows in ``papers``
    edges_added: int  # new rows in ``citations``
    papers_total: int
    edges_total: int
    papers_skipped: int  # ids left out by max_papers
    elided: int  # citing/cited entries with a null paperId, skipped
    unknown_ids: int  # ids the batch endpoint answered null for
    unreachable_citers: int  # citers past the API's 9,999-item paging limit
    null_pages: int  # pages answered with "data": null
    seconds: float
    floor: int | None  # floor_requests() of the seed, for a depth-1 crawl of one seed
    queries: list[dict[str, Any]] = field(default_factory=list)  # per query: pages, total, hits, kept, core
    routes: dict[str, int] = field(default_factory=dict)  # papers of this run's neighbourhood by route

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        """One line for humans."""
        word = "resumed and finished" if self.resumed else "finished"
        skipped = f", {self.papers_skipped} left out by --max-papers" if self.papers_skipped else ""
        elided = f", {self.elided} elided entries skipped" if self.elided else ""
        queries = ""
        if self.queries:
            hits = sum(q["hits"] for q in self.queries)
            kept = sum(q["kept"] for q in self.queries)
            core = sum(q["core"] for q in self.queries)
            outside = self.routes.get("query", 0)
            n = len(self.queries)
            queries = (
                f" and {n} field {'query' if n == 1 else 'queries'} ({hits} hits, {kept} kept, {core} core; "
                f"{outside} papers outside the seeds' neighbourhood, {self.routes.get('expansion', 0)} more "
                "by expansion)"
            )
        return (
            f"Crawl {self.run_id} {word}: {self.papers} papers to depth {self.depth} from "
            f"{len(self.seeds)} seed(s){queries} (+{self.papers_added} new, {self.papers_total} stored), "
            f"+{self.edges_added} citation edges ({self.edges_total} stored), {self.requests} requests"
            f"{skipped}{elided} in {self.seconds:.1f}s"
        )


def floor_requests(references: int, citers: int) -> int:
    """The request floor of a depth-1 crawl of one seed with R references and C citers.

    One request for the seed, ``ceil(R/1000)`` reference pages, ``ceil(C/1000)``
    citation pages and ``ceil((R+C)/500)`` batches for the neighbours.

    >>> floor_requests(250, 4750)
    17
    """
    return 1 + math.ceil(references / MAX_PAGE) + math.ceil(citers / MAX_PAGE) + math.ceil(
        (references + citers) / MAX_BATCH
    )


def crawl(
    source: Source,
    db: sqlite_utils.Database,
    *,
    seeds: Sequence[str] = (DEFAULT_SEED,),
    depth: int = 1,
    max_papers: int | None = DEFAULT_MAX_PAPERS,
    expand: str = "all",
    api_url: str | None = None,
    progress: Callable[[CrawlProgress], None] | None = None,
    predict: Predictor | None = None,
    queries: Sequence[FieldQuery] = (),
    query_pages: int = DEFAULT_QUERY_PAGES,
) -> CrawlReport:
    """Crawl from ``seeds`` to ``depth`` into ``db``; resume the last run if it stopped.

    Parameters
    ----------
    source:
        Where papers come from (an :class:`~rlmllm_graph.sources.S2Client`).
    seeds:
        Paper ids in any accepted spelling (``ARXIV:2504.21277``, a DOI, …).
    depth:
        0: the seeds only; 1: the seeds, their references and citers, and every
        edge among them; N: papers first added at N−1 are expanded too.
    max_papers:
        The most papers one run takes into its neighbourhood (None: no bound).
    expand:
        ``"all"``, or ``"core"``: from depth 2 on, expand only papers the
        classifier (``rlmllm_graph.classify.predict_labels``, or ``predict``)
        marks ``relevance=core``; a manual ``relevance`` label wins.
    progress:
        Called after every stored step with a :class:`CrawlProgress`.
    queries:
        Field queries (:class:`~rlmllm_graph.queries.FieldQuery`) run through the
        source's ``search_bulk`` after the seeds; hits are classified (as for
        ``expand="core"``): ``other`` ones are dropped, ``related`` ones stored,
        ``core`` ones stored and expanded like seeds.
    query_pages:
        Pages (of 1,000 hits) read per query at most.

    Raises
    ------
    PaperNotFound
        A seed the API does not know (nothing is written).
    BadInput
        A seed that is not a paper id, a negative depth, an unknown ``expand``.
    SourceError
        The API failed after every retry (the run can be resumed).
    DatabaseLocked
        Another crawl is running on the same database.
    """
    if depth < 0:
        raise BadInput(f"depth must be 0 or more, not {depth}")
    if max_papers is not None and max_papers < 1:
        raise BadInput(f"max papers must be at least 1, not {max_papers}")
    if expand not in EXPAND_CHOICES:
        raise BadInput(f"expand must be one of {', '.join(EXPAND_CHOICES)}, not {expand!r}")
    if query_pages < 1:
        raise BadInput(f"query pages must be at least 1, not {query_pages}")
    fqs = [FieldQuery(check_query(q.query), dict(q.filters)) for q in queries]
    norm: list[str] = []
    for s in seeds:
        n = normalise_paper_id(s)
        if n not in norm:
            norm.append(n)
    if not norm:
        raise BadInput("no seed given")
    with cstore.crawl_lock(db):
        return _Crawl(
            source, db, norm, depth, max_papers, expand, api_url, progress, predict, fqs, query_pages
        ).run()


def _nested_ids(value: Any, owner: str, kind: str = "references") -> tuple[list[str], int, int]:
    """(ids, entries, elided) of a nested ``references`` (or ``citations``) list of a batch answer."""
    if value is None:
        return [], 0, 0
    if not isinstance(value, list):
        raise MalformedResponse(f"the batch answer for {owner} has {kind!r} that is not a list")
    ids: list[str] = []
    elided = 0
    for item in value:
        pid = item.get("paperId") if isinstance(item, dict) else item
        if isinstance(pid, str) and pid.strip():
            ids.append(pid.strip())
        elif pid is None:
            elided += 1
        else:
            raise MalformedResponse(f"the batch answer for {owner} has an entry of {kind!r} with paperId={pid!r}")
    return ids, len(value), elided


def _pack(
    rows: list[dict[str, Any]], budget: int = NESTED_BUDGET, hint_of: Callable[[dict[str, Any]], int] | None = None
) -> list[list[dict[str, Any]]]:
    """Batches of at most 500 papers whose nested lists (by default: references) fit the nested budget together."""
    packs: list[list[dict[str, Any]]] = []
    cur: list[dict[str, Any]] = []
    load = 0
    for r in rows:
        hint = (hint_of or _hint)(r)
        if cur and (len(cur) >= MAX_BATCH or load + hint > budget):
            packs.append(cur)
            cur, load = [], 0
        cur.append(r)
        load += hint
    if cur:
        packs.append(cur)
    return packs


def _fill(
    packs: list[list[dict[str, Any]]], rows: list[dict[str, Any]], budget: int = NESTED_BUDGET
) -> list[dict[str, Any]]:
    """Put ``rows`` into the room left in ``packs`` (first fit); returns the rows that did not fit."""
    loads = [sum(_hint(r) for r in p) for p in packs]
    rest = []
    for r in rows:
        h = _hint(r)
        for i, p in enumerate(packs):
            if len(p) < MAX_BATCH and loads[i] + h <= budget and h <= NESTED_PER_PAPER:
                p.append(r)
                loads[i] += h
                break
        else:
            rest.append(r)
    return rest


def _hint(row: dict[str, Any]) -> int:
    return int(row["ref_hint"]) if row["ref_hint"] is not None else DEFAULT_REF_HINT


def _count(value: Any) -> int:
    """A count from the API; anything that is not one counts as 0."""
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= INT64_MAX else 0


def _later_nonempty(items: list[dict[str, Any] | None], keys: Sequence[str]) -> list[bool]:
    """Per item of a batch answer: whether a later item has a non-empty nested list.

    Once the nested budget is spent, every later paper gets empty lists: a short
    list followed by a non-empty one is genuinely short (its count overstates it).
    """
    out = [False] * len(items)
    seen = False
    for i in range(len(items) - 1, -1, -1):
        out[i] = seen
        item = items[i]
        seen = seen or bool(item and any(isinstance(item.get(k), list) and item[k] for k in keys))
    return out


class _Crawl:
    def __init__(
        self,
        source: Source,
        db: sqlite_utils.Database,
        seeds: list[str],
        depth: int,
        max_papers: int | None,
        expand: str,
        api_url: str | None,
        progress: Callable[[CrawlProgress], None] | None,
        predict: Predictor | None,
        queries: list[FieldQuery],
        query_pages: int,
    ) -> None:
        self.source = source
        self.queries = queries
        self.query_pages = query_pages
        self.db = db
        self.seeds = seeds
        self.depth = depth
        self.max_papers = max_papers
        self.expand = expand
        self.api_url = api_url
        self.progress = progress
        self.predict = predict
        self.run_id = 0
        self.start_requests = source.requests
        self.committed = source.requests
        self.started = time.monotonic()
        self.elided = 0
        self.unknown = 0
        self.unreachable = 0
        self.null_pages = 0
        self.edges_before = 0
        self.seed_ids: list[str] = []
        self.floor: int | None = None
        self.budget = NESTED_BUDGET  # nested entries a batch answer holds; lowered if the API holds fewer

    # -- bookkeeping --------------------------------------------------------------------------

    def _account(self) -> None:
        """Inside a transaction: add the requests made since the last step to the run."""
        now = self.source.requests
        cstore.add_run_requests(self.db, self.run_id, now - self.committed)
        self.committed = now

    def _notify(self, phase: str) -> None:
        if self.progress is None:
            return
        run = cstore.get_run(self.db, self.run_id)
        left = cstore.remaining_work(self.db, self.depth)
        pages = math.ceil(left["refs_to_page"] / MAX_PAGE) + math.ceil(left["citers_to_page"] / MAX_PAGE)
        batches = math.ceil((left["to_fetch"] + left["refs_to_page"] + left["citers_to_page"]) / BATCH_ESTIMATE)
        for q in cstore.pending_queries(self.db, self.run_id):  # its pages still to read (one if not started)
            rest = math.ceil(max(0, (q["total"] or 0) - q["hits"]) / SEARCH_PAGE) if q["pages"] else 1
            pages += min(rest, self.query_pages - q["pages"])
        requests = int(run["requests"] or 0)
        _, edges = cstore.count_papers_and_edges(self.db)
        self.progress(
            CrawlProgress(
                requests=requests,
                estimated_requests=requests + (pages + batches if phase != "done" else 0),
                papers=cstore.frontier_size(self.db),
                edges=edges - int(run["edges_before"] or 0),
                phase=phase,
            )
        )

    def _add(
        self, hop: int, items: list[tuple[str, int | None]], route: tuple[str, str | None] = ("expansion", None),
        **kw: Any,
    ) -> None:
        """Inside a transaction: ids join the frontier at ``hop`` (up to max_papers), reached by ``route``."""
        _, left_out = cstore.frontier_add(
            self.db, self.run_id, hop, items, max_papers=self.max_papers, found_by=route[0], found_via=route[1], **kw
        )
        cstore.add_run_skipped(self.db, self.run_id, left_out)

    @staticmethod
    def _route(row: dict[str, Any], kind: str) -> tuple[str, str | None]:
        """How the references or citers of an expanded frontier ``row`` are reached."""
        if row.get("found_by") == "seed":
            return ("cited-by-seed" if kind == "references" else "cites-seed", row["paper_id"])
        return ("expansion", row["paper_id"])

    def _full(self) -> bool:
        return self.max_papers is not None and cstore.frontier_size(self.db) >= self.max_papers

    # -- the run ------------------------------------------------------------------------------

    def run(self) -> CrawlReport:
        db = self.db
        resumed_id = cstore.find_unfinished_run(
            db, seeds=self.seeds, depth=self.depth, max_papers=self.max_papers, expand=self.expand,
            queries=[q.as_dict() for q in self.queries],
        )
        if resumed_id is None or cstore.get_run(db, resumed_id)["level"] is None:
            self._start()
            resumed = False
        else:
            self.run_id = resumed_id
            with store.transaction(db):
                cstore.set_run_status(db, resumed_id, "running")
            resumed = True
        try:
            self._walk()
        except BaseException as exc:
            status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
            try:
                with store.transaction(db):
                    self._account()
                    cstore.finish_run(db, self.run_id, status=status, error=str(exc)[:500] or type(exc).__name__)
            except Exception:  # the database itself may be what failed: keep the first error
                pass
            raise
        with store.transaction(db):
            self._account()
            changes.finish_run(db, self.run_id)  # what this run added and changed, for `changes`
            run = cstore.finish_run(db, self.run_id, status="done")
        self._notify("done")
        papers_total, edges_total = cstore.count_papers_and_edges(db)
        self.seed_ids = cstore.frontier_ids(db, 0)
        return CrawlReport(
            run_id=self.run_id,
            status="done",
            resumed=resumed,
            seeds=list(self.seeds),
            seed_ids=self.seed_ids,
            depth=self.depth,
            expand=self.expand,
            max_papers=self.max_papers,
            requests=int(run["requests"] or 0),
            requests_this_process=self.source.requests - self.start_requests,
            retries=int(getattr(self.source, "retries", 0)),
            papers=cstore.frontier_size(db),
            papers_added=int(run["papers_added"] or 0),
            edges_added=int(run["edges_added"] or 0),
            papers_total=papers_total,
            edges_total=edges_total,
            papers_skipped=int(run["papers_skipped"] or 0),
            elided=self.elided,
            unknown_ids=self.unknown,
            unreachable_citers=self.unreachable,
            null_pages=self.null_pages,
            seconds=round(time.monotonic() - self.started, 3),
            floor=self.floor,
            queries=[
                {k: q[k] for k in ("query", "filters", "pages", "total", "hits", "kept", "core", "done")}
                for q in cstore.query_states(db, self.run_id)
            ],
            routes=cstore.frontier_routes(db),
        )

    def _start(self) -> None:
        """Resolve the seeds (one batch request), then open the run and store them, all at once."""
        items: list[dict[str, Any] | None] = []
        for i in range(0, len(self.seeds), MAX_BATCH):
            items += self.source.fetch_batch(self.seeds[i : i + MAX_BATCH], fields=PAPER_FIELDS)
        papers: list[Paper] = []
        for given, item in zip(self.seeds, items):
            if item is None:
                raise PaperNotFound(given)
            papers.append(self._paper(item, hop=0))
        if self.depth == 1 and len(papers) == 1:
            p = papers[0]
            self.floor = floor_requests(p.reference_count or 0, p.citation_count or 0)
        db = self.db
        with store.transaction(db):
            self.run_id = cstore.start_run(
                db, seeds=self.seeds, depth=self.depth, max_papers=self.max_papers, expand=self.expand,
                api_url=self.api_url, queries=[q.as_dict() for q in self.queries],
            )
            store.upsert_papers(db, papers)
            for given, p in zip(self.seeds, papers):  # seeds are always expanded, their references listed afresh
                cstore.frontier_add(
                    db, self.run_id, 0, [(p.paper_id, p.reference_count)], meta=Meta.STORED,
                    expand=1 if self.depth > 0 else 0, refetch_refs=True, found_by="seed", found_via=given,
                )
            cstore.mark_found(db, [(p.paper_id, "seed", given) for given, p in zip(self.seeds, papers)])
            cstore.set_run_level(db, self.run_id, 0)
            changes.begin_run(db, self.run_id)
            self._account()
        self._notify("seeds")

    def _walk(self) -> None:
        level = int(cstore.get_run(self.db, self.run_id)["level"])
        if level == 0:
            # the seeds' neighbourhood first, then the field queries, so that a route says what the queries
            # found beyond it; then the core hits are expanded (by batch where their lists fit)
            for row in cstore.frontier_to_expand(self.db, 0):
                if row["found_by"] == "seed":
                    self._expand(row, 0)
            for q in cstore.pending_queries(self.db, self.run_id):
                self._query(q)
            if self.depth > 0:
                self._expand_by_batch(0)
        while level < self.depth:
            if level > 0:
                self._decide(level)
            for row in cstore.frontier_to_expand(self.db, level):
                self._expand(row, level)
            self._fetch_pending()
            with store.transaction(self.db):
                cstore.set_run_level(self.db, self.run_id, level + 1)
            level += 1

    # -- field queries ------------------------------------------------------------------------

    def _query(self, state: dict[str, Any]) -> None:
        """Read a query's pages from where it stopped; each page is stored with its progress at once."""
        search = getattr(self.source, "search_bulk", None)
        if search is None:
            raise RlmGraphError(f"{type(self.source).__name__} cannot run field queries (no search_bulk)")
        fq = FieldQuery(state["query"], state["filters"])
        token, pages = state["token"], int(state["pages"])
        while True:
            page = search(fq.query, fields=PAPER_FIELDS, token=token, **fq.search_args())
            pages += 1
            done = 1 if page.token is None else 2 if pages >= self.query_pages else 0
            self._store_hits(state["position"], fq, page, done)
            if done:
                return
            token = page.token

    def _store_hits(self, position: int, fq: FieldQuery, page: SearchPage, done: int) -> None:
        """Classify a page of hits from title and abstract; store core and related ones, drop the rest."""
        papers = [self._paper(item, hop=0) for item in page.papers]
        records = [{"paper_id": p.paper_id, "title": p.title, "abstract": p.abstract} for p in papers]
        relevance = self._relevance(records)
        core = [p for p in papers if relevance.get(p.paper_id) == "core"]
        related = [p for p in papers if relevance.get(p.paper_id) == "related"]
        for p in related:
            p.hop = 1
        route = ("query", fq.query)
        expand = 1 if self.depth > 0 else 0
        db = self.db
        with store.transaction(db):
            # hits the seeds' neighbourhood holds already keep their route; core ones become seeds all the same
            present = cstore.frontier_kept(db, [p.paper_id for p in core + related])
            cstore.update_frontier(
                db,
                [{"paper_id": p.paper_id, "hop": 0, "expand": expand, "meta": Meta.STORED}
                 for p in core if p.paper_id in present]
                + [{"paper_id": p.paper_id, "meta": Meta.STORED} for p in related if p.paper_id in present],
            )
            self._add(0, [(p.paper_id, p.reference_count) for p in core], route, meta=Meta.STORED, expand=expand)
            self._add(1, [(p.paper_id, p.reference_count) for p in related], route, meta=Meta.STORED, expand=0)
            kept = cstore.frontier_kept(db, [p.paper_id for p in core + related])
            stored = [p for p in core + related if p.paper_id in kept]
            store.upsert_papers(db, stored)
            cstore.mark_found(db, [(p.paper_id, *kept[p.paper_id]) for p in stored])  # type: ignore[misc]
            cstore.update_query(
                db, self.run_id, position, token=page.token, total=page.total, hits=len(papers), kept=len(stored),
                core=sum(p.paper_id in kept for p in core), done=done,
            )
            self._account()
        self._notify("queries")

    # -- expanding a paper --------------------------------------------------------------------

    def _expand_by_batch(self, level: int) -> None:
        """Expand the core query hits of ``level`` through batch answers with both lists nested.

        A paper whose lists come back complete is expanded at once; the rest fall
        back to /references and /citations pages (:meth:`_expand`).
        """
        rows = cstore.frontier_to_expand_by_batch(self.db, level, NESTED_PER_PAPER)
        load = lambda r: int(r["ref_hint"] or 0) + int(r["cite_hint"] or 0)  # noqa: E731
        for pack in _pack(rows, self.budget, load):
            self._expand_pack(pack, level)

    def _expand_pack(self, rows: list[dict[str, Any]], level: int) -> None:
        db = self.db
        items = self.source.fetch_batch([r["paper_id"] for r in rows], fields=_EXPAND_FIELDS)
        later = _later_nonempty(items, ("references", "citations"))
        edges: list[Citation] = []
        updates: list[dict[str, Any]] = []
        refs_done: list[str] = []
        citers: dict[str, list[str]] = {}
        for i, (row, item) in enumerate(zip(rows, items)):
            pid = row["paper_id"]
            if item is None:  # gone from the API since the search: nothing to expand
                self.unknown += 1
                updates.append({"paper_id": pid, "refs": Refs.COMPLETE, "cites_next": CITES_DONE, "expanded": 1})
                continue
            upd: dict[str, Any] = {"paper_id": pid}
            ref_ids, n, ref_elided = _nested_ids(item.get("references"), pid)
            cite_ids, m, cite_elided = _nested_ids(item.get("citations"), pid, "citations")
            refs_ok = row["refs"] == Refs.KNOWN or n >= _count(item.get("referenceCount")) or (
                n < NESTED_PER_PAPER and later[i]
            )
            cites_ok = m >= _count(item.get("citationCount")) or (m < NESTED_PER_PAPER and later[i])
            if refs_ok and row["refs"] != Refs.KNOWN:
                edges += [Citation(pid, x) for x in ref_ids]
                self.elided += ref_elided
                refs_done.append(pid)
                upd["refs"] = Refs.COMPLETE
            if cites_ok:
                edges += [Citation(x, pid) for x in cite_ids]
                self.elided += cite_elided
                citers[pid] = cite_ids
                upd["cites_next"] = CITES_DONE
            if refs_ok and cites_ok:
                upd["expanded"] = 1
            updates.append(upd)
        with store.transaction(db):
            store.upsert_citations(db, edges)
            cstore.mark_refs_complete(db, refs_done)
            for row in rows:
                pid = row["paper_id"]
                route = self._route(row, "references")
                if pid in refs_done or row["refs"] == Refs.KNOWN:
                    self._add(level + 1, [(x, None) for x in cstore.reference_ids(db, pid)], route)
                if pid in citers:
                    self._add(level + 1, [(x, None) for x in citers[pid]], route)
                    cstore.mark_citers_complete(db, pid)
            cstore.update_frontier(db, updates)
            self._account()
        self._notify("citations")

    def _expand(self, row: dict[str, Any], level: int) -> None:
        pid = row["paper_id"]
        n_refs, n_cites = cstore.paper_counts(self.db, pid)
        if row["refs"] not in (Refs.COMPLETE, Refs.KNOWN):
            if n_refs == 0:  # the API counts no references: nothing to page
                with store.transaction(self.db):
                    cstore.update_frontier(self.db, [{"paper_id": pid, "refs": Refs.COMPLETE, "refs_next": None}])
            else:
                self._page_references(row, discover_hop=level + 1)
        with store.transaction(self.db):
            self._add(
                level + 1, [(x, None) for x in cstore.reference_ids(self.db, pid)], self._route(row, "references")
            )
        offset = row["cites_next"]
        offset = 0 if offset is None else offset
        if n_cites == 0 and offset == 0:  # no citers yet (the count is fresh from this run's batch)
            offset = CITES_DONE
        while offset != CITES_DONE:
            if self._full():
                with store.transaction(self.db):
                    cstore.update_frontier(self.db, [{"paper_id": pid, "cites_next": CITES_DONE}])
                break
            page = self.source.fetch_citations(pid, offset=offset, fields=LINK_FIELDS)
            nxt = self._store_page(page, pid, "citations", level + 1, self._route(row, "citations"))
            offset = CITES_DONE if nxt is None else nxt
        with store.transaction(self.db):
            cstore.update_frontier(self.db, [{"paper_id": pid, "expanded": 1}])
            self._account()

    def _page_references(self, row: dict[str, Any], *, discover_hop: int | None) -> None:
        pid = row["paper_id"]
        offset = row["refs_next"] or 0
        while True:
            page = self.source.fetch_references(pid, offset=offset, fields=LINK_FIELDS)
            nxt = self._store_page(page, pid, "references", discover_hop, self._route(row, "references"))
            if nxt is None:
                return
            offset = nxt

    def _store_page(
        self, page: LinkPage, pid: str, kind: str, discover_hop: int | None, route: tuple[str, str | None]
    ) -> int | None:
        """Store one /citations or /references page with the progress it makes; returns the next offset."""
        db = self.db
        links = [lk for lk in page.links if lk.paper_id]
        self.elided += len(page.links) - len(links)
        self.null_pages += page.data_null
        if kind == "citations":
            edges = [Citation(lk.paper_id, pid, lk.is_influential, lk.intents) for lk in links]  # type: ignore[arg-type]
        else:
            edges = [Citation(pid, lk.paper_id, lk.is_influential, lk.intents) for lk in links]  # type: ignore[arg-type]
        done = page.next is None
        with store.transaction(db):
            store.upsert_citations(db, edges)
            if discover_hop is not None:
                found = [(lk.paper_id, lk.reference_count) for lk in links]
                self._add(discover_hop, found, route)  # type: ignore[arg-type]
            if kind == "citations":
                cstore.update_frontier(db, [{"paper_id": pid, "cites_next": CITES_DONE if done else page.next}])
                if done:
                    cstore.mark_citers_complete(db, pid)
                    if page.offset + len(page.links) >= MAX_REACHABLE:
                        self.unreachable += max(0, (cstore.paper_counts(db, pid)[1] or 0) - MAX_REACHABLE)
            else:
                cstore.update_frontier(
                    db,
                    [{"paper_id": pid, "refs_next": None if done else page.next,
                      "refs": Refs.COMPLETE if done else Refs.BY_PAGES}],
                )
                if done:
                    cstore.mark_refs_complete(db, [pid])
            self._account()
        self._notify(kind)
        return page.next

    # -- fetching papers ----------------------------------------------------------------------

    def _paper(self, item: dict[str, Any], *, hop: int, paper_id: str | None = None) -> Paper:
        try:
            p = paper_from_api(item, lenient=True)
        except ShapeError as exc:
            raise MalformedResponse(f"the Semantic Scholar API sent a paper we cannot read: {exc}") from None
        if paper_id:
            p.paper_id = paper_id  # the id the edges know it by
        p.hop = hop
        return p

    def _fetch_pending(self) -> None:
        rows = cstore.frontier_pending_meta(self.db)
        with_refs = [r for r in rows if r["refs"] == Refs.BY_BATCH and (r["ref_hint"] or 0) <= NESTED_PER_PAPER]
        meta_only = [
            r for r in rows if not (r["refs"] == Refs.BY_BATCH and (r["ref_hint"] or 0) <= NESTED_PER_PAPER)
        ]
        packs = _pack(with_refs, self.budget)
        meta_only = _fill(packs, meta_only, self.budget)  # papers needing metadata only ride along where there is room
        for pack in packs:
            self._batch(pack, PAPER_FIELDS + ("references.paperId",), first=True)
        for i in range(0, len(meta_only), MAX_BATCH):
            self._batch(meta_only[i : i + MAX_BATCH], PAPER_FIELDS, first=True)
        # reference lists a batch left short: once more in a tightly packed batch, then page by page
        for pack in _pack(cstore.frontier_pending_rebatch(self.db), self.budget):
            self._batch(pack, _REF_FIELDS, first=False)
        for row in cstore.frontier_pending_ref_pages(self.db):
            self._page_references(row, discover_hop=None)

    def _batch(self, rows: list[dict[str, Any]], fields: Sequence[str], *, first: bool) -> None:
        db = self.db
        items = self.source.fetch_batch([r["paper_id"] for r in rows], fields=fields)
        with_refs = "references.paperId" in fields
        papers: list[Paper] = []
        edges: list[Citation] = []
        updates: list[dict[str, Any]] = []
        complete: list[str] = []
        found: list[tuple[str, str, str | None]] = []
        used = 0  # nested entries the response has spent
        later_nonempty = _later_nonempty(items, ("references",))
        starved = False
        for i, (row, item) in enumerate(zip(rows, items)):
            pid = row["paper_id"]
            if item is None:
                self.unknown += 1
                updates.append({"paper_id": pid, "meta": Meta.UNKNOWN, "refs": Refs.COMPLETE})
                continue
            if first:
                papers.append(self._paper(item, hop=row["hop"], paper_id=pid))
                found.append((pid, row["found_by"], row["found_via"]))
            count = _count(item.get("referenceCount"))
            upd: dict[str, Any] = {"paper_id": pid, "meta": Meta.STORED, "ref_hint": count}
            if with_refs and row["refs"] == Refs.KNOWN:  # rode along for its metadata: its references are known
                used += len(item.get("references") or [])
            elif with_refs:
                ids, n, elided = _nested_ids(item.get("references"), pid)
                if n >= count or (n < NESTED_PER_PAPER and later_nonempty[i]):
                    edges += [Citation(pid, x) for x in ids]
                    self.elided += elided
                    upd["refs"] = Refs.COMPLETE
                    complete.append(pid)
                elif n == 0 and first:
                    upd["refs"] = Refs.BY_BATCH  # the nested budget ran out before this paper: batch it again
                    upd["rebatched"] = 1
                    starved = True
                else:
                    upd.update(refs=Refs.BY_PAGES, refs_next=0)
                    starved = starved or n == 0
                used += n
            elif row["refs"] == Refs.BY_BATCH:  # too many references to nest: read them page by page
                upd.update(refs=Refs.BY_PAGES, refs_next=0)
            updates.append(upd)
        if starved and used < self.budget:  # the server's budget is smaller than we thought: pack tighter
            self.budget = max(100, used)
        with store.transaction(db):
            store.upsert_papers(db, papers)
            cstore.mark_found(db, found)
            store.upsert_citations(db, edges)
            cstore.update_frontier(db, updates)
            cstore.mark_refs_complete(db, complete)
            self._account()
        self._notify("papers")

    # -- the expansion gate -------------------------------------------------------------------

    def _decide(self, level: int) -> None:
        rows = cstore.frontier_undecided(self.db, level)
        if not rows:
            return
        ids = [r["paper_id"] for r in rows]
        if self.expand == "all":
            decisions = {p: 1 for p in ids}
        else:
            decisions = self._classify(ids)
        with store.transaction(self.db):
            cstore.update_frontier(self.db, [{"paper_id": p, "expand": decisions.get(p, 0)} for p in ids])

    def _classify(self, ids: list[str]) -> dict[str, int]:
        """1 for the stored papers the classifier (or a manual label) calls core, else 0."""
        relevance = self._relevance(cstore.paper_texts(self.db, ids))
        return {pid: int(value == "core") for pid, value in relevance.items()}

    def _relevance(self, records: list[dict[str, Any]]) -> dict[str, str]:
        """``core``, ``related`` or ``other`` for each record (title and abstract); a manual label wins."""
        predict = self.predict
        if predict is None and records:
            try:
                from .classify import predict_labels
            except ImportError as exc:
                raise RlmGraphError(
                    f"--expand core and field queries need the classifier (rlmllm_graph.classify.predict_labels): {exc}"
                ) from None
            predict = predict_labels
        out: dict[str, str] = {}
        for rec, pred in zip(records, predict(records) if records and predict else []):
            labels = (pred or {}).get("labels") or {}
            rel = labels.get("relevance") or []
            out[rec["paper_id"]] = _relevance_of(rel if isinstance(rel, list) else [rel])
        manual = cstore.manual_labels(self.db, [r["paper_id"] for r in records], "relevance")
        for pid, values in manual.items():
            out[pid] = _relevance_of(values)
        return out


def _relevance_of(values: Sequence[str]) -> str:
    return "core" if "core" in values else "related" if "related" in values else "other"
