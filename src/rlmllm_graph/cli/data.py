"""``import`` and ``stats``: getting records in and seeing what is there."""

from __future__ import annotations

from pathlib import Path

import click

from .. import ingest, store
from ..records import papers_count
from .common import cli, db_option, echo_json, json_option, open_database, progress_bar


@cli.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@db_option
@click.option("--skip-invalid", is_flag=True, help="Skip malformed lines (and list them) instead of stopping.")
@json_option
def import_(files: tuple[Path, ...], db_path: str, skip_invalid: bool, as_json: bool) -> None:
    """Load Semantic Scholar-shaped JSONL files (plain or .gz) into the database.

    Reads Graph API paper objects (optionally with nested `references` or
    `citations`) and bulk dataset records (papers, abstracts, citations).
    All or nothing: a malformed line stops the import with its file and line
    number and leaves the database as it was, unless --skip-invalid is given.

    \b
    Examples:
      rlmllm-graph import papers.jsonl
      rlmllm-graph import papers-*.jsonl.gz citations.jsonl.gz --skip-invalid
    """
    for f in files:
        if not f.exists():
            raise click.UsageError(f"{f}: no such file")
    db = open_database(db_path)
    total = sum(f.stat().st_size for f in files)
    with progress_bar(total, "Importing") as bar:
        report = ingest.import_files(db, list(files), skip_invalid=skip_invalid, progress=bar.update)
    for line in report.skipped[:20]:
        click.echo(f"skipped {line}", err=True)
    if len(report.skipped) > 20:
        click.echo(f"skipped {len(report.skipped) - 20} more lines", err=True)
    for line in report.warnings[:20]:
        click.echo(f"warning: {line}", err=True)
    if len(report.warnings) > 20:
        click.echo(f"warning: {len(report.warnings) - 20} more warnings (see --json)", err=True)
    if as_json:
        echo_json(report.as_dict())
        return
    click.echo(
        f"Imported {len(files)} file(s): {papers_count(report.papers_added)} added, {report.papers_updated:,} updated; "
        f"{report.citations_added} citations added; {report.authors_added} authors added"
        + (f"; {len(report.skipped)} lines skipped" if report.skipped else "")
        + (f"; {report.unresolved_citations} citation records name papers not in the database"
           if report.unresolved_citations else "")
    )


@cli.command()
@db_option
@json_option
def stats(db_path: str, as_json: bool) -> None:
    """Counts: papers, citation edges, authors, labelled papers, per facet value, routes, last crawl.

    "found by" is coverage by route: how many papers each route brought in
    (seed, cites-seed, cited-by-seed, query, expansion, import) and how many
    of them are labelled core.

    \b
    Examples:
      rlmllm-graph stats
      rlmllm-graph stats --json | jq .papers
    """
    db = open_database(db_path, create=False)
    s = store.compute_stats(db)
    if as_json:
        echo_json(s)
        return
    click.echo(f"papers      {s['papers']:>8}  ({s['with_abstract']} with abstract)")
    click.echo(f"citations   {s['citations']:>8}  ({s['citations_in_corpus']} between stored papers)")
    click.echo(f"authors     {s['authors']:>8}")
    click.echo(f"labelled    {s['labelled']:>8}")
    for facet, values in s["labels"].items():
        shown = ", ".join(f"{v} {n}" for v, n in sorted(values.items(), key=lambda kv: -kv[1]))
        click.echo(f"  {facet:<11} {shown}")
    if s.get("routes"):
        shown = ", ".join(f"{r} {v['papers']} ({v['core']} core)" for r, v in s["routes"].items())
        click.echo(f"found by    {shown}")
    run = s["last_crawl"]
    if run:
        click.echo(
            f"last crawl  {run.get('finished_at') or run.get('started_at')}  {run.get('status')}, "
            f"{run.get('requests')} requests, +{run.get('papers_added')} papers, +{run.get('edges_added')} edges"
        )
    else:
        click.echo("last crawl  never")
