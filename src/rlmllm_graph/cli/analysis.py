"""``graph`` and ``trends``: network metrics of the citation graph and tag trends over time."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..classify.vocabulary import FACET_ORDER, FACETS
from ..config import MAX_RECENT_MONTHS, setting
from ..records import papers_count
from .common import (
    cli,
    database_file,
    db_option,
    echo_json,
    json_option,
    open_database,
    random_seed_option,
    setting_option,
)

if TYPE_CHECKING:
    from .. import trends as trends_mod


def _short(text: Any, width: int = 72) -> str:
    s = " ".join(str(text or "(untitled)").split())
    return s if len(s) <= width else s[: width - 1] + "…"


@cli.command("graph")
@db_option
@json_option
@click.option("--top", type=click.IntRange(min=1), default=20, show_default=True,
              help="How many papers (and communities, pairs, discoveries) to list.")
@random_seed_option
def graph_cmd(db_path: str, as_json: bool, top: int, seed: int) -> None:
    """Network metrics of the citation graph: PageRank, in-corpus citations,
    communities, co-citation, the main path (lineage) and discovery.

    Edges are citations between stored papers. Communities come from the
    Leiden algorithm (modularity, fixed seed) and are named from their tags
    and titles. Discovery lists papers not labelled core that are strongly
    co-cited with or coupled to core papers: what a survey may have missed.

    \b
    Examples:
      rlmllm-graph graph
      rlmllm-graph graph --top 50
      rlmllm-graph graph --json | jq '.top[0]'
      rlmllm-graph graph --json | jq '.communities[] | {name, size}'
    """
    from .. import analysis, graph as graph_mod

    db = open_database(db_path, create=False)
    G = graph_mod.build_citation_graph(db)
    report = analysis.compute_graph_report(G, top=top, seed=seed)
    if as_json:
        echo_json(report)
        return
    _render_graph(report, top)


def _render_graph(r: dict[str, Any], top: int) -> None:
    echo = click.echo
    echo(
        f"Citation graph: {r['nodes']} papers, {r['edges']} citations between them; "
        f"{r['n_communities']} communities, {r['unconnected']} papers unconnected; {r['core']} core papers"
    )
    echo("")
    echo(f"Top {len(r['top'])} papers by PageRank")
    echo(f"  {'#':>3}  {'pagerank':>8}  {'cited':>5}  {'comm':>4}  title")
    for i, p in enumerate(r["top"], 1):
        echo(f"  {i:>3}  {p['pagerank']:>8.5f}  {p['in_corpus_citations']:>5}  {p['community']:>4}  "
             f"{_short(p['title'])}")
    if r["communities"]:
        echo("")
        echo(f"Communities (largest {len(r['communities'])} of {r['n_communities']})")
        for c in r["communities"]:
            echo(f"  {c['id']:>3}  {c['name']}  ({c['size']} papers)")
            for p in c["top_papers"][:3]:
                echo(f"         · {_short(p['title'], 66)}")
    if r["lineage"]:
        echo("")
        echo(f"Lineage: the main path of the citation graph ({len(r['lineage'])} papers, earliest first)")
        for p in r["lineage"]:
            when = p.get("publication_date") or p.get("year") or "?"
            echo(f"  {str(when)[:7]:<7}  {_short(p['title'])}")
    if r["cocitation"]:
        echo("")
        echo("Most co-cited pairs (papers citing both)")
        for p in r["cocitation"][:top]:
            echo(f"  {p['weight']:>4}  {_short(p['title_a'], 40)}  +  {_short(p['title_b'], 40)}")
    if r["coupling"]:
        echo("")
        echo("Most coupled pairs with a core paper (references in common)")
        for p in r["coupling"][:top]:
            echo(f"  {p['weight']:>4}  {_short(p['title_a'], 40)}  +  {_short(p['title_b'], 40)}")
    echo("")
    if r["discovery"]:
        echo("Discovery: not core, but strongly co-cited with or coupled to core papers")
        echo(f"  {'score':>6}  {'rel':<8}  title")
        for p in r["discovery"]:
            echo(f"  {p['score']:>6.2f}  {(p['relevance'] or '-'):<8}  {_short(p['title'])}")
    else:
        echo("Discovery: nothing yet (needs core papers, i.e. `rlmllm-graph classify`, and citations around them)")


def _relevance_values(ctx: click.Context, param: click.Parameter, value: str) -> tuple[str, ...] | None:
    """``--relevance core,related`` → ``("core", "related")``; ``all`` → None (every paper)."""
    if value.strip().lower() == "all":
        return None
    values = tuple(dict.fromkeys(v.strip().lower() for v in value.split(",") if v.strip()))
    if not values:
        raise click.BadParameter("needs at least one value, or 'all'")
    for v in values:
        if v not in FACETS["relevance"]:
            raise click.BadParameter(
                f"{v!r} is not a relevance label: use {', '.join(FACETS['relevance'])} (comma-separated), or 'all'"
            )
    return values


@cli.command("trends")
@db_option
@click.option("--facet", "facets", multiple=True, metavar="FACET",
              help="Facet to chart (repeatable; default every labelled facet): "
                   + ", ".join(FACET_ORDER) + ".")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Write CSV tables and interactive HTML charts into this folder.")
@click.option("--freq", type=click.Choice(["M", "Q", "Y"], case_sensitive=False), default="M", show_default=True,
              help="Period: month, quarter or year.")
@setting_option("recent_months", type=click.IntRange(1, MAX_RECENT_MONTHS))
@setting_option("relevance", callback=_relevance_values,
                help=f"{setting('relevance').help.removesuffix('.')}, or 'all': the papers to count.")
@json_option
def trends_cmd(db_path: str, facets: tuple[str, ...], out_dir: Path | None, freq: str, recent_months: int,
               relevance: tuple[str, ...] | None, as_json: bool) -> None:
    """Tag counts and shares over time, cumulative totals, and emerging values.

    A paper counts in the month of its publication date (January of its year
    when only the year is known). Shares are of all the period's papers, and
    the papers with no label in a facet are a "not stated" row of their own,
    so fewer papers stating an algorithm never reads as a trend. In facets
    where a paper can have several values (modality, algorithm, ...) shares
    add up to more than 100%.

    Emerging values are those whose share of the papers stating the facet
    rose in the last --recent-months months against all earlier months
    (one-sided Fisher exact test, Benjamini-Hochberg corrected); growth is the
    plain ratio of the two shares (x0 when no recent paper has the value,
    "new" when none before had it). With no paper before the window there is
    no growth and no test, and the output says so.

    \b
    Examples:
      rlmllm-graph trends
      rlmllm-graph trends --facet algorithm --facet reward
      rlmllm-graph trends --out trends/          # CSV + HTML charts (open trends/index.html)
      rlmllm-graph trends --freq Q --relevance all --json | jq '.emerging[0]'
    """
    from .. import trends as trends_mod
    from ..trends_report import write_trends_report

    db = open_database(db_path, create=False)
    report = trends_mod.compute_trends_report(db, facets=facets or None, freq=freq.upper(),
                                              recent_months=recent_months, relevance=relevance)
    written = (write_trends_report(report, out_dir, protect=database_file(db_path))
               if out_dir is not None else [])
    if as_json:
        out = report.as_dict()
        if written:
            out["files"] = [str(p) for p in written]
        echo_json(out)
        return
    _render_trends(report)
    if written:
        click.echo("")
        click.echo(f"Wrote {len(written)} files to {out_dir} (open {out_dir / 'index.html'})")


def _render_trends(rep: trends_mod.TrendsReport) -> None:
    from .. import plots

    echo = click.echo
    counts = rep.paper_counts
    span = f"{counts['period'].iloc[0]} to {counts['period'].iloc[-1]}" if len(counts) else "no dated papers"
    undated = f" ({rep.undated} without a date or year, left out of the periods)" if rep.undated else ""
    echo(f"{papers_count(len(rep.papers))}, {span}{undated}")
    if not rep.facets or all(df.empty for df in rep.trends.values()):
        echo("No labels to chart yet: run `rlmllm-graph classify` first.")
        return
    recent_list = list(counts["period"].iloc[-_periods(rep.freq, rep.recent_months):])
    recent_periods = set(recent_list)
    window = recent_list[0] if len(recent_list) == 1 else f"{recent_list[0]} to {recent_list[-1]}"
    for facet in rep.facets:
        df = rep.trends[facet]
        echo("")
        if df.empty:
            echo(f"{facet}: no labelled papers")
            continue
        recent = df[df["period"].isin(recent_periods)]
        per_value = recent.groupby("value", sort=False)["count"].sum()
        rtotal = int(recent.drop_duplicates("period")["total"].sum())
        ptotal = int(df.drop_duplicates("period")["total"].sum())
        echo(f"{facet}: papers and share of all {ptotal}; recent ({window}): papers and share of the {rtotal}")
        if not plots.stacks_papers(df):
            echo("  (a paper can have several values: the shares add up to more than 100%)")
        for value, total in df.groupby("value", sort=False)["count"].sum().items():
            k = int(per_value.get(value, 0))
            share = f"{k / rtotal:>5.0%}" if rtotal else "    -"
            echo(f"  {str(value):<14} {int(total):>6} {total / ptotal if ptotal else 0:>5.0%}   {k:>5}  {share}")
    _render_emerging(rep)



def _render_emerging(rep: trends_mod.TrendsReport) -> None:
    from .. import plots

    echo = click.echo
    em = rep.emerging
    echo("")
    echo(f"Emerging in the last {rep.recent_months} months (share of the papers stating the facet, against before; "
         "growth = plain ratio of shares; one-sided Fisher test, BH-corrected):")
    if not len(em):
        echo("  nothing to compare: no labelled paper with a publication month")
        return
    if not rep.has_before:
        echo(f"  no papers before the last {rep.recent_months} months to compare with: no growth and no test")
        return
    rising = em[em["rising"]]
    if len(rising) == 0:
        echo("  nothing rises significantly")
    for r in rising.itertuples(index=False):
        echo(f"  {r.facet}={r.value}: {r.before_share:.0%} → {r.recent_share:.0%} "
             f"({plots._ratio_text(r.growth, r.note)}, {papers_count(r.recent)} recent, q={r.q_value:.2g})")
    risers = em[(~em["rising"]) & (em["recent_share"] > em["before_share"])].head(3)
    for r in risers.itertuples(index=False):
        echo(f"  (not significant) {r.facet}={r.value}: {r.before_share:.0%} → {r.recent_share:.0%} "
             f"({plots._ratio_text(r.growth, r.note)}), p={_fmt_p(r.p_value)}")


def _fmt_p(p: float) -> str:
    return "n/a" if p is None or (isinstance(p, float) and math.isnan(p)) else f"{p:.2g}"


def _periods(freq: str, months: int) -> int:
    return {"M": months, "Q": max(1, math.ceil(months / 3)), "Y": max(1, math.ceil(months / 12))}[freq]
