"""``changes``: what the last refresh (or every refresh since) added and changed."""

from __future__ import annotations

from typing import Any

import click

from ..changes import DEFAULT_MIN_JUMP, Changes, compute_changes
from .common import cli, db_option, echo_json, json_option, open_database


@cli.command()
@db_option
@click.option("--since", metavar="RUN_OR_DATE", default=None,
              help="Every refresh from this run number (as refresh prints it: 'Crawl 3 finished') or date "
                   "(YYYY-MM-DD) on; default: the last refresh.")
@click.option("--min-jump", type=click.IntRange(min=1), default=DEFAULT_MIN_JUMP, show_default=True,
              help="In-corpus citations a paper must have gained to be listed as a jump.")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True,
              help="Lines per section in the text output (--json lists everything).")
@json_option
def changes(db_path: str, since: str | None, min_jump: int, limit: int, as_json: bool) -> None:
    """What the last refresh (or every refresh since RUN_OR_DATE) added and changed.

    Lists the new papers (core first, with their labels), the papers whose
    in-corpus citations (citations from other stored papers) grew by at least
    --min-jump, and the labels that changed (before -> after). A refresh
    includes the `classify` run after it. Loads of the bundled snapshot
    (`refresh --offline`) are runs too.

    \b
    Examples:
      rlmllm-graph changes                       # the last refresh
      rlmllm-graph changes --since 3             # refreshes 3, 4, ...
      rlmllm-graph changes --since 2026-11-01 --json | jq '.new_papers[] | select(.relevance == "core") | .title'
    """
    db = open_database(db_path, create=False, readonly=True)
    result = compute_changes(db, since=since, min_jump=min_jump)
    if as_json:
        echo_json(result.as_dict())
        return
    for line in render_changes(result, limit=limit):
        click.echo(line)


def _run_line(r: dict[str, Any]) -> str:
    when = str(r.get("finished_at") or r.get("started_at") or "")[:16].replace("T", " ")
    what = "snapshot load" if r.get("kind") == "snapshot" else "refresh"
    status = "" if r.get("status") == "done" else f", {r.get('status')}"
    return f"  run {r['run_id']}: {what} {when} UTC{status}"


def _labels(labels: dict[str, list[str]]) -> str:
    return " ".join(f"{f}={','.join(v)}" for f, v in labels.items() if f != "relevance" and v)


def render_changes(c: Changes, *, limit: int = 20) -> list[str]:
    """The text report, one line per item, at most ``limit`` items per section."""
    if not c.runs:
        if c.since.get("date"):
            return [f"No refresh since {c.since['date']}."]
        return ["No refresh recorded yet: run `rlmllm-graph refresh` (or `refresh --offline`)."]
    n = c.counts
    first = c.runs[0]["run_id"]
    head = f"Changes in run {first}" if len(c.runs) == 1 else f"Changes in {len(c.runs)} runs since run {first}"
    out = [head + ":"] + [_run_line(r) for r in c.runs]

    by_rel = n["new_by_relevance"]
    parts = ", ".join(f"{by_rel[k]} {k}" for k in ("core", "related", "other", "unlabelled") if by_rel.get(k))
    out.append(f"New papers: {n['new_papers']}" + (f" ({parts})" if parts else ""))
    for p in c.new_papers[:limit]:
        date = str(p.get("publication_date") or p.get("year") or "")[:7]
        ident = f"ARXIV:{p['arxiv_id']}" if p.get("arxiv_id") else p["paper_id"]
        extra = _labels(p["labels"])
        out.append(f"  {p['relevance'] or '-':<8} {date:<7}  {_title(p)}  ({ident})" + (f"  {extra}" if extra else ""))
    _more(out, len(c.new_papers), limit)

    out.append(f"Citation jumps (+{c.min_jump} or more in-corpus citations): {n['citation_jumps']}")
    for j in c.citation_jumps[:limit]:
        out.append(f"  +{j['jump']:<4} {j['before']} -> {j['after']}  {_title(j)}")
    _more(out, len(c.citation_jumps), limit)

    out.append(f"Label changes: {n['label_changes']} in {n['papers_with_label_changes']} papers")
    for x in c.label_changes[:limit]:
        before = ",".join(x["before"]) or "none"
        after = ",".join(x["after"]) or "none"
        out.append(f"  {x['facet']}: {before} -> {after}  {_title(x)}")
    _more(out, len(c.label_changes), limit)
    return out


def _title(p: dict[str, Any]) -> str:
    t = " ".join(str(p.get("title") or "(untitled)").split())
    return t if len(t) <= 90 else t[:89] + "…"


def _more(out: list[str], total: int, limit: int) -> None:
    if total > limit:
        out.append(f"  … and {total - limit} more (--limit, or --json for all)")
