"""What each refresh added and changed: recorded run by run, read back by ``changes``.

Every refresh (a crawl) and every load of the bundled snapshot is a *run*
(a row of ``crawl_runs``). Around each run:

- :func:`begin_run` (at its start) compares every paper's labels with the
  checkpoint taken at the start of the previous run and records what differs
  as that previous run's label changes (the classification that follows a
  refresh belongs to it), then takes a new checkpoint. Papers labelled for the
  first time are new papers, not label changes.
- :func:`finish_run` (at its end) merges stand-in snapshot rows into the same
  papers' Semantic Scholar rows (:mod:`rlmllm_graph.store.merge`), marks every
  paper no run has claimed as first stored by this run, and records each
  paper's in-corpus citation count where it changed.

:func:`compute_changes` reads a window of runs (the last one by default, or
every run since a run number or a date): new papers with their labels (core
first), papers whose in-corpus citations grew by at least ``min_jump``, and
label changes with their before and after values. The label changes of the
newest run are computed live against the checkpoint, so running ``classify``
after a refresh shows at once.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

import sqlite_utils

from .errors import BadInput
from .store import changes as cs
from .store.merge import find_stand_ins, merge_papers

__all__ = [
    "Changes",
    "DEFAULT_MIN_JUMP",
    "RELEVANCE_ORDER",
    "begin_run",
    "compute_changes",
    "finish_run",
    "merge_stand_ins",
    "parse_since",
]

DEFAULT_MIN_JUMP = 2
RELEVANCE_ORDER = ("core", "related", "other")
_RUN = re.compile(r"^\s*(?:run\s*)?#?(\d+)\s*$", re.IGNORECASE)


def merge_stand_ins(db: sqlite_utils.Database) -> int:
    """Merge every stand-in row into the same paper's real row; returns how many were merged.

    Call inside :func:`~rlmllm_graph.store.transaction`.
    """
    return merge_papers(db, find_stand_ins(db))


def begin_run(db: sqlite_utils.Database, run_id: int) -> int:
    """At the start of run ``run_id``: record the previous run's label changes and take a new checkpoint.

    Returns how many label changes were recorded. Call inside :func:`~rlmllm_graph.store.transaction`.
    """
    prev = cs.begin_change_run(db, run_id)
    diff = cs.label_diff(db) if prev is not None else []
    if diff:
        cs.save_label_changes(db, prev, diff)  # type: ignore[arg-type]
    cs.update_checkpoint(db)
    return len(diff)


def finish_run(db: sqlite_utils.Database, run_id: int) -> dict[str, int]:
    """At the end of run ``run_id``: merge stand-ins, claim new papers, record citation counts.

    Returns ``{"papers_added", "papers_merged", "counts_recorded"}``. Call inside
    :func:`~rlmllm_graph.store.transaction`.
    """
    merged = merge_stand_ins(db)
    added = cs.mark_new_papers(db, run_id)
    recorded = cs.record_citation_counts(db, run_id)
    cs.finish_change_run(db, run_id, papers_added=added, papers_merged=merged)
    return {"papers_added": added, "papers_merged": merged, "counts_recorded": recorded}


# -- reading --------------------------------------------------------------------------------------


def parse_since(value: str) -> tuple[str, int | str]:
    """``--since``: ``("run", n)`` for a run number (``3``, ``run 3``, ``#3``), ``("date", iso)`` for a date.

    A date is ``YYYY-MM-DD`` or an ISO date and time (UTC when no zone is given).
    Raises :class:`BadInput` for anything else.
    """
    text = (value or "").strip()
    m = _RUN.match(text)
    if m:
        return "run", int(m.group(1))
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            d = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=timezone.utc)
        else:
            d = datetime.fromisoformat(text.replace("Z", "+00:00"))
            if d.tzinfo is None:
                d = d.replace(tzinfo=timezone.utc)
    except ValueError:
        raise BadInput(
            f"--since {value!r} is neither a run number (e.g. 3) nor a date (YYYY-MM-DD or YYYY-MM-DDTHH:MM)"
        ) from None
    return "date", d.astimezone(timezone.utc).isoformat(timespec="seconds")


@dataclass
class Changes:
    """What a window of runs added and changed (see :func:`compute_changes`)."""

    runs: list[dict[str, Any]] = field(default_factory=list)
    since: dict[str, Any] = field(default_factory=dict)
    new_papers: list[dict[str, Any]] = field(default_factory=list)
    citation_jumps: list[dict[str, Any]] = field(default_factory=list)
    label_changes: list[dict[str, Any]] = field(default_factory=list)
    min_jump: int = DEFAULT_MIN_JUMP

    @property
    def counts(self) -> dict[str, Any]:
        by_rel: dict[str, int] = {}
        for p in self.new_papers:
            by_rel[p["relevance"] or "unlabelled"] = by_rel.get(p["relevance"] or "unlabelled", 0) + 1
        return {
            "runs": len(self.runs),
            "new_papers": len(self.new_papers),
            "new_by_relevance": by_rel,
            "citation_jumps": len(self.citation_jumps),
            "label_changes": len(self.label_changes),
            "papers_with_label_changes": len({c["paper_id"] for c in self.label_changes}),
        }

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["counts"] = self.counts
        return d


def _relevance_rank(p: dict[str, Any]) -> int:
    rel = p.get("relevance")
    return RELEVANCE_ORDER.index(rel) if rel in RELEVANCE_ORDER else len(RELEVANCE_ORDER)


def _split(vals: str) -> list[str]:
    return [v for v in vals.split(",") if v] if vals else []


def compute_changes(
    db: sqlite_utils.Database, *, since: str | None = None, min_jump: int = DEFAULT_MIN_JUMP
) -> Changes:
    """What the last run (or every run since ``since``: a run number or a date) added and changed.

    Raises :class:`BadInput` for a ``since`` that is not a run number or a date, a run number the
    database does not hold, or a ``min_jump`` below 1.
    """
    if min_jump < 1:
        raise BadInput(f"--min-jump must be at least 1, not {min_jump}")
    runs = cs.change_runs(db)
    out = Changes(min_jump=min_jump)
    if since is not None:
        kind, value = parse_since(since)
        out.since = {kind: value}
        if kind == "run":
            known = [r["run_id"] for r in runs]
            if value not in known:
                have = f"recorded runs: {known[0]}–{known[-1]}" if known else "no run is recorded yet"
                raise BadInput(f"--since {since.strip()}: no run {value} in this database ({have})")
            window = [r for r in runs if r["run_id"] >= int(value)]
        else:
            window = [r for r in runs if str(r["started_at"] or "") >= str(value)]
    else:
        done = [r for r in runs if r["status"] == "done"]
        start = done[-1]["run_id"] if done else (runs[-1]["run_id"] if runs else None)
        window = [r for r in runs if start is not None and r["run_id"] >= start]
        if window:
            out.since = {"run": window[0]["run_id"]}
    out.runs = window
    if not window:
        return out
    ids = [r["run_id"] for r in window]
    # new papers, core first, with their labels
    papers = cs.papers_first_stored(db, ids)
    for p in papers:
        rel = p["labels"].get("relevance") or []
        p["relevance"] = rel[0] if rel else None
    papers.sort(key=lambda p: str(p.get("title") or "").lower())
    papers.sort(key=lambda p: str(p.get("publication_date") or p.get("year") or ""), reverse=True)
    out.new_papers = sorted(papers, key=_relevance_rank)  # core first; the newest first within each
    titles = {p["paper_id"]: p for p in papers}
    # in-corpus citation jumps of papers stored before the window
    jumps = cs.citation_jumps(db, ids[0], min_jump)
    info = cs.paper_info(db, [p for p, _, _ in jumps])
    out.citation_jumps = sorted(
        (
            {"paper_id": pid, "title": info[pid]["title"], "arxiv_id": info[pid]["arxiv_id"],
             "relevance": info[pid]["relevance"], "before": n0, "after": n1, "jump": n1 - n0}
            for pid, n0, n1 in jumps if pid in info and pid not in titles
        ),
        key=lambda j: (-j["jump"], -j["after"], str(j["title"] or "")),
    )
    # label changes: recorded for earlier runs, live for the newest
    changes = cs.label_changes(db, ids)
    if ids[-1] == runs[-1]["run_id"]:
        changes += [
            {"run_id": ids[-1], "paper_id": p, "facet": f, "before": b, "after": a} for p, f, b, a in cs.label_diff(db)
        ]
    info = cs.paper_info(db, [c["paper_id"] for c in changes])
    changes = [c for c in changes if c["paper_id"] in info]
    for c in changes:
        c["title"], c["arxiv_id"] = info[c["paper_id"]]["title"], info[c["paper_id"]]["arxiv_id"]
        c["before"], c["after"] = _split(c["before"]), _split(c["after"])
    facet_order = {"relevance": 0}
    out.label_changes = sorted(
        changes, key=lambda c: (facet_order.get(c["facet"], 1), str(c["title"] or "").lower(), c["paper_id"], c["facet"])
    )
    return out
