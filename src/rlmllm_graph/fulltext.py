"""Full text of the papers that matter, by section: which papers, from where, and what is recorded.

:func:`fetch_fulltext` takes the papers the classifier (or a person) labels
``relevance`` core or related, and for each one not fetched yet:

1. with an arXiv id: arXiv's HTML rendering (``/html/<id>``, for papers from
   December 2023 on), else the LaTeX source (``/e-print/<id>``); a PDF-only
   e-print has no text to read;
2. without one: Semantic Scholar's snippet search restricted to the paper.

Each paper's outcome is stored in one transaction with its sections
(``fulltext_papers``: ``fetched``, ``no-text``, ``missing``, ``withdrawn`` or
``error``), so a run killed at any moment and started again fetches nothing
twice; a later run fetches only papers not fetched yet, papers whose last
attempt failed, and papers whose stored arXiv id names a newer version than
the one read or than the one arXiv's API lists now (one request per 100
stored papers). ``refetch`` fetches every selected paper again. Each run is a
``fulltext_runs`` row (requests, fetched, without text, failed, status).

HTTP stays in :mod:`rlmllm_graph.sources`, parsing in
:mod:`rlmllm_graph.fulltext_parse`, SQL in :mod:`rlmllm_graph.store.sections`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import sqlite_utils

from .errors import BadInput, MalformedText, PaperNotFound, ResponseTooLarge, SourceError
from .fulltext_parse import ParsedText, html_sections, latex_sections, read_eprint, snippet_sections
from .sources.arxiv import ArxivClient, Fetched, has_html, split_version
from .sources.semanticscholar import S2Client
from .store import sections as sstore

__all__ = [
    "DEFAULT_RELEVANCE",
    "RELEVANCE_VALUES",
    "SNIPPET_LIMIT",
    "SNIPPET_QUERY",
    "FulltextProgress",
    "FulltextReport",
    "fetch_fulltext",
    "parse_relevance",
]

DEFAULT_RELEVANCE = ("core", "related")
RELEVANCE_VALUES = ("core", "related", "other")
#: what snippet search is asked, within one paper: the passages that say what the paper did
SNIPPET_QUERY = "method approach training reinforcement learning policy optimization reward model"
SNIPPET_LIMIT = 100  # snippets of about 500 words: enough for a paper's method and experiments


@dataclass
class FulltextProgress:
    """What a progress callback receives after each paper."""

    done: int  # papers handled by this run so far
    total: int  # papers this run will handle
    requests: int  # requests of this run so far (retries included)
    paper_id: str
    status: str  # the paper's outcome


@dataclass
class FulltextReport:
    """The outcome of one :func:`fetch_fulltext` run."""

    run_id: int
    status: str  # "done" (a run that fails raises instead)
    relevance: list[str]
    labelled: int  # papers with one of these relevance labels
    already: int  # of them, left alone: fetched by an earlier run
    selected: int  # papers this run handled
    new_versions: int = 0  # of them, fetched before in an older arXiv version
    fetched: int = 0
    without_text: int = 0  # no-text: a PDF-only source, no snippets, a page too large
    missing: int = 0  # 404 or 410 on arXiv
    failed: int = 0  # errors (tried again by the next run)
    requests: int = 0  # every request, retries included
    retries: int = 0
    arxiv_requests: int = 0
    s2_requests: int = 0
    bytes_stored: int = 0  # compressed section text stored by this run
    by_source: dict[str, int] = field(default_factory=dict)
    problems: list[dict[str, str]] = field(default_factory=list)  # {"paper_id", "arxiv_id", "status", "error"}
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        """One line for humans."""
        names = {"arxiv-html": "arXiv HTML", "arxiv-latex": "arXiv LaTeX", "s2-snippets": "S2 snippets"}
        sources = ", ".join(f"{n} {names.get(s, s)}" for s, n in sorted(self.by_source.items()))
        retries = f" ({self.retries} retries)" if self.retries else ""
        already = f"; {self.already} fetched earlier" if self.already else ""
        if self.new_versions:
            already += f", {self.new_versions} fetched again for a new arXiv version"
        return (
            f"Full text run {self.run_id}: {self.fetched} of {self.selected} papers fetched"
            + (f" ({sources})" if sources else "")
            + f", {self.without_text} without text, {self.missing} missing on arXiv, {self.failed} failed; "
            f"{self.requests} requests{retries}, {_kb(self.bytes_stored)} stored{already}, in {self.seconds:.1f}s"
        )


def _kb(n: int) -> str:
    return f"{n / 1024:.1f} KB" if n < 1024 * 1024 else f"{n / 1024 / 1024:.1f} MB"


def parse_relevance(value: str | Sequence[str]) -> list[str]:
    """``"core,related"`` -> ``["core", "related"]``; BadInput for a value that is not a relevance."""
    items = value.split(",") if isinstance(value, str) else list(value)
    out = []
    for item in items:
        v = str(item).strip().lower()
        if not v:
            continue
        if v not in RELEVANCE_VALUES:
            raise BadInput(f"--relevance: {item!r} is not one of {', '.join(RELEVANCE_VALUES)}")
        if v not in out:
            out.append(v)
    if not out:
        raise BadInput(f"--relevance: give at least one of {', '.join(RELEVANCE_VALUES)}")
    return out


@dataclass
class _Outcome:
    status: str
    parsed: ParsedText | None = None
    source: str | None = None
    version: str | None = None
    error: str | None = None


def fetch_fulltext(
    db: sqlite_utils.Database,
    arxiv: ArxivClient,
    *,
    s2: S2Client | None = None,
    relevance: str | Sequence[str] = DEFAULT_RELEVANCE,
    max_papers: int | None = None,
    refetch: bool = False,
    check_versions: bool = True,
    progress: Callable[[FulltextProgress], None] | None = None,
) -> FulltextReport:
    """Fetch and store the text of the papers labelled ``relevance``; see the module docstring.

    Parameters
    ----------
    arxiv:
        The arXiv client (its root, pace and limits apply).
    s2:
        A Semantic Scholar client for papers without an arXiv id (snippet
        search); None leaves those papers for a later run.
    relevance:
        Relevance values whose papers are read (``"core,related"`` or a list).
    max_papers:
        The most papers this run handles (the rest wait for the next run).
    refetch:
        Fetch again papers an earlier run already stored.
    check_versions:
        Ask arXiv's API (one request per 100 papers) which stored papers have
        a newer version, and fetch those again.

    Raises
    ------
    BadInput
        An unknown relevance value, ``max_papers`` below 1.
    SourceError
        arXiv cannot be reached, keeps throttling or refuses us (the run is
        recorded as failed; what was stored stays stored; run again to resume).
    """
    wanted = parse_relevance(relevance)
    if max_papers is not None and max_papers < 1:
        raise BadInput(f"--max-papers must be at least 1, not {max_papers}")
    started = time.monotonic()
    rows = sstore.fulltext_candidates(db, wanted)
    run_id = sstore.start_fulltext_run(db, arxiv_url=arxiv.root)
    report = FulltextReport(run_id, "running", wanted, len(rows), 0, 0)
    a0, r0 = arxiv.requests, arxiv.retries
    s0, q0 = (s2.requests, s2.retries) if s2 is not None else (0, 0)
    accounted = 0
    use_s2 = s2 is not None

    def spent() -> int:
        return (arxiv.requests - a0) + ((s2.requests - s0) if s2 is not None else 0)

    try:
        latest: dict[str, str] = {}
        if check_versions and not refetch:
            stored = [r["arxiv_id"] for r in rows if r["status"] == "fetched" and r["arxiv_id"] and r["version"]
                      and (r["source"] or "").startswith("arxiv")]
            if stored:
                latest = arxiv.fetch_versions(stored)
        todo = [r for r in rows if refetch or _needs_fetch(r, latest)]
        report.new_versions = sum(1 for r in todo if r["status"] == "fetched")
        report.already = len(rows) - len(todo)
        if max_papers is not None:
            todo = todo[:max_papers]
        report.selected = len(todo)
        for i, row in enumerate(todo):
            before = spent()
            if row["arxiv_id"]:
                base, named = split_version(row["arxiv_id"])
                version = latest.get(base) if row["status"] == "fetched" else None
                outcome = _from_arxiv(arxiv, base + (version or named or ""))  # a new version: ask for it by name
            elif s2 is not None and use_s2:
                outcome, give_up = _from_snippets(s2, row["paper_id"])
                if give_up:
                    use_s2 = False  # the API failed us: the other papers without arXiv id wait for the next run
            else:
                outcome = None
            used = spent() - before
            if outcome is None:  # nothing to ask: not recorded, a later run with an S2 client tries it
                if progress is not None:
                    progress(FulltextProgress(i + 1, len(todo), spent(), row["paper_id"], "skipped"))
                continue
            parsed = outcome.parsed
            sections = parsed.sections if parsed is not None else []
            stored = sstore.record_fulltext(
                db, row["paper_id"], status=outcome.status, sections=sections, source=outcome.source,
                version=outcome.version, licence=parsed.licence if parsed is not None else None,
                requests=used, error=outcome.error, run_id=run_id,
            )
            accounted += used
            _count(report, outcome, stored)
            if outcome.error:
                report.problems.append({
                    "paper_id": row["paper_id"], "arxiv_id": row["arxiv_id"] or "", "status": outcome.status,
                    "error": outcome.error,
                })
            if progress is not None:
                progress(FulltextProgress(i + 1, len(todo), spent(), row["paper_id"], outcome.status))
    except KeyboardInterrupt:
        sstore.finish_fulltext_run(db, run_id, status="interrupted", extra_requests=spent() - accounted)
        raise
    except SourceError as exc:
        sstore.finish_fulltext_run(db, run_id, status="failed", error=str(exc), extra_requests=spent() - accounted)
        raise
    run = sstore.finish_fulltext_run(db, run_id, status="done", extra_requests=spent() - accounted)
    report.status = run["status"]
    report.requests = int(run["requests"] or 0)
    report.arxiv_requests = arxiv.requests - a0
    report.s2_requests = (s2.requests - s0) if s2 is not None else report.requests - report.arxiv_requests
    report.retries = (arxiv.retries - r0) + ((s2.retries - q0) if s2 is not None else 0)
    report.seconds = round(time.monotonic() - started, 3)
    return report


def _needs_fetch(row: dict[str, Any], latest: dict[str, str]) -> bool:
    """Never fetched, failed last time, or fetched in an older version than the one arXiv has now."""
    status = row.get("status")
    if status is None or status not in sstore.FULLTEXT_DONE:
        return True
    if status != "fetched" or not row.get("version"):
        return False
    base, wanted = split_version(row.get("arxiv_id") or "")
    wanted = latest.get(base) or wanted
    return bool(wanted and _vnum(wanted) > _vnum(row["version"]))


def _vnum(version: str) -> int:
    return int(version[1:]) if version[1:].isdigit() else 0


def _count(report: FulltextReport, outcome: _Outcome, stored: int) -> None:
    if outcome.status == "fetched":
        report.fetched += 1
        report.bytes_stored += stored
        if outcome.source:
            report.by_source[outcome.source] = report.by_source.get(outcome.source, 0) + 1
    elif outcome.status == "no-text":
        report.without_text += 1
    elif outcome.status in ("missing", "withdrawn"):
        report.missing += 1
    else:
        report.failed += 1


def _from_arxiv(arxiv: ArxivClient, arxiv_id: str) -> _Outcome:
    """HTML first (where arXiv may have it), else the e-print; a paper's own problems are its outcome."""
    shown = f"arXiv {arxiv_id}"
    html_problem = ""
    try:
        if has_html(arxiv_id):
            try:
                page = arxiv.fetch_html(arxiv_id)
            except ResponseTooLarge as exc:  # the source may still be readable
                page = Fetched("html", arxiv_id, "too-large", exc.url or "")
                html_problem = f"HTML: {exc}"
            if page.status == "withdrawn":
                return _Outcome("withdrawn", error=f"{shown}: withdrawn (HTTP 410)")
            if page.status == "ok":
                try:
                    parsed = html_sections(page.body)
                except MalformedText as exc:
                    html_problem = f"HTML: {exc}"
                else:
                    return _Outcome("fetched", parsed, "arxiv-html", page.version or parsed.version)
        src = arxiv.fetch_eprint(arxiv_id)
        if src.status != "ok":
            if html_problem:
                return _Outcome("error", error=f"{shown}: {html_problem}; and no source (e-print {src.status})")
            what = "withdrawn (HTTP 410)" if src.status == "withdrawn" else "not on arXiv (HTTP 404)"
            return _Outcome(src.status, error=f"{shown}: {what}")
        eprint = read_eprint(src.body)
        if eprint.kind == "pdf":
            return _Outcome("no-text", version=src.version, error=f"{shown}: the source is a PDF only; no text read")
        if eprint.kind != "tex":
            return _Outcome("no-text", version=src.version, error=f"{shown}: the source holds no LaTeX; no text read")
        parsed = latex_sections(eprint.files)
        return _Outcome("fetched", parsed, "arxiv-latex", src.version)
    except MalformedText as exc:
        return _Outcome("error", error=f"{shown}: {exc}" + (f" ({html_problem})" if html_problem else ""))
    except ResponseTooLarge as exc:
        return _Outcome("no-text", error=f"{shown}: {exc}")


def _from_snippets(s2: S2Client, paper_id: str) -> tuple[_Outcome, bool]:
    """(outcome, give up on S2 for this run?)."""
    try:
        data = s2.search_snippets(SNIPPET_QUERY, paper_ids=[paper_id], limit=SNIPPET_LIMIT)
    except PaperNotFound:
        return _Outcome("no-text", error=f"{paper_id}: Semantic Scholar does not know it for snippet search"), False
    except SourceError as exc:
        return _Outcome("error", error=f"{paper_id}: snippet search failed: {exc}"), True
    parsed = snippet_sections(data)
    if not parsed.sections:
        return _Outcome("no-text", error=None), False
    return _Outcome("fetched", parsed, "s2-snippets"), False
