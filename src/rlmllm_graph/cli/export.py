"""``export`` and ``table``: the database for other tools, and the survey's taxonomy table."""

from __future__ import annotations

import sys

import click

from .. import export as exports
from .. import output
from .. import table as taxonomy
from .common import cli, database_file, db_option, echo_json, json_option, open_database


@cli.command("export")
@db_option
@click.option(
    "--format", "fmt", required=True, type=click.Choice(sorted(exports.EXPORT_FORMATS)),
    help="bibtex (Zotero), csv (spreadsheets), graphml or gexf (Gephi), jsonl (Semantic Scholar shape, for import).",
)
@click.option(
    "--out", "out", required=True, type=click.Path(dir_okay=False, allow_dash=True),
    help="File to write ('-' for standard output).",
)
@click.option(
    "--relevance", multiple=True, type=click.Choice(["core", "related", "other"]),
    help="Only papers with this relevance label (repeatable). Default: every paper.",
)
@json_option
def export_(db_path: str, fmt: str, out: str, relevance: tuple[str, ...], as_json: bool) -> None:
    """Export the papers, their labels and the citation graph for other tools.

    \b
    bibtex   one entry per paper: stable keys (huang2025vision), arXiv eprint,
             DOI, URL, abstract, labels as keywords (Zotero: File > Import)
    csv      one row per paper, one column per label facet (values joined by ;)
    graphml  the citation graph with title, year, PageRank, community and the
    gexf     labels as node attributes (Gephi: File > Open)
    jsonl    Semantic Scholar paper objects; `rlmllm-graph import` reads them back

    \b
    Examples:
      rlmllm-graph export --format bibtex --out rlmllm.bib --relevance core
      rlmllm-graph export --format gexf --out rlmllm.gexf
      rlmllm-graph export --format csv --out - | head
      rlmllm-graph export --format jsonl --out backup.jsonl
    """
    path = output.check_output_file(out, protect=database_file(db_path))
    db = open_database(db_path, create=False)
    if path is None:
        exports.export_database(db, sys.stdout, format=fmt, relevance=relevance or None)
        return
    report = exports.export_database(db, path, format=fmt, relevance=relevance or None)
    if as_json:
        echo_json({**report.as_dict(), "out": out})
        return
    what = f"{report.papers} papers"
    if fmt in ("graphml", "gexf", "jsonl"):
        what += f" and {report.edges} citations"
    click.echo(f"Wrote {what} to {out} ({fmt})", err=True)
    if report.skipped_edges:
        click.echo(f"{report.skipped_edges} citations between two unstored papers were left out", err=True)


@cli.command("table")
@db_option
@click.option("--format", "fmt", type=click.Choice(["md", "html"]), default="md", show_default=True,
              help="Markdown table, or a self-contained HTML page.")
@click.option("--out", "out", type=click.Path(dir_okay=False, allow_dash=True), default="-",
              help="File to write (default: standard output).")
def table_(db_path: str, fmt: str, out: str) -> None:
    """The survey-style taxonomy table: one row per core paper, newest first.

    Columns: model (from the title), date, modality (T&I, T&V, T&V&A, T&3D …),
    strategy (RL, SFT&RL), algorithm, reward, application, link. Core papers
    are those labelled relevance=core by `classify` or `label`.

    \b
    Examples:
      rlmllm-graph table                          # Markdown on standard output
      rlmllm-graph table --format html --out table.html
      rlmllm-graph table --out TABLE.md
    """
    path = output.check_output_file(out, protect=database_file(db_path))
    db = open_database(db_path, create=False)
    rows = taxonomy.build_taxonomy_table(db)
    if not rows:
        click.echo(
            "No core papers yet: run `rlmllm-graph classify`, or mark one with "
            "`rlmllm-graph label PAPER_ID relevance=core`.",
            err=True,
        )
    text = (
        taxonomy.render_table_markdown(rows) if fmt == "md" else taxonomy.render_table_html(rows, full_page=True)
    )
    if path is None:
        click.echo(text, nl=False)
        return
    output.write_text(path, text, protect=database_file(db_path))
    click.echo(f"Wrote {len(rows)} core papers to {out}", err=True)
