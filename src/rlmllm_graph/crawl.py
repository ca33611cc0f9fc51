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
from dataclasses import asdict, dataclass
from typing import Any

import sqlite_utils

from . import changes, store
from .config import DEFAULT_SEED
from .errors import BadInput, MalformedResponse, PaperNotFound, RlmGraphError
from .parse import ShapeError, paper_from_api
from .records import INT64_MAX, Citation, Paper, normalise_paper_id
from .sources import LINK_FIELDS, PAPER_FIELDS, LinkPage, Source
from .sources.semanticscholar import MAX_BATCH, MAX_PAGE, MAX_REACHABLE, NESTED_BUDGET, NESTED_PER_PAPER
from .store import crawl as cstore

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
_REF_FIELDS = ("paperId", "referenceCount", "references.paperId")

Predictor = Callable[[list[dict[str, Any]]], list[dict[str, Any]]]


@dataclass
class CrawlProgress:
    """What a progress callback receives after each stored step."""

    requests: int  # requests of this run so far
    estimated_requests: int  # a rough total for a progress bar
    papers: int  # papers in this run's neighbourhood so far
    edges: int  # citation edges added by this run so far
    phase: str  # "seeds", "references", "citations", "papers" or "done"


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

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        """One line for humans."""
        word = "resumed and finished" if self.resumed else "finished"
        skipped = f", {self.papers_skipped} left out by --max-papers" if self.papers_skipped else ""
        elided = f", {self.elided} elided entries skipped" if self.elided else ""
        return (
            f"Crawl {self.run_id} {word}: {self.papers} papers to depth {self.depth} from "
            f"{len(self.seeds)} seed(s) (+{self.papers_added} new, {self.papers_total} stored), "
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
    norm: list[str] = []
    for s in seeds:
        n = normalise_paper_id(s)
        if n not in norm:
            norm.append(n)
    if not norm:
        raise BadInput("no seed given")
    with cstore.crawl_lock(db):
        return _Crawl(source, db, norm, depth, max_papers, expand, api_url, progress, predict).run()


def _nested_ids(value: Any, owner: str) -> tuple[list[str], int, int]:
    """(ids, entries, elided) of a nested ``references`` list of a batch answer."""
    if value is None:
        return [], 0, 0
    if not isinstance(value, list):
        raise MalformedResponse(f"the batch answer for {owner} has 'references' that is not a list")
    ids: list[str] = []
    elided = 0
    for item in value:
        pid = item.get("paperId") if isinstance(item, dict) else item
        if isinstance(pid, str) and pid.strip():
            ids.append(pid.strip())
        elif pid is None:
            elided += 1
        else:
            raise MalformedResponse(f"the batch answer for {owner} has a reference with paperId={pid!r}")
    return ids, len(value), elided


def _pack(rows: list[dict[str, Any]], budget: int = NESTED_BUDGET) -> list[list[dict[str, Any]]]:
    """Batches of at most 500 papers whose reference lists fit the nested budget together."""
    packs: list[list[dict[str, Any]]] = []
    cur: list[dict[str, Any]] = []
    load = 0
    for r in rows:
        hint = _hint(r)
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
    ) -> None:
        self.source = source
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
        batches = math.ceil((left["to_fetch"] + left["refs_to_page"] + left["citers_to_page"]) / 450)
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

    def _add(self, hop: int, items: list[tuple[str, int | None]]) -> None:
        """Inside a transaction: ids join the frontier at ``hop`` (up to max_papers)."""
        _, left_out = cstore.frontier_add(self.db, self.run_id, hop, items, max_papers=self.max_papers)
        cstore.add_run_skipped(self.db, self.run_id, left_out)

    def _full(self) -> bool:
        return self.max_papers is not None and cstore.frontier_size(self.db) >= self.max_papers

    # -- the run ------------------------------------------------------------------------------

    def run(self) -> CrawlReport:
        db = self.db
        resumed_id = cstore.find_unfinished_run(
            db, seeds=self.seeds, depth=self.depth, max_papers=self.max_papers, expand=self.expand
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
                api_url=self.api_url,
            )
            store.upsert_papers(db, papers)
            for p in papers:  # seeds are always expanded, and their references always listed afresh
                cstore.frontier_add(
                    db, self.run_id, 0, [(p.paper_id, p.reference_count)], meta=1,
                    expand=1 if self.depth > 0 else 0, refetch_refs=True,
                )
            cstore.set_run_level(db, self.run_id, 0)
            changes.begin_run(db, self.run_id)
            self._account()
        self._notify("seeds")

    def _walk(self) -> None:
        level = int(cstore.get_run(self.db, self.run_id)["level"])
        while level < self.depth:
            if level > 0:
                self._decide(level)
            for row in cstore.frontier_to_expand(self.db, level):
                self._expand(row, level)
            self._fetch_pending()
            with store.transaction(self.db):
                cstore.set_run_level(self.db, self.run_id, level + 1)
            level += 1

    # -- expanding a paper --------------------------------------------------------------------

    def _expand(self, row: dict[str, Any], level: int) -> None:
        pid = row["paper_id"]
        n_refs, n_cites = cstore.paper_counts(self.db, pid)
        if row["refs"] not in (2, 3):
            if n_refs == 0:  # the API counts no references: nothing to page
                with store.transaction(self.db):
                    cstore.update_frontier(self.db, [{"paper_id": pid, "refs": 2, "refs_next": None}])
            else:
                self._page_references(row, discover_hop=level + 1)
        with store.transaction(self.db):
            self._add(level + 1, [(x, None) for x in cstore.reference_ids(self.db, pid)])
        offset = row["cites_next"]
        offset = 0 if offset is None else offset
        if n_cites == 0 and offset == 0:  # no citers yet (the count is fresh from this run's batch)
            offset = -1
        while offset >= 0:
            if self._full():
                with store.transaction(self.db):
                    cstore.update_frontier(self.db, [{"paper_id": pid, "cites_next": -1}])
                break
            page = self.source.fetch_citations(pid, offset=offset, fields=LINK_FIELDS)
            nxt = self._store_page(page, pid, "citations", level + 1)
            offset = -1 if nxt is None else nxt
        with store.transaction(self.db):
            cstore.update_frontier(self.db, [{"paper_id": pid, "expanded": 1}])
            self._account()

    def _page_references(self, row: dict[str, Any], *, discover_hop: int | None) -> None:
        pid = row["paper_id"]
        offset = row["refs_next"] or 0
        while True:
            page = self.source.fetch_references(pid, offset=offset, fields=LINK_FIELDS)
            nxt = self._store_page(page, pid, "references", discover_hop)
            if nxt is None:
                return
            offset = nxt

    def _store_page(self, page: LinkPage, pid: str, kind: str, discover_hop: int | None) -> int | None:
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
                self._add(discover_hop, [(lk.paper_id, lk.reference_count) for lk in links])  # type: ignore[misc]
            if kind == "citations":
                cstore.update_frontier(db, [{"paper_id": pid, "cites_next": -1 if done else page.next}])
                if done:
                    cstore.mark_citers_complete(db, pid)
                    if page.offset + len(page.links) >= MAX_REACHABLE:
                        self.unreachable += max(0, (cstore.paper_counts(db, pid)[1] or 0) - MAX_REACHABLE)
            else:
                cstore.update_frontier(
                    db, [{"paper_id": pid, "refs_next": None if done else page.next, "refs": 2 if done else 1}]
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
        with_refs = [r for r in rows if r["refs"] == 0 and (r["ref_hint"] or 0) <= NESTED_PER_PAPER]
        meta_only = [r for r in rows if not (r["refs"] == 0 and (r["ref_hint"] or 0) <= NESTED_PER_PAPER)]
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
        used = 0  # nested entries the response has spent
        # Once the nested budget is spent, every later paper gets an empty list: a short list
        # followed by a non-empty one is genuinely short (its referenceCount overstates it).
        later_nonempty = [False] * len(items)
        seen = False
        for i in range(len(items) - 1, -1, -1):
            later_nonempty[i] = seen
            item = items[i]
            seen = seen or bool(item and isinstance(item.get("references"), list) and item["references"])
        starved = False
        for i, (row, item) in enumerate(zip(rows, items)):
            pid = row["paper_id"]
            if item is None:
                self.unknown += 1
                updates.append({"paper_id": pid, "meta": 2, "refs": 2})
                continue
            if first:
                papers.append(self._paper(item, hop=row["hop"], paper_id=pid))
            count = item.get("referenceCount")
            count = count if isinstance(count, int) and not isinstance(count, bool) and 0 <= count <= INT64_MAX else 0
            upd: dict[str, Any] = {"paper_id": pid, "meta": 1, "ref_hint": count}
            if with_refs and row["refs"] == 3:  # rode along for its metadata: its references are known
                used += len(item.get("references") or [])
            elif with_refs:
                ids, n, elided = _nested_ids(item.get("references"), pid)
                if n >= count or (n < NESTED_PER_PAPER and later_nonempty[i]):
                    edges += [Citation(pid, x) for x in ids]
                    self.elided += elided
                    upd["refs"] = 2
                    complete.append(pid)
                elif n == 0 and first:
                    upd["refs"] = 0  # the nested budget ran out before this paper: batch it again
                    upd["rebatched"] = 1
                    starved = True
                else:
                    upd.update(refs=1, refs_next=0)
                    starved = starved or n == 0
                used += n
            elif row["refs"] == 0:  # too many references to nest: read them page by page
                upd.update(refs=1, refs_next=0)
            updates.append(upd)
        if starved and used < self.budget:  # the server's budget is smaller than we thought: pack tighter
            self.budget = max(100, used)
        with store.transaction(db):
            store.upsert_papers(db, papers)
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
        predict = self.predict
        if predict is None:
            try:
                from .classify import predict_labels
            except ImportError as exc:
                raise RlmGraphError(
                    f"--expand core needs the classifier (rlmllm_graph.classify.predict_labels): {exc}"
                ) from None
            predict = predict_labels
        records = cstore.paper_texts(self.db, ids)
        out: dict[str, int] = {}
        for rec, pred in zip(records, predict(records) if records else []):
            labels = (pred or {}).get("labels") or {}
            rel = labels.get("relevance") or []
            out[rec["paper_id"]] = int("core" in (rel if isinstance(rel, list) else [rel]))
        for pid, values in cstore.manual_labels(self.db, ids, "relevance").items():
            out[pid] = int("core" in values)
        return out
